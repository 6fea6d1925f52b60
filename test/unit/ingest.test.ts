import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import { json } from "../../lambdas/core/http.js";
import { createIngestHandler, type IngestDeps, MAX_BODY_BYTES } from "../../lambdas/ingest/ingest.js";
import { responses } from "../../lambdas/ingest/responses.js";
import { staticSource } from "../../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../../lambdas/providers/index.js";
import { DEFAULT_OPTIONS, type Provider } from "../../lambdas/providers/types.js";
import { recordingLogger, recordingMetrics, webhookEvent } from "../support/apigw.js";
import { encryptNeurovision } from "../support/neurovision-crypto.js";

const SECRET = "idbeyond-secret-0123456789";
const NOW = new Date("2026-11-22T10:00:00.000Z");

const completed = JSON.stringify({
  event: "verification.completed",
  verificationSessionId: "9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f90",
  externalUserId: "user_123",
  decision: "approved",
  reviewStatus: "approved",
  rationale: "Jane Roe, born 1990-01-01",
  metadata: { campaign: "q3" },
  timestamp: "2026-11-22T09:59:00.000Z",
});

const sign = (body: string | Buffer, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");

function setup(overrides: Partial<IngestDeps> = {}) {
  const enqueued: NormalizedEvent[] = [];
  const logger = recordingLogger();
  const metrics = recordingMetrics();
  let secretReads = 0;
  const handler = createIngestHandler({
    provider: PROVIDERS.idbeyond,
    options: DEFAULT_OPTIONS,
    secrets: async () => {
      secretReads += 1;
      return [SECRET];
    },
    enqueue: async (event) => {
      enqueued.push(event);
    },
    logger,
    metrics,
    now: () => NOW,
    ...overrides,
  });
  return { handler, enqueued, logger, metrics, secretReads: () => secretReads };
}

describe("ingest handler", () => {
  it("writes the 200 answer as JSON.stringify would, whatever the event id holds (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (eventId) => {
        const answer = responses.accepted(eventId);
        expect(answer).toEqual(json(200, { accepted: true, eventId }));
        expect(JSON.parse(answer.body)).toEqual({ accepted: true, eventId });
      }),
      { numRuns: 500 },
    );
  });

  it("reads a missing or null body as an empty one: the same 401 unsigned, the same 400 signed, nothing thrown", async () => {
    const { handler, enqueued } = setup();
    const unsigned = await handler(webhookEvent("idbeyond", ""));
    const signed = await handler(webhookEvent("idbeyond", "", { "x-verification-signature": sign("") }));
    for (const body of [undefined, null]) {
      const bare = { ...webhookEvent("idbeyond", ""), body } as unknown as Parameters<typeof handler>[0];
      expect(await handler(bare)).toEqual(unsigned);
      const signedBare = {
        ...webhookEvent("idbeyond", "", { "x-verification-signature": sign("") }),
        body,
      } as unknown as Parameters<typeof handler>[0];
      expect(await handler(signedBare)).toEqual(signed);
    }
    expect(unsigned.statusCode).toBe(401);
    expect(signed.statusCode).toBe(400);
    expect(enqueued).toEqual([]);
  });

  it("answers 200 (Veriff retries anything else) with the eventId only after the event was enqueued", async () => {
    const { handler, enqueued } = setup();
    const res = await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    expect(res.statusCode).toBe(200);
    expect(enqueued).toHaveLength(1);
    const event = enqueued[0];
    expect(JSON.parse(res.body)).toEqual({ accepted: true, eventId: event?.eventId });
    expect(event).toMatchObject({
      specVersion: "1",
      provider: "idbeyond",
      correlationId: "idbeyond:9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f90",
      status: "approved",
      receivedAt: NOW.toISOString(),
      subject: { externalUserId: "user_123" },
    });
  });

  it("answers 404 for a provider this function does not serve, without reading secrets", async () => {
    const { handler, enqueued, secretReads } = setup();
    const res = await handler(webhookEvent("acme", completed, { "x-verification-signature": sign(completed) }));
    expect(res.statusCode).toBe(404);
    expect(enqueued).toHaveLength(0);
    expect(secretReads()).toBe(0);
  });

  it("serves the request whose {provider} parameter, else last path segment, is its provider, and no other", async () => {
    const { handler } = setup();
    const headers = { "x-verification-signature": sign(completed) };
    const at = (rawPath: string, pathParameters?: Record<string, string>) => ({
      ...webhookEvent("idbeyond", completed, headers),
      rawPath,
      ...(pathParameters === undefined ? {} : { pathParameters }),
    });
    const cases: [ReturnType<typeof at>, number][] = [
      [at("/webhooks/idbeyond"), 200],
      [at("/webhooks/idbeyond/"), 200],
      [at("//webhooks//idbeyond//"), 200],
      [at("/idbeyond"), 200],
      [at("/webhooks/xidbeyond"), 404],
      [at("/webhooks/idbeyond/x"), 404],
      [at("/webhooks/idbeyondx"), 404],
      [at("/"), 404],
      [at("/webhooks/idbeyond", { provider: "veriff" }), 404],
      [at("/webhooks/anything", { provider: "idbeyond" }), 200],
    ];
    for (const [event, status] of cases)
      expect({ path: event.rawPath, status: (await handler(event)).statusCode }).toEqual({ path: event.rawPath, status });
  });

  it("answers 413 above 256 KiB before authenticating, and lets exactly 256 KiB through to authentication", async () => {
    const { handler, secretReads } = setup();
    const over = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    const res = await handler(webhookEvent("idbeyond", over, { "x-verification-signature": sign(over) }));
    expect(res.statusCode).toBe(413);
    expect(secretReads()).toBe(0);
    const limit = Buffer.alloc(MAX_BODY_BYTES, 0x20);
    expect((await handler(webhookEvent("idbeyond", limit, {}))).statusCode).toBe(401);
  });

  it("answers every authentication failure with one identical 401, and logs (never answers) its cause", async () => {
    const tampered = completed.replace("approved", "rejected");
    const cases: [IngestDeps["provider"], string, Record<string, string>, string][] = [
      [PROVIDERS.idbeyond, completed, {}, "missing-signature"],
      [PROVIDERS.idbeyond, completed, { "x-verification-signature": sign(completed, "wrong-secret") }, "signature-mismatch"],
      [PROVIDERS.idbeyond, tampered, { "x-verification-signature": sign(completed) }, "signature-mismatch"],
      [PROVIDERS.idngo, completed, { "x-payload-digest": "ab", "x-payload-digest-alg": "HMAC_SHA1_HEX" }, "algorithm-not-enabled"],
      [PROVIDERS.idngo, completed, { "x-payload-digest": "ab", "x-payload-digest-alg": "HMAC_MD5_HEX" }, "unknown-algorithm"],
      [PROVIDERS.neurovision, JSON.stringify({ encrypted: "AAAA" }), {}, "undecryptable"],
      [PROVIDERS.neurovision, JSON.stringify({ encrypted: encryptNeurovision('{"hello":"world"}', SECRET) }), {}, "invalid-plaintext"],
    ];
    const answers = [];
    for (const [provider, body, headers, cause] of cases) {
      const { handler, enqueued, logger } = setup({ provider });
      const answer = await handler(webhookEvent(provider.id, body, headers));
      answers.push(answer);
      expect(enqueued).toHaveLength(0);
      expect(logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
        expect.objectContaining({ cause, rejection: "unauthenticated", provider: provider.id }),
      );
      expect(answer.body).not.toContain(cause);
    }
    const { handler, logger } = setup({ secrets: staticSource([]) });
    answers.push(await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) })));
    expect(logger.lines.join("\n")).toContain("no-secret-configured");
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]?.statusCode).toBe(401);
  });

  it("counts every outcome as a metric, per provider and cause, and flushes once per invocation", async () => {
    const { handler, metrics } = setup();
    const unmapped = JSON.stringify({ event: "verification.completed" });
    await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    await handler(webhookEvent("idbeyond", unmapped, { "x-verification-signature": sign(unmapped) }));
    await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed, "wrong") }));
    await handler(webhookEvent("idbeyond", "not json", { "x-verification-signature": sign("not json") }));
    expect(Object.fromEntries(metrics.counts)).toEqual({
      'WebhooksAccepted {"provider":"idbeyond"}': 2,
      'WebhooksUnmapped {"provider":"idbeyond"}': 1,
      'WebhooksRejected {"provider":"idbeyond","cause":"signature-mismatch"}': 1,
      'AuthenticationFailures {"provider":"idbeyond"}': 1,
      'WebhooksRejected {"provider":"idbeyond","cause":"not-json"}': 1,
    });
    expect(metrics.flushes).toBe(4);
    const failing = setup({
      enqueue: async () => {
        throw new Error("down");
      },
    });
    await failing.handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    expect(Object.fromEntries(failing.metrics.counts)).toEqual({ 'EnqueueFailures {"provider":"idbeyond"}': 1 });
  });

  it("answers 400 only for an authenticated body that is not JSON at all, without echoing it", async () => {
    const { handler, enqueued, logger } = setup();
    const res = await handler(webhookEvent("idbeyond", "not json {", { "x-verification-signature": sign("not json {") }));
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ error: "invalid payload", detail: "the body is not JSON" });
    expect(res.body).not.toContain("not json");
    expect(enqueued).toHaveLength(0);
    expect(logger.lines.join("\n")).toContain('"rejection":"not-json"');
  });

  it("accepts (200) and enqueues a signed JSON body of the wrong shape as an unmapped event, and logs it as such", async () => {
    const { handler, enqueued, logger } = setup();
    for (const body of [JSON.stringify({ event: "verification.completed", verificationSessionId: ["Jane Roe"] }), "[]", "null", '"text"']) {
      const res = await handler(webhookEvent("idbeyond", body, { "x-verification-signature": sign(body) }));
      expect(res.statusCode).toBe(200);
    }
    expect(enqueued).toHaveLength(4);
    for (const event of enqueued) {
      expect(event.status).toBeNull();
      expect(event.unmapped).toEqual(expect.any(String));
    }
    expect(logger.lines.filter((l) => l.includes("not mapped"))).toHaveLength(4);
    expect(logger.lines.join("\n")).not.toContain("Jane");
  });

  it("accepts a signed body that starts with a byte order mark: the signature covers those bytes", async () => {
    const { handler, enqueued } = setup();
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(completed)]);
    const res = await handler(webhookEvent("idbeyond", body, { "x-verification-signature": sign(body) }));
    expect(res.statusCode).toBe(200);
    expect(enqueued[0]?.status).toBe("approved");
  });

  it("answers NeuroVision's wrong-shape plaintext exactly like a bad key: no decryption oracle", async () => {
    const secret = "neurovision-secret";
    const { handler } = setup({ provider: PROVIDERS.neurovision, secrets: staticSource([secret]) });
    const body = (encrypted: string) => JSON.stringify({ encrypted });
    const wrongShape = await handler(webhookEvent("neurovision", body(encryptNeurovision('{"hello":"world"}', secret))));
    const notJson = await handler(webhookEvent("neurovision", body(encryptNeurovision("plain text", secret))));
    const wrongKey = await handler(webhookEvent("neurovision", body(encryptNeurovision('{"hello":"world"}', "another-secret"))));
    const garbage = await handler(webhookEvent("neurovision", body("AAAA")));
    expect(wrongShape.statusCode).toBe(401);
    for (const res of [notJson, wrongKey, garbage]) expect(res).toEqual(wrongShape);
  });

  it("verifies base64-encoded bodies on their decoded raw bytes", async () => {
    const { handler, enqueued } = setup();
    const body = Buffer.from(completed.replace("user_123", "usér_123"), "utf8");
    const res = await handler(webhookEvent("idbeyond", body, { "X-Verification-Signature": sign(body) }, { base64: true }));
    expect(res.statusCode).toBe(200);
    expect(enqueued[0]?.subject).toEqual({ externalUserId: "usér_123" });
  });

  it("gives the same bytes the same event whether API Gateway passed them as text or base64", async () => {
    const { handler, enqueued } = setup();
    const text = completed.replace("user_123", "Zoë_山田_🙂");
    const headers = { "x-verification-signature": sign(text) };
    expect((await handler(webhookEvent("idbeyond", text, headers))).statusCode).toBe(200);
    expect((await handler(webhookEvent("idbeyond", Buffer.from(text, "utf8"), headers, { base64: true }))).statusCode).toBe(200);
    expect(enqueued).toHaveLength(2);
    expect(enqueued[0]?.eventId).toBe(enqueued[1]?.eventId);
    expect(enqueued[0]?.eventId).toBe(`idbeyond:${createHash("sha256").update(text, "utf8").digest("hex")}`);
    expect(enqueued[0]?.subject).toEqual({ externalUserId: "Zoë_山田_🙂" });
  });

  it("measures a text body's size in UTF-8 bytes, not characters", async () => {
    const { handler, logger, secretReads } = setup();
    // 100,000 characters of 3 UTF-8 bytes each: under the limit in characters, over it in bytes.
    const text = "€".repeat(100_000);
    expect(text.length).toBeLessThan(MAX_BODY_BYTES);
    const res = await handler(webhookEvent("idbeyond", text, { "x-verification-signature": sign(text) }));
    expect(res.statusCode).toBe(413);
    expect(secretReads()).toBe(0);
    const line = logger.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l["message"] === "webhook rejected: body too large");
    expect(line).toMatchObject({ bytes: 300_000 });
    const fits = "€".repeat(Math.floor(MAX_BODY_BYTES / 3));
    expect((await handler(webhookEvent("idbeyond", fits, {}))).statusCode).toBe(401);
  });

  it("answers 503 when the enqueue fails, so that the provider retries", async () => {
    const { handler, logger } = setup({
      enqueue: async () => {
        throw new Error("connect ECONNREFUSED");
      },
    });
    const res = await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    expect(res.statusCode).toBe(503);
    expect(logger.lines.some((l) => l.includes("enqueue failed"))).toBe(true);
  });

  it("answers 503 when the secrets cannot be read", async () => {
    const { handler, enqueued } = setup({
      secrets: async () => {
        throw new Error("AccessDenied");
      },
    });
    const res = await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    expect(res.statusCode).toBe(503);
    expect(enqueued).toHaveLength(0);
  });

  it("still records an event (200, unmapped) when normalization fails unexpectedly, and logs the error's name", async () => {
    const broken: Provider = {
      ...PROVIDERS.idbeyond,
      normalize: () => {
        throw new TypeError("a bug");
      },
    };
    const { handler, logger, enqueued } = setup({ provider: broken });
    const res = await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    expect(res.statusCode).toBe(200);
    expect(enqueued[0]).toMatchObject({ status: null, unmapped: "normalization failed (TypeError)" });
    expect(enqueued[0]?.correlationId).toMatch(/^idbeyond:unidentified:/);
    expect(logger.lines.join("\n")).toContain('"error":"TypeError"');
    expect(logger.lines.join("\n")).not.toContain("user_123");
  });

  it("never logs the body, the subject or personal data", async () => {
    const { handler, logger } = setup();
    const ocr = JSON.stringify({
      event: "verification.extraction",
      verificationSessionId: "9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f90",
      externalUserId: "user_123",
      decision: null,
      reviewStatus: "none",
      extracted: { firstName: "Jane", lastName: "Roe", documentNumber: "X1234567", dateOfBirth: "1990-01-01" },
      timestamp: "2026-11-22T09:58:00.000Z",
    });
    await handler(webhookEvent("idbeyond", ocr, { "x-verification-signature": sign(ocr) }));
    await handler(webhookEvent("idbeyond", completed, { "x-verification-signature": sign(completed) }));
    await handler(webhookEvent("idbeyond", "oops Jane", { "x-verification-signature": sign("oops Jane") }));
    const logged = logger.lines.join("\n");
    expect(logger.lines.length).toBeGreaterThanOrEqual(3);
    for (const personal of ["Jane", "Roe", "X1234567", "1990-01-01", "user_123"]) expect(logged).not.toContain(personal);
  });

  it("never enqueues and never throws for arbitrary unauthenticated input", async () => {
    const { handler, enqueued } = setup();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 512 }),
        fc.dictionary(fc.string({ maxLength: 30 }), fc.string({ maxLength: 130 }), { maxKeys: 4 }),
        fc.boolean(),
        async (bytes, headers, base64) => {
          const res = await handler(webhookEvent("idbeyond", Buffer.from(bytes), headers, { base64 }));
          expect(res.statusCode).toBe(401);
        },
      ),
      { numRuns: 300 },
    );
    expect(enqueued).toHaveLength(0);
  });
});
