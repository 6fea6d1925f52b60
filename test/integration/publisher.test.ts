import { randomUUID } from "node:crypto";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import { dynamoStore, type VerificationStore } from "../../lambdas/consumer/store.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { createPublisherHandler } from "../../lambdas/publisher/publisher.js";
import { startStreamPoller } from "../../local/stream-poller.js";
import { createFifoQueueWithDlq, LOCAL_AWS, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { recordingLogger } from "../support/apigw.js";
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

/** An SQS client for the publisher whose first SendMessage crashes before or after reaching the queue. */
function publisherSqs(fault: Fault): SQSClient {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: sqs.endpoint, maxAttempts: 1 });
  let armed = fault !== "none";
  client.middlewareStack.add(
    (next) => async (args) => {
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
  const store: VerificationStore = dynamoStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), { tableName });
  const { queueUrl } = await createFifoQueueWithDlq(sqs.client, { name: `status-changes-${randomUUID().slice(0, 8)}.fifo`, visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  const start = async (fault: Fault) => {
    const logger = recordingLogger();
    const poller = await startStreamPoller({
      dynamo: client,
      endpoint: dynamoEndpoint(),
      tableName,
      handler: createPublisherHandler({ sqs: publisherSqs(fault), queueUrl, logger }),
      intervalMs: 50,
    });
    return { poller, logger };
  };
  return { store, queueUrl, start };
}

/** Everything on the queue once it stops growing, in queue order. */
async function received(queueUrl: string, expected: number): Promise<StatusChange[]> {
  const out: StatusChange[] = [];
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }));
    out.push(...(r.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}") as StatusChange));
    if (out.length >= expected && !r.Messages?.length) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Nothing more arrives later: wait a little past the retries and look again.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const late = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
  out.push(...(late.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}") as StatusChange));
  return out;
}

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
  return { events, expected: [[null, "submitted"], ["submitted", "in_review"], ["in_review", "approved"]] };
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
    const messages: { group?: string; dedup?: string }[] = [];
    const deadline = Date.now() + 15_000;
    while (messages.length < expected.length && Date.now() < deadline) {
      const r = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, AttributeNames: ["All"] }));
      messages.push(...(r.Messages ?? []).map((m) => ({ group: m.Attributes?.["MessageGroupId"], dedup: m.Attributes?.["MessageDeduplicationId"] })));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await poller.stop();
    const id = events[0]?.correlationId;
    // Stale events and redeliveries do not write the state item: the three changes are versions 1-3.
    expect(messages).toEqual([
      { group: id, dedup: `${id}#v1` },
      { group: id, dedup: `${id}#v2` },
      { group: id, dedup: `${id}#v3` },
    ]);
  });
});
