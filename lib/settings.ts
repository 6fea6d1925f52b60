/**
 * Queue and consumer settings shared by the CDK stack and the local pipeline, so that
 * `npm start` behaves as the deployed pipeline does. Plain values: no CDK imports.
 */
export const PIPELINE_SETTINGS = {
  /** Consumer Lambda timeout. */
  consumerTimeoutSeconds: 30,
  /** Records per consumer invocation (SQS event source batch size). */
  consumerBatchSize: 10,
  /** AWS's guidance for SQS event sources: visibility timeout at least 6× the function timeout. */
  visibilityTimeoutFactor: 6,
  /** Receives before a record is moved to the dead-letter queue. */
  maxReceiveCount: 5,
} as const;

/**
 * The status-change publisher: a Lambda fed by the verifications table's DynamoDB stream
 * (state items only) that sends one message per applied transition to `status-changes`.
 */
export const PUBLISHER_SETTINGS = {
  /** Publisher Lambda timeout: 10 sequential SendMessage calls take well under a second. */
  timeoutSeconds: 30,
  /**
   * Stream records per invocation. The publisher sends them one by one, in order, and reports
   * the first failure, so a batch is also the most that is retried after a partial failure.
   */
  batchSize: 10,
  /**
   * Age after which a record that still fails is given up and its batch's shard and sequence
   * numbers are sent to the failure queue. DynamoDB Streams keep records for 24 hours: 12 hours
   * of retries (an SQS outage, a bad deploy) still leave 12 hours to replay them from the stream.
   */
  maxRecordAgeHours: 12,
} as const;

/**
 * What a queue's consumer may do on it, and nothing more: the four actions of an SQS poller
 * (Lambda's event source mapping uses exactly these; a downstream consumer of `status-changes`
 * gets the same). Not GetQueueUrl, SendMessage or PurgeQueue.
 */
export const SQS_POLLER_ACTIONS = [
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
] as const;

export const EVENTS_VISIBILITY_TIMEOUT_SECONDS =
  PIPELINE_SETTINGS.consumerTimeoutSeconds * PIPELINE_SETTINGS.visibilityTimeoutFactor;

/**
 * The consumer's IAM actions on the table, and nothing more: GetItem reads the state;
 * TransactWriteItems (no action of its own) is authorized per item by PutItem and
 * ConditionCheckItem. test/integration/store.test.ts checks the store needs no other.
 */
export const CONSUMER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"] as const;

/**
 * The read API's IAM actions: GetItem (the state item) and Query (the history) on the table,
 * and Query on the subject index. Nothing that writes, no Scan, no batch actions.
 */
export const READER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:Query"] as const;
export const READER_INDEX_ACTIONS = ["dynamodb:Query"] as const;
