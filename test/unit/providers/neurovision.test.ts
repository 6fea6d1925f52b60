import * as crypto from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent, Status } from "../../../lambdas/core/event.js";
import type { Headers } from "../../../lambdas/core/http.js";
import { neurovision } from "../../../lambdas/providers/neurovision.js";
import {
  DEFAULT_OPTIONS,
  InvalidPayload,
  contentEventId,
  type AuthContext,
  type NeurovisionKeyDerivation,
  type RawRequest,
} from "../../../lambdas/providers/types.js";
import { encryptNeurovision } from "../../support/neurovision-crypto.js";

const SECRET = "neurovision-webhook-secret";
const RECEIVED_AT = "2026-11-22T10:00:00.000Z";
const HEADERS: Headers = { "content-type": "application/json" };

const PLAINTEXT = readFileSync(new URL("../../fixtures/neurovision/success.json", import.meta.url), "utf8");
const PAYLOAD = JSON.parse(PLAINTEXT) as { results: { ocr: Record<string, string> }[] } & Record<string, unknown>;

function auth(secrets: readonly string[] = [SECRET], derivation: NeurovisionKeyDerivation = "sha256"): AuthContext {
  return { secrets, options: { ...DEFAULT_OPTIONS, neurovisionKeyDerivation: derivation } };
}

function bodyWith(encrypted: unknown): RawRequest {
  return { body: Buffer.from(JSON.stringify({ encrypted })), headers: HEADERS };
}

function encrypted(plaintext: string, secret = SECRET, derivation: NeurovisionKeyDerivation = "sha256"): RawRequest {
  return bodyWith(encryptNeurovision(plaintext, secret, derivation));
}

function accept(request: RawRequest, context: AuthContext = auth()): NormalizedEvent {
  const content = neurovision.authenticate(request, context);
  if (content === null) throw new Error("authentication failed");
  return neurovision.normalize(content, { receivedAt: RECEIVED_AT });
}

function withPayload(overrides: Record<string, unknown>): string {
  return JSON.stringify({ ...PAYLOAD, ...overrides });
}

/** Raw IV ‖ ciphertext of a request built by `encrypted`. */
function rawCiphertext(request: RawRequest): Buffer {
  const { encrypted: value } = JSON.parse(request.body.toString("utf8")) as { encrypted: string };
  return Buffer.from(value, "base64");
}

/** AES-256-CBC under the seed's key with a chosen IV, for crafting edge cases byte by byte. */
function encryptRaw(plaintext: Buffer, secret = SECRET, iv = crypto.randomBytes(16)): Buffer {
  const key = crypto.createHash("sha256").update(secret).digest();
  const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
}

function collectStrings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(collectStrings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(collectStrings);
  return [];
}

describe("neurovision: accepted deliveries", () => {
  it("decrypts a body encrypted as seed 000's recipe does and normalizes it", () => {
    const request = encrypted(PLAINTEXT);
    expect(neurovision.authenticate(request, auth())).toEqual(Buffer.from(PLAINTEXT, "utf8"));
    expect(accept(request)).toEqual({
      specVersion: "1",
      eventId: contentEventId("neurovision", Buffer.from(PLAINTEXT, "utf8")),
      correlationId: "neurovision:8f3c2a10-5b7e-11ef-9d2a-0242ac120002",
      provider: "neurovision",
      providerEventType: "success",
      status: "approved",
      occurredAt: "2024-08-19T10:15:30.250Z",
      receivedAt: RECEIVED_AT,
      subject: { clientKey: "user_123:loan-42" },
      decision: { status: "success", checks: ["passport_ocr:success", "liveness:success", "sanctions:success"] },
      attemptId: null,
      sandbox: false,
    });
  });

  it("gives the same JSON encrypted twice different ciphertexts but one eventId", () => {
    const first = encrypted(PLAINTEXT);
    const second = encrypted(PLAINTEXT);
    expect(first.body.equals(second.body)).toBe(false);
    const [a, b] = [accept(first), accept(second)];
    expect(a.eventId).toBe(b.eventId);
    expect(a.eventId).toMatch(/^neurovision:[0-9a-f]{64}$/);
    expect(a).toEqual(b);
  });

  it("keeps every OCR value out of the event", () => {
    const ocrValues = collectStrings(PAYLOAD.results.map((r) => r.ocr));
    expect(ocrValues.length).toBeGreaterThanOrEqual(5);
    const json = JSON.stringify(accept(encrypted(PLAINTEXT)));
    for (const value of ocrValues) expect(json).not.toContain(value);
    expect(json).not.toMatch(/Zlatoslava|Fiktivnaya|"ocr"/);
  });

  const rows: readonly [string, Status | null][] = [
    ["wait", "submitted"],
    ["suspicious", "in_review"],
    ["success", "approved"],
    ["failed", "rejected"],
    ["expired", "expired"],
    ["manual_review", null],
    ["constructor", null],
  ];
  it.each(rows)("status %s → %s (unknown statuses are accepted with a null status)", (status, expected) => {
    const event = accept(encrypted(withPayload({ status })));
    expect(event.status).toBe(expected);
    expect(event.providerEventType).toBe(status);
    expect(event.decision).toMatchObject({ status });
  });

  it.each([
    [1724062530250, "2024-08-19T10:15:30.250Z"],
    ["2024-08-19T13:15:30.250+03:00", "2024-08-19T10:15:30.250Z"],
    ["not a time", null],
    [undefined, null],
  ] as const)("createdAt %j → occurredAt %j", (createdAt, occurredAt) => {
    expect(accept(encrypted(withPayload({ createdAt }))).occurredAt).toBe(occurredAt);
  });

  it("accepts a payload without results and with extra fields", () => {
    const event = accept(encrypted(withPayload({ results: undefined, newField: { nested: true } })));
    expect(event.decision).toEqual({ status: "success", checks: [] });
  });

  it("accepts a key derived as the first 32 hex characters only when configured", () => {
    const hexPrefixed = encrypted(PLAINTEXT, SECRET, "sha256-hex-prefix");
    expect(accept(hexPrefixed, auth([SECRET], "sha256-hex-prefix")).status).toBe("approved");
    expect(neurovision.authenticate(hexPrefixed, auth([SECRET], "sha256"))).toBeNull();
    expect(neurovision.authenticate(encrypted(PLAINTEXT), auth([SECRET], "sha256-hex-prefix"))).toBeNull();
  });

  it("tries every configured secret (rotation)", () => {
    const secrets = ["old-secret", "new-secret"];
    expect(accept(encrypted(PLAINTEXT, "new-secret"), auth(secrets)).status).toBe("approved");
    expect(accept(encrypted(PLAINTEXT, "old-secret"), auth(secrets)).status).toBe("approved");
    expect(neurovision.authenticate(encrypted(PLAINTEXT, "old-secret"), auth(["new-secret"]))).toBeNull();
  });

  it("skips a wrong key whose decryption happens to have valid padding", () => {
    const wrongKey = crypto.createHash("sha256").update("wrong-secret").digest();
    const plaintext = Buffer.from(PLAINTEXT, "utf8");
    let lucky: Buffer | null = null;
    for (let i = 0; i < 20_000 && lucky === null; i++) {
      const data = encryptRaw(plaintext);
      try {
        const d = crypto.createDecipheriv("aes-256-cbc", wrongKey, data.subarray(0, 16));
        Buffer.concat([d.update(data.subarray(16)), d.final()]);
        lucky = data; // padding valid under the wrong key too
      } catch {
        // the usual case: bad padding under the wrong key
      }
    }
    if (lucky === null) throw new Error("no ciphertext with valid padding under the wrong key found");
    const request = bodyWith(lucky.toString("base64"));
    expect(neurovision.authenticate(request, auth(["wrong-secret"]))).toBeNull();
    expect(neurovision.authenticate(request, auth(["wrong-secret", SECRET]))).toEqual(plaintext);
  });

  it("round-trips random valid payloads, with an eventId independent of the IV", () => {
    const token = fc.stringMatching(/^[a-z_]{1,20}$/);
    const known = new Map<string, Status>([["wait", "submitted"], ["suspicious", "in_review"], ["success", "approved"], ["failed", "rejected"], ["expired", "expired"]]);
    const payload = fc.record({
      sessionId: fc.uuid(),
      clientKey: fc.string({ minLength: 1, maxLength: 36 }),
      clientId: fc.string(),
      schemaId: fc.string(),
      status: fc.oneof(fc.constantFrom(...known.keys()), token),
      createdAt: fc.oneof(
        fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString()),
        fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
      ),
      spent: fc.nat(),
      results: fc.array(fc.record({ type: token, status: token, ocr: fc.dictionary(fc.string(), fc.string()) }), { maxLength: 4 }),
    });
    fc.assert(
      fc.property(payload, fc.string({ minLength: 1 }), (p, secret) => {
        const json = JSON.stringify(p);
        const a = accept(encrypted(json, secret), auth([secret]));
        const b = accept(encrypted(json, secret), auth([secret]));
        expect(a).toEqual(b);
        expect(a).toMatchObject({
          eventId: contentEventId("neurovision", Buffer.from(json, "utf8")),
          correlationId: `neurovision:${p.sessionId}`,
          status: known.get(p.status) ?? null,
          subject: { clientKey: p.clientKey },
          occurredAt: new Date(p.createdAt).toISOString(),
          decision: { status: p.status, checks: p.results.map((r) => `${r.type}:${r.status}`) },
        });
      }),
    );
  });
});

describe("neurovision: every failure is the same null", () => {
  it("rejects a wrong secret and an empty secret list", () => {
    expect(neurovision.authenticate(encrypted(PLAINTEXT, "another-secret"), auth())).toBeNull();
    expect(neurovision.authenticate(encrypted(PLAINTEXT), auth([]))).toBeNull();
    expect(neurovision.authenticate(encrypted(PLAINTEXT, ""), auth([""]))).toBeNull();
  });

  it("rejects truncated and garbled ciphertexts", () => {
    const data = rawCiphertext(encrypted(PLAINTEXT));
    expect(neurovision.authenticate(bodyWith(data.toString("base64")), auth())).not.toBeNull(); // the control
    const lastBlockFlipped = Buffer.from(data);
    lastBlockFlipped[data.length - 3] = (lastBlockFlipped[data.length - 3] ?? 0) ^ 0x01;
    const paddingFlipped = Buffer.from(data); // the last byte of the previous block flips the padding byte
    paddingFlipped[data.length - 17] = (paddingFlipped[data.length - 17] ?? 0) ^ 0x01;
    const ivFlipped = Buffer.from(data); // '{' → 'z': the plaintext is no longer JSON
    ivFlipped[0] = (ivFlipped[0] ?? 0) ^ ("{".charCodeAt(0) ^ "z".charCodeAt(0));
    for (const bad of [
      data.subarray(0, data.length - 16), // one block short
      data.subarray(0, data.length - 5), // not a whole number of blocks
      data.subarray(0, 16), // the IV alone
      data.subarray(16), // IV missing
      lastBlockFlipped,
      paddingFlipped,
      ivFlipped,
    ]) {
      expect(neurovision.authenticate(bodyWith(bad.toString("base64")), auth())).toBeNull();
    }
  });

  it("rejects anything that is not strict base64", () => {
    const value = encryptNeurovision(PLAINTEXT, SECRET);
    expect(neurovision.authenticate(bodyWith(value), auth())).not.toBeNull(); // the control
    const urlSafe = value.replace(/\+/g, "-").replace(/\//g, "_");
    expect(urlSafe).not.toBe(value); // the fixture's ciphertext has + or / (random IV: regenerate if not)
    for (const bad of [
      urlSafe,
      value.replace(/=+$/, ""), // padding stripped
      `${value.slice(0, 40)}\n${value.slice(40)}`, // line break
      ` ${value}`,
      `${value}=`,
      value.slice(0, -1),
      "not base64!",
      "",
      "AAAAAAAAAAAAAAAAAAAAAA==", // 16 bytes: an IV only
    ]) {
      expect(neurovision.authenticate(bodyWith(bad), auth())).toBeNull();
    }
  });

  it.each([
    ["not JSON", Buffer.from("encrypted=abc")],
    ["JSON without encrypted", Buffer.from(JSON.stringify({ data: "abc" }))],
    ["encrypted not a string", Buffer.from(JSON.stringify({ encrypted: 12345 }))],
    ["a JSON array", Buffer.from("[]")],
    ["JSON null", Buffer.from("null")],
    ["empty", Buffer.alloc(0)],
  ])("rejects a body that is %s", (_name, body) => {
    expect(neurovision.authenticate({ body, headers: HEADERS }, auth())).toBeNull();
  });

  const wrongPlaintexts: readonly [string, Buffer][] = [
    ["not JSON", Buffer.from("status=success&sessionId=8f3c2a10-5b7e-11ef-9d2a-0242ac120002")],
    ["not UTF-8", Buffer.concat([Buffer.from(withPayload({}).slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from("}")])],
    ["a JSON array", Buffer.from("[1,2,3]")],
    ["sessionId not a UUID", Buffer.from(withPayload({ sessionId: "8f3c2a10-5b7e-11ef-9d2a" }))],
    ["clientKey over 36 characters", Buffer.from(withPayload({ clientKey: "x".repeat(37) }))],
    ["clientKey empty", Buffer.from(withPayload({ clientKey: "" }))],
    ["status missing", Buffer.from(withPayload({ status: undefined }))],
    ["status not lowercase", Buffer.from(withPayload({ status: "SUCCESS" }))],
    ["status too long", Buffer.from(withPayload({ status: "a".repeat(33) }))],
    ["results not a list", Buffer.from(withPayload({ results: { type: "passport_ocr" } }))],
    ["a result without a type", Buffer.from(withPayload({ results: [{ status: "success" }] }))],
    ["createdAt an object", Buffer.from(withPayload({ createdAt: { at: 1 } }))],
  ];
  it.each(wrongPlaintexts)("rejects a plaintext that is %s, even under the right key", (_name, plaintext) => {
    expect(neurovision.authenticate(bodyWith(encryptRaw(plaintext).toString("base64")), auth())).toBeNull();
    expect(() => neurovision.normalize(plaintext, { receivedAt: RECEIVED_AT })).toThrow(InvalidPayload);
    expect(neurovision.invalidPayloadIsAuthFailure).toBe(true);
  });

  it("names the field but never echoes the value in InvalidPayload", () => {
    const plaintext = Buffer.from(withPayload({ clientKey: "Zlatoslava Fiktivnaya-Testova 1987-03-29" }));
    expect(() => neurovision.normalize(plaintext, { receivedAt: RECEIVED_AT })).toThrow(/clientKey/);
    expect(() => neurovision.normalize(plaintext, { receivedAt: RECEIVED_AT })).not.toThrow(/Zlatoslava/);
  });

  it("documents CBC malleability: an IV bit flip that keeps the shape valid is accepted (README risk)", () => {
    const compact = JSON.stringify(PAYLOAD); // {"sessionId":"8f3c…
    const offset = compact.indexOf("8f3c2a10");
    expect(offset).toBeLessThan(16); // the first character of the sessionId is in the first block
    const data = rawCiphertext(encrypted(compact));
    data[offset] = (data[offset] ?? 0) ^ ("8".charCodeAt(0) ^ "9".charCodeAt(0));
    expect(accept(bodyWith(data.toString("base64"))).correlationId).toBe("neurovision:9f3c2a10-5b7e-11ef-9d2a-0242ac120002");
  });

  it("never throws and returns null for arbitrary bodies and headers", () => {
    const headers = fc.dictionary(fc.string(), fc.option(fc.string(), { nil: undefined }));
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.string().map((s) => Buffer.from(s)),
      fc.jsonValue().map((j) => Buffer.from(JSON.stringify({ encrypted: j }))),
      // well-formed base64 of whole blocks: exercises decryption with the real keys
      fc.integer({ min: 2, max: 12 }).chain((blocks) => fc.uint8Array({ minLength: 16 * blocks, maxLength: 16 * blocks })).map((b) => Buffer.from(JSON.stringify({ encrypted: Buffer.from(b).toString("base64") }))),
    );
    fc.assert(
      fc.property(bodies, headers, fc.constantFrom<NeurovisionKeyDerivation>("sha256", "sha256-hex-prefix"), (body, hs: Headers, derivation) => {
        expect(neurovision.authenticate({ body, headers: hs }, auth([SECRET, "second"], derivation))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});
