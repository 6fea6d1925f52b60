import { createHash, createHmac } from "node:crypto";
import { createServer } from "node:net";
import { type Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ProviderId } from "../../lambdas/core/event.js";
import { sqsEnqueuer } from "../../lambdas/ingest/enqueue.js";
import { createIngestHandler } from "../../lambdas/ingest/ingest.js";
import { staticSource } from "../../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../../lambdas/providers/index.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";
import { signWebhook } from "../../local/samples.js";
import { createFifoQueueWithDlq, LOCAL_AWS, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { recordingLogger, recordingMetrics, webhookEvent } from "../support/apigw.js";
import { encryptNeurovision } from "../support/neurovision-crypto.js";
import { fixture } from "../support/providers.js";
import { expectValid, validateNormalizedEvent } from "../support/schemas.js";

const SECRET = "integration-secret";
const hmac = (alg: string, body: string) => createHmac(alg, SECRET).update(body).digest("hex");

/** One signed webhook per provider, signed or encrypted exactly as the provider's docs do. */
const webhooks: Record<ProviderId, () => { body: string; headers: Record<string, string>; correlationId: string }> = {
  veriff: () => {
    const body = JSON.stringify({
      status: "success",
      verification: {
        id: "12df6045-3846-3e45-946a-14fa6136d78b",
        attemptId: "00bca969-b53a-4fad-b065-874d41a7b2b8",
        code: 9001,
        status: "approved",
        reasonCode: null,
        vendorData: "user-42",
        decisionTime: "2026-11-22T09:00:00.000Z",
        person: { firstName: "Jane", lastName: "Roe" },
      },
      technicalData: { ip: "203.0.113.7" },
    });
    return { body, headers: { "x-hmac-signature": hmac("sha256", body) }, correlationId: "veriff:12df6045-3846-3e45-946a-14fa6136d78b" };
  },
  idngo: () => {
    const body = JSON.stringify({
      applicantId: "5cb744200a975a67ed1798a4",
      inspectionId: "5cb744200a975a67ed1798a5",
      correlationId: "req-fa94263f-0b23-42d7-9393-ab10b28ef42d",
      externalUserId: "12672",
      type: "applicantReviewed",
      reviewResult: { reviewAnswer: "GREEN" },
      reviewStatus: "completed",
      sandboxMode: "false",
      createdAtMs: "2020-02-21 13:23:19.129",
      clientId: "cyberityClient",
    });
    return {
      body,
      headers: { "x-payload-digest": hmac("sha512", body), "x-payload-digest-alg": "HMAC_SHA512_HEX" },
      correlationId: "idngo:5cb744200a975a67ed1798a4",
    };
  },
  idbeyond: () => {
    const body = JSON.stringify({
      event: "verification.completed",
      verificationSessionId: "9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f90",
      externalUserId: "user_123",
      decision: "approved",
      reviewStatus: "approved",
      timestamp: "2026-11-22T09:59:00.000Z",
    });
    return {
      body,
      headers: { "x-verification-signature": hmac("sha256", body) },
      correlationId: "idbeyond:9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f90",
    };
  },
  neurovision: () => {
    const plaintext = JSON.stringify({
      sessionId: "d9428888-122b-11e1-b85c-61cd3cbb3210",
      clientKey: "user_123",
      clientId: "client-1",
      schemaId: "schema-1",
      status: "success",
      createdAt: "2026-11-22T09:30:00.000Z",
      results: [{ type: "passport", status: "success", ocr: { surname: "ROE" } }],
    });
    // A fresh random IV on every call: each delivery of the same event is a different ciphertext.
    return {
      body: JSON.stringify({ encrypted: encryptNeurovision(plaintext, SECRET) }),
      headers: {},
      correlationId: "neurovision:d9428888-122b-11e1-b85c-61cd3cbb3210",
    };
  },
};

let sqs: LocalSqs;
let queueUrl: string;

async function drain(url = queueUrl): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const res = await sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        AttributeNames: ["All"],
        VisibilityTimeout: 60,
      }),
    );
    if (!res.Messages?.length) return messages;
    messages.push(...res.Messages);
  }
}

function handlerFor(provider: ProviderId, client: SQSClient = sqs.client) {
  const logger = recordingLogger();
  const handler = createIngestHandler({
    provider: PROVIDERS[provider],
    options: DEFAULT_OPTIONS,
    secrets: staticSource([SECRET]),
    enqueue: sqsEnqueuer(client, queueUrl),
    logger,
    metrics: recordingMetrics(),
  });
  return { handler, logger };
}

beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});
beforeEach(async () => {
  // A fresh queue pair per test (unique name), so tests do not see each other's messages.
  const name = `events-${createHash("sha1").update(String(Math.random())).digest("hex").slice(0, 8)}`;
  ({ queueUrl } = await createFifoQueueWithDlq(sqs.client, {
    nameStem: name,
    visibilityTimeoutSeconds: 60,
    maxReceiveCount: 5,
    retentionDays: 1,
  }));
});

describe("ingest → local SQS FIFO", () => {
  for (const provider of Object.keys(webhooks) as ProviderId[]) {
    it(`${provider}: the event arrives with group = correlationId and dedup = eventId`, async () => {
      const { body, headers, correlationId } = webhooks[provider]();
      const { handler } = handlerFor(provider);
      const res = await handler(webhookEvent(provider, body, headers));
      expect(res.statusCode).toBe(200);
      const { eventId } = JSON.parse(res.body) as { eventId: string };

      const messages = await drain();
      expect(messages).toHaveLength(1);
      const message = messages[0];
      expect(message?.Attributes?.["MessageGroupId"]).toBe(correlationId);
      expect(message?.Attributes?.["MessageDeduplicationId"]).toBe(eventId);
      const event = JSON.parse(message?.Body ?? "{}") as Record<string, unknown>;
      expectValid(validateNormalizedEvent, event); // the published JSON Schema describes what lands on the queue
      expect(event).toMatchObject({ specVersion: "1", provider, correlationId, eventId });
    });

    it(`${provider}: a redelivery of the same webhook within 5 minutes leaves one message`, async () => {
      const { handler } = handlerFor(provider);
      const first = await handler(webhookEvent(provider, webhooks[provider]().body, webhooks[provider]().headers));
      const again = webhooks[provider](); // NeuroVision: same event, new ciphertext
      const second = await handler(webhookEvent(provider, again.body, again.headers));
      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(second.body).toBe(first.body);
      expect(await drain()).toHaveLength(1);
    });
  }

  it("idngo: three webhooks of one operation (one Sumsub correlationId) stay three messages; their redeliveries add none", async () => {
    const { handler } = handlerFor("idngo");
    const files = ["doc-kyt-shared-correlation-1.json", "doc-kyt-shared-correlation-2.json", "doc-kyt-shared-correlation-3.json"];
    const send = async (file: string) => {
      const request = signWebhook("idngo", fixture("idngo", file).toString("utf8"), SECRET);
      const res = await handler(webhookEvent("idngo", request.body, request.headers));
      expect(res.statusCode).toBe(200);
      return (JSON.parse(res.body) as { eventId: string }).eventId;
    };
    const ids = [];
    for (const file of files) ids.push(await send(file));
    for (const file of files) expect(await send(file)).toBe(ids[files.indexOf(file)]);
    const messages = await drain();
    expect(messages).toHaveLength(3);
    expect(new Set(messages.map((m) => m.Attributes?.["MessageDeduplicationId"]))).toEqual(new Set(ids));
  });

  it("escapes the characters SQS refuses (U+FFFF) in the body, and the event reads back unchanged", async () => {
    const { handler } = handlerFor("idbeyond");
    const json = {
      event: "verification.completed",
      verificationSessionId: "s-1",
      externalUserId: "user\uffff\ufffe-1",
      reviewStatus: "approved",
      timestamp: "2026-11-22T09:00:00Z",
    };
    const request = signWebhook("idbeyond", JSON.stringify(json), SECRET);
    expect((await handler(webhookEvent("idbeyond", request.body, request.headers))).statusCode).toBe(200);
    const [message] = await drain();
    expect(message?.Body).not.toMatch(/[\uFFFE\uFFFF]/);
    expect(message?.Body).toContain("\\uffff");
    expect((JSON.parse(message?.Body ?? "{}") as { subject: unknown }).subject).toEqual({ externalUserId: "user\uffff\ufffe-1" });
  });

  it("answers 503 when the queue is unreachable, and nothing is acknowledged", async () => {
    // A port that was just free and is now closed: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port: p } = probe.address() as { port: number };
        probe.close(() => resolve(p));
      });
    });
    const unreachable = new SQSClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2 });
    const { handler, logger } = handlerFor("idbeyond", unreachable);
    const { body, headers } = webhooks.idbeyond();
    const res = await handler(webhookEvent("idbeyond", body, headers));
    expect(res.statusCode).toBe(503);
    expect(logger.lines.some((l) => l.includes("enqueue failed"))).toBe(true);
    expect(await drain()).toHaveLength(0);
    unreachable.destroy();
  });
});
