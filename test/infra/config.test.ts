import { App } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { OPTION_SETTINGS } from "../../lambdas/providers/options.js";
import { CONTEXT_KEYS, configFromContext, PROVISIONED_DEFAULTS, STAGE_DEFAULTS } from "../../lib/config.js";

const config = (context: Record<string, unknown>) => configFromContext(new App({ context }).node);

describe("configFromContext", () => {
  it("gives the stack's defaults when no context is given", () => {
    expect(config({})).toEqual({
      stage: undefined,
      providerOptions: { veriffLegacySignature: false, idngoAllowSha1: false, neurovisionKeyDerivation: "any" },
      logRetention: 30,
      logLevel: "INFO",
      throttle: { rateLimit: 50, burstLimit: 100 },
      tableDeletionProtection: true,
      legacySubjectIndex: true,
      reconciliation: {
        enabled: true,
        scheduleMinutes: 60,
        olderThanHours: 24,
        idngoApiUrl: undefined,
        veriffApiUrl: "https://stationapi.veriff.com",
      },
      consumerMaxConcurrency: 5,
      tracing: "active",
      tableCapacity: { mode: "on-demand" },
      statusChangeConsumerRoleArns: undefined,
      verificationReaderRoleArns: undefined,
      alarmEmail: undefined,
      alarmThresholds: STAGE_DEFAULTS.production.alarmThresholds,
    });
    // Blank is absent (but for the stage: test below).
    expect(config({ idngoAllowSha1: " ", logRetentionDays: "", verificationReaderRoleArns: [], alarmEmail: "", logLevel: "" })).toEqual(
      config({}),
    );
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
        legacySubjectIndex: "false",
        reconciler: "true",
        reconcileScheduleMinutes: "15",
        reconcileOlderThanHours: 6,
        idngoApiUrl: "https://api.sumsub.com/",
        veriffApiUrl: "https://sandbox.example.com/veriff",
        consumerMaxConcurrency: "20",
        statusChangeConsumerRoleArns: " arn:aws:iam::222222222222:role/partner/consumer, arn:aws:iam::111111111111:role/svc ,",
        verificationReaderRoleArns: ["arn:aws-us-gov:iam::111111111111:role/reporting", "arn:aws-us-gov:iam::111111111111:role/reporting"],
        stage: "qa",
        logLevel: "INFO",
        alarmEmail: " ops+kyc@example.co.uk ",
      }),
    ).toEqual({
      stage: "qa",
      providerOptions: { veriffLegacySignature: true, idngoAllowSha1: false, neurovisionKeyDerivation: "sha256-hex-prefix" },
      logRetention: 90, // explicit keys beat the stage's defaults
      logLevel: "INFO",
      throttle: { rateLimit: 12.5, burstLimit: 40 },
      tableDeletionProtection: false,
      legacySubjectIndex: false,
      reconciliation: {
        enabled: true,
        scheduleMinutes: 15,
        olderThanHours: 6,
        idngoApiUrl: "https://api.sumsub.com", // trailing slash dropped
        veriffApiUrl: "https://sandbox.example.com/veriff",
      },
      consumerMaxConcurrency: 20,
      tracing: "active",
      tableCapacity: { mode: "on-demand" },
      statusChangeConsumerRoleArns: ["arn:aws:iam::222222222222:role/partner/consumer", "arn:aws:iam::111111111111:role/svc"],
      verificationReaderRoleArns: ["arn:aws-us-gov:iam::111111111111:role/reporting"], // a JSON list in cdk.json, deduplicated
      alarmEmail: "ops+kyc@example.co.uk",
      alarmThresholds: STAGE_DEFAULTS.development.alarmThresholds,
    });
  });

  it("reads the cost settings: tracing, and provisioned capacity with any value left out at PROVISIONED_DEFAULTS", () => {
    expect(config({ tracing: "disabled" })).toMatchObject({ tracing: "disabled", tableCapacity: { mode: "on-demand" } });
    expect(config({ tableCapacity: "provisioned" }).tableCapacity).toEqual({ mode: "provisioned", ...PROVISIONED_DEFAULTS });
    expect(
      config({
        tableCapacity: "provisioned",
        tableMinReadUnits: "1",
        tableMaxReadUnits: 100,
        tableMinWriteUnits: "20",
        tableMaxWriteUnits: "20",
        tableTargetUtilization: "50",
      }).tableCapacity,
    ).toEqual({
      mode: "provisioned",
      minReadUnits: 1,
      maxReadUnits: 100,
      minWriteUnits: 20,
      maxWriteUnits: 20,
      targetUtilizationPercent: 50,
    });
  });

  it("gives a stage its defaults: production for no stage and prod, development for any other", () => {
    const production = {
      logRetention: 30,
      logLevel: "INFO",
      tableDeletionProtection: true,
      alarmThresholds: STAGE_DEFAULTS.production.alarmThresholds,
    };
    const development = {
      logRetention: 7,
      logLevel: "DEBUG",
      tableDeletionProtection: false,
      alarmThresholds: STAGE_DEFAULTS.development.alarmThresholds,
    };
    expect(config({})).toMatchObject({ stage: undefined, ...production });
    expect(config({ stage: "prod" })).toMatchObject({ stage: "prod", ...production });
    for (const stage of ["dev", "staging", "pr-42", "a", "abcdefghij0123456789z"])
      expect(config({ stage })).toMatchObject({ stage, ...development });
    // Explicit keys still win.
    expect(config({ stage: "dev", logRetentionDays: "30", tableDeletionProtection: "true", logLevel: "INFO" })).toMatchObject({
      stage: "dev",
      logRetention: 30,
      logLevel: "INFO",
      tableDeletionProtection: true,
    });
  });

  it.each([
    [{ veriffLegacySignature: "yes" }, /^context veriffLegacySignature must be true or false, got "yes"$/],
    [{ neurovisionKeyDerivation: "md5" }, /^context neurovisionKeyDerivation must be one of any, sha256, sha256-hex-prefix, got "md5"$/],
    [{ logRetentionDays: "31" }, /^context logRetentionDays must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, .*, 3653, got "31"$/],
    // Never-expiring logs: cdk-nag's Serverless pack would fail the synth with a long report instead.
    [{ logRetentionDays: "9999" }, /^context logRetentionDays must be one of .*, 3653, got "9999"$/],
    [{ throttleRateLimit: "-1" }, /^context throttleRateLimit must be a positive decimal number \(e.g. 50 or 0.5\), got "-1"$/],
    [{ throttleRateLimit: "fast" }, /^context throttleRateLimit must be a positive decimal number .*, got "fast"$/],
    [{ throttleRateLimit: "0x10" }, /^context throttleRateLimit must be a positive decimal number .*, got "0x10"$/],
    [{ throttleRateLimit: "1e3" }, /^context throttleRateLimit must be a positive decimal number .*, got "1e3"$/],
    [{ throttleBurstLimit: "2147483648" }, /^context throttleBurstLimit must be a whole number from 1 to 2147483647, got "2147483648"$/],
    [{ throttleBurstLimit: "1.5" }, /^context throttleBurstLimit must be a whole number from 1 to \d+, got "1.5"$/],
    [{ throttleBurstLimit: 0 }, /^context throttleBurstLimit must be a whole number from 1 to \d+, got "0"$/],
    [{ tableDeletionProtection: "off" }, /^context tableDeletionProtection must be true or false, got "off"$/],
    [{ consumerMaxConcurrency: "1" }, /^context consumerMaxConcurrency must be a whole number from 2 to 1000, got "1"$/],
    [{ consumerMaxConcurrency: "2.5" }, /^context consumerMaxConcurrency must be a whole number from 2 to 1000, got "2.5"$/],
    [{ consumerMaxConcurrency: 1001 }, /^context consumerMaxConcurrency must be a whole number from 2 to 1000, got "1001"$/],
    [
      { statusChangeConsumerRoleArns: "arn:aws:iam::222222222222:user/alice" },
      /^context statusChangeConsumerRoleArns must be a comma-separated list of IAM role ARNs .*, got "arn:aws:iam::222222222222:user\/alice"$/,
    ],
    [
      { verificationReaderRoleArns: "reporting" },
      /^context verificationReaderRoleArns must be a comma-separated list of IAM role ARNs .*, got "reporting"$/,
    ],
    [
      { verificationReaderRoleArns: "arn:aws:iam::*:role/reporting" },
      /^context verificationReaderRoleArns must be .*, got "arn:aws:iam::\*:role\/reporting"$/,
    ],
    // No such partition; an empty role name after a path.
    [{ statusChangeConsumerRoleArns: "arn:aws-foo:iam::222222222222:role/x" }, /^context statusChangeConsumerRoleArns must be .*aws-foo/],
    [
      { verificationReaderRoleArns: "arn:aws:iam::111111111111:role/reporting/" },
      /^context verificationReaderRoleArns must be .*reporting\/"$/,
    ],
    [
      { verificationReaderRoleArns: "arn:aws:iam::111111111111:role/a,arn:aws:iam::222222222222:role/b" },
      /^context verificationReaderRoleArns must name roles of one account \(the stack's\), got roles of 2 accounts$/,
    ],
    [{ stage: "" }, /^context stage is blank: leave it out for the default stack, or name a stage$/],
    [{ stage: "  " }, /^context stage is blank/],
    [{ stage: "Dev" }, /^context stage must be 1 to 21 lower-case letters, digits or hyphens, .*, got "Dev"$/],
    [{ stage: "1dev" }, /^context stage must be .*, got "1dev"$/],
    [{ stage: "dev-" }, /^context stage must be .*not ending with a hyphen.*, got "dev-"$/],
    [{ stage: "dev_1" }, /^context stage must be .*, got "dev_1"$/],
    [{ stage: "abcdefghij0123456789zz" }, /^context stage must be .*, got "abcdefghij0123456789zz"$/],
    [{ logLevel: "verbose" }, /^context logLevel must be one of DEBUG, INFO, got "verbose"$/],
    // Lambda would drop the metrics' EMF lines (level-less, hence INFO) at a stricter application log level.
    [{ logLevel: "WARN" }, /^context logLevel must be one of DEBUG, INFO, got "WARN"$/],
    [{ tracing: "passthrough" }, /^context tracing must be one of active, disabled, got "passthrough"$/],
    [{ tableCapacity: "PROVISIONED" }, /^context tableCapacity must be one of on-demand, provisioned, got "PROVISIONED"$/],
    // Capacity keys without provisioned capacity would be ignored: a mistake, not a default.
    [{ tableMaxWriteUnits: "500" }, /^context tableMaxWriteUnits only apply with tableCapacity=provisioned$/],
    [
      { tableCapacity: "on-demand", tableMinReadUnits: "5", tableTargetUtilization: "50" },
      /^context tableMinReadUnits, tableTargetUtilization only apply with tableCapacity=provisioned$/,
    ],
    [
      { tableCapacity: "provisioned", tableMaxWriteUnits: "0" },
      /^context tableMaxWriteUnits must be a whole number from 1 to 40000, got "0"$/,
    ],
    [{ tableCapacity: "provisioned", tableMaxReadUnits: "40001" }, /^context tableMaxReadUnits must be a whole number from 1 to 40000/],
    [
      { tableCapacity: "provisioned", tableTargetUtilization: "95" },
      /^context tableTargetUtilization must be a whole number from 20 to 90, got "95"$/,
    ],
    [
      { tableCapacity: "provisioned", tableMinWriteUnits: "100", tableMaxWriteUnits: "50" },
      /^table write capacity must be whole units with 1 <= min <= max <= 40000, got 100-50$/,
    ],
    [{ tableCapacity: "provisioned", tableMinReadUnits: "4001" }, /^table read capacity must be .*, got 4001-4000$/],
    [{ reconciler: "on" }, /^context reconciler must be true or false, got "on"$/],
    [{ reconcileScheduleMinutes: "1" }, /^context reconcileScheduleMinutes must be a whole number from 5 to 1440, got "1"$/],
    [{ reconcileOlderThanHours: "0" }, /^context reconcileOlderThanHours must be a whole number from 1 to 719, got "0"$/],
    [{ idngoApiUrl: "http://api.sumsub.com" }, /^context idngoApiUrl must be an https:\/\/ base URL .*, got "http:\/\/api.sumsub.com"$/],
    [
      { veriffApiUrl: "https://user:pw@x.example" },
      /^context veriffApiUrl must be an https:\/\/ base URL .*, got "https:\/\/user:pw@x.example"$/,
    ],
    [{ idngoApiUrl: "https://:s3cret@api.example.com" }, /^context idngoApiUrl must be an https:\/\/ base URL .*credentials/],
    // The reconciler's keys without the reconciler would be ignored.
    [
      { reconciler: "false", reconcileScheduleMinutes: "15", idngoApiUrl: "https://api.example.com" },
      /^context reconcileScheduleMinutes, context idngoApiUrl only apply with the reconciler \(context reconciler is false\)$/,
    ],
    [{ idngoApiUrl: "api.sumsub.com" }, /^context idngoApiUrl must be an https:\/\/ base URL/],
    [{ alarmEmail: "ops" }, /^context alarmEmail must be one e-mail address \(ops@example.com\), got "ops"$/],
    [{ alarmEmail: "ops@example" }, /^context alarmEmail must be one e-mail address .*, got "ops@example"$/],
    [
      { alarmEmail: "a@example.com,b@example.com" },
      /^context alarmEmail must be one e-mail address .*, got "a@example.com,b@example.com"$/,
    ],
    [{ alarmEmail: "Ops <ops@example.com>" }, /^context alarmEmail must be one e-mail address .*, got "Ops <ops@example.com>"$/],
    // A typo of a key would otherwise deploy the default silently.
    [
      { idngoAllowSHA1: "true" },
      /^unknown context "idngoAllowSHA1": the app reads veriffLegacySignature, idngoAllowSha1, .*, verificationReaderRoleArns, alarmEmail$/,
    ],
    [{ stgae: "dev" }, /^unknown context "stgae": the app reads .*stage.*$/],
    [{ alarmEmial: "ops@example.com", stage: "dev" }, /^unknown context "alarmEmial": the app reads .*alarmEmail$/],
    [{ loglevel: "DEBUG" }, /^unknown context "loglevel": /],
    // A key with a space, a dot or another character is a typo too.
    [{ "stage ": "dev" }, /^unknown context "stage ": /],
    [{ "stage.name": "dev" }, /^unknown context "stage.name": /],
  ])("rejects %o instead of silently deploying a default", (context, message) => {
    expect(() => config(context)).toThrow(message);
  });

  it("leaves CDK's own context alone (keys with ':' or '@')", () => {
    expect(() => config({ "@aws-cdk/core:stackRelativeExports": true, "aws:cdk:bundling-stacks": [] })).not.toThrow();
  });
});

describe("CONTEXT_KEYS", () => {
  it("are the README's options: the provider options of OPTION_SETTINGS by name, then the stack's own", () => {
    expect(CONTEXT_KEYS).toEqual([
      "veriffLegacySignature",
      "idngoAllowSha1",
      "neurovisionKeyDerivation",
      "stage",
      "logRetentionDays",
      "logLevel",
      "throttleRateLimit",
      "throttleBurstLimit",
      "tableDeletionProtection",
      "legacySubjectIndex",
      "reconciler",
      "reconcileScheduleMinutes",
      "reconcileOlderThanHours",
      "idngoApiUrl",
      "veriffApiUrl",
      "consumerMaxConcurrency",
      "tracing",
      "tableCapacity",
      "tableMinReadUnits",
      "tableMaxReadUnits",
      "tableMinWriteUnits",
      "tableMaxWriteUnits",
      "tableTargetUtilization",
      "statusChangeConsumerRoleArns",
      "verificationReaderRoleArns",
      "alarmEmail",
    ]);
    expect(CONTEXT_KEYS.slice(0, OPTION_SETTINGS.length)).toEqual(OPTION_SETTINGS.map((o) => o.name));
  });
});
