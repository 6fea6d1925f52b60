import { Stack } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { FifoQueueWithDlq } from "../../lib/fifo-queue-with-dlq.js";
import { expectNagClean, logicalIdOf, type StackTemplate, type Synthesized, synthWithNag } from "../support/cdk.js";

/** FifoQueueWithDlq on its own, from a spec unlike the pipeline's: every setting comes from the spec. */
let synth: Synthesized;
let t: StackTemplate;
let pair: FifoQueueWithDlq;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test");
    pair = new FifoQueueWithDlq(stack, "Orders", {
      nameStem: "orders",
      visibilityTimeoutSeconds: 42,
      retentionDays: 4,
      maxReceiveCount: 3,
    });
  });
  t = synth.template(Stack.of(pair));
});

describe("FifoQueueWithDlq", () => {
  it("is a high-throughput FIFO queue, SSE, TLS only, redriving to its FIFO DLQ, all from the spec", () => {
    t.expectFifoQueueWithDlq(pair, { visibilityTimeout: 42, retentionDays: 4, maxReceiveCount: 3 });
    t.template.resourceCountIs("AWS::SQS::Queue", 2);
    t.template.resourceCountIs("AWS::SQS::QueuePolicy", 2);
  });

  it("names neither queue (the spec's name stem is for the local queue only)", () => {
    for (const [, queue] of t.ofType("AWS::SQS::Queue")) expect(queue.Properties).not.toHaveProperty("QueueName");
  });

  it("is the queue as its Default child, the DLQ as Dlq (the logical IDs of a queue and its `<id>Dlq` sibling)", () => {
    expect(pair.node.defaultChild).toBe(pair.queue);
    expect(logicalIdOf(pair.queue)).toMatch(/^Orders[0-9A-F]{8}$/);
    expect(logicalIdOf(pair.dlq)).toMatch(/^OrdersDlq[0-9A-F]{8}$/);
  });

  it("passes cdk-nag: the DLQ is recognized as one, both enforce TLS", () => {
    expectNagClean(synth);
  });
});
