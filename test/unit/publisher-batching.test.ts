import { SendMessageBatchCommand, type SendMessageBatchCommandInput, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PUBLISHER } from "../../lambdas/core/contract.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { createPublisherHandler } from "../../lambdas/publisher/publisher.js";
import { recordingLogger, recordingMetrics } from "../support/apigw.js";

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
 * A FIFO queue behind a fake SQS client: deduplicates by MessageDeduplicationId, and fails what
 * `fails(call, entryIndex)` says (entryIndex -1: the whole call throws).
 */
function fifoQueue(fails: (call: number, entry: number) => boolean) {
  const delivered: StatusChange[] = [];
  const seen = new Set<string>();
  const calls: SendMessageBatchCommandInput[] = [];
  const client = {
    send: (command: unknown) => {
      if (command instanceof SendMessageCommand) return Promise.resolve({});
      if (!(command instanceof SendMessageBatchCommand)) throw new Error("unexpected command");
      const call = calls.push(command.input) - 1;
      if (fails(call, -1)) return Promise.reject(Object.assign(new Error("unreachable"), { name: "TimeoutError" }));
      const entries = command.input.Entries ?? [];
      const failed = entries.flatMap((entry, index) =>
        fails(call, index) ? [{ Id: entry.Id, Code: "InternalError", SenderFault: false }] : [],
      );
      for (const entry of entries) {
        if (failed.some((f) => f.Id === entry.Id)) continue;
        if (seen.has(entry.MessageDeduplicationId ?? "")) continue;
        seen.add(entry.MessageDeduplicationId ?? "");
        delivered.push(JSON.parse(entry.MessageBody ?? "{}") as StatusChange);
      }
      return Promise.resolve({ Successful: [], Failed: failed });
    },
  } as unknown as SQSClient;
  return { client, delivered, calls };
}

/** Lambda's stream event source, as far as this handler sees it: batches from the first unfinished record, retried from a reported failure. */
async function runStream(records: DynamoDBRecord[], client: SQSClient, batchSize: number) {
  const metrics = recordingMetrics();
  const handler = createPublisherHandler({ sqs: client, queueUrl: "q.fifo", failuresQueueUrl: "f", logger: recordingLogger(), metrics });
  let position = 0;
  let invocations = 0;
  while (position < records.length) {
    invocations += 1;
    if (invocations > 1000) throw new Error("no progress");
    const batch = records.slice(position, position + batchSize);
    const { batchItemFailures } = await handler({ Records: batch });
    const failed = batchItemFailures[0]?.itemIdentifier;
    position = failed === undefined ? position + batch.length : records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
  }
  return { metrics, invocations };
}

describe("the publisher sends status changes in batches", () => {
  it("packs up to 10 changes per SendMessageBatch call, never two of one verification in a call", async () => {
    // 12 verifications, 3 changes each, interleaved: v1 of all, then v2 of all, then v3.
    const records = [1, 2, 3].flatMap((version) => Array.from({ length: 12 }, (_, g) => changeRecord(g, version, version * 100 + g)));
    const queue = fifoQueue(() => false);
    await runStream(records, queue.client, PUBLISHER.batchSize);
    expect(queue.delivered).toHaveLength(36);
    expect(queue.calls.map((c) => c.Entries?.length)).toEqual([10, 10, 10, 6]);
    for (const call of queue.calls) {
      const groups = (call.Entries ?? []).map((e) => e.MessageGroupId);
      expect(new Set(groups).size).toBe(groups.length);
    }
    // Consecutive changes of one verification start a new call.
    const single = fifoQueue(() => false);
    await runStream(
      [1, 2, 3].map((version) => changeRecord(0, version, version)),
      single.client,
      PUBLISHER.batchSize,
    );
    expect(single.calls.map((c) => c.Entries?.length)).toEqual([1, 1, 1]);
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
          const queue = fifoQueue((call, entry) => call < 8 && entry < failuresPerCall && failOnce(call, entry));
          await runStream(records, queue.client, batchSize);
          const byGroup = (changes: readonly { correlationId: string; version: number }[]) => {
            const out = new Map<string, number[]>();
            for (const c of changes) out.set(c.correlationId, [...(out.get(c.correlationId) ?? []), c.version]);
            return out;
          };
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
  });

  it("counts each published change once, and each failed send", async () => {
    const records = [0, 1, 2].map((group) => changeRecord(group, 1, group));
    const queue = fifoQueue((call, entry) => call === 0 && entry === 1);
    const { metrics, invocations } = await runStream(records, queue.client, 10);
    expect(invocations).toBe(2);
    expect(metrics.total("PublishFailures")).toBe(1);
    // The first invocation published entry 0 and reported entry 1; the retry sent 1 and 2 (and 2 again, deduplicated).
    expect(metrics.total("StatusChangesPublished")).toBe(3);
    expect(queue.delivered.map((c) => c.correlationId)).toEqual(["idngo:verification-0", "idngo:verification-2", "idngo:verification-1"]);
  });
});
