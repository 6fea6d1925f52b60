/** What the bench reads from the synthesized stack (bench/stack.ts writes it, the other phases read it). */
import type { ProviderId } from "../../lambdas/core/event.js";

export const FUNCTION_ROLES = ["ingest", "consumer", "publisher", "read"] as const;
export type FunctionRole = (typeof FUNCTION_ROLES)[number];

export interface FunctionFacts {
  readonly logicalId: string;
  /** A physical name as CloudFormation would generate it. */
  readonly functionName: string;
  readonly role: FunctionRole;
  readonly service: string;
  readonly provider?: ProviderId;
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  readonly architecture: string;
  readonly runtime: string;
  readonly tracing: string;
  /** The function's environment, with CloudFormation references replaced by realistic values. */
  readonly env: Readonly<Record<string, string>>;
  /** LoggingConfig: `Text` (the default) or `JSON`, and the system log level (JSON only). */
  readonly logFormat: string;
  readonly systemLogLevel: string | null;
  readonly applicationLogLevel: string | null;
  readonly logGroupClass: string;
  readonly logRetentionDays: number | null;
  /** The deployed bundle (the asset directory's index.mjs), its size and its source map's size. */
  readonly bundlePath: string;
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  /** The `@aws-sdk/*` packages the bundle imports (external, resolved from the runtime). */
  readonly sdkImports: readonly string[];
}

export interface FloorFacts {
  readonly role: FunctionRole;
  readonly bundlePath: string;
  readonly bundleBytes: number;
  readonly env: Readonly<Record<string, string>>;
  readonly sdkImports: readonly string[];
}

export interface TableIndex {
  readonly name: string;
  readonly keys: readonly string[];
  readonly projection: string;
  readonly nonKeyAttributes: readonly string[];
}

/** One auto scaled capacity of the table: the table's or an index's reads or writes. */
export interface ScalingFacts {
  /** `table`, or the index's name. */
  readonly resource: string;
  readonly dimension: "read" | "write";
  readonly min: number;
  readonly max: number;
  readonly targetUtilizationPercent: number;
}

/** What a synthesized template says about the settings the cost depends on. */
export interface DeploymentFacts {
  /** The context keys it was synthesized with, besides the defaults. */
  readonly context: Readonly<Record<string, string>>;
  /** Functions whose TracingConfig is Active, of all the stack's functions. */
  readonly activeTracing: { readonly functions: number; readonly active: number };
  readonly tableBillingMode: string;
  readonly tableScaling: readonly ScalingFacts[];
}

export interface StackFacts {
  readonly stackName: string;
  readonly synthMs: number;
  readonly functions: readonly FunctionFacts[];
  readonly floors: readonly FloorFacts[];
  readonly api: {
    readonly throttleRateLimit: number | null;
    readonly throttleBurstLimit: number | null;
    readonly accessLogFormat: string | null;
    readonly accessLogGroupClass: string;
  };
  readonly consumerSource: { readonly batchSize: number; readonly maxConcurrency: number | null };
  readonly publisherSource: { readonly batchSize: number; readonly parallelizationFactor: number; readonly filtered: boolean };
  readonly fixed: {
    readonly secrets: number;
    readonly alarms: number;
    /** Metrics the alarms watch (an alarm on metric math is billed per metric). */
    readonly alarmMetrics: number;
    readonly dashboards: number;
    readonly customerManagedKmsKeys: number;
  };
  readonly table: {
    readonly billingMode: string;
    /** Each global secondary index: its key attributes and projection (a write that touches them writes the index too). */
    readonly globalSecondaryIndexes: readonly TableIndex[];
    readonly pointInTimeRecovery: boolean;
    readonly streamViewType: string | null;
  };
  /** The CDK context keys the app reads (lib/config.ts). */
  readonly contextKeys: readonly string[];
  /** The stack as synthesized (the defaults). */
  readonly deployment: DeploymentFacts;
  /** The same stack synthesized with the cost settings (docs/performance.md, Cost settings). */
  readonly costSettings: DeploymentFacts;
}
