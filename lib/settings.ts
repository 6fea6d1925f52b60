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

export const EVENTS_VISIBILITY_TIMEOUT_SECONDS =
  PIPELINE_SETTINGS.consumerTimeoutSeconds * PIPELINE_SETTINGS.visibilityTimeoutFactor;

/**
 * The consumer's IAM actions on the table, and nothing more: GetItem reads the state;
 * TransactWriteItems (no action of its own) is authorized per item by PutItem and
 * ConditionCheckItem. test/integration/store.test.ts checks the store needs no other.
 */
export const CONSUMER_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"] as const;
