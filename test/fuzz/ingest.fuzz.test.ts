/**
 * The ingest fuzz suite: 10,000 generated requests per run (2,500 per provider) through the
 * real ingest handler, with an in-process queue. Requests are random bodies, truncations and
 * byte flips of signed ones (NeuroVision IV flips included), odd headers and content types,
 * and validly signed JSON of hostile shapes (wrong types, huge numbers, long strings, deep
 * nesting, `__proto__` keys). Invariants:
 *   - the handler always answers, never with a 5xx (the queue works), never throws;
 *   - nothing is enqueued unless the request was authenticated, and then exactly one event;
 *   - every 401 is byte-identical (status, headers, body);
 *   - no personal value of a body reaches a log line (each body carries `PII-…` markers in the
 *     fields a provider must never copy, and in free text);
 *   - anything accepted is storable: it reads back through the consumer's schema, marshals for
 *     DynamoDB, and stays far below DynamoDB's item size limit.
 */
import { marshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NormalizedEvent, PROVIDER_IDS, type ProviderId } from "../../lambdas/core/event.js";
import { parseNormalizedEvent } from "../../lambdas/core/event-schema.js";
import type { HttpResult } from "../../lambdas/core/http.js";
import { sqsMessageBody } from "../../lambdas/core/sqs-message.js";
import { createIngestHandler, MAX_BODY_BYTES } from "../../lambdas/ingest/ingest.js";
import { staticSource } from "../../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../../lambdas/providers/index.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";
import { signWebhook } from "../../local/samples.js";
import { recordingLogger, recordingMetrics, webhookEvent } from "../support/apigw.js";
import { hostile, shaped } from "../support/hostile.js";
import { expectValid, validateNormalizedEvent } from "../support/schemas.js";

const SECRET = "fuzz-secret-7e1f";
const RUNS_PER_PROVIDER = 2_500;

type Fuzzed = { readonly body: Buffer; readonly headers: Record<string, string>; readonly base64: boolean; readonly signed: boolean };

const oddHeaders = fc.dictionary(
  fc.constantFrom(
    "content-type",
    "Content-Type",
    "x-hmac-signature",
    "x-signature",
    "x-payload-digest",
    "X-Payload-Digest-Alg",
    "x-verification-signature",
    "transfer-encoding",
  ),
  fc.oneof(
    fc.constantFrom(
      "application/json",
      "text/plain; charset=latin1",
      "multipart/form-data",
      "",
      "HMAC_SHA1_HEX",
      "HMAC_SHA512_HEX",
      "HMAC_MD5_HEX",
      "0".repeat(64),
    ),
    fc.string({ maxLength: 70 }),
  ),
  { maxKeys: 4 },
);

/** A request: signed hostile JSON, a mutation of it, or noise. `signed` says whether it must be accepted. */
function request(provider: ProviderId): fc.Arbitrary<Fuzzed> {
  const signedJson = shaped(provider).map((json) => signWebhook(provider, JSON.stringify(json), SECRET));
  const accepted = fc.tuple(signedJson, fc.boolean()).map(
    ([r, base64]): Fuzzed => ({
      body: Buffer.from(r.body),
      headers: { "content-type": "application/json", ...r.headers },
      base64,
      signed: true,
    }),
  );
  const mutated = fc
    .tuple(signedJson, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom("flip", "truncate", "signature", "iv"))
    .map(([r, position, mask, how]): Fuzzed => {
      const body = Buffer.from(r.body);
      const headers: Record<string, string> = { ...r.headers };
      if (how === "truncate") return { body: body.subarray(0, position % Math.max(1, body.length)), headers, base64: false, signed: false };
      if (how === "signature") {
        const name = Object.keys(headers).find((h) => /signature|digest$/.test(h));
        if (name !== undefined) headers[name] = `${headers[name]?.slice(0, -1) ?? ""}${headers[name]?.endsWith("0") ? "1" : "0"}`;
        return { body, headers, base64: false, signed: name === undefined && provider === "neurovision" };
      }
      if (how === "iv" && provider === "neurovision") {
        const envelope = JSON.parse(body.toString("utf8")) as { encrypted: string };
        const data = Buffer.from(envelope.encrypted, "base64");
        data[position % 16] = (data[position % 16] ?? 0) ^ mask;
        return { body: Buffer.from(JSON.stringify({ encrypted: data.toString("base64") })), headers, base64: false, signed: false };
      }
      const index = position % body.length;
      body[index] = (body[index] ?? 0) ^ mask;
      return { body, headers, base64: false, signed: false };
    });
  const noise = fc
    .tuple(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
        fc.string().map((s) => Buffer.from(s)),
        hostile.map((j) => Buffer.from(JSON.stringify(j) ?? "")),
      ),
      oddHeaders,
      fc.boolean(),
    )
    .map(([body, headers, base64]): Fuzzed => ({ body, headers, base64, signed: false }));
  return fc.oneof({ arbitrary: accepted, weight: 4 }, { arbitrary: mutated, weight: 3 }, { arbitrary: noise, weight: 3 });
}

/** The storability check of issue "what ingest accepts, the consumer can always store". */
function expectStorable(event: NormalizedEvent): void {
  const body = sqsMessageBody(event);
  expect(body).not.toMatch(/[\uFFFE\uFFFF]/);
  expectValid(validateNormalizedEvent, JSON.parse(body));
  const parsed = parseNormalizedEvent(body);
  const item = marshall({ ...parsed, correlationId: parsed.correlationId, sk: `EVENT#${parsed.eventId}` }, { removeUndefinedValues: true });
  expect(JSON.stringify(item).length).toBeLessThan(64 * 1024);
  expect(Buffer.byteLength(event.correlationId)).toBeLessThanOrEqual(128);
}

describe.each(PROVIDER_IDS)("%s ingest handler under fuzzing", (provider) => {
  it(`answers ${RUNS_PER_PROVIDER} generated requests within its invariants`, async () => {
    const enqueued: NormalizedEvent[] = [];
    const logger = recordingLogger();
    const handler = createIngestHandler({
      provider: PROVIDERS[provider],
      options: DEFAULT_OPTIONS,
      secrets: staticSource([SECRET, "second-secret"]),
      enqueue: async (event) => {
        enqueued.push(event);
      },
      logger,
      metrics: recordingMetrics(),
    });
    let unauthorized: HttpResult | undefined;
    let count = 0;
    await fc.assert(
      fc.asyncProperty(request(provider), async (fuzzed) => {
        count += 1;
        const before = enqueued.length;
        const res = await handler(webhookEvent(provider, fuzzed.body, fuzzed.headers, { base64: fuzzed.base64 }));
        expect([200, 400, 401, 413]).toContain(res.statusCode);
        if (fuzzed.signed) expect(res.statusCode).toBe(fuzzed.body.length > MAX_BODY_BYTES ? 413 : 200);
        if (res.statusCode === 401) {
          unauthorized ??= res;
          expect(res).toEqual(unauthorized);
        }
        if (res.statusCode !== 200) {
          expect(enqueued.length).toBe(before);
          return;
        }
        expect(enqueued.length).toBe(before + 1);
        const event = enqueued[before];
        if (event === undefined) throw new Error("nothing enqueued");
        expect(JSON.parse(res.body)).toEqual({ accepted: true, eventId: event.eventId });
        expectStorable(event);
        if (event.unmapped) expect(event.status).toBeNull();
      }),
      { numRuns: RUNS_PER_PROVIDER },
    );
    expect(count).toBe(RUNS_PER_PROVIDER);
    expect(enqueued.length).toBeGreaterThan(RUNS_PER_PROVIDER / 4);
    const logged = logger.lines.join("\n");
    expect(logged).not.toMatch(/PII-/);
    expect(enqueued.map((e) => JSON.stringify(e)).join("\n")).not.toMatch(/PII-/);
  }, 120_000);
});
