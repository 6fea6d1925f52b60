import { Duration, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable, Role } from "aws-cdk-lib/aws-iam";
import { FilterCriteria } from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV, PUBLISHER, PUBLISHER_STREAM_FILTERS, QUEUES, SERVICES } from "../lambdas/core/contract.js";
import type { LogLevel, TracingMode } from "./config.js";
import { FifoQueueWithDlq } from "./fifo-queue-with-dlq.js";
import { KycFunction } from "./kyc-function.js";
import { stackOutput } from "./outputs.js";
import { SQS_POLLER_ACTIONS } from "./settings.js";

export interface StatusChangesProps {
  /** The verifications table; its stream (old and new images) feeds the publisher. */
  readonly table: ITable;
  /** Retention of the publisher's log group. @default KycFunction's */
  readonly logRetention?: RetentionDays;
  /** The publisher's POWERTOOLS_LOG_LEVEL. @default KycFunction's */
  readonly logLevel?: LogLevel;
  /** X-Ray tracing of its function(s) (KycFunctionProps.tracing). */
  readonly tracing?: TracingMode;
  /** Principals allowed to consume `status-changes`: see `grantConsumeStatusChanges`. */
  readonly consumers?: readonly IGrantable[];
  /**
   * IAM roles, by ARN, allowed to consume `status-changes`, in this account or another: the grant
   * goes into the queue's policy (the stack does not own these roles, so it attaches nothing to them).
   */
  readonly consumerRoleArns?: readonly string[];
}

/**
 * Table → your services: the publisher function, fed by the table's stream (state items only: history
 * items never change a status), sends one message per applied transition to the `status-changes`
 * FIFO queue (+ DLQ), in order per verification (group = correlationId) and deduplicated by the
 * publisher (dedup id = the transition). A downstream consumer failing a message QUEUES.statusChanges
 * .maxReceiveCount times parks it in the DLQ, unblocking its group. Stream batches the publisher gives
 * up on after PUBLISHER.maxRecordAgeHours go to `publisherFailuresQueue`, to replay.
 */
export class StatusChanges extends Construct {
  /** The queue and its DLQ: child `StatusChanges`. */
  readonly queues: FifoQueueWithDlq;
  /** FIFO queue of applied status changes, for downstream consumers. */
  readonly statusChangesQueue: Queue;
  readonly statusChangesDlq: Queue;
  /** Standard queue: where the publisher's stream mapping reports batches it gave up. */
  readonly publisherFailuresQueue: Queue;
  readonly publisherFunction: KycFunction;

  constructor(scope: Construct, id: string, props: StatusChangesProps) {
    super(scope, id);
    this.queues = new FifoQueueWithDlq(this, "StatusChanges", QUEUES.statusChanges);
    this.statusChangesQueue = this.queues.queue;
    this.statusChangesDlq = this.queues.dlq;
    // Lambda's stream on-failure destination must be a standard queue (or SNS, S3), never FIFO.
    this.publisherFailuresQueue = new Queue(this, "PublisherFailures", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(QUEUES.publisherFailures.retentionDays),
    });
    const isItselfADlq =
      "This queue is itself a dead-letter destination: the on-failure destination of the publisher's DynamoDB " +
      "stream event source mapping (cdk-nag only recognizes queue redrive and function DeadLetterConfig). An " +
      "operator reads it to replay; a DLQ behind it would only hide those records further.";
    Validations.of(this.publisherFailuresQueue).acknowledge(
      { id: "AwsSolutions-SQS3", reason: isItselfADlq },
      { id: "Serverless-SQSRedrivePolicy", reason: isItselfADlq },
    );

    this.publisherFunction = new KycFunction(this, "Publisher", {
      entry: "lambdas/publisher/handler.ts",
      serviceName: SERVICES.publisher,
      description: "Publishes each applied status change from the table's stream to the status-changes queue",
      timeout: Duration.seconds(PUBLISHER.timeoutSeconds),
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      tracing: props.tracing,
    })
      .allowSendTo(this.statusChangesQueue, ENV.statusChangesQueueUrl)
      .consumeStream(props.table, {
        batchSize: PUBLISHER.batchSize,
        maxRecordAge: Duration.hours(PUBLISHER.maxRecordAgeHours),
        // Only writes that changed a status invoke the publisher (the local stream poller applies the same patterns).
        filters: PUBLISHER_STREAM_FILTERS.map((pattern) => FilterCriteria.filter(pattern)),
        onFailure: this.publisherFailuresQueue,
        // Records no status change can be built from are reported there by the publisher itself.
        onFailureEnv: ENV.publisherFailuresQueueUrl,
      });

    stackOutput(this, "StatusChangesQueueUrl", {
      description: "SQS FIFO queue with one message per applied status change (consumers: grantConsumeStatusChanges)",
      value: this.statusChangesQueue.queueUrl,
    });
    stackOutput(this, "StatusChangesQueueArn", { value: this.statusChangesQueue.queueArn });
    stackOutput(this, "StatusChangesDlqUrl", {
      description: `Status changes a downstream consumer failed ${QUEUES.statusChanges.maxReceiveCount} times`,
      value: this.statusChangesDlq.queueUrl,
    });
    stackOutput(this, "PublisherFailuresQueueUrl", {
      description: "Stream batches the publisher gave up (shard and sequence numbers, to replay)",
      value: this.publisherFailuresQueue.queueUrl,
    });

    for (const grantee of props.consumers ?? []) this.grantConsumeStatusChanges(grantee);
    // By ARN: through the queue policy, so the role may be in any account and is not modified.
    props.consumerRoleArns?.forEach((arn, i) => {
      this.grantConsumeStatusChanges(
        Role.fromRoleArn(this, `StatusChangeConsumerRole${i}`, arn, { mutable: false, addGrantsToResources: true }),
      );
    });
  }

  /**
   * Allows `grantee` to consume `status-changes`, exactly: sqs:ReceiveMessage, sqs:DeleteMessage,
   * sqs:ChangeMessageVisibility, sqs:GetQueueAttributes on that queue (what Lambda's SQS event source
   * and any SQS poller need; SSE-SQS needs no KMS permission). A principal of this account gets an
   * identity policy; one of another account (or an imported role that is not mutable) gets a
   * statement in the queue's policy instead.
   */
  grantConsumeStatusChanges(grantee: IGrantable): Grant {
    return Grant.addToPrincipalOrResource({
      grantee,
      actions: [...SQS_POLLER_ACTIONS],
      resourceArns: [this.statusChangesQueue.queueArn],
      resource: this.statusChangesQueue,
    });
  }
}
