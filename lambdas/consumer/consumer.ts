import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { describeError } from "../core/errors.js";
import { parseNormalizedEvent } from "../core/event-schema.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import type { VerificationStore } from "./store.js";

export type ConsumerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The consumer Lambda: applies each event of an SQS FIFO batch in order. A failed record is
 * reported in `batchItemFailures` together with the records after it in the same message
 * group (FIFO order); other groups of the batch carry on. Nothing is dropped: a failing record
 * comes back after the visibility timeout and, after the receive limit, lands in the DLQ.
 */
export interface ConsumerDeps {
  readonly store: VerificationStore;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
}

export function createConsumerHandler(deps: ConsumerDeps): ConsumerHandler {
  const { store, logger, metrics } = deps;

  async function handleRecord(record: SQSRecord): Promise<void> {
    const event = parseNormalizedEvent(record.body);
    const result = await store.apply(event);
    // An event recorded without a status is worth a line at the default level; the others are counted.
    (result.outcome === "recorded" ? logger.info : logger.debug).call(logger, "event processed", {
      eventId: event.eventId,
      correlationId: event.correlationId,
      provider: event.provider,
      outcome: result.outcome,
      // The reason of a recorded event names what was missing; other reasons quote provider times.
      ...(result.outcome === "recorded" ? { reason: result.reason } : {}),
      unmapped: event.unmapped ?? null,
      redelivery: result.redelivery,
      previousStatus: result.previousStatus,
      status: result.status,
    });
    metrics.count("EventsProcessed", { provider: event.provider, outcome: result.outcome });
  }

  async function recordHandler(record: SQSRecord): Promise<void> {
    try {
      await handleRecord(record);
    } catch (error) {
      logger.error("event failed: it will be retried", {
        messageId: record.messageId,
        receiveCount: record.attributes.ApproximateReceiveCount,
        ...describeError(error),
      });
      metrics.count("EventsFailed", {});
      throw error;
    }
  }

  return async (event, context) => {
    try {
      // A processor per call: it keeps the batch's records and failures, and the local event
      // source runs several batches through one handler at once (Lambda runs one per instance).
      return await processPartialResponse(event, recordHandler, new SqsFifoPartialProcessorAsync(), {
        context,
        skipGroupOnError: true,
        // Report a fully failed batch item by item, like any other: Lambda then retries the records.
        throwOnFullBatchFailure: false,
      });
    } finally {
      metrics.flush();
    }
  };
}
