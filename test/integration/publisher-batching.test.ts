import { randomUUID } from "node:crypto";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  type QueueAttributeName,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUBLISHER, QUEUES } from "../../lambdas/core/contract.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { createPublisherHandler } from "../../lambdas/publisher/publisher.js";
import { createFifoQueueWithDlq, LOCAL_AWS, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { recordingLogger, recordingMetrics } from "../support/apigw.js";

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

const STATUSES = ["created", "started", "submitted", "in_review", "approved"] as const;

/** A stream record of verification `group`'s state item moving to its `version`-th status. */
function changeRecord(group: number, version: number, sequence: number): DynamoDBRecord {
  const item = (v: number) => ({
    correlationId: `idngo:verification-${group}`,
    sk: "STATE",
    provider: "idngo",
    status: STATUSES[(v - 1) % STATUSES.length],
    subject: {},
    appliedEventId: `idngo:event-${group}-${v}`,
    occurredAt: null,
    decision: null,
    createdAt: "2026-11-22T10:00:00.000Z",
    updatedAt: "2026-11-22T10:00:05.000Z",
    statusChangedAt: "2026-11-22T10:00:05.000Z",
    statusChanged: true,
    version: v,
  });
  return {
    eventName: version === 1 ? "INSERT" : "MODIFY",
    dynamodb: {
      SequenceNumber: String(1000 + sequence),
      NewImage: marshall(item(version), { removeUndefinedValues: true }) as never,
      ...(version > 1 ? { OldImage: marshall(item(version - 1), { removeUndefinedValues: true }) as never } : {}),
    },
  };
}

/**
 * Says which SendMessageBatch calls and entries fail: `(call, -1)` the whole call `call` (counted
 * from 0 over every SendMessageBatch call), `(call, entry)` the entry at index `entry` of that call.
 */
type Fails = (call: number, entry: number) => boolean;

/**
 * A real SDK client of the local SQS server, with failures injected around its `send` (the first
 * middleware every send runs): a SendMessageBatch call chosen to fail throws before anything is
 * sent; entries chosen to fail are taken out of the batch, the others are sent to the queue, and the
 * answer lists the ones taken out under `Failed`, as SQS reports a partial failure. Records the
 * input of every SendMessageBatch call as the publisher made it.
 */
function publisherSqs(fails: Fails): { client: SQSClient; calls: SendMessageBatchCommandInput[] } {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint });
  const calls: SendMessageBatchCommandInput[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== "SendMessageBatchCommand") return next(args);
      const input = args.input as SendMessageBatchCommandInput;
      const call = calls.push(input) - 1;
      if (fails(call, -1)) throw Object.assign(new Error("unreachable"), { name: "TimeoutError" });
      const entries = input.Entries ?? [];
      const refused = entries.filter((_, index) => fails(call, index));
      if (refused.length === 0) return next(args);
      const others = entries.filter((entry) => !refused.includes(entry));
      // SQS refuses an empty batch: when every entry fails, nothing is forwarded.
      const sent = others.length === 0 ? undefined : await next({ ...args, input: { ...input, Entries: others } });
      const output = (sent?.output ?? { $metadata: {} }) as SendMessageBatchCommandOutput;
      const failed = refused.map((entry) => ({ Id: entry.Id, Code: "InternalError", SenderFault: false }));
      return {
        response: sent?.response,
        output: { ...output, Successful: output.Successful ?? [], Failed: [...(output.Failed ?? []), ...failed] },
      };
    },
    { step: "initialize", priority: "high", name: "injectSendFailures" },
  );
  return { client, calls };
}

/** The queue's message counts: available, delayed (a message just sent is, until the server's next tick) and in flight. */
async function counts(queueUrl: string): Promise<{ waiting: number; delayed: number; inFlight: number }> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const count = (name: QueueAttributeName) => Number(Attributes?.[name] ?? Number.NaN);
  return {
    waiting: count("ApproximateNumberOfMessages"),
    delayed: count("ApproximateNumberOfMessagesDelayed"),
    inFlight: count("ApproximateNumberOfMessagesNotVisible"),
  };
}

/**
 * Receives (and deletes) everything on the queue, in the order the queue hands it out; each
 * receive's messages are deleted before the next receive, so a FIFO queue hands out each group's
 * messages in order. Ends with the queue empty.
 */
async function drain(queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + 15_000;
  for (let left = await counts(queueUrl); left.waiting + left.delayed > 0; left = await counts(queueUrl)) {
    if (Date.now() > deadline) throw new Error(`messages still on ${queueUrl}: ${JSON.stringify(left)}`);
    const { Messages = [] } = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, left.waiting + left.delayed),
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        AttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) continue;
    out.push(...Messages);
    const deleted = await sqs.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    expect(deleted.Failed ?? []).toEqual([]);
  }
  expect(await counts(queueUrl)).toEqual({ waiting: 0, delayed: 0, inFlight: 0 });
  return out;
}

/**
 * Lambda's stream event source, as far as this handler sees it: batches from the first unfinished
 * record, retried from a reported failure. The publisher sends through a real client to a fresh
 * status-changes FIFO queue on the local SQS server (failures injected as `fails` says); what the
 * queue delivers is then received from it.
 */
async function runStream(records: DynamoDBRecord[], fails: Fails, batchSize: number) {
  const suffix = randomUUID().slice(0, 8);
  const { queueUrl } = await createFifoQueueWithDlq(sqs.client, { ...QUEUES.statusChanges, nameStem: `status-changes-${suffix}` });
  const failuresQueueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: `publisher-failures-${suffix}` }))).QueueUrl ?? "";
  const { client, calls } = publisherSqs(fails);
  const metrics = recordingMetrics();
  const handler = createPublisherHandler({ sqs: client, queueUrl, failuresQueueUrl, logger: recordingLogger(), metrics });
  let position = 0;
  let invocations = 0;
  try {
    while (position < records.length) {
      invocations += 1;
      if (invocations > 1000) throw new Error("no progress");
      const batch = records.slice(position, position + batchSize);
      const { batchItemFailures } = await handler({ Records: batch });
      const failed = batchItemFailures[0]?.itemIdentifier;
      position = failed === undefined ? position + batch.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
    }
  } finally {
    client.destroy();
  }
  const messages = await drain(queueUrl);
  // Every record is a status change: nothing is reported as undeliverable.
  expect(await drain(failuresQueueUrl)).toEqual([]);
  const delivered = messages.map((m) => JSON.parse(m.Body ?? "{}") as StatusChange);
  return { metrics, invocations, calls, messages, delivered };
}

/** Each verification's delivered versions, in delivery order. */
function byGroup(changes: readonly { correlationId: string; version: number }[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const c of changes) out.set(c.correlationId, [...(out.get(c.correlationId) ?? []), c.version]);
  return out;
}

describe("the publisher sends status changes in batches", () => {
  it("packs up to 10 changes per SendMessageBatch call, never two of one verification in a call", async () => {
    // 12 verifications, 3 changes each, interleaved: v1 of all, then v2 of all, then v3.
    const records = [1, 2, 3].flatMap((version) => Array.from({ length: 12 }, (_, g) => changeRecord(g, version, version * 100 + g)));
    const queue = await runStream(records, () => false, PUBLISHER.batchSize);
    expect(queue.delivered).toHaveLength(36);
    expect(byGroup(queue.delivered)).toEqual(new Map(Array.from({ length: 12 }, (_, g) => [`idngo:verification-${g}`, [1, 2, 3]])));
    expect(queue.calls.map((c) => c.Entries?.length)).toEqual([10, 10, 10, 6]);
    for (const call of queue.calls) {
      const groups = (call.Entries ?? []).map((e) => e.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
    // Consecutive changes of one verification start a new call.
    const single = await runStream(
      [1, 2, 3].map((version) => changeRecord(0, version, version)),
      () => false,
      PUBLISHER.batchSize,
    );
    expect(single.calls.map((c) => c.Entries?.length)).toEqual([1, 1, 1]);
    expect(single.delivered.map((c) => [c.correlationId, c.version])).toEqual([
      ["idngo:verification-0", 1],
      ["idngo:verification-0", 2],
      ["idngo:verification-0", 3],
    ]);
  });

  it("whatever entries or calls fail, every change is delivered once and each verification's changes in order", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 60 }),
        fc.func(fc.boolean()),
        fc.integer({ min: 1, max: 25 }),
        fc.integer({ min: 0, max: 2 }),
        async (groupOfEachChange, failOnce, batchSize, failuresPerCall) => {
          const versions = new Map<number, number>();
          const records = groupOfEachChange.map((group, sequence) => {
            const version = (versions.get(group) ?? 0) + 1;
            versions.set(group, version);
            return changeRecord(group, version, sequence);
          });
          // The first calls fail as `failOnce` says (a call or some entries); later ones go through.
          const queue = await runStream(records, (call, entry) => call < 8 && entry < failuresPerCall && failOnce(call, entry), batchSize);
          const expected = byGroup(records.map((_, i) => ({ correlationId: `idngo:verification-${groupOfEachChange[i]}`, version: 0 })));
          for (const [id, list] of expected)
            expected.set(
              id,
              list.map((_, i) => i + 1),
            );
          expect(byGroup(queue.delivered)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  }, 120_000);

  it("counts each published change once, and each failed send", async () => {
    const records = [0, 1, 2].map((group) => changeRecord(group, 1, group));
    const queue = await runStream(records, (call, entry) => call === 0 && entry === 1, 10);
    expect(queue.invocations).toBe(2);
    expect(queue.metrics.total("PublishFailures")).toBe(1);
    // The first invocation published entry 0 and reported entry 1; the retry sent 1 and 2 (and 2 again, deduplicated).
    expect(queue.metrics.total("StatusChangesPublished")).toBe(3);
    // The first call held all three (entry 1 failed); the retry's call held 1 and 2.
    const sentIn = (call: SendMessageBatchCommandInput) =>
      (call.Entries ?? []).map((e) => (JSON.parse(e.MessageBody ?? "{}") as StatusChange).correlationId);
    expect(queue.calls.map(sentIn)).toEqual([
      ["idngo:verification-0", "idngo:verification-1", "idngo:verification-2"],
      ["idngo:verification-1", "idngo:verification-2"],
    ]);
    // The queue delivers in the order it accepted (local-aws-sqs hands FIFO messages out in arrival order).
    expect(queue.delivered.map((c) => c.correlationId)).toEqual(["idngo:verification-0", "idngo:verification-2", "idngo:verification-1"]);
  });
});
