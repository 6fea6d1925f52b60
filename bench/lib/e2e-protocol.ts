/** Messages between the end-to-end driver (bench/e2e.ts) and the pipeline process (bench/e2e-pipeline.ts). */

/** Every provider's webhook secret in the end-to-end run. */
export const E2E_SECRET = "bench-e2e-secret-0123456789abcdef";

export interface ReadyMessage {
  readonly type: "ready";
  readonly url: string;
}

export interface LoadStartMessage {
  readonly type: "load-start";
}

export interface LoadDoneMessage {
  readonly type: "load-done";
  /** Epoch ms of the last accepted (200) answer. */
  readonly lastAcceptedAt: number;
  /** Every distinct eventId the pipeline accepted (from the 200 answers). */
  readonly eventIds: readonly string[];
}

export interface StopMessage {
  readonly type: "stop";
}

export type DriverMessage = LoadStartMessage | LoadDoneMessage | StopMessage;

export interface UnitTotals {
  events: number;
  readonly requests: Record<string, number>;
  rru: number;
  wru: number;
  gsiWru: number;
  /** The index write units by index name. */
  readonly gsiWruByIndex: Record<string, number>;
}

export interface SqsCallStats {
  calls: number;
  entries: number;
  bodyBytes: number;
  maxBodyBytes: number;
  messages: number;
  empty: number;
}

export interface SizeStats {
  count: number;
  totalBytes: number;
  maxBytes: number;
}

export interface PipelineStats {
  /** Epoch ms. */
  readonly historiesCompleteAt: number | null;
  readonly lastAppliedAt: number | null;
  readonly lastAppliedSource: "consumer metric" | "history processedAt" | "none";
  readonly lastStatusChangeAt: number | null;
  readonly missingEventIds: number;
  readonly expectedEventIds: number;
  readonly statusChangesSent: number;
  readonly statusChangesOnQueue: number;
  readonly statusChangesLastSentTimestamp: number | null;
  readonly historyOutcomes: Readonly<Record<string, number>>;
  readonly items: { readonly state: SizeStats; readonly history: SizeStats };
  /** What DynamoDB stores for the table's items and the stack's index entries, with its 100-byte overhead per item. */
  readonly storedBytes: { readonly table: number; readonly indexes: number };
  /** DynamoDB requests of the consumer, attributed to the event they were made for, by the event's outcome. */
  readonly dynamoByOutcome: Readonly<Record<string, UnitTotals>>;
  readonly dynamoUnattributed: UnitTotals;
  readonly writtenItems: { readonly state: SizeStats; readonly history: SizeStats };
  /** SQS requests by `operation queue`. */
  readonly sqs: Readonly<Record<string, SqsCallStats>>;
  /** Handler invocations by service (one metrics flush per invocation). */
  readonly invocations: Readonly<Record<string, number>>;
  /** Consumer records per invocation, as the local poller delivered them. */
  readonly consumerBatchSizes: readonly number[];
  /** Publisher stream records per invocation. */
  readonly publisherRecordsPerInvocation: number | null;
  readonly eventsProcessed: Readonly<Record<string, number>>;
}

export interface ResultMessage {
  readonly type: "result";
  readonly stats: PipelineStats;
}

export type PipelineMessage = ReadyMessage | ResultMessage;
