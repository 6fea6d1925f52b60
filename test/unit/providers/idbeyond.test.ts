import crypto, { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { STATUSES, type NormalizedEvent } from "../../../lambdas/core/event.js";
import type { Headers } from "../../../lambdas/core/http.js";
import { idbeyond } from "../../../lambdas/providers/idbeyond.js";
import { DEFAULT_OPTIONS, InvalidPayload, type AuthContext } from "../../../lambdas/providers/types.js";

const WEBHOOK_SECRET = "change-me-min-16-chars-random";
const OTHER_SECRET = "another-session-secret-9d2f";
const RECEIVED_AT = "2026-11-22T10:00:00.000Z";
const SESSION_ID = "c3ae1b0c-59f1-4b55-bf2d-34d2a50ebe4a";
const EXTERNAL_USER_ID = "f9f0c2d4-7a1e-4c3b-9e8d-2b1a0c9db3a1";

type Json = Record<string, unknown>;

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/idbeyond/${name}`, import.meta.url));
const fixtureJson = (name: string): Json => JSON.parse(fixture(name).toString("utf8")) as Json;

/** Exactly the express sample of seed 003 (`req.body` is the raw Buffer from `express.raw`). */
const sign = (rawBody: Buffer, secret = WEBHOOK_SECRET): string =>
  crypto.createHmac("sha256", secret).update(rawBody).digest("hex");

const auth = (secrets: readonly string[] = [WEBHOOK_SECRET]): AuthContext => ({ secrets, options: DEFAULT_OPTIONS });

const sha256 = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), "utf8");

/** Authenticates a body signed as id beyond signs it (header spelled as in the seed), then normalizes it. */
function receive(body: Buffer): NormalizedEvent {
  const content = idbeyond.authenticate({ body, headers: { "X-Verification-Signature": sign(body) } }, auth());
  if (content === null) throw new Error("a correctly signed request was rejected");
  return idbeyond.normalize(content, { receivedAt: RECEIVED_AT });
}

/** The approved completion fixture with some fields replaced (undefined removes the field). */
const completedWith = (changes: Json): Buffer => json({ ...fixtureJson("completed-approved.json"), ...changes });

function invalidPayload(body: string): InvalidPayload {
  try {
    idbeyond.normalize(Buffer.from(body, "utf8"), { receivedAt: RECEIVED_AT });
  } catch (error) {
    if (error instanceof InvalidPayload) return error;
    throw error;
  }
  throw new Error("normalize accepted an invalid payload");
}

/** Every string leaf of a value, for the "no personal data" checks (short codes are skipped). */
function stringLeaves(value: unknown): string[] {
  if (typeof value === "string") return value.length >= 6 ? [value] : [];
  if (Array.isArray(value)) return value.flatMap(stringLeaves);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(stringLeaves);
  return [];
}

describe("idbeyond.authenticate", () => {
  const body = fixture("completed-approved.json");

  it("accepts the seed's HMAC-SHA256 hex of the raw body and returns the raw bytes", () => {
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body) } }, auth())).toEqual(body);
  });

  it("reads the header name case-insensitively", () => {
    for (const name of ["X-Verification-Signature", "X-VERIFICATION-SIGNATURE", "x-verification-signature"]) {
      expect(idbeyond.authenticate({ body, headers: { [name]: sign(body) } }, auth())).toEqual(body);
    }
  });

  it("accepts an uppercase hex digest", () => {
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body).toUpperCase() } }, auth())).toEqual(body);
  });

  it("rejects a tampered body", () => {
    const tampered = Buffer.from(body.toString("utf8").replace('"reviewStatus": "approved"', '"reviewStatus": "rejected"'), "utf8");
    expect(tampered.equals(body)).toBe(false);
    expect(idbeyond.authenticate({ body: tampered, headers: { "x-verification-signature": sign(body) } }, auth())).toBeNull();
  });

  it("rejects a body re-serialised after signing (signatures cover the raw bytes)", () => {
    const reserialised = json(JSON.parse(body.toString("utf8")));
    expect(idbeyond.authenticate({ body: reserialised, headers: { "x-verification-signature": sign(body) } }, auth())).toBeNull();
  });

  it("rejects a signature made with the wrong secret", () => {
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body, OTHER_SECRET) } }, auth())).toBeNull();
  });

  it("rejects unsigned requests", () => {
    expect(idbeyond.authenticate({ body, headers: {} }, auth())).toBeNull();
    expect(idbeyond.authenticate({ body, headers: { "content-type": "application/json", "x-verification-signature": undefined } }, auth())).toBeNull();
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": "" } }, auth())).toBeNull();
  });

  it("rejects a digest under another header name", () => {
    expect(idbeyond.authenticate({ body, headers: { "x-hmac-signature": sign(body) } }, auth())).toBeNull();
  });

  it("accepts any configured secret (per-session secrets, rotation) and rejects when none matches", () => {
    const headers = { "x-verification-signature": sign(body, WEBHOOK_SECRET) };
    expect(idbeyond.authenticate({ body, headers }, auth([OTHER_SECRET, WEBHOOK_SECRET]))).toEqual(body);
    expect(idbeyond.authenticate({ body, headers }, auth([OTHER_SECRET, "third-secret-000000"]))).toBeNull();
  });

  it("rejects everything when no secret is configured, and never uses an empty secret as a key", () => {
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body) } }, auth([]))).toBeNull();
    expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body, "") } }, auth([""]))).toBeNull();
  });
});

describe("idbeyond.authenticate properties", () => {
  // Printable ASCII: HMAC pads short keys with zero bytes, so "k" and "k\0" are the same key.
  const secretArb = fc.string({ minLength: 1, maxLength: 48 });
  const bodyArb = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));

  it("accepts a correct signature and rejects one made with another secret", () => {
    fc.assert(
      fc.property(bodyArb, secretArb, secretArb, (body, secret, other) => {
        fc.pre(secret !== other);
        expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body, secret) } }, auth([secret]))).toEqual(body);
        expect(idbeyond.authenticate({ body, headers: { "x-verification-signature": sign(body, other) } }, auth([secret]))).toBeNull();
      }),
    );
  });

  it("rejects a body with any single byte changed", () => {
    const flipArb = fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: 512 }), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([bytes, index, mask]) => {
        const body = Buffer.from(bytes);
        const flipped = Buffer.from(bytes);
        const at = index % flipped.length;
        flipped[at] = (flipped[at] ?? 0) ^ mask;
        return { body, flipped };
      });
    fc.assert(
      fc.property(flipArb, secretArb, ({ body, flipped }, secret) => {
        const headers = { "x-verification-signature": sign(body, secret) };
        expect(idbeyond.authenticate({ body, headers }, auth([secret]))).toEqual(body);
        expect(idbeyond.authenticate({ body: flipped, headers }, auth([secret]))).toBeNull();
      }),
    );
  });

  it("never throws and never authenticates arbitrary headers", () => {
    const nameArb = fc.oneof(fc.constantFrom("x-verification-signature", "X-Verification-Signature"), fc.string());
    const hexArb = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), maxLength: 80 });
    const valueArb = fc.option(fc.oneof(fc.string({ unit: "binary" }), hexArb), { nil: undefined });
    const headersArb: fc.Arbitrary<Headers> = fc.dictionary(nameArb, valueArb);
    fc.assert(
      fc.property(bodyArb, headersArb, fc.array(fc.string({ unit: "binary" })), (body, headers, secrets) => {
        expect(idbeyond.authenticate({ body, headers }, auth(secrets))).toBeNull();
      }),
    );
  });
});

describe("idbeyond.normalize", () => {
  it("normalizes a signed verification.completed (approved) exactly", () => {
    const body = fixture("completed-approved.json");
    expect(receive(body)).toEqual({
      specVersion: "1",
      eventId: `idbeyond:${sha256(body)}`,
      correlationId: `idbeyond:${SESSION_ID}`,
      provider: "idbeyond",
      providerEventType: "verification.completed",
      status: "approved",
      occurredAt: "2026-04-23T18:55:15.817Z",
      receivedAt: RECEIVED_AT,
      subject: { externalUserId: EXTERNAL_USER_ID },
      decision: { decision: "approved", reviewStatus: "approved" },
      attemptId: null,
      sandbox: false,
    } satisfies NormalizedEvent);
  });

  it("normalizes a signed pending review with an epoch-milliseconds timestamp", () => {
    const body = fixture("completed-pending-review.json");
    expect(receive(body)).toEqual({
      specVersion: "1",
      eventId: `idbeyond:${sha256(body)}`,
      correlationId: `idbeyond:${SESSION_ID}`,
      provider: "idbeyond",
      providerEventType: "verification.completed",
      status: "in_review",
      occurredAt: "2026-04-23T18:50:15.817Z",
      receivedAt: RECEIVED_AT,
      subject: { externalUserId: EXTERNAL_USER_ID },
      decision: { decision: null, reviewStatus: "pending_review" },
      attemptId: null,
      sandbox: false,
    } satisfies NormalizedEvent);
  });

  it("normalizes a signed verification.extraction as started, without outcome fields", () => {
    const body = fixture("extraction.json");
    expect(receive(body)).toEqual({
      specVersion: "1",
      eventId: `idbeyond:${sha256(body)}`,
      correlationId: `idbeyond:${SESSION_ID}`,
      provider: "idbeyond",
      providerEventType: "verification.extraction",
      status: "started",
      occurredAt: "2026-04-23T18:50:02.120Z",
      receivedAt: RECEIVED_AT,
      subject: { externalUserId: EXTERNAL_USER_ID },
      decision: null,
      attemptId: null,
      sandbox: false,
    } satisfies NormalizedEvent);
  });

  it.each([
    ["none", null, "submitted"],
    ["pending_review", null, "in_review"],
    ["approved", "approved", "approved"],
    ["rejected", "rejected", "rejected"],
  ] as const)("verification.completed with reviewStatus %s (decision %s) → %s", (reviewStatus, decision, expected) => {
    const event = receive(completedWith({ reviewStatus, decision }));
    expect(event.status).toBe(expected);
    expect(event.decision).toEqual({ decision, reviewStatus });
  });

  it("lets reviewStatus decide over decision", () => {
    expect(receive(completedWith({ reviewStatus: "pending_review", decision: "approved" })).status).toBe("in_review");
    expect(receive(completedWith({ reviewStatus: "rejected", decision: "approved" })).status).toBe("rejected");
  });

  it.each([
    [undefined, "approved", "approved"],
    [null, "rejected", "rejected"],
    ["some_future_review_status", "approved", "approved"],
    ["some_future_review_status", null, null],
    [undefined, undefined, null],
  ] as const)("falls back to decision when reviewStatus is %s (decision %s) → %s", (reviewStatus, decision, expected) => {
    expect(receive(completedWith({ reviewStatus, decision })).status).toBe(expected);
  });

  it("accepts an unknown event with status null and keeps its type", () => {
    const event = receive(completedWith({ event: "verification.some_future_event", reviewStatus: "approved" }));
    expect(event.status).toBeNull();
    expect(event.providerEventType).toBe("verification.some_future_event");
    expect(event.correlationId).toBe(`idbeyond:${SESSION_ID}`);
  });

  it("has no decision when neither outcome field is present", () => {
    expect(receive(completedWith({ decision: undefined, reviewStatus: null })).decision).toBeNull();
  });

  it.each([
    ["2026-04-23T20:55:15.817+02:00", "2026-04-23T18:55:15.817Z"],
    [1776970215817, "2026-04-23T18:50:15.817Z"],
    [undefined, null],
    [null, null],
    ["not a time", null],
  ] as const)("maps timestamp %s to occurredAt %s", (timestamp, expected) => {
    expect(receive(completedWith({ timestamp })).occurredAt).toBe(expected);
  });

  it.each([undefined, null, ""])("has an empty subject when externalUserId is %j", (externalUserId) => {
    expect(receive(completedWith({ externalUserId })).subject).toEqual({});
  });

  it("derives the eventId from the exact bytes: stable on redelivery, different for other bytes", () => {
    const body = fixture("completed-approved.json");
    const reformatted = json(JSON.parse(body.toString("utf8")));
    expect(receive(body).eventId).toBe(receive(Buffer.from(body)).eventId);
    expect(receive(reformatted).eventId).toBe(`idbeyond:${sha256(reformatted)}`);
    expect(receive(reformatted).eventId).not.toBe(receive(body).eventId);
  });

  it.each(["completed-approved.json", "completed-pending-review.json", "extraction.json"])(
    "copies no personal data from %s (rationale, metadata, OCR fields)",
    (name) => {
      const { rationale, metadata, extracted } = fixtureJson(name);
      const personal = stringLeaves([rationale, metadata, extracted]);
      const recognisable = ["jane.fakeperson@example.test", "+49 30 555 0199"];
      if (name === "extraction.json") {
        recognisable.push("JANE-FIXTURE", "DOE-FAKEPERSON", "1988-07-14", "L01X00T47", "Musterstrasse 12, 10115 Berlin");
      } else {
        recognisable.push(String(rationale));
      }
      expect(personal).toEqual(expect.arrayContaining(recognisable));

      const serialized = JSON.stringify(receive(fixture(name)));
      for (const value of personal) expect(serialized).not.toContain(value);
      expect(serialized).not.toContain("metadata");
      expect(serialized).not.toContain("campaign");
    },
  );

  it.each([
    ["not JSON", '{"event":"verification.completed","verificationSessionId":"LEAKED', "body is not valid JSON"],
    ["a body without verificationSessionId", '{"event":"verification.completed","externalUserId":"LEAKED-user","rationale":"LEAKED"}', "verificationSessionId"],
    ["a session id with spaces", '{"event":"verification.completed","verificationSessionId":"LEAKED JANE DOE"}', "verificationSessionId"],
    ["a body without event", '{"verificationSessionId":"LEAKED-c3ae1b0c"}', "event"],
    ["a timestamp of the wrong type", '{"event":"verification.completed","verificationSessionId":"c3ae1b0c","timestamp":{"LEAKED":true}}', "timestamp"],
    ["a JSON string", '"LEAKED-value"', "(root)"],
  ])("rejects %s with InvalidPayload naming the problem, never the value", (_case, body, mentions) => {
    const error = invalidPayload(body);
    expect(error.message).toContain(mentions);
    expect(error.message).not.toContain("LEAKED");
  });
});

describe("idbeyond.normalize properties", () => {
  const jsonish = fc.jsonValue({ maxDepth: 2 });
  const payloadArb = fc.record(
    {
      event: fc.oneof(fc.constantFrom("verification.completed", "verification.extraction"), jsonish),
      verificationSessionId: fc.oneof(fc.uuid(), jsonish),
      externalUserId: jsonish,
      decision: fc.oneof(fc.constantFrom("approved", "rejected"), jsonish),
      reviewStatus: fc.oneof(fc.constantFrom("none", "pending_review", "approved", "rejected"), jsonish),
      timestamp: jsonish,
    },
    { requiredKeys: [] },
  );

  it("either returns a well-formed event or throws InvalidPayload", () => {
    fc.assert(
      fc.property(payloadArb, (payload) => {
        let event: NormalizedEvent;
        try {
          event = idbeyond.normalize(json(payload), { receivedAt: RECEIVED_AT });
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidPayload);
          return;
        }
        expect(event.correlationId).toMatch(/^idbeyond:[\x21-\x7e]{1,100}$/);
        expect(event.status === null || STATUSES.includes(event.status)).toBe(true);
        expect(event.occurredAt === null || !Number.isNaN(Date.parse(event.occurredAt))).toBe(true);
      }),
    );
  });
});
