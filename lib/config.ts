import type { StackProps } from "aws-cdk-lib";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { ConfigError, parseBoolean, parseOneOf, parseWholeNumber, text } from "../lambdas/core/config.js";
import { CONSUMER } from "../lambdas/core/contract.js";
import { OPTION_SETTINGS } from "../lambdas/providers/options.js";
import type { ProviderOptions } from "../lambdas/providers/types.js";

/**
 * What a PipelineStack can be told: every prop is optional (PIPELINE_DEFAULTS below), and
 * `configFromContext` reads them from CDK context.
 */
export interface PipelineStackProps extends StackProps {
  /** Non-secret provider switches; an absent key is the safe default (`DEFAULT_OPTIONS`). */
  readonly providerOptions?: Partial<ProviderOptions>;
  /** Retention of the Lambda and access log groups. @default 30 days */
  readonly logRetention?: RetentionDays;
  /** Stage throttling. @default rateLimit 50 req/s, burstLimit 100 */
  readonly throttle?: { readonly rateLimit?: number | undefined; readonly burstLimit?: number | undefined };
  /** DynamoDB deletion protection of the verifications table (retained either way). @default true */
  readonly tableDeletionProtection?: boolean;
  /** Most concurrent consumer invocations the SQS event source may run (2–1000). @default CONSUMER.maxConcurrency (5) */
  readonly consumerMaxConcurrency?: number;
  /** Principals allowed to consume `status-changes`: see `grantConsumeStatusChanges`. */
  readonly statusChangeConsumers?: readonly IGrantable[];
  /** IAM roles, by ARN, of any account, allowed to consume `status-changes` (through the queue's policy). */
  readonly statusChangeConsumerRoleArns?: readonly string[];
  /** Principals allowed to call the read API: see `grantReadVerifications`. */
  readonly verificationReaders?: readonly IGrantable[];
  /** IAM roles, by ARN, of the deployment account, allowed to call the read API (a policy attached to each). */
  readonly verificationReaderRoleArns?: readonly string[];
}

/** What PipelineStack uses for a prop left out, hence what an absent context key means. */
export const PIPELINE_DEFAULTS = {
  logRetention: RetentionDays.ONE_MONTH,
  throttle: { rateLimit: 50, burstLimit: 100 },
  tableDeletionProtection: true,
  consumerMaxConcurrency: CONSUMER.maxConcurrency,
} as const;

/**
 * Every context key the app reads (`-c key=value` or cdk.json; README "Options"): the provider
 * options of OPTION_SETTINGS by their names, then the stack's own.
 */
export const CONTEXT_KEYS = [
  ...OPTION_SETTINGS.map((o) => o.name),
  "logRetentionDays",
  "throttleRateLimit",
  "throttleBurstLimit",
  "tableDeletionProtection",
  "consumerMaxConcurrency",
  "statusChangeConsumerRoleArns",
  "verificationReaderRoleArns",
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Every CloudWatch Logs retention, in days. */
const RETENTION_DAYS = Object.values(RetentionDays)
  .filter((v): v is RetentionDays => typeof v === "number")
  .sort((a, b) => a - b);

/** An IAM role ARN with its account: `arn:<partition>:iam::<12 digits>:role/[path/]name`. */
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]+$/;

/**
 * A positive number; unset means `fallback`. API Gateway's rate limit is a double (0.5 is a request
 * every 2 s), and lambdas/core/config.ts parses whole numbers only.
 */
function parsePositiveNumber(name: string, raw: unknown, fallback: number): number {
  const value = text(raw);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive number, got "${value}"`);
  return n;
}

/** A comma-separated string (`-c key=arn1,arn2`) or, in cdk.json, a JSON list of role ARNs; unset: undefined. */
function parseRoleArns(name: string, raw: unknown): string[] | undefined {
  if (text(raw) === undefined && !Array.isArray(raw)) return undefined;
  const list = (Array.isArray(raw) ? raw.map(String) : String(raw).split(",")).map((a) => a.trim()).filter((a) => a !== "");
  for (const arn of list) {
    if (!ROLE_ARN.test(arn)) {
      throw new ConfigError(`${name} must be a comma-separated list of IAM role ARNs (arn:aws:iam::<account>:role/<name>), got "${arn}"`);
    }
  }
  return list.length === 0 ? undefined : [...new Set(list)];
}

/**
 * Stack configuration from CDK context; every key is optional and an absent (or blank) key means
 * the default (PIPELINE_DEFAULTS, the providers' DEFAULT_OPTIONS). Invalid values throw, and so does
 * an unknown plain key (one without the `:` or `@` of CDK's own): a typo must not deploy a default.
 */
export function configFromContext(node: Node): PipelineStackProps {
  const known = new Set<string>(CONTEXT_KEYS);
  const unknown = Object.keys(node.getAllContext() as Record<string, unknown>).filter((k) => /^[\w-]+$/.test(k) && !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown context ${unknown.join(", ")}: the app reads ${CONTEXT_KEYS.join(", ")}`);
  }
  const raw = (key: ContextKey): unknown => node.tryGetContext(key);
  const label = (key: ContextKey): string => `context ${key}`;

  const providerOptions = Object.fromEntries(OPTION_SETTINGS.map((o) => [o.name, o.parse(raw(o.name), label(o.name))]));
  const logRetentionDays = parseOneOf(
    label("logRetentionDays"),
    raw("logRetentionDays"),
    RETENTION_DAYS.map(String),
    String(PIPELINE_DEFAULTS.logRetention),
  );
  return {
    providerOptions: providerOptions as Partial<ProviderOptions>,
    logRetention: Number(logRetentionDays) as RetentionDays,
    throttle: {
      rateLimit: parsePositiveNumber(label("throttleRateLimit"), raw("throttleRateLimit"), PIPELINE_DEFAULTS.throttle.rateLimit),
      burstLimit: parseWholeNumber(label("throttleBurstLimit"), raw("throttleBurstLimit"), PIPELINE_DEFAULTS.throttle.burstLimit, {
        min: 1,
      }),
    },
    tableDeletionProtection: parseBoolean(
      label("tableDeletionProtection"),
      raw("tableDeletionProtection"),
      PIPELINE_DEFAULTS.tableDeletionProtection,
    ),
    // Lambda's range for an SQS event source's maximum concurrency.
    consumerMaxConcurrency: parseWholeNumber(
      label("consumerMaxConcurrency"),
      raw("consumerMaxConcurrency"),
      PIPELINE_DEFAULTS.consumerMaxConcurrency,
      { min: 2, max: 1000 },
    ),
    statusChangeConsumerRoleArns: parseRoleArns(label("statusChangeConsumerRoleArns"), raw("statusChangeConsumerRoleArns")),
    verificationReaderRoleArns: parseRoleArns(label("verificationReaderRoleArns"), raw("verificationReaderRoleArns")),
  };
}
