/**
 * The contract between the CDK stack, the Lambda entry points and the local pipeline: every
 * fact that more than one of them must agree on, written once. Plain values only (no CDK, no
 * SDK), so that a Lambda bundle can import it for nothing.
 */
import type { ProviderId } from "./event.js";

/** Environment variables the functions read (set by the stack, or by the local pipeline's deps builders). */
export const ENV = {
  /** Ingest: which provider this function serves. */
  providerId: "PROVIDER_ID",
  /** Ingest: ARN of the Secrets Manager secret holding the JSON list of accepted webhook secrets. */
  webhookSecretsArn: "WEBHOOK_SECRETS_ARN",
  /** Ingest: seconds a fetched secret list is reused. */
  secretsMaxAgeSeconds: "SECRETS_MAX_AGE_SECONDS",
  /** Ingest: the events FIFO queue. */
  eventsQueueUrl: "EVENTS_QUEUE_URL",
  /** Consumer and read API: the verifications table. */
  tableName: "TABLE_NAME",
  /** Publisher: the status-changes FIFO queue. */
  statusChangesQueueUrl: "STATUS_CHANGES_QUEUE_URL",
  /** Publisher: the standard queue for records it cannot publish. */
  publisherFailuresQueueUrl: "PUBLISHER_FAILURES_QUEUE_URL",
  /** Powertools: service name and log level of every function. */
  serviceName: "POWERTOOLS_SERVICE_NAME",
  logLevel: "POWERTOOLS_LOG_LEVEL",
  /** Reconciler: the age (hours since the last status change) after which a verification is looked up. */
  reconcileOlderThanHours: "RECONCILE_OLDER_THAN_HOURS",
  /** Reconciler: the IDnGO (Sumsub) API base URL, e.g. https://api.sumsub.com; unset = IDnGO not polled. */
  idngoApiUrl: "IDNGO_API_URL",
  /** Reconciler in Lambda: the secret holding `{"appToken","appSecret"}` for IDnGO's API. */
  idngoApiSecretArn: "IDNGO_API_SECRET_ARN",
  /** Local: IDnGO's API credentials. */
  idngoAppToken: "IDNGO_APP_TOKEN",
  idngoAppSecret: "IDNGO_APP_SECRET",
  /** Reconciler: Veriff's API base URL (default https://stationapi.veriff.com). */
  veriffApiUrl: "VERIFF_API_URL",
  /** Reconciler in Lambda: the secret holding `{"apiKey","apiSecret"}` for Veriff's API. */
  veriffApiSecretArn: "VERIFF_API_SECRET_ARN",
  /** Local: Veriff's API key, and the shared secret it signs with (default: the first Veriff webhook secret). */
  veriffApiKey: "VERIFF_API_KEY",
  veriffApiSecret: "VERIFF_API_SECRET",
} as const;

/** A provider's webhook secrets in local mode: a comma-separated list (`VERIFF_WEBHOOK_SECRET=new,old`). */
export const secretEnvOf = (provider: ProviderId): string => `${provider.toUpperCase()}_WEBHOOK_SECRET`;

/** HTTP routes, as API Gateway (and the local server) match them. */
export const ROUTES = {
  webhookPrefix: "/webhooks/",
  webhook: (provider: ProviderId): string => `/webhooks/${provider}`,
  verifications: "/verifications",
  verification: "/verifications/{correlationId}",
  /** Local only. */
  health: "/health",
  /** Local only: one reconciliation pass (`npm run kyc -- reconcile`). */
  reconcile: "/reconcile",
} as const;

/** Powertools service names: one per function. */
export const SERVICES = {
  ingest: (provider: ProviderId): string => `kyc-ingest-${provider}`,
  consumer: "kyc-consumer",
  publisher: "kyc-publisher",
  read: "kyc-read",
  reconciler: "kyc-reconciler",
  local: "kyc-local",
} as const;

/** A FIFO queue with its dead-letter queue, as the pipeline uses them. */
export interface FifoQueueSpec {
  /** The local queue's name without `.fifo` (in AWS, CloudFormation names the queues: renaming one would replace it). */
  readonly nameStem: string;
  readonly visibilityTimeoutSeconds: number;
  readonly retentionDays: number;
  /** Receives before a message moves to the DLQ. */
  readonly maxReceiveCount: number;
}

const TABLE_SORT_KEY = "sk";
const TABLE_STATE_SORT_KEY = "STATE";

/** The consumer Lambda and its SQS event source. */
export const CONSUMER = {
  timeoutSeconds: 30,
  /** Records per invocation: the FIFO maximum. */
  batchSize: 10,
  /** Concurrent batches the SQS event source may run (2-1000). */
  maxConcurrency: 5,
} as const;

/** AWS's guidance for SQS event sources: a visibility timeout of at least 6× the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The status-change publisher and its DynamoDB stream event source. */
export const PUBLISHER = {
  timeoutSeconds: 30,
  /**
   * Stream records per invocation (only status changes pass the filter below). The publisher
   * sends them in `SendMessageBatch` calls of up to `sendBatchSize`, in stream order, and reports
   * the first record not sent, so a batch is also the most that is retried after a failure.
   */
  batchSize: 100,
  /** Messages per `SendMessageBatch` call: SQS's maximum. */
  sendBatchSize: 10,
  /** Bytes of message bodies and ids per `SendMessageBatch` call: SQS's classic payload limit (256 KiB). */
  sendBatchMaxBytes: 256 * 1024,
  /**
   * Age after which a record that still fails is given up and its batch's shard and sequence
   * numbers go to the failure queue. DynamoDB Streams keep records for 24 hours: 12 hours of
   * retries (an SQS outage, a bad deploy) still leave 12 hours to replay them from the stream.
   */
  maxRecordAgeHours: 12,
} as const;

/**
 * A Lambda event filter pattern (the EventBridge pattern syntax, on the stream record's JSON):
 * nested objects, each leaf a list of accepted values or `{ exists }` tests.
 */
export type EventPatternValue = string | number | boolean | null | { readonly exists: boolean };
export interface EventPattern {
  readonly [field: string]: EventPattern | readonly EventPatternValue[];
}

/**
 * Which stream records reach the publisher (Lambda's event source filter; the local stream poller
 * applies the same patterns). A record matching any one pattern passes: writes of the state item
 * that changed its status (`statusChanged`, written by the consumer), and, for items written by
 * versions before that attribute existed, every write of the state item. History items, removals
 * and writes that changed no status never invoke the publisher: filtered records cost nothing.
 */
export const PUBLISHER_STREAM_FILTERS: readonly EventPattern[] = [
  {
    eventName: ["INSERT", "MODIFY"],
    dynamodb: { Keys: { [TABLE_SORT_KEY]: { S: [TABLE_STATE_SORT_KEY] } }, NewImage: { statusChanged: { BOOL: [true] } } },
  },
  {
    eventName: ["INSERT", "MODIFY"],
    dynamodb: {
      Keys: { [TABLE_SORT_KEY]: { S: [TABLE_STATE_SORT_KEY] } },
      NewImage: { statusChanged: { BOOL: [{ exists: false }] } },
    },
  },
];

export const QUEUES = {
  /** Normalized events, ingest → consumer. */
  events: {
    nameStem: "verification-events",
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * CONSUMER.timeoutSeconds,
    retentionDays: 14,
    maxReceiveCount: 5,
  },
  /** Status changes, publisher → your services. Right for a Lambda consumer with a timeout up to 30 s. */
  statusChanges: {
    nameStem: "status-changes",
    visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * 30,
    retentionDays: 14,
    maxReceiveCount: 5,
  },
  /** Standard queue (a stream's on-failure destination cannot be FIFO): what the publisher could not publish. */
  publisherFailures: { nameStem: "publisher-failures", retentionDays: 14 },
} as const satisfies Record<string, Partial<FifoQueueSpec> & { nameStem: string; retentionDays: number }>;

/**
 * The `verifications` table. One partition per verification (`correlationId`): one state item
 * (`sk = "STATE"`) and one history item per event (`sk = "EVENT#{eventId}"`). The GSI
 * `bySubjectCreated` lists the state items of one integrator user, newest verification first
 * (sparse: history items carry no `subjectKey`). Its sort key never changes and its partition key
 * only when an event brings a user key of higher precedence (`mergeSubjects`), and it projects the
 * keys only, so the state writes that follow almost never cost the index anything (the read API
 * fetches the items). The stream (old and new images) feeds the publisher.
 */
export const TABLE = {
  name: "verifications",
  partitionKey: "correlationId",
  sortKey: TABLE_SORT_KEY,
  stateSortKey: TABLE_STATE_SORT_KEY,
  eventSortKeyPrefix: "EVENT#",
  subjectIndex: { name: "bySubjectCreated", partitionKey: "subjectKey", sortKey: "createdAt", projection: "KEYS_ONLY" },
  /**
   * The index of earlier versions (sort key `updatedAt`, every attribute projected: 2 extra write
   * units on most state writes). Kept on upgraded stacks until retired (docs/deploy.md, "Upgrading").
   */
  legacySubjectIndex: { name: "bySubject", partitionKey: "subjectKey", sortKey: "updatedAt", projection: "ALL" },
  /**
   * The reconciler's sparse index: state items whose status is set and not final carry
   * `pendingKey` (`{provider}#{shard}`, the shard a digest of the correlationId) and `pendingSince`
   * (the start of the hour of their last status change, ISO 8601). A final status drops both, and
   * the entry with them. The hour (not the instant) keeps the entry unchanged while a verification
   * moves through its statuses within an hour (no index write), at the price of looking a
   * verification up up to an hour later than the configured age.
   */
  pendingIndex: {
    name: "byPendingSince",
    partitionKey: "pendingKey",
    sortKey: "pendingSince",
    projection: "KEYS_ONLY",
    /** Partitions per provider, so that one provider's status changes never make one hot index partition. */
    shards: 4,
  },
  streamViewType: "NEW_AND_OLD_IMAGES",
} as const;

/** The reconciler: a scheduled pass over stuck verifications (docs/reconciliation.md). */
export const RECONCILER = {
  /** A pass is bounded by `maxLookupsPerProvider` and the providers' rate limits; this leaves room. */
  timeoutSeconds: 600,
  /** Hours since the last status change after which a verification is looked up (IDnGO's guidance: a day). */
  olderThanHours: 24,
  /** Minutes between scheduled passes. */
  scheduleMinutes: 60,
  /**
   * Days after which a verification unchanged since is left alone: neither looked up nor counted as
   * stuck (a session its user left long ago, or one lost for good: see docs/reconciliation.md).
   */
  maxAgeDays: 30,
  /** Lookups per provider and pass; the most recently changed first, the rest wait for the next pass. */
  maxLookupsPerProvider: 500,
  /** Per provider: requests per second, requests in flight, attempts per lookup. */
  ratePerSecond: 5,
  concurrency: 2,
  maxAttempts: 4,
  /** Each attempt's timeout. */
  requestTimeoutMs: 5_000,
  /** A `Retry-After` longer than this is not waited for: the next pass tries again. */
  maxRetryAfterMs: 30_000,
  /**
   * Seconds of the function's time that a pass keeps for the lookups in flight, its metrics and its
   * report: no lookup starts once less is left (a slow or hanging provider), the rest wait for the
   * next pass. A lookup already started stops its retries (no attempt, backoff or Retry-After that
   * could end later) once only `finishSeconds` would be left.
   */
  reserveSeconds: 90,
  /** Seconds of the function's time no lookup may use: the pass's metrics and report. */
  finishSeconds: 15,
  defaultVeriffApiUrl: "https://stationapi.veriff.com",
} as const;

/** Defaults the functions and the local pipeline share. */
export const DEFAULTS = {
  /** Largest accepted webhook body, in bytes (SQS's classic message limit). */
  maxBodyBytes: 256 * 1024,
  /** Seconds a fetched secret list is reused before Secrets Manager is asked again. */
  secretsMaxAgeSeconds: 300,
  /** Read API page size, and its largest. */
  pageSize: 50,
  maxPageSize: 100,
  /** The local pipeline's HTTP port; the local SQS server listens on the next one. */
  localPort: 3000,
  /** Read-decide-write rounds before the consumer gives up on a contended item (the record is retried). */
  storeMaxAttempts: 5,
} as const;
