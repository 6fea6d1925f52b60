import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConsumerHandler } from "../../lambdas/consumer/consumer.js";
import { dynamoStore } from "../../lambdas/consumer/store.js";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import { toSqsId } from "../../lambdas/core/sqs-message.js";
import { getVerification } from "../../lambdas/read/queries.js";
import { startPoller } from "../../local/poller.js";
import { createFifoQueueWithDlq, LOCAL_AWS, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { recordingLogger, recordingMetrics, sqsRecord } from "../support/apigw.js";
import { dynamoEndpoint, freshTable } from "../support/dynamo.js";
import { providerEvent } from "../support/scenarios.js";

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

/**
 * A DynamoDB client against DynamoDB Local whose writes fail for chosen events: a fault the
 * local server cannot produce by itself, injected as SDK middleware on the real client.
 */
function faultyDocuments(endpoint: string, failures: (eventId: string) => boolean): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  client.middlewareStack.add(
    (next) => async (args) => {
      // Either write of the event: its state item (the event it applies) or its history item.
      const item = (args.input as { Item?: Record<string, unknown> }).Item;
      const eventId = item?.["eventId"] ?? item?.["appliedEventId"];
      if (typeof eventId === "string" && failures(eventId))
        throw Object.assign(new Error("injected fault"), { name: "InternalServerError" });
      return next(args);
    },
    { step: "initialize", name: "injectFault" },
  );
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

async function send(queueUrl: string, event: NormalizedEvent): Promise<void> {
  await sqs.client.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify(event),
      MessageGroupId: toSqsId(event.correlationId),
      MessageDeduplicationId: toSqsId(event.eventId),
    }),
  );
}

async function drainBodies(queueUrl: string): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  for (;;) {
    const r = await sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 60 }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages.map((m) => JSON.parse(m.Body ?? "{}") as NormalizedEvent));
  }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function queueEmpty(queueUrl: string): Promise<boolean> {
  const attrs = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return attrs.Attributes?.["ApproximateNumberOfMessages"] === "0" && attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] === "0";
}

async function setup(failures: (eventId: string) => boolean, maxReceiveCount: number) {
  const { client, tableName } = await freshTable();
  const endpoint = dynamoEndpoint();
  const name = `events-${randomUUID().slice(0, 8)}`;
  const { queueUrl, dlqUrl } = await createFifoQueueWithDlq(sqs.client, {
    nameStem: name,
    visibilityTimeoutSeconds: 1,
    maxReceiveCount,
    retentionDays: 1,
  });
  const attrs = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  const logger = recordingLogger();
  const metrics = recordingMetrics();
  const handler = createConsumerHandler({
    store: dynamoStore(faultyDocuments(endpoint, failures), { tableName }),
    logger,
    metrics,
  });
  const poller = startPoller({
    sqs: sqs.client,
    queueUrl,
    queueArn: attrs.Attributes?.["QueueArn"] ?? "",
    handler,
    functionName: "kyc-consumer",
    visibilityTimeoutSeconds: 1,
    waitTimeSeconds: 0,
  });
  const documents = DynamoDBDocumentClient.from(client);
  return {
    queueUrl,
    dlqUrl,
    poller,
    logger,
    metrics,
    status: async (id: string) => (await getVerification(documents, tableName, id))?.status,
  };
}

describe("consumer behind the local event source mapping", () => {
  it("a persistent DynamoDB failure on one record: the rest of the batch is applied, the failed record ends in the DLQ, nothing is lost", async () => {
    const a = "5cb744200a975a67ed10aaaa";
    const b = "5cb744200a975a67ed10bbbb";
    const a1 = providerEvent("idngo", "submitted", 1, { sessionId: a });
    const poison = providerEvent("idngo", "in_review", 2, { sessionId: a });
    const b1 = providerEvent("idngo", "submitted", 1, { sessionId: b });
    const b2 = providerEvent("idngo", "approved", 2, { sessionId: b });
    const { queueUrl, dlqUrl, poller, logger, metrics, status } = await setup((id) => id === poison.eventId, 3);
    for (const e of [a1, poison, b1, b2]) await send(queueUrl, e);

    await waitFor(() => queueEmpty(queueUrl), 20_000);
    await poller.stop();

    expect(await status(a1.correlationId)).toBe("submitted"); // applied before the failure, not rolled back
    expect(await status(b1.correlationId)).toBe("approved"); // the other group carried on
    const dead = await drainBodies(dlqUrl);
    expect(dead.map((e) => e.eventId)).toEqual([poison.eventId]);
    // Retried until the receive limit, each failure logged without personal data.
    expect(logger.lines.filter((l) => l.includes("event failed")).length).toBe(3);
    // Counted: three applied events, three failures of the poison record.
    expect(metrics.total("EventsFailed")).toBe(3);
    expect(metrics.counts.get('EventsProcessed {"provider":"idngo","outcome":"applied"}')).toBe(3);
  });

  it("a message that is not a version-1 event is never dropped: it ends in the DLQ, other groups carry on", async () => {
    const ok = providerEvent("idbeyond", "approved", 1, { sessionId: randomUUID() });
    const { queueUrl, dlqUrl, poller, status } = await setup(() => false, 2);
    await sqs.client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"specVersion":"0"}',
        MessageGroupId: "junk",
        MessageDeduplicationId: "junk-1",
      }),
    );
    await send(queueUrl, ok);

    await waitFor(() => queueEmpty(queueUrl), 20_000);
    await poller.stop();

    expect(await status(ok.correlationId)).toBe("approved");
    expect(await drainBodies(dlqUrl)).toEqual([{ specVersion: "0" }]);
  });

  it("a transient failure is retried after the visibility timeout and then applied, in group order", async () => {
    const s = "5cb744200a975a67ed10cccc";
    const first = providerEvent("idngo", "submitted", 1, { sessionId: s });
    const second = providerEvent("idngo", "approved", 2, { sessionId: s });
    let failuresLeft = 1;
    const { queueUrl, dlqUrl, poller, logger } = await setup((id) => id === first.eventId && failuresLeft-- > 0, 3);
    await send(queueUrl, first);
    await send(queueUrl, second);

    await waitFor(() => queueEmpty(queueUrl), 20_000);
    await poller.stop();

    expect(await drainBodies(dlqUrl)).toEqual([]);
    // `second` was held back with its group while `first` waited for its retry, then applied after it.
    const processed = logger.lines.filter((l) => l.includes("event processed")).map((l) => (JSON.parse(l) as { eventId: string }).eventId);
    expect(processed).toEqual([first.eventId, second.eventId]);
  });

  it("batches run at once through one handler keep their own failures (the local event source runs several)", async () => {
    const { tableName } = await freshTable();
    const failing = providerEvent("idngo", "submitted", 1, { sessionId: "5cb744200a975a67ed10dd01" });
    const slow = providerEvent("idngo", "submitted", 1, { sessionId: "5cb744200a975a67ed10dd02" });
    const other = providerEvent("idngo", "submitted", 1, { sessionId: "5cb744200a975a67ed10dd03" });
    const documents = faultyDocuments(dynamoEndpoint(), (id) => id === failing.eventId);
    // The slow record's state write is held until the other batch has run.
    let slowStarted: () => void = () => {};
    let releaseSlow: () => void = () => {};
    const started = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const released = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    documents.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: Record<string, unknown> }).Item;
        if (item?.["appliedEventId"] === slow.eventId) {
          slowStarted();
          await released;
        }
        return next(args);
      },
      { step: "initialize", name: "holdSlow" },
    );
    const handler = createConsumerHandler({
      store: dynamoStore(documents, { tableName }),
      logger: recordingLogger(),
      metrics: recordingMetrics(),
    });
    const record = (event: NormalizedEvent, id: string) => sqsRecord(JSON.stringify(event), id, toSqsId(event.correlationId));

    const batchA = handler({ Records: [record(failing, "a1"), record(slow, "a2")] }, {} as never);
    await started;
    const batchB = await handler({ Records: [record(other, "b1")] }, {} as never);
    releaseSlow();
    expect(batchB.batchItemFailures).toEqual([]);
    expect((await batchA).batchItemFailures).toEqual([{ itemIdentifier: "a1" }]);
  });
});
