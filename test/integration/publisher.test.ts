import { randomUUID } from "node:crypto";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SendMessageCommandInput,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dynamoStore, type VerificationStore } from "../../lambdas/consumer/store.js";
import { PUBLISHER } from "../../lambdas/core/contract.js";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { createPublisherHandler, type UndeliverableNotice } from "../../lambdas/publisher/publisher.js";
import { createFifoQueueWithDlq, LOCAL_AWS, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { type StreamOnFailureRecord, type StreamPollerOptions, startStreamPoller } from "../../local/stream-poller.js";
import { recordingLogger, recordingMetrics } from "../support/apigw.js";
import { dynamoEndpoint, freshTable } from "../support/dynamo.js";
import { providerEvent } from "../support/scenarios.js";

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

type Fault = "none" | "crash-before-send" | "crash-after-send";

/**
 * An SQS client for the publisher whose first send crashes before or after reaching the queue, and
 * that refuses every message of `alwaysFailGroup` (as SQS reports a failed entry of a batch: the
 * call succeeds, the other entries are sent, that entry is listed under `Failed`).
 */
function publisherSqs(fault: Fault, alwaysFailGroup?: { groupId: string; attempts: number[] }): SQSClient {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint, maxAttempts: 1 });
  let armed = fault !== "none";
  client.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as Partial<SendMessageCommandInput & SendMessageBatchCommandInput>;
      if (alwaysFailGroup !== undefined && input.MessageGroupId === alwaysFailGroup.groupId) {
        alwaysFailGroup.attempts.push(Date.now());
        throw Object.assign(new Error("status-changes refuses this one"), { name: "Refused" });
      }
      const refused = (input.Entries ?? []).filter((entry) => entry.MessageGroupId === alwaysFailGroup?.groupId);
      if (alwaysFailGroup !== undefined && refused.length > 0) {
        alwaysFailGroup.attempts.push(Date.now());
        const others = (input.Entries ?? []).filter((entry) => !refused.includes(entry));
        const sent = others.length === 0 ? undefined : await next({ ...args, input: { ...input, Entries: others } as typeof args.input });
        const output = (sent?.output ?? {}) as SendMessageBatchCommandOutput;
        const failed = refused.map((entry) => ({ Id: entry.Id, Code: "Refused", SenderFault: false }));
        return { ...sent, response: sent?.response, output: { ...output, Successful: output.Successful ?? [], Failed: failed } };
      }
      if (!armed) return next(args);
      armed = false;
      if (fault === "crash-before-send") throw Object.assign(new Error("crashed before the send"), { name: "Crash" });
      await next(args); // the message is on the queue...
      throw Object.assign(new Error("crashed after the send"), { name: "Crash" }); // ...but the publisher never learns it
    },
    { step: "initialize", name: "crash" },
  );
  return client;
}

async function setup() {
  const { client, tableName } = await freshTable();
  const store: VerificationStore = dynamoStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), {
    tableName,
  });
  const suffix = randomUUID().slice(0, 8);
  const { queueUrl } = await createFifoQueueWithDlq(sqs.client, {
    nameStem: `status-changes-${suffix}`,
    visibilityTimeoutSeconds: 30,
    maxReceiveCount: 5,
    retentionDays: 1,
  });
  const failuresQueueUrl = (await sqs.client.send(new CreateQueueCommand({ QueueName: `publisher-failures-${suffix}` }))).QueueUrl ?? "";
  const start = async (
    fault: Fault,
    { alwaysFailGroup, ...extra }: Partial<StreamPollerOptions> & { alwaysFailGroup?: { groupId: string; attempts: number[] } } = {},
  ) => {
    const logger = recordingLogger();
    const metrics = recordingMetrics();
    const publish = createPublisherHandler({ sqs: publisherSqs(fault, alwaysFailGroup), queueUrl, failuresQueueUrl, logger, metrics });
    /** The size of each batch the poller handed over, in order (one entry per invocation). */
    const invocations: number[] = [];
    const poller = await startStreamPoller({
      dynamo: client,
      endpoint: dynamoEndpoint(),
      tableName,
      handler: (event) => {
        invocations.push(event.Records.length);
        return publish(event);
      },
      onFailure: { sqs: sqs.client, queueUrl: failuresQueueUrl },
      ...extra,
    });
    return { poller, logger, metrics, invocations };
  };
  return { client, tableName, store, queueUrl, failuresQueueUrl, start };
}

/** Receives until `expected` messages arrived (then a little longer, to see that nothing more comes) or 15 s pass. */
async function receiveAll(queueUrl: string, expected: number, settleMs = 500): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + 15_000;
  while (out.length < expected && Date.now() < deadline) {
    const r = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        AttributeNames: ["All"],
      }),
    );
    out.push(...(r.Messages ?? []));
    if (!r.Messages?.length) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, settleMs));
  const late = await sqs.client.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ["All"] }),
  );
  out.push(...(late.Messages ?? []));
  return out;
}

const bodies = <T>(messages: Message[]): T[] => messages.map((m) => JSON.parse(m.Body ?? "{}") as T);
const received = async (queueUrl: string, expected: number) => bodies<StatusChange>(await receiveAll(queueUrl, expected));

/** A verification's journey with a duplicate and a stale event: three real changes. */
function journey(): { events: NormalizedEvent[]; expected: [string | null, string][] } {
  const sessionId = randomUUID().replaceAll("-", "").slice(0, 24);
  const submitted = providerEvent("idngo", "submitted", 1, { sessionId });
  const events = [
    submitted,
    providerEvent("idngo", "created", 0, { sessionId }), // stale: older
    submitted, // redelivery
    providerEvent("idngo", "in_review", 2, { sessionId }),
    providerEvent("idngo", "approved", 4, { sessionId }),
    providerEvent("idngo", "on_hold", 3, { sessionId }), // stale: older than approved
  ];
  return {
    events,
    expected: [
      [null, "submitted"],
      ["submitted", "in_review"],
      ["in_review", "approved"],
    ],
  };
}

describe("status changes: nothing lost between the table write and the message", () => {
  it("the publisher is down while the table is written: started later, it delivers every change once, in order", async () => {
    const { store, queueUrl, start } = await setup();
    const { events, expected } = journey();
    for (const event of events) await store.apply(event); // written; nobody publishes yet
    expect(await received(queueUrl, 0)).toEqual([]);

    const { poller } = await start("none");
    const changes = await received(queueUrl, expected.length);
    await poller.stop();
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(expected);
    expect(changes.every((c) => c.correlationId === events[0]?.correlationId && c.specVersion === "1")).toBe(true);
  });

  for (const fault of ["crash-before-send", "crash-after-send"] as const) {
    it(`${fault}: the change is retried from the stream and delivered exactly once`, async () => {
      const { store, queueUrl, start } = await setup();
      const { poller, logger } = await start(fault);
      const { events, expected } = journey();
      for (const event of events) await store.apply(event);
      const changes = await received(queueUrl, expected.length);
      await poller.stop();
      expect(logger.lines.some((l) => l.includes("not published"))).toBe(true); // the crash happened
      expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(expected);
      expect(new Set(changes.map((c) => c.eventId)).size).toBe(expected.length);
    });
  }

  it("each message is grouped by verification and deduplicated on its transition (the state version)", async () => {
    const { store, queueUrl, start } = await setup();
    const { poller } = await start("none");
    const { events, expected } = journey();
    for (const event of events) await store.apply(event);
    const messages = await receiveAll(queueUrl, expected.length, 0);
    await poller.stop();
    const id = events[0]?.correlationId;
    // Stale events and redeliveries do not write the state item: the three changes are versions 1-3.
    expect(messages.map((m) => ({ group: m.Attributes?.["MessageGroupId"], dedup: m.Attributes?.["MessageDeduplicationId"] }))).toEqual([
      { group: id, dedup: `${id}#v1` },
      { group: id, dedup: `${id}#v2` },
      { group: id, dedup: `${id}#v3` },
    ]);
  });
});

describe("the publisher never stalls", () => {
  it("a verification with an empty subject (DynamoDB Local streams it as `{}`) is published, and so is everything after it", async () => {
    const { store, queueUrl, start } = await setup();
    const { poller, logger } = await start("none");
    const sessionId = randomUUID();
    const empty = { ...providerEvent("veriff", "approved", 1, { sessionId }), subject: {} };
    await store.apply(empty);
    const { events, expected } = journey();
    for (const event of events) await store.apply(event);
    const changes = await received(queueUrl, 1 + expected.length);
    await poller.stop();
    expect(changes[0]).toMatchObject({ correlationId: empty.correlationId, subject: {}, previousStatus: null, status: "approved" });
    expect(changes.slice(1).map((c) => [c.previousStatus, c.status])).toEqual(expected);
    expect(logger.lines.filter((l) => l.includes('"level":"error"'))).toEqual([]);
  });

  it("a state item no status change can be built from is reported to the failure queue once, by its ids only, and the shard flows on", async () => {
    const { client, tableName, store, queueUrl, failuresQueueUrl, start } = await setup();
    const { poller, logger, metrics } = await start("none");
    const correlationId = `idngo:broken-${randomUUID().slice(0, 8)}`;
    // Written by hand: no provider, a status outside the vocabulary; values that must never be echoed.
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          correlationId: { S: correlationId },
          sk: { S: "STATE" },
          status: { S: "SECRET-STATUS" },
          subject: { M: { externalUserId: { S: "SECRET-USER" } } },
          version: { N: "1" },
        },
      }),
    );
    const { events, expected } = journey();
    for (const event of events) await store.apply(event);

    const changes = await received(queueUrl, expected.length);
    const notices = bodies<UndeliverableNotice>(await receiveAll(failuresQueueUrl, 1, 0));
    await poller.stop();

    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(expected);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toEqual({
      reason: expect.stringMatching(/^NewImage is not a verification state item \(.*provider/) as unknown,
      eventSourceARN: expect.stringContaining(`table/${tableName}/stream/`) as unknown,
      sequenceNumber: expect.stringMatching(/^\d+$/) as unknown,
      keys: { correlationId, sk: "STATE" },
      approximateCreationDateTime: expect.any(Number) as unknown,
    });
    const errors = logger.lines.filter((l) => l.includes('"level":"error"'));
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0] ?? "{}")).toMatchObject({
      sequenceNumber: notices[0]?.sequenceNumber,
      keys: { correlationId, sk: "STATE" },
      error: "UndeliverableRecord",
      errorMessage: notices[0]?.reason,
    });
    expect(`${logger.lines.join("\n")}${JSON.stringify(notices)}`).not.toContain("SECRET");
    // Counted: one unpublishable record, and each published change by its new status.
    expect(metrics.total("UnpublishableRecords")).toBe(1);
    expect(metrics.total("StatusChangesPublished")).toBe(expected.length);
    expect(metrics.counts.get(`StatusChangesPublished ${JSON.stringify({ status: expected.at(-1)?.[1] })}`)).toBeGreaterThanOrEqual(1);
  });

  it("a record that always fails is retried with backoff, then given up after the max record age as Lambda does, and the shard flows on", async () => {
    const { store, queueUrl, failuresQueueUrl, start } = await setup();
    const poisoned = providerEvent("idngo", "submitted", 1, { sessionId: randomUUID().replaceAll("-", "").slice(0, 24) });
    const alwaysFailGroup = { groupId: poisoned.correlationId, attempts: [] as number[] };
    const { poller, logger } = await start("none", { alwaysFailGroup, maxRecordAgeMs: 1_500, retryDelayMs: 100 });
    await store.apply(poisoned);
    const { events, expected } = journey();
    for (const event of events) await store.apply(event);

    // While it is being retried, the poller says so.
    const deadline = Date.now() + 5_000;
    let status = poller.status();
    while (status.retrying === null && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      status = poller.status();
    }
    expect(status.retrying).toMatchObject({
      sequenceNumber: expect.stringMatching(/^\d+$/) as unknown,
      attempts: expect.any(Number) as unknown,
    });
    expect(status.backlog).toBeGreaterThanOrEqual(1);

    const onFailure = bodies<StreamOnFailureRecord>(await receiveAll(failuresQueueUrl, 1, 0));
    const changes = await received(queueUrl, expected.length);
    await poller.stop();

    expect(onFailure).toHaveLength(1);
    expect(onFailure[0]).toMatchObject({
      requestContext: { condition: "RecordAgeExceeded", approximateInvokeCount: alwaysFailGroup.attempts.length },
      DDBStreamBatchInfo: {
        shardId: expect.stringMatching(/^shardId-/) as unknown,
        startSequenceNumber: status.retrying?.sequenceNumber,
        endSequenceNumber: status.retrying?.sequenceNumber,
        batchSize: 1,
        streamArn: expect.stringContaining("/stream/") as unknown,
      },
    });
    // Nothing else is lost: every change after the poisoned record arrived, in order, and only those.
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(expected);
    expect(changes.every((c) => c.correlationId !== poisoned.correlationId)).toBe(true);
    // Backoff, counted rather than timed: retried, and given up by the 5th attempt. The waits before the
    // 2nd to 5th attempts double from 100 ms (100 + 200 + 400 + 800 = the 1,500 ms max record age), so
    // the 5th failure always finds the record too old, however fast or slow the machine; a fixed
    // 100 ms delay would make about 15 attempts.
    expect(alwaysFailGroup.attempts.length).toBeGreaterThanOrEqual(3);
    expect(alwaysFailGroup.attempts.length).toBeLessThanOrEqual(5);
    expect(poller.status()).toMatchObject({ retrying: null, backlog: 0, givenUp: 1 });
    expect(
      logger.lines
        .filter((l) => l.includes("not published"))
        .every((l) => l.includes(`"sequenceNumber":"${status.retrying?.sequenceNumber}"`)),
    ).toBe(true);
  });

  it("keeps up: hundreds of changes written before it starts are all published, once each, in full batches", async () => {
    const { store, queueUrl, start } = await setup();
    const count = 300;
    const events = Array.from({ length: count }, (_, i) =>
      providerEvent("idngo", "submitted", i, { sessionId: randomUUID().replaceAll("-", "").slice(0, 24) }),
    );
    for (let i = 0; i < events.length; i += 10) await Promise.all(events.slice(i, i + 10).map((e) => store.apply(e)));
    // 600 stream records (state + history), 300 of them status changes (the old poller read 10 every 200 ms).
    const { poller, invocations } = await start("none");
    const messages = await receiveAll(queueUrl, count, 0);
    await poller.stop();
    const changes = bodies<StatusChange>(messages);
    expect(changes).toHaveLength(count);
    expect(new Set(changes.map((c) => c.correlationId)).size).toBe(count);
    expect(changes.map((c) => [c.previousStatus, c.status])).toEqual(events.map(() => [null, "submitted"]));
    // It keeps up by handing over full batches: each change once, in as few invocations as the batch size allows.
    expect(invocations.reduce((sum, n) => sum + n, 0)).toBe(count);
    // (Here 3 of 100; a page of the stream that ends mid-batch may add a partial one, never one per few records.)
    expect(invocations.length).toBeLessThanOrEqual(Math.ceil(count / PUBLISHER.batchSize) + 2);
  });
});

describe("publisher handler: failures queue unreachable", () => {
  const record = (sequenceNumber: string, newImage: Record<string, unknown>): DynamoDBRecord =>
    ({
      eventSourceARN: "arn:aws:dynamodb:us-east-1:000000000000:table/verifications/stream/x",
      dynamodb: {
        SequenceNumber: sequenceNumber,
        Keys: { correlationId: newImage["correlationId"], sk: { S: "STATE" } },
        NewImage: newImage,
        ApproximateCreationDateTime: 1,
      },
    }) as DynamoDBRecord;

  it("reports the undeliverable record as the batch's failure (retried in order) when its notice cannot be sent", async () => {
    const { queueUrl } = await createFifoQueueWithDlq(sqs.client, {
      nameStem: `status-changes-${randomUUID().slice(0, 8)}`,
      visibilityTimeoutSeconds: 30,
      maxReceiveCount: 5,
      retentionDays: 1,
    });
    const logger = recordingLogger();
    const handler = createPublisherHandler({
      sqs: sqs.client,
      queueUrl,
      failuresQueueUrl: `${sqs.endpoint}/000000000000/no-such-queue`,
      logger,
      metrics: recordingMetrics(),
    });
    const good = {
      correlationId: { S: "idngo:good" },
      sk: { S: "STATE" },
      provider: { S: "idngo" },
      status: { S: "submitted" },
      subject: {},
      appliedEventId: { S: "idngo:e1" },
      occurredAt: { NULL: true },
      decision: { NULL: true },
      createdAt: { S: "2026-11-22T10:00:00.000Z" },
      updatedAt: { S: "2026-11-22T10:00:00.000Z" },
      statusChangedAt: { S: "2026-11-22T10:00:00.000Z" },
      version: { N: "1" },
    };
    const response = await handler({
      Records: [
        record("1", good),
        record("2", { correlationId: { S: "idngo:bad" }, sk: { S: "STATE" }, status: { S: 7 } }),
        record("3", good),
      ],
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: "2" }] });
    const changes = await received(queueUrl, 1);
    expect(changes.map((c) => [c.correlationId, c.subject])).toEqual([["idngo:good", {}]]); // record 3 waits for the retry
    expect(logger.lines.some((l) => l.includes("failure notice not sent") && l.includes('"sequenceNumber":"2"'))).toBe(true);
  });
});
