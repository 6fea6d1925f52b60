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
