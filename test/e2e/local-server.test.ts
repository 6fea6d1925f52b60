import { createHmac, randomUUID } from "node:crypto";
import { Agent } from "node:http";
import { DeleteQueueCommand, PurgeQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { sampleSessionId, sampleWebhook } from "../../local/samples.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { ACCEPTED_STATUSES, httpRequest, rawHttpRequest } from "../support/http.js";
import { useLocalPipeline } from "../support/pipeline.js";

const SECRETS = { idbeyond: "server-idbeyond", neurovision: "server-neurovision" } as const;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const local = useLocalPipeline({ idbeyond: SECRETS.idbeyond, neurovision: SECRETS.neurovision }, { health: { stuckAfterMs: 1_000 } });

const post = (path: string, body: Buffer, headers: Record<string, string> = {}) =>
  fetch(`${local.pipeline.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });

interface Health {
  status: string;
  checks: Record<string, { ok: boolean; error?: string; [detail: string]: unknown }>;
  eventsDlqMessages: number | null;
  publisherBacklog: number;
}

async function health(): Promise<{ status: number; body: Health; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${local.pipeline.url}/health`);
  return { status: res.status, body: (await res.json()) as Health, ms: Date.now() - started };
}

describe("GET /health", () => {
  it("answers 200 naming every part it checked, with the events DLQ depth and the publisher's backlog", async () => {
    const { status, body, ms } = await health();
    expect(status).toBe(200);
    expect(ms).toBeLessThan(1_000);
    expect(body).toMatchObject({
      status: "ok",
      checks: {
        dynamodb: { ok: true },
        sqs: { ok: true, messages: { events: 0, eventsDlq: 0, statusChanges: 0, statusChangesDlq: 0, publisherFailures: 0 } },
        consumer: { ok: true, retrying: null },
        publisher: { ok: true, backlog: 0, retrying: null, givenUp: 0 },
      },
      eventsDlqMessages: 0,
      publisherBacklog: 0,
    });
  });

  it("reports every queue's depth, the status-changes DLQ's included", async () => {
    const client = new SQSClient({ ...LOCAL_AWS, endpoint: local.pipeline.sqsEndpoint });
    const dlq = local.pipeline.statusChangesDlqUrl;
    try {
      await client.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: "{}", MessageGroupId: "g", MessageDeduplicationId: "d" }));
      const { body } = await health();
      expect(body.checks["sqs"]?.["messages"]).toEqual({
        events: 0,
        eventsDlq: 0,
        statusChanges: 0,
        statusChangesDlq: 1,
        publisherFailures: 0,
      });
    } finally {
      await client.send(new PurgeQueueCommand({ QueueUrl: dlq }));
      client.destroy();
    }
  });
});

describe("the request target, taken as sent", () => {
  it("one that is not a path (absolute-form, `//host/…`, `*`, not validly percent-encoded) is answered 400, logs nothing, and the server keeps serving", async () => {
    const logged = local.logger.lines.length;
    const targets = ["http://a:99999/health", "http://127.0.0.1/health", "//a:99999/health", "//x/health", "*"];
    for (const target of [...targets, "/verifications/veriff%E0%A4%A", "/verifications/%ED%A0%80", "/verifications/%", "/%C0%AF"]) {
      const answer = await rawHttpRequest(local.pipeline.url, `GET ${target} HTTP/1.1`);
      expect({ target, ...answer }).toEqual({ target, status: 400, body: '{"error":"bad request"}' });
    }
    expect(local.logger.lines.slice(logged)).toEqual([]);
    expect((await rawHttpRequest(local.pipeline.url, "GET /health HTTP/1.1")).status).toBe(200);
  });

  it("hands the read function rawPath percent-decoded, as API Gateway does: an id holding a `%` is read as it is", async () => {
    const sessionId = `${randomUUID()}%41`;
    const { body, headers } = sampleWebhook("idbeyond", "approved", SECRETS.idbeyond, {
      sessionId,
      userKey: "u-percent",
      occurredAt: new Date(),
    });
    expect((await post("/webhooks/idbeyond", Buffer.from(body, "utf8"), headers)).status).toBe(200);
    const correlationId = `idbeyond:${sessionId}`;
    let view: Response | undefined;
    for (let attempt = 0; attempt < 100; attempt += 1) {
      view = await fetch(`${local.pipeline.url}/verifications/${encodeURIComponent(correlationId)}`);
      if (view.status === 200) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(view?.status).toBe(200);
    expect(await view?.json()).toMatchObject({ correlationId, status: "approved" });
  });

  it("routes on the path as sent: dot segments are not resolved, nothing is decoded", async () => {
    for (const target of ["/x/../health", "/./health", "/verifications/%2e%2e/health", "/verifications/../health", "/%68ealth"]) {
      const answer = await rawHttpRequest(local.pipeline.url, `GET ${target} HTTP/1.1`);
      expect({ target, status: answer.status }).toEqual({ target, status: 404 });
    }
    const webhook = await rawHttpRequest(local.pipeline.url, "POST /webhooks/./idbeyond HTTP/1.1\r\nContent-Length: 0");
    expect(webhook.status).toBe(404);
    expect((await rawHttpRequest(local.pipeline.url, "GET /health?x=/../y HTTP/1.1")).status).toBe(200);
  });
});

describe("the local server passes the exact request bytes, as API Gateway does", () => {
  it("an HMAC-signed body starting with a UTF-8 BOM is authenticated over the BOM bytes", async () => {
    const { body } = sampleWebhook("idbeyond", "approved", SECRETS.idbeyond, {
      sessionId: randomUUID(),
      userKey: "u-bom",
      occurredAt: new Date(),
    });
    const withBom = Buffer.concat([BOM, Buffer.from(body, "utf8")]);
    const sign = (bytes: Buffer) => createHmac("sha256", SECRETS.idbeyond).update(bytes).digest("hex");

    const signedOverBom = await post("/webhooks/idbeyond", withBom, { "x-verification-signature": sign(withBom) });
    expect(ACCEPTED_STATUSES, await signedOverBom.text()).toContain(signedOverBom.status);
    // Signed over the bytes without the BOM: a server that dropped the BOM would accept this one.
    const signedWithoutBom = await post("/webhooks/idbeyond", withBom, { "x-verification-signature": sign(Buffer.from(body, "utf8")) });
    expect(signedWithoutBom.status).toBe(401);
  });

  it("a NeuroVision envelope prefixed with a BOM is not the bytes NeuroVision sends: 401 (the same envelope without it is accepted)", async () => {
    const { body } = sampleWebhook("neurovision", "approved", SECRETS.neurovision, {
      sessionId: sampleSessionId("neurovision"),
      userKey: "u-bom",
      occurredAt: new Date(),
    });
    const prefixed = await post("/webhooks/neurovision", Buffer.concat([BOM, Buffer.from(body, "utf8")]));
    expect(prefixed.status).toBe(401);
    const plain = await post("/webhooks/neurovision", Buffer.from(body, "utf8"));
    expect(ACCEPTED_STATUSES).toContain(plain.status);
  });
});

describe("a body over 10 MiB", () => {
  it("gets its 413 and resets no keep-alive connection: not the uploader's pooled one, not a concurrent client's", async () => {
    // One pool shared by the uploader and small requests (like a provider's HTTP client), and another client.
    const shared = new Agent({ keepAlive: true, maxSockets: 2, scheduling: "lifo" });
    const other = new Agent({ keepAlive: true, maxSockets: 1 });
    const small = (agent: Agent) => httpRequest(agent, `${local.pipeline.url}/no-such-route`);
    try {
      const during: Promise<unknown>[] = [];
      let uploading = true;
      const background = (async () => {
        while (uploading) {
          during.push(small(other), small(shared));
          await Promise.all(during.slice(-2));
        }
      })();
      const big = await httpRequest(shared, `${local.pipeline.url}/webhooks/idbeyond`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: Buffer.alloc(12 * 1024 * 1024, 0x20),
      });
      uploading = false;
      await background;
      expect(big.status).toBe(413);
      expect(JSON.parse(big.body)).toEqual({ error: "payload too large", limitBytes: 262_144 });

      // After the upload: two at a time on the shared pool, so the uploader's connection is used again; it must still work.
      const after = [];
      for (let i = 0; i < 5; i++) after.push(...(await Promise.all([small(shared), small(shared), small(other)])));
      expect(after.map((r) => r.status)).toEqual(Array(15).fill(404));
      expect(after.some((r) => r.localPort === big.localPort)).toBe(true); // the same connection, kept alive
      const results = await Promise.allSettled(during);
      expect(results.length).toBeGreaterThan(0);
      expect(results.filter((r) => r.status === "rejected")).toEqual([]);
    } finally {
      shared.destroy();
      other.destroy();
    }
  });
});

describe("GET /health when the publisher cannot publish (runs last: it deletes the status-changes queue)", () => {
  it("answers 503 naming the publisher, with its backlog and the failing record's retry count", async () => {
    const client = new SQSClient({ ...LOCAL_AWS, endpoint: local.pipeline.sqsEndpoint });
    await client.send(new DeleteQueueCommand({ QueueUrl: local.pipeline.statusChangesQueueUrl }));
    client.destroy();
    const { body, headers } = sampleWebhook("idbeyond", "approved", SECRETS.idbeyond, {
      sessionId: randomUUID(),
      userKey: "u-stuck",
      occurredAt: new Date(),
    });
    const res = await post("/webhooks/idbeyond", Buffer.from(body, "utf8"), headers);
    expect(ACCEPTED_STATUSES).toContain(res.status);

    const deadline = Date.now() + 15_000;
    let answer = await health();
    // The sqs check fails at once (a queue is gone); the publisher's fails once it has retried one record for 1 s.
    while (answer.body.checks["publisher"]?.ok !== false && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      answer = await health();
    }
    expect(answer.status).toBe(503);
    expect(answer.ms).toBeLessThan(1_000);
    expect(answer.body.status).toBe("unavailable");
    expect(answer.body.checks["publisher"]).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^retrying one record for \d+ ms$/) as unknown,
      backlog: expect.any(Number) as unknown,
      retrying: { sequenceNumber: expect.stringMatching(/^\d+$/) as unknown, retries: expect.any(Number) as unknown },
    });
    expect(answer.body.publisherBacklog).toBeGreaterThanOrEqual(1);
    expect(answer.body.checks["publisher"]?.["retrying"]).toMatchObject({ retries: expect.any(Number) });
    expect((answer.body.checks["publisher"]?.["retrying"] as { retries?: number } | undefined)?.retries ?? 0).toBeGreaterThanOrEqual(2);
    // The other parts still work, and the answer says so.
    expect(answer.body.checks["dynamodb"]).toMatchObject({ ok: true });
    expect(answer.body.checks["consumer"]).toMatchObject({ ok: true });
  });
});
