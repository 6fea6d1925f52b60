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
} as const;

/** Powertools service names: one per function. */
export const SERVICES = {
  ingest: (provider: ProviderId): string => `kyc-ingest-${provider}`,
  consumer: "kyc-consumer",
  publisher: "kyc-publisher",
  read: "kyc-read",
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
   * Stream records per invocation. The publisher sends them one by one, in order, and reports
   * the first failure, so a batch is also the most that is retried after a partial failure.
   */
  batchSize: 10,
  /**
   * Age after which a record that still fails is given up and its batch's shard and sequence
   * numbers go to the failure queue. DynamoDB Streams keep records for 24 hours: 12 hours of
   * retries (an SQS outage, a bad deploy) still leave 12 hours to replay them from the stream.
   */
  maxRecordAgeHours: 12,
} as const;

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
 * (`sk = "STATE"`) and one history item per event (`sk = "EVENT#{eventId}"`). The GSI `bySubject`
 * lists the state items of one integrator user (sparse: history items carry no `subjectKey`).
 * The stream (old and new images) feeds the publisher.
 */
export const TABLE = {
  name: "verifications",
  partitionKey: "correlationId",
  sortKey: "sk",
  stateSortKey: "STATE",
  eventSortKeyPrefix: "EVENT#",
  subjectIndex: { name: "bySubject", partitionKey: "subjectKey", sortKey: "updatedAt" },
  streamViewType: "NEW_AND_OLD_IMAGES",
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
