import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import type { NeurovisionKeyDerivation } from "../lambdas/providers/types.js";
import type { PipelineStackProps } from "./pipeline-stack.js";

/** Every key derivation, spelled so that the compiler flags a value added to the union. */
const KEY_DERIVATIONS: Record<NeurovisionKeyDerivation, true> = { any: true, sha256: true, "sha256-hex-prefix": true };

/** An IAM role ARN with its account: `arn:<partition>:iam::<12 digits>:role/[path/]name`. */
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

function isKeyDerivation(value: string): value is NeurovisionKeyDerivation {
  return Object.hasOwn(KEY_DERIVATIONS, value);
}

/**
 * Stack configuration from CDK context (`-c key=value` or cdk.json); every key is optional and an
 * absent key means the stack's default. Invalid values throw: a typo must not deploy a default.
 */
export function configFromContext(node: Node): PipelineStackProps {
  const read = (key: string): string | undefined => {
    const raw: unknown = node.tryGetContext(key);
    return raw === undefined || raw === null || raw === "" ? undefined : String(raw).trim();
  };
  const flag = (key: string): boolean | undefined => {
    const value = read(key)?.toLowerCase();
    if (value === undefined) return undefined;
    if (value === "true" || value === "false") return value === "true";
    throw new Error(`context ${key} must be true or false, got "${value}"`);
  };
  const positiveNumber = (key: string): number | undefined => {
    const value = read(key);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`context ${key} must be a positive number, got "${value}"`);
    return n;
  };

  /** A comma-separated string (`-c key=arn1,arn2`) or, in cdk.json, a JSON list of role ARNs. */
  const roleArns = (key: string): string[] | undefined => {
    const raw: unknown = node.tryGetContext(key);
    if (raw === undefined || raw === null || raw === "") return undefined;
    const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(",")).map((a) => a.trim()).filter((a) => a !== "");
    for (const arn of list) {
      if (!ROLE_ARN.test(arn)) {
        throw new Error(`context ${key} must be a comma-separated list of IAM role ARNs (arn:aws:iam::<account>:role/<name>), got "${arn}"`);
      }
    }
    return list.length === 0 ? undefined : [...new Set(list)];
  };

  const keyDerivation = read("neurovisionKeyDerivation");
  if (keyDerivation !== undefined && !isKeyDerivation(keyDerivation)) {
    throw new Error(`context neurovisionKeyDerivation must be one of ${Object.keys(KEY_DERIVATIONS).join(", ")}`);
  }
  const retentionDays = positiveNumber("logRetentionDays");
  if (retentionDays !== undefined && !(Object.values(RetentionDays) as number[]).includes(retentionDays)) {
    throw new Error(`context logRetentionDays must be a CloudWatch Logs retention (1, 3, 5, 7, 14, 30, 60, 90, …), got ${retentionDays}`);
  }
  const burstLimit = positiveNumber("throttleBurstLimit");
  if (burstLimit !== undefined && !Number.isInteger(burstLimit)) throw new Error("context throttleBurstLimit must be an integer");
  const maxConcurrency = positiveNumber("consumerMaxConcurrency");
  if (maxConcurrency !== undefined && !(Number.isInteger(maxConcurrency) && maxConcurrency >= 2 && maxConcurrency <= 1000)) {
    // Lambda's range for an SQS event source's maximum concurrency.
    throw new Error(`context consumerMaxConcurrency must be an integer from 2 to 1000, got ${maxConcurrency}`);
  }

  return {
    providerOptions: {
      veriffLegacySignature: flag("veriffLegacySignature"),
      idngoAllowSha1: flag("idngoAllowSha1"),
      neurovisionKeyDerivation: keyDerivation,
    },
    logRetention: retentionDays as RetentionDays | undefined,
    throttle: { rateLimit: positiveNumber("throttleRateLimit"), burstLimit },
    tableDeletionProtection: flag("tableDeletionProtection"),
    consumerMaxConcurrency: maxConcurrency,
    statusChangeConsumerRoleArns: roleArns("statusChangeConsumerRoleArns"),
    verificationReaderRoleArns: roleArns("verificationReaderRoleArns"),
  };
}
