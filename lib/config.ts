import type { StackProps } from "aws-cdk-lib";
import type { IGrantable } from "aws-cdk-lib/aws-iam";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Node } from "constructs";
import { ConfigError, parseBoolean, parseOneOf, parseWholeNumber, text } from "../lambdas/core/config.js";
import { CONSUMER, RECONCILER } from "../lambdas/core/contract.js";
import { OPTION_SETTINGS } from "../lambdas/providers/options.js";
import type { ProviderOptions } from "../lambdas/providers/types.js";
import type { AlarmThresholds } from "./monitoring.js";

/**
 * Log levels a stage may set: the functions' POWERTOOLS_LOG_LEVEL and Lambda's application log
 * level (KycFunction). Not WARN or ERROR: Lambda files the metrics' EMF lines (they carry no level)
 * as INFO, so a stricter application log level would drop every metric and silence the alarms.
 * At INFO, the functions log no line per webhook, event or change (those are DEBUG).
 */
export const LOG_LEVELS = ["DEBUG", "INFO"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * X-Ray tracing of every function. `active`: Lambda samples invocations into X-Ray (1 a second and
 * 5 % of the rest, per function; not tunable). `disabled`: no traces and no X-Ray permissions, for a
 * stage that trades them for cost (docs/performance.md, Cost settings).
 */
export const TRACING_MODES = ["active", "disabled"] as const;
export type TracingMode = (typeof TRACING_MODES)[number];

/**
 * How the verifications table is billed. `on-demand`: per request, no capacity to plan.
 * `provisioned`: capacity that Application Auto Scaling keeps at a target utilization between a
 * minimum and a maximum, for the table and each index; cheaper for steady traffic, throttled when a
 * burst outruns the scaling (docs/performance.md, Cost settings).
 */
export const TABLE_CAPACITY_MODES = ["on-demand", "provisioned"] as const;

/** Provisioned capacity of the table and of each of its indexes: auto scaled between min and max units. */
export interface ProvisionedCapacity {
  readonly minReadUnits: number;
  readonly maxReadUnits: number;
  readonly minWriteUnits: number;
  readonly maxWriteUnits: number;
  /** Consumed / provisioned capacity that auto scaling keeps, in percent (20–90). */
  readonly targetUtilizationPercent: number;
}

/** The table's billing: on demand, or provisioned (any value left out takes PROVISIONED_DEFAULTS). */
export type TableCapacity =
  | { readonly mode: "on-demand" }
  | ({ readonly mode: "provisioned" } & { readonly [K in keyof ProvisionedCapacity]?: number | undefined });

/**
 * What a PipelineStack can be told: every prop is optional (the stage's STAGE_DEFAULTS and
 * PIPELINE_DEFAULTS below), and `configFromContext` reads them from CDK context.
 */
export interface PipelineStackProps extends StackProps {
  /**
   * The stage this stack is (`-c stage=dev`, STAGE_NAME): picks the defaults of the props left out
   * (`stageDefaults`). Its name is part of the stack name (`pipelineStackName`, bin/app.ts) and hence
   * of the alarm and dashboard names. @default none: the original `KycWebhookPipeline` stack (production defaults)
   */
  readonly stage?: string;
  /** Non-secret provider switches; an absent key is the safe default (`DEFAULT_OPTIONS`). */
  readonly providerOptions?: Partial<ProviderOptions>;
  /** Retention of the Lambda and access log groups. @default the stage's (30 days in production) */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of every function. @default the stage's (INFO in production, DEBUG elsewhere) */
  readonly logLevel?: LogLevel;
  /** Stage throttling. @default rateLimit 50 req/s, burstLimit 100 */
  readonly throttle?: { readonly rateLimit?: number | undefined; readonly burstLimit?: number | undefined };
  /** DynamoDB deletion protection of the verifications table (retained either way). @default the stage's (true in production) */
  readonly tableDeletionProtection?: boolean;
  /** Keep the subject index of earlier versions (see VerificationsTableProps.legacySubjectIndex). @default true */
  readonly legacySubjectIndex?: boolean;
  /**
   * The reconciler (docs/reconciliation.md). `enabled: false` leaves out the pending index, the
   * reconciler, its schedule and secrets: only for the first deploy of an upgrade from a version
   * without `bySubjectCreated` (docs/deploy.md, Upgrading). @default enabled, RECONCILER's defaults
   */
  readonly reconciliation?: {
    readonly enabled?: boolean | undefined;
    readonly scheduleMinutes?: number | undefined;
    readonly olderThanHours?: number | undefined;
    readonly idngoApiUrl?: string | undefined;
    readonly veriffApiUrl?: string | undefined;
  };
  /** X-Ray tracing of every function. @default "active" */
  readonly tracing?: TracingMode;
  /** The verifications table's billing. @default on demand */
  readonly tableCapacity?: TableCapacity;
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
  /** E-mail address subscribed to the alarm topic (SNS asks it to confirm). @default no subscription */
  readonly alarmEmail?: string;
  /** Alarm thresholds (lib/monitoring.ts). @default the stage's (STAGE_DEFAULTS) */
  readonly alarmThresholds?: Partial<AlarmThresholds>;
}

/** What PipelineStack uses for a prop left out that does not depend on the stage (STAGE_DEFAULTS: those that do). */
export const PIPELINE_DEFAULTS = {
  throttle: { rateLimit: 50, burstLimit: 100 },
  consumerMaxConcurrency: CONSUMER.maxConcurrency,
  tracing: "active",
  tableCapacity: { mode: "on-demand" },
} as const satisfies Pick<PipelineStackProps, "throttle" | "consumerMaxConcurrency" | "tracing" | "tableCapacity">;

/**
 * Provisioned capacity's defaults (`tableCapacity: provisioned`): 5 units at least (DynamoDB's free
 * tier covers 25 of each per account and region), 4,000 at most (about 2,300 webhooks/s at 70 %,
 * with the table's measured 1.2 write units per webhook), kept at 70 % utilization, which leaves
 * room for traffic to grow by 40 % before auto scaling reacts (it reacts within minutes).
 */
export const PROVISIONED_DEFAULTS: ProvisionedCapacity = {
  minReadUnits: 5,
  maxReadUnits: 4000,
  minWriteUnits: 5,
  maxWriteUnits: 4000,
  targetUtilizationPercent: 70,
};

/** DynamoDB's default per-table quota of read or write capacity units (a quota increase raises it). */
const TABLE_CAPACITY_QUOTA = 40_000;

/** `capacity` with every value left out taken from PROVISIONED_DEFAULTS, or a ConfigError when a minimum exceeds its maximum. */
export function provisionedCapacity(capacity: Partial<Record<keyof ProvisionedCapacity, number | undefined>>): ProvisionedCapacity {
  const resolved = {
    minReadUnits: capacity.minReadUnits ?? PROVISIONED_DEFAULTS.minReadUnits,
    maxReadUnits: capacity.maxReadUnits ?? PROVISIONED_DEFAULTS.maxReadUnits,
    minWriteUnits: capacity.minWriteUnits ?? PROVISIONED_DEFAULTS.minWriteUnits,
    maxWriteUnits: capacity.maxWriteUnits ?? PROVISIONED_DEFAULTS.maxWriteUnits,
    targetUtilizationPercent: capacity.targetUtilizationPercent ?? PROVISIONED_DEFAULTS.targetUtilizationPercent,
  };
  for (const kind of ["Read", "Write"] as const) {
    const min = resolved[`min${kind}Units`];
    const max = resolved[`max${kind}Units`];
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min < 1 || max > TABLE_CAPACITY_QUOTA || min > max) {
      throw new ConfigError(
        `table ${kind.toLowerCase()} capacity must be whole units with 1 <= min <= max <= ${TABLE_CAPACITY_QUOTA}, got ${min}-${max}`,
      );
    }
  }
  const target = resolved.targetUtilizationPercent;
  if (!Number.isSafeInteger(target) || target < 20 || target > 90) {
    throw new ConfigError(`table target utilization must be a whole percentage from 20 to 90, got ${target}`);
  }
  return resolved;
}

/** A stage name: lower-case letters, digits and hyphens, starting with a letter, not ending with a hyphen, 1–21 characters. */
export const STAGE_NAME = /^[a-z](?:[a-z0-9-]{0,19}[a-z0-9])?$/;

/** `stage` if it is a valid stage name (STAGE_NAME), else a ConfigError naming the setting. */
function checkStage(stage: string, name = "stage"): string {
  if (STAGE_NAME.test(stage)) return stage;
  throw new ConfigError(
    `${name} must be 1 to 21 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen ` +
      `(e.g. dev, prod, pr-42), got "${stage}"`,
  );
}

/**
 * The stack of a stage, one independent instance each (own table, queues, secrets, URLs, alarms):
 * `KycWebhookPipeline` without a stage (the original stack, unchanged), else `KycWebhookPipeline-<stage>`.
 */
export function pipelineStackName(stage?: string): string {
  return stage === undefined ? "KycWebhookPipeline" : `KycWebhookPipeline-${checkStage(stage)}`;
}

/** What a stage changes: the defaults of these props (an explicit prop or context key still wins). */
export interface StageDefaults {
  readonly logRetention: RetentionDays;
  readonly tableDeletionProtection: boolean;
  readonly logLevel: LogLevel;
  readonly alarmThresholds: AlarmThresholds;
}

/**
 * The two kinds of stage. `production`: the unnamed stack (the original deployment: its values are
 * the ones it always had) and the stage `prod`. `development`: every other stage (dev, test, pr-42…),
 * short-lived or shared by developers: shorter log retention, a table that can be deleted, DEBUG logs
 * (no line carries a payload value at any level: docs/operations.md), and thresholds that tolerate
 * test traffic (forged signatures, unmappable samples, a consumer stopped on purpose). The alarms and
 * what each threshold means: PipelineMonitoring (lib/monitoring.ts).
 *
 * Production thresholds: the events queue's oldest message at 20 minutes, above the 15 minutes one
 * failing message may spend there before the DLQ takes it (QUEUES.events: 5 receives x 180 s visibility),
 * so that it reports a backlog, not one bad event (EventsDlqNotEmpty does); the publisher 5 minutes behind
 * the table; more than 2 function errors in 5 minutes (one transient error is retried, not paged); more
 * than 5 API 5xx in 5 minutes (providers retry a 503); more than 5 authentication failures per provider
 * in each of 10 minutes (a rotation gone wrong persists; a stray forged request does not); more than 10
 * unmapped webhooks per provider in an hour (a new event type or format, not urgent); more than 25
 * verifications of one provider still stuck after a reconciliation pass (users who never finish
 * stay in the count for 30 days: docs/reconciliation.md says how to read it).
 */
export const STAGE_DEFAULTS = {
  production: {
    logRetention: RetentionDays.ONE_MONTH,
    tableDeletionProtection: true,
    logLevel: "INFO",
    alarmThresholds: {
      eventsQueueMaxAgeSeconds: 1200,
      publisherMaxIteratorAgeSeconds: 300,
      functionErrors: 2,
      api5xx: 5,
      authenticationFailures: 5,
      unmappedWebhooks: 10,
      stuckVerifications: 25,
    },
  },
  development: {
    logRetention: RetentionDays.ONE_WEEK,
    tableDeletionProtection: false,
    logLevel: "DEBUG",
    alarmThresholds: {
      eventsQueueMaxAgeSeconds: 3600,
      publisherMaxIteratorAgeSeconds: 3600,
      functionErrors: 10,
      api5xx: 20,
      authenticationFailures: 20,
      unmappedWebhooks: 50,
      stuckVerifications: 100,
    },
  },
} as const satisfies Record<string, StageDefaults>;

/** The stages that get production defaults besides the unnamed stack. */
export const PRODUCTION_STAGES: readonly string[] = ["prod"];

/** The defaults of a stage (none: the unnamed production stack). */
export function stageDefaults(stage?: string): StageDefaults {
  if (stage === undefined || PRODUCTION_STAGES.includes(checkStage(stage))) return STAGE_DEFAULTS.production;
  return STAGE_DEFAULTS.development;
}

/**
 * Every context key the app reads (`-c key=value` or cdk.json; README "Options"): the provider
 * options of OPTION_SETTINGS by their names, then the stack's own.
 */
export const CONTEXT_KEYS = [
  ...OPTION_SETTINGS.map((o) => o.name),
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
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** Every finite CloudWatch Logs retention, in days (never-expiring logs fail cdk-nag's Serverless pack). */
const RETENTION_DAYS = Object.values(RetentionDays)
  .filter((v): v is RetentionDays => typeof v === "number" && v !== RetentionDays.INFINITE)
  .sort((a, b) => a - b);

/**
 * An IAM role ARN with its account, in one of AWS's partitions:
 * `arn:<partition>:iam::<12 digits>:role/[path/]name`, the name 1–64 of IAM's characters.
 */
const ROLE_ARN = /^arn:(aws|aws-cn|aws-us-gov|aws-iso(-[bef])?|aws-eusc):iam::(\d{12}):role\/(?:[\x21-\x7e]*\/)?[\w+=,.@-]{1,64}$/;

/**
 * A positive number; unset means `fallback`. API Gateway's rate limit is a double (0.5 is a request
 * every 2 s), and lambdas/core/config.ts parses whole numbers only.
 */
function parsePositiveNumber(name: string, raw: unknown, fallback: number): number {
  const value = text(raw);
  if (value === undefined) return fallback;
  // Decimal only: `Number` would also read `0x10`, `0b101` and `0o17`.
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n <= 0) throw new ConfigError(`${name} must be a positive decimal number (e.g. 50 or 0.5), got "${value}"`);
  return n;
}

/**
 * An e-mail address as SNS takes one for an `email` subscription: one address, `local@domain.tld`, no
 * spaces, commas or angle brackets (a display name or a list is not an address), at most 254 characters.
 */
const EMAIL = /^[^\s@,;<>"]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;

/** One e-mail address (EMAIL); unset: undefined. */
function parseEmail(name: string, raw: unknown): string | undefined {
  const value = text(raw);
  if (value === undefined) return undefined;
  if (value.length > 254 || !EMAIL.test(value)) {
    throw new ConfigError(`${name} must be one e-mail address (ops@example.com), got "${value}"`);
  }
  return value;
}

/** An https:// URL without query or fragment (a provider API's base URL); unset: undefined. */
function parseHttpsUrl(name: string, raw: unknown): string | undefined {
  const value = text(raw);
  if (value === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (
    url === undefined ||
    url.protocol !== "https:" ||
    url.search !== "" ||
    url.hash !== "" ||
    url.username !== "" ||
    url.password !== ""
  ) {
    throw new ConfigError(
      `${name} must be an https:// base URL without query or credentials (e.g. https://api.sumsub.com), got "${value}"`,
    );
  }
  return value.replace(/\/+$/, "");
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

/** The reconciler's own keys: only with the reconciler (a key that would be ignored fails the synth). */
const RECONCILER_KEYS = ["reconcileScheduleMinutes", "reconcileOlderThanHours", "idngoApiUrl", "veriffApiUrl"] as const;

/** `reconciler` (default true); false with any of RECONCILER_KEYS set is a ConfigError. */
function reconcilerEnabled(raw: (key: ContextKey) => unknown, label: (key: ContextKey) => string): boolean {
  const enabled = parseBoolean(label("reconciler"), raw("reconciler"), true);
  const set = RECONCILER_KEYS.filter((key) => text(raw(key)) !== undefined);
  if (!enabled && set.length > 0)
    throw new ConfigError(`${set.map(label).join(", ")} only apply with the reconciler (context reconciler is false)`);
  return enabled;
}

/**
 * The read API's reader roles (parseRoleArns), all in one account: an IAM policy attaches to the
 * roles of its own account only, and the stack checks at deploy that it is the stack's.
 */
function readerRoleArns(name: string, raw: unknown): string[] | undefined {
  const arns = parseRoleArns(name, raw);
  const accounts = new Set(arns?.map((arn) => ROLE_ARN.exec(arn)?.[3]));
  if (accounts.size > 1)
    throw new ConfigError(`${name} must name roles of one account (the stack's), got roles of ${accounts.size} accounts`);
  return arns;
}

/** The provisioned capacity context keys, by the ProvisionedCapacity value each sets. */
const CAPACITY_KEYS = {
  minReadUnits: "tableMinReadUnits",
  maxReadUnits: "tableMaxReadUnits",
  minWriteUnits: "tableMinWriteUnits",
  maxWriteUnits: "tableMaxWriteUnits",
  targetUtilizationPercent: "tableTargetUtilization",
} as const satisfies Record<keyof ProvisionedCapacity, ContextKey>;

/** The `tableCapacity` context key and its provisioned capacity keys, which only apply to `provisioned`. */
function tableCapacityFromContext(raw: (key: ContextKey) => unknown, label: (key: ContextKey) => string): TableCapacity {
  const mode = parseOneOf(label("tableCapacity"), raw("tableCapacity"), TABLE_CAPACITY_MODES, PIPELINE_DEFAULTS.tableCapacity.mode);
  const given = Object.entries(CAPACITY_KEYS).filter(([, key]) => text(raw(key)) !== undefined);
  if (mode === "on-demand") {
    if (given.length === 0) return { mode };
    throw new ConfigError(`context ${given.map(([, key]) => key).join(", ")} only apply with tableCapacity=provisioned`);
  }
  const values = Object.fromEntries(
    given.map(([name, key]) => {
      const range = name === "targetUtilizationPercent" ? { min: 20, max: 90 } : { min: 1, max: TABLE_CAPACITY_QUOTA };
      return [name, parseWholeNumber(label(key), raw(key), 0, range)];
    }),
  );
  return { mode, ...provisionedCapacity(values) };
}

/**
 * Stack configuration from CDK context; every key is optional and an absent (or blank) key means
 * the default (the stage's STAGE_DEFAULTS, PIPELINE_DEFAULTS, the providers' DEFAULT_OPTIONS). Invalid
 * values throw, and so does an unknown plain key (one without the `:` or `@` of CDK's own): a typo must
 * not deploy a default.
 */
export function configFromContext(node: Node): PipelineStackProps {
  const known = new Set<string>(CONTEXT_KEYS);
  // CDK's own keys hold a `:` or an `@` (`@aws-cdk/…`, `aws:cdk:…`); any other key is ours or a typo.
  const unknown = Object.keys(node.getAllContext() as Record<string, unknown>).filter((k) => !/[:@]/.test(k) && !known.has(k));
  if (unknown.length > 0) {
    throw new ConfigError(`unknown context ${unknown.map((k) => JSON.stringify(k)).join(", ")}: the app reads ${CONTEXT_KEYS.join(", ")}`);
  }
  const raw = (key: ContextKey): unknown => node.tryGetContext(key);
  const label = (key: ContextKey): string => `context ${key}`;

  const given = text(raw("stage"));
  // `-c stage=$STAGE` with STAGE unset must not deploy the production stack.
  if (given === undefined && raw("stage") !== undefined) {
    throw new ConfigError(`${label("stage")} is blank: leave it out for the default stack, or name a stage`);
  }
  const stage = given === undefined ? undefined : checkStage(given, label("stage"));
  const defaults = stageDefaults(stage);
  const providerOptions = Object.fromEntries(OPTION_SETTINGS.map((o) => [o.name, o.parse(raw(o.name), label(o.name))]));
  const logRetentionDays = parseOneOf(
    label("logRetentionDays"),
    raw("logRetentionDays"),
    RETENTION_DAYS.map(String),
    String(defaults.logRetention),
  );
  return {
    stage,
    providerOptions: providerOptions as Partial<ProviderOptions>,
    logRetention: Number(logRetentionDays) as RetentionDays,
    logLevel: parseOneOf(label("logLevel"), raw("logLevel"), LOG_LEVELS, defaults.logLevel),
    throttle: {
      rateLimit: parsePositiveNumber(label("throttleRateLimit"), raw("throttleRateLimit"), PIPELINE_DEFAULTS.throttle.rateLimit),
      // API Gateway takes a 32-bit integer.
      burstLimit: parseWholeNumber(label("throttleBurstLimit"), raw("throttleBurstLimit"), PIPELINE_DEFAULTS.throttle.burstLimit, {
        min: 1,
        max: 2_147_483_647,
      }),
    },
    tableDeletionProtection: parseBoolean(
      label("tableDeletionProtection"),
      raw("tableDeletionProtection"),
      defaults.tableDeletionProtection,
    ),
    legacySubjectIndex: parseBoolean(label("legacySubjectIndex"), raw("legacySubjectIndex"), true),
    reconciliation: {
      enabled: reconcilerEnabled(raw, label),
      // EventBridge Scheduler's rate takes whole minutes; a day at most here (a pass a day is the slowest useful).
      scheduleMinutes: parseWholeNumber(label("reconcileScheduleMinutes"), raw("reconcileScheduleMinutes"), RECONCILER.scheduleMinutes, {
        min: 5,
        max: 1440,
      }),
      olderThanHours: parseWholeNumber(label("reconcileOlderThanHours"), raw("reconcileOlderThanHours"), RECONCILER.olderThanHours, {
        min: 1,
        max: 24 * RECONCILER.maxAgeDays - 1,
      }),
      idngoApiUrl: parseHttpsUrl(label("idngoApiUrl"), raw("idngoApiUrl")),
      veriffApiUrl: parseHttpsUrl(label("veriffApiUrl"), raw("veriffApiUrl")) ?? RECONCILER.defaultVeriffApiUrl,
    },
    // Lambda's range for an SQS event source's maximum concurrency.
    consumerMaxConcurrency: parseWholeNumber(
      label("consumerMaxConcurrency"),
      raw("consumerMaxConcurrency"),
      PIPELINE_DEFAULTS.consumerMaxConcurrency,
      { min: 2, max: 1000 },
    ),
    tracing: parseOneOf(label("tracing"), raw("tracing"), TRACING_MODES, PIPELINE_DEFAULTS.tracing),
    tableCapacity: tableCapacityFromContext(raw, label),
    statusChangeConsumerRoleArns: parseRoleArns(label("statusChangeConsumerRoleArns"), raw("statusChangeConsumerRoleArns")),
    verificationReaderRoleArns: readerRoleArns(label("verificationReaderRoleArns"), raw("verificationReaderRoleArns")),
    alarmEmail: parseEmail(label("alarmEmail"), raw("alarmEmail")),
    alarmThresholds: defaults.alarmThresholds,
  };
}
