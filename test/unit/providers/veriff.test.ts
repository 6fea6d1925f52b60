import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { STATUSES, type NormalizedEvent } from "../../../lambdas/core/event.js";
import type { Headers } from "../../../lambdas/core/http.js";
import { DEFAULT_OPTIONS, InvalidPayload, type AuthContext } from "../../../lambdas/providers/types.js";
import { veriff } from "../../../lambdas/providers/veriff.js";

const SECRET = "veriff-shared-secret-3f9a1c";
const OTHER_SECRET = "veriff-other-secret-77b2e0";
const RECEIVED_AT = "2026-11-22T10:00:00.000Z";
const SESSION_ID = "f04bdb47-d3be-4b28-b028-a652feb060b5";

type Json = Record<string, unknown>;

const fixture = (name: string): Buffer => readFileSync(new URL(`../../fixtures/veriff/${name}`, import.meta.url));
const fixtureJson = (name: string): Json => JSON.parse(fixture(name).toString("utf8")) as Json;

/** Today's scheme as devdocs.veriff.com and Veriff/js-integration-demo compute it. */
const hmacSignature = (body: Buffer, secret: string): string =>
  createHmac("sha256", secret).update(body).digest("hex");

/** Seed 002's JavaScript snippet, with `Buffer.from` for the deprecated `new Buffer`. */
function legacySignature(payload: string, secret: string): string {
  const signature = createHash("sha256");
  signature.update(Buffer.from(payload, "utf8"));
  signature.update(Buffer.from(secret, "utf8"));
  return signature.digest("hex");
}

const auth = (secrets: readonly string[] = [SECRET], veriffLegacySignature = false): AuthContext => ({
  secrets,
  options: { ...DEFAULT_OPTIONS, veriffLegacySignature },
});

const sha256 = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

/** Authenticates a body signed with today's scheme, then normalizes it. */
function receive(body: Buffer): NormalizedEvent {
  const content = veriff.authenticate({ body, headers: { "x-hmac-signature": hmacSignature(body, SECRET) } }, auth());
  if (content === null) throw new Error("a correctly signed request was rejected");
  return veriff.normalize(content, { receivedAt: RECEIVED_AT });
}

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value), "utf8");

/** The approved decision fixture with some `verification` fields replaced (undefined removes). */
function decisionWith(changes: Json): Buffer {
  const payload = fixtureJson("decision-approved.json");
  return json({ ...payload, verification: { ...(payload.verification as Json), ...changes } });
}

const eventWith = (changes: Json): Buffer => json({ ...fixtureJson("event-started.json"), ...changes });

function invalidPayload(body: string): InvalidPayload {
  try {
    veriff.normalize(Buffer.from(body, "utf8"), { receivedAt: RECEIVED_AT });
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

describe("veriff.authenticate", () => {
  const body = fixture("decision-approved.json");

  it("accepts x-hmac-signature = hex(HMAC-SHA256(raw body, secret)) and returns the raw bytes", () => {
    const content = veriff.authenticate({ body, headers: { "x-hmac-signature": hmacSignature(body, SECRET) } }, auth());
    expect(content).toEqual(body);
  });

  it("accepts the legacy x-signature (seed 002: sha256(body ‖ secret)) only when enabled", () => {
    const headers = { "x-signature": legacySignature(body.toString("utf8"), SECRET) };
    expect(veriff.authenticate({ body, headers }, auth([SECRET], true))).toEqual(body);
    expect(veriff.authenticate({ body, headers }, auth([SECRET], false))).toBeNull();
  });

  it("does not let one scheme's digest pass under the other scheme's header", () => {
    const legacyDigest = legacySignature(body.toString("utf8"), SECRET);
    const hmacDigest = hmacSignature(body, SECRET);
    expect(veriff.authenticate({ body, headers: { "x-hmac-signature": legacyDigest } }, auth([SECRET], true))).toBeNull();
    expect(veriff.authenticate({ body, headers: { "x-signature": hmacDigest } }, auth([SECRET], true))).toBeNull();
  });

  it("rejects a tampered body", () => {
    const signature = hmacSignature(body, SECRET);
    const tampered = Buffer.from(body.toString("utf8").replace('"approved"', '"declined"'), "utf8");
    expect(tampered.equals(body)).toBe(false);
    expect(veriff.authenticate({ body: tampered, headers: { "x-hmac-signature": signature } }, auth())).toBeNull();
  });

  it("rejects a signature made with the wrong secret", () => {
    const headers = { "x-hmac-signature": hmacSignature(body, OTHER_SECRET) };
    expect(veriff.authenticate({ body, headers }, auth())).toBeNull();
  });

  it("rejects a request without a signature header", () => {
    expect(veriff.authenticate({ body, headers: {} }, auth([SECRET], true))).toBeNull();
    expect(veriff.authenticate({ body, headers: { "x-auth-client": "api-key", "x-hmac-signature": undefined } }, auth())).toBeNull();
  });

  it("reads header names case-insensitively", () => {
    expect(veriff.authenticate({ body, headers: { "X-HMAC-SIGNATURE": hmacSignature(body, SECRET) } }, auth())).toEqual(body);
    const legacy = { "X-Signature": legacySignature(body.toString("utf8"), SECRET) };
    expect(veriff.authenticate({ body, headers: legacy }, auth([SECRET], true))).toEqual(body);
  });

  it("accepts an uppercase hex digest", () => {
    const headers = { "x-hmac-signature": hmacSignature(body, SECRET).toUpperCase() };
    expect(veriff.authenticate({ body, headers }, auth())).toEqual(body);
  });

  it("accepts any configured secret (rotation) and rejects when none matches", () => {
    const headers = { "x-hmac-signature": hmacSignature(body, SECRET) };
    expect(veriff.authenticate({ body, headers }, auth([OTHER_SECRET, SECRET]))).toEqual(body);
    expect(veriff.authenticate({ body, headers }, auth([OTHER_SECRET, "third-secret-000000"]))).toBeNull();
  });

  it("rejects everything when no secret is configured, and never uses an empty secret as a key", () => {
    expect(veriff.authenticate({ body, headers: { "x-hmac-signature": hmacSignature(body, SECRET) } }, auth([]))).toBeNull();
    const emptyKeyed = { "x-hmac-signature": hmacSignature(body, ""), "x-signature": legacySignature(body.toString(), "") };
    expect(veriff.authenticate({ body, headers: emptyKeyed }, auth([""], true))).toBeNull();
  });
});

describe("veriff.authenticate properties", () => {
  // Printable ASCII: HMAC pads short keys with zero bytes, so "k" and "k\0" are the same key.
  const secretArb = fc.string({ minLength: 1, maxLength: 48 });
  const bodyArb = fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes));

  it("accepts a correct signature and rejects one made with another secret, in both schemes", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 256 }), secretArb, secretArb, (payload, secret, other) => {
        fc.pre(secret !== other);
        const body = Buffer.from(payload, "utf8");
        const current = (s: string) => ({ "x-hmac-signature": hmacSignature(body, s) });
        const legacy = (s: string) => ({ "x-signature": legacySignature(payload, s) });
        expect(veriff.authenticate({ body, headers: current(secret) }, auth([secret], true))).toEqual(body);
        expect(veriff.authenticate({ body, headers: legacy(secret) }, auth([secret], true))).toEqual(body);
        expect(veriff.authenticate({ body, headers: current(other) }, auth([secret], true))).toBeNull();
        expect(veriff.authenticate({ body, headers: legacy(other) }, auth([secret], true))).toBeNull();
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
        const headers = {
          "x-hmac-signature": hmacSignature(body, secret),
          "x-signature": createHash("sha256").update(body).update(secret).digest("hex"),
        };
        expect(veriff.authenticate({ body, headers }, auth([secret], true))).toEqual(body);
        expect(veriff.authenticate({ body: flipped, headers }, auth([secret], true))).toBeNull();
      }),
    );
  });

  it("never throws and never authenticates arbitrary headers", () => {
    const nameArb = fc.oneof(fc.constantFrom("x-hmac-signature", "X-HMAC-Signature", "x-signature", "X-SIGNATURE"), fc.string());
    const hexArb = fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF"), minLength: 0, maxLength: 80 });
    const valueArb = fc.option(fc.oneof(fc.string({ unit: "binary" }), hexArb), { nil: undefined });
    const headersArb: fc.Arbitrary<Headers> = fc.dictionary(nameArb, valueArb);
    fc.assert(
      fc.property(bodyArb, headersArb, fc.array(fc.string({ unit: "binary" })), fc.boolean(), (body, headers, secrets, legacy) => {
        expect(veriff.authenticate({ body, headers }, auth(secrets, legacy))).toBeNull();
      }),
    );
  });
});

describe("veriff.normalize", () => {
  it("normalizes a signed event webhook (started) exactly", () => {
    const body = fixture("event-started.json");
    expect(receive(body)).toEqual({
      specVersion: "1",
      eventId: `veriff:${sha256(body)}`,
      correlationId: `veriff:${SESSION_ID}`,
      provider: "veriff",
      providerEventType: "event.started",
      status: "started",
      occurredAt: null,
      receivedAt: RECEIVED_AT,
      subject: { vendorData: "customer-4711", endUserId: "c1de400b-1877-4b2d-ab0c-9f2a1e8a1b2c" },
      decision: null,
      attemptId: "e30122d1-740b-4764-853f-470374a7abf4",
      sandbox: false,
    } satisfies NormalizedEvent);
  });

  it("normalizes a signed decision webhook (approved) exactly", () => {
    const body = fixture("decision-approved.json");
    expect(receive(body)).toEqual({
      specVersion: "1",
      eventId: `veriff:${sha256(body)}`,
      correlationId: `veriff:${SESSION_ID}`,
      provider: "veriff",
      providerEventType: "decision",
      status: "approved",
      occurredAt: "2026-04-23T18:55:15.817Z",
      receivedAt: RECEIVED_AT,
      subject: { vendorData: "customer-4711", endUserId: "c1de400b-1877-4b2d-ab0c-9f2a1e8a1b2c" },
      decision: { status: "approved", code: 9001, reasonCode: null },
      attemptId: "e30122d1-740b-4764-853f-470374a7abf4",
      sandbox: false,
    } satisfies NormalizedEvent);
  });

  it("normalizes a declined decision with its codes and the subject keys that are present", () => {
    const event = receive(fixture("decision-declined.json"));
    expect(event.status).toBe("rejected");
    expect(event.correlationId).toBe("veriff:9b3d7c1a-2e4f-4a6b-8c0d-1e2f3a4b5c6d");
    expect(event.decision).toEqual({ status: "declined", code: 9102, reasonCode: 103 });
    expect(event.subject).toEqual({ vendorData: "customer-0815" }); // endUserId is null
    expect(event.occurredAt).toBe("2026-05-02T09:12:44.051Z");
  });

  it.each([
    ["event-started.json", "event.started", "started"],
    ["event-submitted.json", "event.submitted", "submitted"],
  ] as const)("event webhook %s → %s / %s", (name, type, status) => {
    const event = receive(fixture(name));
    expect(event.providerEventType).toBe(type);
    expect(event.status).toBe(status);
  });

  it.each([
    ["approved", 9001, "approved"],
    ["declined", 9102, "rejected"],
    ["resubmission_requested", 9103, "resubmission_requested"],
    ["expired", 9104, "expired"],
    ["abandoned", 9104, "abandoned"], // 9104 is shared by expired and abandoned sessions
    ["review", 9121, "in_review"],
  ] as const)("decision status %s (code %i) → %s", (status, code, expected) => {
    expect(receive(decisionWith({ status, code })).status).toBe(expected);
  });

  it.each([
    [9001, "approved"],
    [9102, "rejected"],
    [9103, "resubmission_requested"],
    [9104, "expired"],
    [9121, "in_review"],
  ] as const)("decision code %i without a known status string → %s", (code, expected) => {
    expect(receive(decisionWith({ status: undefined, code })).status).toBe(expected);
    expect(receive(decisionWith({ status: "some_future_status", code })).status).toBe(expected);
  });

  it("lets the status string decide over a conflicting code (9121: review in one table, abandoned in the other)", () => {
    expect(receive(decisionWith({ status: "abandoned", code: 9121 })).status).toBe("abandoned");
    expect(receive(decisionWith({ status: "declined", code: 9001 })).status).toBe("rejected");
  });

  it("falls back to the event code when the action is unknown", () => {
    expect(receive(eventWith({ action: "some_future_action", code: 7002 })).status).toBe("submitted");
  });

  it("accepts unknown actions and decision statuses with status null", () => {
    const unknownEvent = receive(eventWith({ action: "some_future_action", code: 7999 }));
    expect(unknownEvent.status).toBeNull();
    expect(unknownEvent.providerEventType).toBe("event.some_future_action");
    expect(unknownEvent.correlationId).toBe(`veriff:${SESSION_ID}`);

    const unknownDecision = receive(decisionWith({ status: "some_future_status", code: 9999 }));
    expect(unknownDecision.status).toBeNull();
    expect(unknownDecision.providerEventType).toBe("decision");
    expect(unknownDecision.decision).toEqual({ status: "some_future_status", code: 9999, reasonCode: null });

    expect(receive(decisionWith({ status: null, code: null })).status).toBeNull();
  });

  it("omits absent or empty subject keys and maps a missing attemptId and decisionTime to null", () => {
    const event = receive(eventWith({ vendorData: "", endUserId: null, attemptId: undefined }));
    expect(event.subject).toEqual({});
    expect(event.attemptId).toBeNull();
    const decision = receive(decisionWith({ decisionTime: undefined, attemptId: null }));
    expect(decision.occurredAt).toBeNull();
    expect(decision.attemptId).toBeNull();
  });

  it("derives the eventId from the exact bytes: stable on redelivery, different for other bytes", () => {
    const body = fixture("event-submitted.json");
    const reformatted = json(JSON.parse(body.toString("utf8")));
    expect(receive(body).eventId).toBe(receive(Buffer.from(body)).eventId);
    expect(receive(reformatted).eventId).toBe(`veriff:${sha256(reformatted)}`);
    expect(receive(reformatted).eventId).not.toBe(receive(body).eventId);
  });

  it.each(["decision-approved.json", "decision-declined.json"])("copies no personal data from %s", (name) => {
    const { verification, technicalData } = fixtureJson(name) as { verification: Json; technicalData: Json };
    const personal = stringLeaves([
      verification.person,
      verification.document,
      verification.reason,
      verification.riskLabels,
      technicalData,
    ]);
    const recognisable = name === "decision-approved.json"
      ? ["MARGARETHE", "FIXTUREMANN-TESTOVA", "38508040000", "1967-03-30", "FIXTU753116MT9IJ", "203.0.113.42", "12 Fixture Lane, Testville, TE1 2ST"]
      : ["JOHANNES", "FAKEPERSON", "C01X00T47", "1990-12-31", "198.51.100.77"];
    expect(personal).toEqual(expect.arrayContaining(recognisable));

    const serialized = JSON.stringify(receive(fixture(name)));
    for (const value of personal) expect(serialized).not.toContain(value);
    expect(serialized).not.toContain("Person showing the document");
  });

  it.each([
    ["not JSON", '{"id":"LEAKED-f04bdb47","action":"start', "body is not valid JSON"],
    ["an event without id", '{"action":"submitted","vendorData":"LEAKED-vendor-data"}', "id"],
    ["an event with a non-printable id", '{"id":"LEAKED MARGARETHE","action":"started"}', "id"],
    ["an event without action", '{"id":"LEAKED-f04bdb47","code":7001}', "action"],
    ["a decision without verification.id", '{"status":"success","verification":{"status":"approved","person":{"firstName":"LEAKED-MARGARETHE"}}}', "verification.id"],
    ["a decision whose verification is null", '{"status":"success","verification":null,"id":"LEAKED-1"}', "verification"],
    ["a JSON string", '"LEAKED-value"', "(root)"],
    ["a JSON array", '["LEAKED-value"]', "id"], // valibot treats arrays as objects: the keys are missing
  ])("rejects %s with InvalidPayload naming the problem, never the value", (_case, body, mentions) => {
    const error = invalidPayload(body);
    expect(error.message).toContain(mentions);
    expect(error.message).not.toContain("LEAKED");
  });

  it("rejects a session id longer than a correlationId allows", () => {
    const error = invalidPayload(JSON.stringify({ id: "LEAKED".repeat(20), action: "started" }));
    expect(error.message).not.toContain("LEAKED");
  });
});

describe("veriff.normalize properties", () => {
  const jsonish = fc.jsonValue({ maxDepth: 2 });
  const verificationArb = fc.record(
    { id: fc.oneof(fc.uuid(), jsonish), status: fc.oneof(fc.constantFrom("approved", "review"), jsonish), code: jsonish, decisionTime: jsonish, vendorData: jsonish },
    { requiredKeys: [] },
  );
  const payloadArb = fc.record(
    { id: fc.oneof(fc.uuid(), jsonish), action: fc.oneof(fc.constantFrom("started", "submitted"), jsonish), code: jsonish, verification: fc.oneof(verificationArb, jsonish), endUserId: jsonish },
    { requiredKeys: [] },
  );

  it("either returns a well-formed event or throws InvalidPayload", () => {
    fc.assert(
      fc.property(payloadArb, (payload) => {
        let event: NormalizedEvent;
        try {
          event = veriff.normalize(json(payload), { receivedAt: RECEIVED_AT });
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidPayload);
          return;
        }
        expect(event.correlationId).toMatch(/^veriff:[\x21-\x7e]{1,100}$/);
        expect(event.status === null || STATUSES.includes(event.status)).toBe(true);
        expect(Object.values(event.subject).every((value) => typeof value === "string" && value !== "")).toBe(true);
      }),
    );
  });
});
