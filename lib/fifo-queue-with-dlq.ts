import { Duration, Validations } from "aws-cdk-lib";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { FifoQueueSpec } from "../lambdas/core/contract.js";

/**
 * A FIFO queue as the pipeline uses them, with its FIFO dead-letter queue: the producer sets the
 * group and deduplication ids (no content-based deduplication), high-throughput FIFO (deduplication
 * and throughput per message group), SSE-SQS, TLS only (each queue's policy denies plain HTTP), the
 * spec's retention on both, and redrive to the DLQ after the spec's receives. The local twin is
 * `createFifoQueueWithDlq` in local/.
 *
 * Names are left to CloudFormation (`fifo: true` appends ".fifo"; `spec.nameStem` names the local
 * queue only): consumers get the URL and ARN from the stack outputs, two stages can share an
 * account, and a replacement cannot collide. The queue is the `Default` child, the DLQ `Dlq`.
 */
export class FifoQueueWithDlq extends Construct {
  readonly queue: Queue;
  readonly dlq: Queue;

  constructor(scope: Construct, id: string, spec: FifoQueueSpec) {
    super(scope, id);
    const common = {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(spec.retentionDays),
    };
    this.dlq = new Queue(this, "Dlq", common);
    // cdk-nag's AwsSolutions pack knows a queue used as a DLQ; its Serverless pack asks every queue for a redrive policy.
    Validations.of(this.dlq).acknowledge({
      id: "Serverless-SQSRedrivePolicy",
      reason:
        "This queue is itself the dead-letter queue of its FIFO queue: what lands here is kept for its retention, " +
        "inspected and redriven by an operator; a dead-letter queue behind it would only hide those messages further.",
    });
    this.queue = new Queue(this, "Default", {
      ...common,
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
      deadLetterQueue: { queue: this.dlq, maxReceiveCount: spec.maxReceiveCount },
    });
  }
}
