/**
 * `kyc dlq` and `kyc replay-publisher-failures` against a real local pipeline: dead letters listed
 * without being consumed and moved back with StartMessageMoveTask (a redriven event is applied
 * once, however often it comes back), and publisher failures of both shapes re-published once each.
 */
import { randomUUID } from "node:crypto";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";
import { DeleteMessageCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TABLE } from "../../lambdas/core/contract.js";
import { sqsMessageBody, toSqsId } from "../../lambdas/core/sqs-message.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import type { UndeliverableNotice } from "../../lambdas/publisher/publisher.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import type { StreamOnFailureRecord } from "../../local/stream-poller.js";
import { kyc, pipelineEnv } from "../support/cli.js";
import { consumeStatusChanges, readVerification, useLocalPipeline } from "../support/pipeline.js";
import { providerEvent } from "../support/scenarios.js";

const t = useLocalPipeline({});
const env = () => pipelineEnv(t.pipeline);
let sqs: SQSClient;
beforeAll(() => {
  sqs = new SQSClient({ ...LOCAL_AWS, endpoint: t.pipeline.sqsEndpoint });
});
afterAll(() => sqs.destroy());

async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  // The local server counts messages in flight in ApproximateNumberOfMessages too.
  const inFlight = Number(Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? 0);
  return { visible: Number(Attributes?.["ApproximateNumberOfMessages"] ?? 0) - inFlight, inFlight };
}

/** The queue's depth, once it is `expected` (a released message becomes visible on the local server's next timer tick), or as it is after 2 s. */
async function settledDepth(
  queueUrl: string,
  expected: { visible: number; inFlight: number },
): Promise<{ visible: number; inFlight: number }> {
  const deadline = Date.now() + 2_000;
  let current = await depth(queueUrl);
  while ((current.visible !== expected.visible || current.inFlight !== expected.inFlight) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    current = await depth(queueUrl);
  }
  return current;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("kyc dlq", () => {
  const applicant = "5cb744200a975a67ed00d001";
  const correlationId = `idngo:${applicant}`;
  const event = providerEvent("idngo", "approved", 1, { sessionId: applicant });
  /** Parks the event in the events DLQ, as 5 failed receives would. */
  const park = () =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: t.pipeline.dlqUrl,
        MessageBody: sqsMessageBody(event),
        MessageGroupId: toSqsId(event.correlationId),
        MessageDeduplicationId: toSqsId(event.eventId),
      }),
    );

  it("list shows what is parked without consuming it", async () => {
    expect((await kyc(["dlq", "list", "--queue", "events"], env())).stdout).toBe(
      "The events DLQ (verification-events-dlq.fifo) is empty.\n",
    );
    await park();
    const run = await kyc(["dlq", "list", "--queue", "events", "--json"], env());
    expect(run.code).toBe(0);
    const [parked] = run.json<{ groupId: string; deduplicationId: string; body: { eventId: string } }>();
    expect(parked).toMatchObject({ groupId: correlationId, deduplicationId: event.eventId, body: { eventId: event.eventId } });
    const text = await kyc(["dlq", "list", "--queue", "events"], env());
    expect(text.lines[0]).toContain(`event ${event.eventId}  ${correlationId}  approved`);
    expect(await settledDepth(t.pipeline.dlqUrl, { visible: 1, inFlight: 0 })).toEqual({ visible: 1, inFlight: 0 });
  });

  it("redrive --dry-run says what would move and changes nothing", async () => {
    const run = await kyc(["dlq", "redrive", "--queue", "events", "--dry-run"], env());
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "verification-events-dlq.fifo → verification-events.fifo: would move about 1 message (dry run: nothing changed)\n",
    );
    expect(await settledDepth(t.pipeline.dlqUrl, { visible: 1, inFlight: 0 })).toEqual({ visible: 1, inFlight: 0 });
    expect(await readVerification(t.pipeline, correlationId)).toBeUndefined();
  });

  it("redrive moves the event back (StartMessageMoveTask): applied once, one status change", async () => {
    const run = await kyc(["dlq", "redrive", "--queue", "events"], env());
    expect(run.stderr).toContain("Moving the messages of verification-events-dlq.fifo back to verification-events.fifo");
    expect(run.stdout).toBe("verification-events-dlq.fifo → verification-events.fifo: moved 1 of 1 (completed)\n");
    expect(run.code).toBe(0);
    await until(async () => (await readVerification(t.pipeline, correlationId))?.status === "approved", "the redriven event applied");
    const view = await readVerification(t.pipeline, correlationId);
    expect(view?.history.filter((h) => h.eventId === event.eventId)).toEqual([expect.objectContaining({ outcome: "applied" })]);
    const changes = await consumeStatusChanges(t.pipeline, (c) => c.some((x) => x.correlationId === correlationId), { quietMs: 500 });
    expect(changes.filter((c) => c.correlationId === correlationId).map((c) => `${c.previousStatus} → ${c.status}`)).toEqual([
      "null → approved",
    ]);
  });

  it("the same event parked and redriven again changes nothing: still once in the history, no status change", async () => {
    const before = await readVerification(t.pipeline, correlationId);
    await park();
    const run = await kyc(["dlq", "redrive", "--queue", "events", "--json"], env());
    expect(run.json()).toEqual([expect.objectContaining({ queue: "events", moved: 1, toMove: 1, status: "COMPLETED" })]);
    await until(
      async () => t.logger.lines.some((line) => line.includes(event.eventId) && line.includes('"redelivery":true')),
      "the consumer saw the event again",
    );
    expect(await readVerification(t.pipeline, correlationId)).toEqual(before);
    const changes = await consumeStatusChanges(t.pipeline, () => false, { timeoutMs: 0, quietMs: 1_500 });
    expect(changes.filter((c) => c.correlationId === correlationId)).toEqual([]);
  });

  it("the status-changes DLQ: listed, then moved back to status-changes for your consumer", async () => {
    const change: StatusChange = {
      specVersion: "1",
      correlationId: "veriff:parked",
      provider: "veriff",
      subject: { vendorData: "u" },
      previousStatus: "submitted",
      status: "approved",
      eventId: "veriff:e1",
      occurredAt: null,
      changedAt: new Date().toISOString(),
      decision: null,
      sandbox: false,
      version: 3,
    };
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: t.pipeline.statusChangesDlqUrl,
        MessageBody: JSON.stringify(change),
        MessageGroupId: change.correlationId,
        MessageDeduplicationId: `${change.correlationId}#v3`,
      }),
    );
    const listed = await kyc(["dlq", "list", "--queue", "status-changes"], env());
    expect(listed.lines[0]).toContain("change veriff:parked  submitted → approved  (event veriff:e1)");
    const run = await kyc(["dlq", "redrive", "--queue", "status-changes"], env());
    expect(run.stdout).toBe("status-changes-dlq.fifo → status-changes.fifo: moved 1 of 1 (completed)\n");
    expect(await consumeStatusChanges(t.pipeline, (c) => c.length > 0, { quietMs: 300 })).toEqual([change]);
  });

  it("usage mistakes are one line", async () => {
    expect(await kyc(["dlq", "list"], env())).toMatchObject({
      code: 2,
      stderr: "kyc dlq: --queue is required: events or status-changes\n",
    });
    expect(await kyc(["dlq", "purge", "--queue", "events"], env())).toMatchObject({ code: 2 });
    expect((await kyc(["dlq", "list", "--queue", "nope"], env())).stderr).toBe(
      'kyc: --queue must be one of events, status-changes, got "nope"\n',
    );
  });
});

describe("kyc replay-publisher-failures", () => {
  const ids = { a: "5cb744200a975a67ed00a001", b: "5cb744200a975a67ed00b001", c: "5cb744200a975a67ed00c001" };
  const id = (key: keyof typeof ids) => `idngo:${ids[key]}`;
  /** The changes as the publisher first published them. */
  const originals = new Map<string, StatusChange>();
  const replayEnv = () => ({ ...env(), AWS_ENDPOINT_URL_DYNAMODB: t.pipeline.dynamoEndpoint });

  /** The state item's stream record that made `correlationId` `status`: its stream, shard and sequence number. */
  async function streamRecord(correlationId: string, status: string) {
    const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: t.pipeline.dynamoEndpoint });
    const streams = new DynamoDBStreamsClient({ ...LOCAL_AWS, endpoint: t.pipeline.dynamoEndpoint });
    try {
      const streamArn = (await dynamo.send(new DescribeTableCommand({ TableName: TABLE.name }))).Table?.LatestStreamArn ?? "";
      const shards = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription?.Shards ?? [];
      for (const shard of shards) {
        let iterator = (
          await streams.send(
            new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId, ShardIteratorType: "TRIM_HORIZON" }),
          )
        ).ShardIterator;
        while (iterator !== undefined) {
          const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
          const found = (page.Records ?? []).find(
            (r) =>
              r.dynamodb?.Keys?.[TABLE.partitionKey]?.S === correlationId &&
              r.dynamodb.Keys[TABLE.sortKey]?.S === TABLE.stateSortKey &&
              r.dynamodb.NewImage?.["status"]?.S === status,
          );
          if (found) return { streamArn, shardId: shard.ShardId ?? "", sequenceNumber: found.dynamodb?.SequenceNumber ?? "" };
          if ((page.Records ?? []).length === 0) break;
          iterator = page.NextShardIterator;
        }
      }
      throw new Error(`no stream record for ${correlationId} → ${status}`);
    } finally {
      dynamo.destroy();
      streams.destroy();
    }
  }

  /** Lambda's on-failure record for a stream batch given up (the local stream poller sends the same). */
  function onFailureRecord(record: { streamArn: string; shardId: string; sequenceNumber: string }): StreamOnFailureRecord {
    const now = new Date().toISOString();
    return {
      requestContext: {
        requestId: randomUUID(),
        functionArn: "arn:aws:lambda:us-east-1:000000000000:function:kyc-publisher",
        condition: "RecordAgeExceeded",
        approximateInvokeCount: 9,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: now,
      DDBStreamBatchInfo: {
        shardId: record.shardId,
        startSequenceNumber: record.sequenceNumber,
        endSequenceNumber: record.sequenceNumber,
        approximateArrivalOfFirstRecord: now,
        approximateArrivalOfLastRecord: now,
        batchSize: 1,
        streamArn: record.streamArn,
      },
    };
  }

  /** The ARN of an earlier stream of the same table (one that no longer exists). */
  const gone = (streamArn: string) => streamArn.replace(/\/stream\/.*$/, "/stream/2000-01-01T00:00:00.000");

  const notice = (correlationId: string, eventSourceARN: string, sequenceNumber: string): UndeliverableNotice => ({
    reason: "NewImage is not a verification state item (status: expected …)",
    eventSourceARN,
    sequenceNumber,
    keys: { [TABLE.partitionKey]: correlationId, [TABLE.sortKey]: TABLE.stateSortKey },
    approximateCreationDateTime: Math.floor(Date.now() / 1000),
  });

  const fail = async (body: unknown) =>
    (await sqs.send(new SendMessageCommand({ QueueUrl: t.pipeline.publisherFailuresQueueUrl, MessageBody: JSON.stringify(body) })))
      .MessageId ?? "";

  interface Report {
    readonly messageId: string;
    readonly shape: string;
    readonly source: string | null;
    readonly changes: readonly { correlationId: string; status: string; action: string; deduplicationId: string }[];
    readonly deleted: boolean;
    readonly error: string | null;
  }

  const messages = new Map<string, string>();

  it("(setup) three verifications, their changes published and consumed; four failure messages of both shapes", async () => {
    await kyc(["send", "idngo", "approved", "--session", ids.a], env());
    for (const key of ["b", "c"] as const) {
      await kyc(["send", "idngo", "created", "--session", ids[key]], env());
      await kyc(["send", "idngo", "approved", "--session", ids[key]], env());
    }
    const changes = await consumeStatusChanges(t.pipeline, (c) => c.filter((x) => x.status === "approved").length >= 3, { quietMs: 300 });
    for (const change of changes.filter((c) => c.status === "approved")) originals.set(change.correlationId, change);
    expect([...originals.keys()].sort()).toEqual([id("a"), id("b"), id("c")]);

    const a = await streamRecord(id("a"), "approved");
    const b = await streamRecord(id("b"), "approved");
    messages.set(await fail(onFailureRecord(a)), "a");
    messages.set(await fail(onFailureRecord(a)), "a again");
    messages.set(await fail(notice(id("b"), b.streamArn, b.sequenceNumber)), "b");
    // A stream that is gone (disabled and enabled again: a new stream ARN), as records are after 24 hours: the table has the verification.
    messages.set(await fail(notice(id("c"), gone(b.streamArn), "000000000000000000002")), "c");
  });

  it("--dry-run reads and prints what it would do, and changes nothing", async () => {
    const run = await kyc(["replay-publisher-failures", "--dry-run", "--json"], replayEnv());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const reports = run.json<Report>();
    expect(reports).toHaveLength(4);
    for (const report of reports) {
      expect(report).toMatchObject({ deleted: false, error: null });
      expect(report.changes).toEqual([expect.objectContaining({ status: "approved", action: "would publish" })]);
    }
    expect(await settledDepth(t.pipeline.publisherFailuresQueueUrl, { visible: 4, inFlight: 0 })).toEqual({ visible: 4, inFlight: 0 });
    expect(await settledDepth(t.pipeline.statusChangesQueueUrl, { visible: 0, inFlight: 0 })).toEqual({ visible: 0, inFlight: 0 });
  });

  it("re-publishes each change once, as the publisher built it (stream, else table), and deletes the failure messages", async () => {
    const run = await kyc(["replay-publisher-failures", "--json"], replayEnv());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const reports = new Map(run.json<Report>().map((r) => [messages.get(r.messageId), r]));
    expect(reports.get("a")).toMatchObject({
      shape: "lambda-on-failure",
      deleted: true,
      changes: [{ correlationId: id("a"), action: "published" }],
    });
    expect(reports.get("a")?.source).toMatch(/^1 stream record\(s\) of /);
    expect(reports.get("a again")).toMatchObject({
      deleted: true,
      changes: [{ correlationId: id("a"), action: "already published in this run" }],
    });
    expect(reports.get("b")).toMatchObject({
      shape: "publisher-notice",
      deleted: true,
      changes: [{ correlationId: id("b"), action: "published" }],
    });
    expect(reports.get("b")?.source).toMatch(/^stream record \d+$/);
    expect(reports.get("c")).toMatchObject({
      shape: "publisher-notice",
      deleted: true,
      changes: [{ correlationId: id("c"), action: "published" }],
    });
    expect(reports.get("c")?.source).toBe(`the stream no longer has record 000000000000000000002: the table's state of ${id("c")}`);

    expect(await settledDepth(t.pipeline.publisherFailuresQueueUrl, { visible: 0, inFlight: 0 })).toEqual({ visible: 0, inFlight: 0 });
    const replayed = await consumeStatusChanges(t.pipeline, (c) => c.length >= 3, { quietMs: 500 });
    expect(replayed.sort((x, y) => x.correlationId.localeCompare(y.correlationId))).toEqual(
      [...originals.values()].sort((x, y) => x.correlationId.localeCompare(y.correlationId)),
    );

    const again = await kyc(["replay-publisher-failures"], replayEnv());
    expect(again.stdout).toBe("The publisher-failures queue is empty: nothing to replay.\n");
  });

  it("a batch the stream no longer has: the verifications whose status changed in its time window, from the table", async () => {
    const gone = onFailureRecord({
      streamArn: (await streamRecord(id("a"), "approved")).streamArn,
      shardId: "shardId-00000000000000000000-00000000",
      sequenceNumber: "000000000000000000001",
    });
    await fail(gone);
    const run = await kyc(["replay-publisher-failures"], replayEnv());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /: Lambda on-failure record: \d+ status change\(s\) from the stream no longer has shardId-00000000000000000000-00000000 0{20}1…0{20}1: the table's \d+ verification\(s\) whose status changed between /,
    );
    expect(run.stdout).toMatch(new RegExp(`published +${id("a")}  \\(new\\) → approved`));
    for (const key of ["b", "c"] as const) expect(run.stdout).toMatch(new RegExp(`published +${id(key)}  created → approved`));
    const replayed = await consumeStatusChanges(t.pipeline, (c) => c.length >= 3, { quietMs: 500 });
    for (const key of ["a", "b", "c"] as const)
      expect(replayed.filter((c) => c.correlationId === id(key))).toEqual([originals.get(id(key))]);
  });

  it("a message of neither shape stays on the queue, exit 1; without DynamoDB Local's address, one line says how to give it", async () => {
    await fail({ hello: "world" });
    const run = await kyc(["replay-publisher-failures"], replayEnv());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "unknown message: NOT replayed, left on the queue: neither a Lambda on-failure record nor a publisher notice",
    );
    expect(await settledDepth(t.pipeline.publisherFailuresQueueUrl, { visible: 1, inFlight: 0 })).toEqual({ visible: 1, inFlight: 0 });

    const noEndpoint = await kyc(["replay-publisher-failures"], env());
    expect(noEndpoint.code).toBe(2);
    expect(noEndpoint.stderr).toMatch(/^kyc: reading the table locally needs DynamoDB Local's address .*AWS_ENDPOINT_URL_DYNAMODB\n$/);

    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: t.pipeline.publisherFailuresQueueUrl, MaxNumberOfMessages: 10 }),
    );
    for (const m of Messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: t.pipeline.publisherFailuresQueueUrl, ReceiptHandle: m.ReceiptHandle }));
  });
});
