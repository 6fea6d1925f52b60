/**
 * The cost model, pure: AWS list prices (us-east-1, arm64) with where each comes from, and the cost
 * per million webhooks computed line by line from per-webhook inputs. Every input says whether it was
 * measured (by `npm run bench`, from the synthesized stack or a local run) or assumed; bench/model.ts
 * builds them. Fixed monthly costs (secrets, alarms, dashboard, keys, custom metrics) and storage that
 * accumulates are kept apart from the variable cost: `usdPerMillion` is the variable cost only.
 */

export type InputKind = "measured" | "assumed";

export interface Input {
  readonly value: number;
  readonly unit: string;
  readonly kind: InputKind;
  /** How it was measured, or why it is assumed. */
  readonly note: string;
}

export interface Price {
  readonly usd: number;
  readonly unit: string;
  readonly source: string;
  /** When it was looked up. */
  readonly date: string;
  /** `confirmed` when a published price page or a source quoting it was found; else an assumption. */
  readonly status: "confirmed" | "assumption";
  readonly note: string;
}

const LOOKED_UP = "2026-11-22";

/** AWS list prices, us-east-1, first tier, arm64 where it matters. */
export const PRICES = {
  apiGatewayHttpPerMillion: {
    usd: 1.0,
    unit: "USD per million HTTP API requests (first 300 M a month; metered in 512 KB increments)",
    source: "https://aws.amazon.com/api-gateway/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by apigatewaycost.com, awsforengineers.com and amnic.com",
  },
  lambdaRequestsPerMillion: {
    usd: 0.2,
    unit: "USD per million Lambda requests",
    source: "https://aws.amazon.com/lambda/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "same for x86_64 and arm64",
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    unit: "USD per GB-second, arm64 (first 7.5 billion GB-s a month)",
    source: "https://aws.amazon.com/lambda/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by cloudchipr.com; the INIT phase is billed too since 1 August 2025 (AWS Compute Blog)",
  },
  sqsFifoPerMillion: {
    usd: 0.5,
    unit: "USD per million FIFO requests (each 64 KB chunk of a payload is one request)",
    source: "https://aws.amazon.com/sqs/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by factualminds.com, cloudburn.io, unanswered.io; 1 M requests a month free (ignored)",
  },
  dynamoWriteRequestUnitPerMillion: {
    usd: 0.625,
    unit: "USD per million on-demand write request units (standard table class)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "after the 50 % on-demand price cut effective 1 November 2024 (was 1.25); quoted by airbyte.com and jusdb.com",
  },
  dynamoReadRequestUnitPerMillion: {
    usd: 0.125,
    unit: "USD per million on-demand read request units (standard table class)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "after the November 2024 price cut (was 0.25); quoted by airbyte.com. Stream reads by Lambda triggers are free",
  },
  dynamoWriteCapacityUnitHour: {
    usd: 0.00065,
    unit: "USD per provisioned write capacity unit per hour (standard table class)",
    source: "https://aws.amazon.com/dynamodb/pricing/provisioned/",
    date: LOOKED_UP,
    status: "assumption",
    note: "the list price quoted by public cost guides and calculators; not confirmed on AWS's page here (the November 2024 cut was on-demand only)",
  },
  dynamoReadCapacityUnitHour: {
    usd: 0.00013,
    unit: "USD per provisioned read capacity unit per hour (standard table class)",
    source: "https://aws.amazon.com/dynamodb/pricing/provisioned/",
    date: LOOKED_UP,
    status: "assumption",
    note: "the list price quoted by public cost guides and calculators; not confirmed on AWS's page here",
  },
  logsIngestionStandardPerGb: {
    usd: 0.5,
    unit: "USD per GB ingested, CloudWatch Logs Standard class (Lambda logs: first tier of the May 2025 tiered pricing)",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by c3x.dev, hykell.com, duckbillgroup.com",
  },
  logsIngestionInfrequentAccessPerGb: {
    usd: 0.25,
    unit: "USD per GB ingested, CloudWatch Logs Infrequent Access class",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by c3x.dev",
  },
  logsStoragePerGbMonth: {
    usd: 0.03,
    unit: "USD per GB-month archived (compressed), CloudWatch Logs Standard",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by c3x.dev and hykell.com",
  },
  xrayTracesRecordedPerMillion: {
    usd: 5.0,
    unit: "USD per million traces recorded (first 100,000 a month free, ignored)",
    source: "https://aws.amazon.com/xray/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "AWS X-Ray pricing page (de, cn, vi versions)",
  },
  dataTransferOutPerGb: {
    usd: 0.09,
    unit: "USD per GB out to the internet (first 10 TB)",
    source: "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by apigatewaycost.com for API Gateway responses",
  },
  secretsManagerApiPer10k: {
    usd: 0.05,
    unit: "USD per 10,000 Secrets Manager API calls",
    source: "https://aws.amazon.com/secrets-manager/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by hivebook.wiki",
  },
  secretPerMonth: {
    usd: 0.4,
    unit: "USD per secret per month",
    source: "https://aws.amazon.com/secrets-manager/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by hivebook.wiki",
  },
  alarmMetricPerMonth: {
    usd: 0.1,
    unit: "USD per standard-resolution alarm metric per month",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by c3x.dev",
  },
  dashboardPerMonth: {
    usd: 3.0,
    unit: "USD per custom dashboard per month (the first 3 free, ignored)",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "assumption",
    note: "not confirmed by a source found",
  },
  customMetricPerMonth: {
    usd: 0.3,
    unit: "USD per custom metric (name + dimension values) per month, first 10,000",
    source: "https://aws.amazon.com/cloudwatch/pricing/",
    date: LOOKED_UP,
    status: "assumption",
    note: "not confirmed by a source found; EMF metrics are billed as custom metrics",
  },
  kmsKeyPerMonth: {
    usd: 1.0,
    unit: "USD per customer managed KMS key per month",
    source: "https://aws.amazon.com/kms/pricing/",
    date: LOOKED_UP,
    status: "confirmed",
    note: "quoted by wring.co; AWS managed keys (aws/dynamodb) and SSE-SQS are free of the monthly fee",
  },
  dynamoStoragePerGbMonth: {
    usd: 0.25,
    unit: "USD per GB-month, DynamoDB standard table class (first 25 GB free, ignored)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    date: LOOKED_UP,
    status: "assumption",
    note: "not confirmed by a source found",
  },
  dynamoPitrPerGbMonth: {
    usd: 0.2,
    unit: "USD per GB-month of continuous backups (point-in-time recovery)",
    source: "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    date: LOOKED_UP,
    status: "assumption",
    note: "not confirmed by a source found",
  },
} as const satisfies Record<string, Price>;

export type Prices = { readonly [K in keyof typeof PRICES]: Price };

export interface FunctionInputs {
  readonly invocationsPerWebhook: Input;
  readonly billedMsPerInvocation: Input;
  readonly memoryMb: Input;
  /** The function's own lines and EMF lines, per webhook. */
  readonly appLogBytesPerWebhook: Input;
  /** Lambda's START/END/REPORT lines, per invocation (0 when the logging config suppresses them). */
  readonly platformLogBytesPerInvocation: Input;
  readonly tracedInvocationsPerWebhook: Input;
  readonly coldStartsPerInvocation: Input;
  readonly initMs: Input;
}

export interface CostInputs {
  readonly referenceWebhooksPerSecond: Input;
  readonly apiRequestsPerWebhook: Input;
  readonly apiAccessLogBytesPerWebhook: Input;
  readonly responseBytesPerWebhook: Input;
  readonly functions: Readonly<Record<string, FunctionInputs>>;
  /** Billable SQS FIFO requests (64 KB chunks counted) per webhook. */
  readonly sqsRequestsPerWebhook: Input;
  /** Table and index write request units per webhook. */
  readonly dynamoWriteUnitsPerWebhook: Input;
  /** The same, per resource: `table` and each index by name (what provisioned capacity is sized by). */
  readonly dynamoWriteUnitsByResource: Readonly<Record<string, Input>>;
  readonly dynamoReadUnitsPerWebhook: Input;
  readonly secretsManagerCallsPerWebhook: Input;
  readonly logClass: "STANDARD" | "INFREQUENT_ACCESS";
  readonly fixed: {
    readonly secrets: Input;
    readonly alarmMetrics: Input;
    readonly dashboards: Input;
    readonly customerManagedKmsKeys: Input;
    readonly customMetrics: Input;
  };
  readonly storage: {
    /** Bytes DynamoDB stores per webhook (items and index entries, with DynamoDB's 100-byte overhead each). */
    readonly dynamoBytesPerWebhook: Input;
    readonly pointInTimeRecovery: boolean;
    /** Compressed size / ingested size of the logs CloudWatch archives. */
    readonly logCompressionRatio: Input;
  };
}

export interface CostResult {
  /** USD per million webhooks, by line (variable cost). */
  readonly lines: Readonly<Record<string, number>>;
  readonly usdPerMillion: number;
  readonly dominantLine: string;
  /** Total log bytes per webhook (all functions, platform lines, API access logs). */
  readonly logBytesPerWebhook: number;
  /** The logs line if the log groups used the Infrequent Access class instead (or Standard, when they do). */
  readonly logsOtherClassUsdPerMillion: number;
  readonly fixedMonthly: { readonly lines: Readonly<Record<string, number>>; readonly total: number };
  /** What a million webhooks' data costs per month while it is kept. */
  readonly storagePerMillionPerMonth: { readonly lines: Readonly<Record<string, number>>; readonly total: number };
}

const GB = 1024 ** 3;
const MILLION = 1_000_000;

/** The settings the cost depends on besides the inputs: the stack's tracing and the table's billing. */
export interface Deployment {
  /** Lambda samples invocations into X-Ray (Active tracing); false: no traces recorded. */
  readonly tracing: boolean;
  /**
   * Provisioned capacity kept at the target utilization by auto scaling, for the table and each
   * index, never below the minimums; null: on demand.
   */
  readonly provisioned: null | {
    readonly targetUtilizationPercent: number;
    readonly minReadUnits: number;
    readonly minWriteUnits: number;
  };
}

/** The stack's defaults: active tracing, an on-demand table. */
export const DEFAULT_DEPLOYMENT: Deployment = { tracing: true, provisioned: null };

/**
 * USD per million webhooks of the table's reads and writes. On demand: per request unit. Provisioned:
 * the capacity steady traffic at the reference rate keeps provisioned (consumed / target utilization,
 * at least the minimum, for the table and each index; indexes are not read per webhook) per hour, over
 * the webhooks of that hour.
 */
function dynamoCost(inputs: CostInputs, prices: Prices, deployment: Deployment): { writes: number; reads: number } {
  const { provisioned } = deployment;
  if (provisioned === null) {
    return {
      writes: inputs.dynamoWriteUnitsPerWebhook.value * prices.dynamoWriteRequestUnitPerMillion.usd,
      reads: inputs.dynamoReadUnitsPerWebhook.value * prices.dynamoReadRequestUnitPerMillion.usd,
    };
  }
  const rate = inputs.referenceWebhooksPerSecond.value;
  const utilization = provisioned.targetUtilizationPercent / 100;
  const units = (perWebhook: number, min: number) => Math.max(min, Math.ceil((perWebhook * rate) / utilization));
  const resources = Object.entries(inputs.dynamoWriteUnitsByResource);
  const writeUnits = resources.reduce((t, [, input]) => t + units(input.value, provisioned.minWriteUnits), 0);
  const readUnits = resources.reduce(
    (t, [name]) => t + units(name === "table" ? inputs.dynamoReadUnitsPerWebhook.value : 0, provisioned.minReadUnits),
    0,
  );
  const perMillion = MILLION / (rate * 3600);
  return {
    writes: writeUnits * prices.dynamoWriteCapacityUnitHour.usd * perMillion,
    reads: readUnits * prices.dynamoReadCapacityUnitHour.usd * perMillion,
  };
}

export function computeCost(inputs: CostInputs, prices: Prices = PRICES, deployment: Deployment = DEFAULT_DEPLOYMENT): CostResult {
  const fns = Object.values(inputs.functions);
  const sum = (f: (fn: FunctionInputs) => number) => fns.reduce((t, fn) => t + f(fn), 0);
  const gbSeconds = (fn: FunctionInputs, ms: number) => (ms / 1000) * (fn.memoryMb.value / 1024);

  const logBytesPerWebhook =
    inputs.apiAccessLogBytesPerWebhook.value +
    sum((fn) => fn.appLogBytesPerWebhook.value + fn.invocationsPerWebhook.value * fn.platformLogBytesPerInvocation.value);
  const logGb = (logBytesPerWebhook * MILLION) / GB;
  const standard = prices.logsIngestionStandardPerGb.usd;
  const infrequent = prices.logsIngestionInfrequentAccessPerGb.usd;

  const dynamo = dynamoCost(inputs, prices, deployment);
  const lines: Record<string, number> = {
    "API Gateway HTTP API requests": inputs.apiRequestsPerWebhook.value * prices.apiGatewayHttpPerMillion.usd,
    "Lambda requests": sum((fn) => fn.invocationsPerWebhook.value) * prices.lambdaRequestsPerMillion.usd,
    "Lambda duration":
      sum((fn) => fn.invocationsPerWebhook.value * gbSeconds(fn, fn.billedMsPerInvocation.value)) * MILLION * prices.lambdaArmGbSecond.usd,
    "Lambda init (cold starts)":
      sum((fn) => fn.invocationsPerWebhook.value * fn.coldStartsPerInvocation.value * gbSeconds(fn, fn.initMs.value)) *
      MILLION *
      prices.lambdaArmGbSecond.usd,
    "SQS FIFO requests": inputs.sqsRequestsPerWebhook.value * prices.sqsFifoPerMillion.usd,
    "DynamoDB writes": dynamo.writes,
    "DynamoDB reads": dynamo.reads,
    "CloudWatch Logs ingestion": logGb * (inputs.logClass === "STANDARD" ? standard : infrequent),
    "X-Ray traces": deployment.tracing ? sum((fn) => fn.tracedInvocationsPerWebhook.value) * prices.xrayTracesRecordedPerMillion.usd : 0,
    "Secrets Manager API": ((inputs.secretsManagerCallsPerWebhook.value * MILLION) / 10_000) * prices.secretsManagerApiPer10k.usd,
    "Data transfer out": ((inputs.responseBytesPerWebhook.value * MILLION) / GB) * prices.dataTransferOutPerGb.usd,
  };
  const usdPerMillion = Object.values(lines).reduce((a, b) => a + b, 0);
  const dominantLine = Object.entries(lines).reduce((best, line) => (line[1] > best[1] ? line : best), ["none", -1])[0];

  const fixedLines: Record<string, number> = {
    "Secrets Manager secrets": inputs.fixed.secrets.value * prices.secretPerMonth.usd,
    "CloudWatch alarms": inputs.fixed.alarmMetrics.value * prices.alarmMetricPerMonth.usd,
    "CloudWatch dashboards": inputs.fixed.dashboards.value * prices.dashboardPerMonth.usd,
    "KMS keys": inputs.fixed.customerManagedKmsKeys.value * prices.kmsKeyPerMonth.usd,
    "CloudWatch custom metrics (EMF)": inputs.fixed.customMetrics.value * prices.customMetricPerMonth.usd,
  };
  const dynamoGb = (inputs.storage.dynamoBytesPerWebhook.value * MILLION) / GB;
  const storageLines: Record<string, number> = {
    "DynamoDB storage": dynamoGb * prices.dynamoStoragePerGbMonth.usd,
    "DynamoDB point-in-time recovery": inputs.storage.pointInTimeRecovery ? dynamoGb * prices.dynamoPitrPerGbMonth.usd : 0,
    "CloudWatch Logs storage": logGb * inputs.storage.logCompressionRatio.value * prices.logsStoragePerGbMonth.usd,
  };
  const total = (record: Record<string, number>) => Object.values(record).reduce((a, b) => a + b, 0);
  return {
    lines,
    usdPerMillion,
    dominantLine,
    logBytesPerWebhook,
    logsOtherClassUsdPerMillion: logGb * (inputs.logClass === "STANDARD" ? infrequent : standard),
    fixedMonthly: { lines: fixedLines, total: total(fixedLines) },
    storagePerMillionPerMonth: { lines: storageLines, total: total(storageLines) },
  };
}

/** Traces Lambda records per second for a function invoked `rate` times a second: 1 a second, then 5 % of the rest. */
export function tracedPerSecond(rate: number): number {
  return Math.min(rate, 1) + 0.05 * Math.max(0, rate - 1);
}

/** SQS bills each 64 KB chunk of a request's payload as one request. */
export function sqsBillableRequests(payloadBytes: number): number {
  return Math.max(1, Math.ceil(payloadBytes / (64 * 1024)));
}

/** Lambda bills duration rounded up to the millisecond. */
export function billedMs(ms: number): number {
  return Math.max(1, Math.ceil(ms));
}
