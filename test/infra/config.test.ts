import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { configFromContext } from "../../lib/config.js";

const config = (context: Record<string, unknown>) => configFromContext(new App({ context }).node);

describe("configFromContext", () => {
  it("leaves everything to the stack defaults when no context is given", () => {
    expect(config({})).toEqual({
      providerOptions: { veriffLegacySignature: undefined, idngoAllowSha1: undefined, neurovisionKeyDerivation: undefined },
      logRetention: undefined,
      throttle: { rateLimit: undefined, burstLimit: undefined },
      tableDeletionProtection: undefined,
      consumerMaxConcurrency: undefined,
      statusChangeConsumerRoleArns: undefined,
      verificationReaderRoleArns: undefined,
    });
  });

  it("parses -c strings (and cdk.json values)", () => {
    expect(
      config({
        veriffLegacySignature: "true",
        idngoAllowSha1: false,
        neurovisionKeyDerivation: "sha256-hex-prefix",
        logRetentionDays: "90",
        throttleRateLimit: "12.5",
        throttleBurstLimit: 40,
        tableDeletionProtection: "false",
        consumerMaxConcurrency: "20",
        statusChangeConsumerRoleArns: " arn:aws:iam::222222222222:role/partner/consumer, arn:aws:iam::111111111111:role/svc ,",
        verificationReaderRoleArns: ["arn:aws-us-gov:iam::111111111111:role/reporting", "arn:aws-us-gov:iam::111111111111:role/reporting"],
      }),
    ).toEqual({
      providerOptions: { veriffLegacySignature: true, idngoAllowSha1: false, neurovisionKeyDerivation: "sha256-hex-prefix" },
      logRetention: 90,
      throttle: { rateLimit: 12.5, burstLimit: 40 },
      tableDeletionProtection: false,
      consumerMaxConcurrency: 20,
      statusChangeConsumerRoleArns: ["arn:aws:iam::222222222222:role/partner/consumer", "arn:aws:iam::111111111111:role/svc"],
      verificationReaderRoleArns: ["arn:aws-us-gov:iam::111111111111:role/reporting"], // a JSON list in cdk.json, deduplicated
    });
  });

  it.each([
    [{ veriffLegacySignature: "yes" }, /veriffLegacySignature must be true or false/],
    [{ neurovisionKeyDerivation: "md5" }, /neurovisionKeyDerivation must be one of any, sha256, sha256-hex-prefix/],
    [{ logRetentionDays: "31" }, /logRetentionDays must be a CloudWatch Logs retention/],
    [{ throttleRateLimit: "-1" }, /throttleRateLimit must be a positive number/],
    [{ throttleBurstLimit: "1.5" }, /throttleBurstLimit must be an integer/],
    [{ tableDeletionProtection: "off" }, /tableDeletionProtection must be true or false/],
    [{ consumerMaxConcurrency: "1" }, /consumerMaxConcurrency must be an integer from 2 to 1000/],
    [{ consumerMaxConcurrency: "2.5" }, /consumerMaxConcurrency must be an integer from 2 to 1000/],
    [{ consumerMaxConcurrency: 1001 }, /consumerMaxConcurrency must be an integer from 2 to 1000/],
    [{ statusChangeConsumerRoleArns: "arn:aws:iam::222222222222:user/alice" }, /statusChangeConsumerRoleArns must be a comma-separated list of IAM role ARNs/],
    [{ verificationReaderRoleArns: "reporting" }, /verificationReaderRoleArns must be a comma-separated list of IAM role ARNs/],
    [{ verificationReaderRoleArns: "arn:aws:iam::*:role/reporting" }, /verificationReaderRoleArns must be/],
  ])("rejects %o instead of silently deploying a default", (context, message) => {
    expect(() => config(context)).toThrow(message);
  });
});
