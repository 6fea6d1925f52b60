import { Duration } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { CONSUMER, QUEUES, SERVICES } from "../lambdas/core/contract.js";
import type { LogLevel, TracingMode } from "./config.js";
import { FifoQueueWithDlq } from "./fifo-queue-with-dlq.js";
import { KycFunction } from "./kyc-function.js";
import { stackOutput } from "./outputs.js";

export interface VerificationEventsProps {
  /** The table the consumer applies the events to. */
  readonly table: ITable;
  /** Most concurrent consumer invocations the SQS event source may run (2–1000). @default CONSUMER.maxConcurrency */
  readonly consumerMaxConcurrency?: number;
  /** Retention of the consumer's log group. @default KycFunction's */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of its function. @default KycFunction's */
  readonly logLevel?: LogLevel;
  /** X-Ray tracing of its function(s) (KycFunctionProps.tracing). */
  readonly tracing?: TracingMode;
}

/**
 * Ingest → consumer: the `verification-events` FIFO queue (+ DLQ) and the consumer function that
 * applies each event to the table. The producers set MessageGroupId = correlationId and
 * MessageDeduplicationId = eventId (`KycFunction.allowSendTo(eventsQueue)`).
 *
 * The consumer is fed in batches of CONSUMER.batchSize (the FIFO maximum) with partial batch
 * responses: a failed record fails only itself and what FIFO order requires. The queue's visibility
 * timeout is VISIBILITY_TIMEOUT_FACTOR x the consumer's timeout (QUEUES.events), so a batch still being
 * processed, or retried by the poller, does not become visible to another poller.
 */
export class VerificationEvents extends Construct {
  /** The queue and its DLQ: child `VerificationEvents`. */
  readonly queues: FifoQueueWithDlq;
  readonly eventsQueue: Queue;
  readonly eventsDlq: Queue;
  readonly consumerFunction: KycFunction;

  constructor(scope: Construct, id: string, props: VerificationEventsProps) {
    super(scope, id);
    this.consumerFunction = new KycFunction(this, "Consumer", {
      entry: "lambdas/consumer/handler.ts",
      serviceName: SERVICES.consumer,
      description: "Applies normalized verification events to the verifications table (idempotent, order-safe)",
      timeout: Duration.seconds(CONSUMER.timeoutSeconds),
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      tracing: props.tracing,
    }).allowWriteVerifications(props.table);

    this.queues = new FifoQueueWithDlq(this, "VerificationEvents", QUEUES.events);
    this.eventsQueue = this.queues.queue;
    this.eventsDlq = this.queues.dlq;
    this.consumerFunction.consumeFrom(this.eventsQueue, {
      batchSize: CONSUMER.batchSize,
      maxConcurrency: props.consumerMaxConcurrency ?? CONSUMER.maxConcurrency,
    });

    stackOutput(this, "EventsQueueUrl", { value: this.eventsQueue.queueUrl });
    stackOutput(this, "EventsQueueArn", { value: this.eventsQueue.queueArn });
    stackOutput(this, "EventsDlqUrl", { value: this.eventsDlq.queueUrl });
  }
}
