import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent } from "../../../lambdas/core/event.js";
import {
  fixture,
  fixtureJson,
  type Json,
  personalValues,
  RECEIVED_AT,
  receipt,
  receiveFixture,
  receiveSigned,
} from "../../support/providers.js";

const SECRET = "veriff-shared-secret-3f9a1c";
const SESSION_ID = "f04bdb47-d3be-4b28-b028-a652feb060b5";

/** Today's scheme as devdocs.veriff.com and Veriff/js-integration-demo compute it. */
const hmacSignature = (body: Buffer, secret = SECRET): string => createHmac("sha256", secret).update(body).digest("hex");
/** The legacy scheme (Veriff's FAQ: a sha256 of the payload and the secret, in this order). */
const legacySignature = (body: Buffer, secret = SECRET): string => createHash("sha256").update(body).update(secret).digest("hex");
const sha256 = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

const auth = (headers: Record<string, string>, legacy = false, body = fixture("veriff", "decision-approved.json")) =>
  receipt("veriff", body, headers, { secrets: [SECRET], options: { veriffLegacySignature: legacy } });

/** The approved decision fixture with some `verification` fields replaced (undefined removes). */
function decisionWith(changes: Json): NormalizedEvent {
  const payload = fixtureJson("veriff", "decision-approved.json");
  return receiveSigned("veriff", { ...payload, verification: { ...(payload["verification"] as Json), ...changes } });
}

const eventWith = (changes: Json): NormalizedEvent =>
  receiveSigned("veriff", { ...fixtureJson("veriff", "event-started.json"), ...changes });

const PERSONAL = [
  "verification.person",
  "verification.document",
  "verification.reason",
  "verification.riskLabels",
  "data.verification.userDefinedData.reason",
  "data.verification.userDefinedData.status",
  "technicalData",
  "data.verification.person",
  "data.verification.document",
  "data.verification.insights",
  "searchTerm",
  "hits",
];

describe("veriff: authentication", () => {
  const body = fixture("veriff", "decision-approved.json");

  it("accepts x-hmac-signature = hex(HMAC-SHA256(raw body, secret)), in any header case and hex case", () => {
    expect(auth({ "x-hmac-signature": hmacSignature(body) }).kind).toBe("accepted");
    expect(auth({ "X-HMAC-SIGNATURE": hmacSignature(body).toUpperCase() }).kind).toBe("accepted");
  });

  it("accepts the legacy x-signature only when enabled, and says so when it is not", () => {
    expect(auth({ "x-signature": legacySignature(body) }, true).kind).toBe("accepted");
    expect(auth({ "X-Signature": legacySignature(body) }, false)).toEqual({ kind: "unauthenticated", cause: "algorithm-not-enabled" });
  });

  it("does not let one scheme's digest pass under the other scheme's header", () => {
    expect(auth({ "x-hmac-signature": legacySignature(body) }, true)).toEqual({ kind: "unauthenticated", cause: "signature-mismatch" });
    expect(auth({ "x-signature": hmacSignature(body) }, true)).toEqual({ kind: "unauthenticated", cause: "signature-mismatch" });
  });

  it("names the cause: a missing signature, a mismatch (wrong secret, tampered or re-serialised body)", () => {
    expect(auth({ "x-auth-client": "api-key" })).toEqual({ kind: "unauthenticated", cause: "missing-signature" });
    expect(auth({ "x-hmac-signature": hmacSignature(body, "other") })).toEqual({ kind: "unauthenticated", cause: "signature-mismatch" });
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(body.toString("utf8"))));
    expect(auth({ "x-hmac-signature": hmacSignature(body) }, false, reserialised)).toEqual({
      kind: "unauthenticated",
      cause: "signature-mismatch",
    });
  });
});

describe("veriff: decision webhooks", () => {
  it("normalizes a signed decision webhook (approved) exactly", () => {
    const body = fixture("veriff", "decision-approved.json");
    expect(receiveFixture("veriff", "decision-approved.json")).toEqual({
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
      unmapped: null,
    } satisfies NormalizedEvent);
  });

  it.each([
    ["decision-declined.json", "rejected", "2026-05-02T09:12:44.051Z"],
    ["doc-decision-approved-microseconds.json", "approved", "timed"],
    ["doc-decision-approved-offset.json", "approved", "timed"],
    ["doc-decision-declined-reasoncode.json", "rejected", "timed"],
    ["doc-decision-resubmission-requested.json", "resubmission_requested", "timed"],
    ["doc-decision-review-9121.json", "in_review", "timed"],
    ["doc-decision-abandoned-code-9121.json", "abandoned", null],
  ] as const)("%s → %s", (name, status, occurredAt) => {
    const event = receiveFixture("veriff", name);
    expect(event.status).toBe(status);
    expect(event.unmapped).toBeNull();
    if (occurredAt === "timed") expect(event.occurredAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    else expect(event.occurredAt).toBe(occurredAt);
  });

  it("reads decisionTime with microseconds and with a zone offset", () => {
    const micro = fixtureJson("veriff", "doc-decision-approved-microseconds.json");
    const time = String((micro["verification"] as Json)["decisionTime"]);
    expect(time).toMatch(/\.\d{6}/);
    expect(receiveFixture("veriff", "doc-decision-approved-microseconds.json").occurredAt).toBe(`${time.slice(0, 23)}Z`);
    expect(decisionWith({ decisionTime: "2025-01-30T13:41:55.123456+02:00" }).occurredAt).toBe("2025-01-30T11:41:55.123Z");
  });

  it("maps expired and abandoned decisions that arrive with decisionTime null (abandoned may carry 9104)", () => {
    for (const [name, status] of [
      ["doc-decision-expired-null-time.json", "expired"],
      ["doc-decision-abandoned-null-time.json", "abandoned"],
    ] as const) {
      const event = receiveFixture("veriff", name);
      expect(event).toMatchObject({ status, occurredAt: null, unmapped: null });
    }
    expect(decisionWith({ status: "abandoned", code: 9104, decisionTime: null }).status).toBe("abandoned");
  });

  it.each([
    ["approved", 9001, "approved"],
    ["declined", 9102, "rejected"],
    ["resubmission_requested", 9103, "resubmission_requested"],
    ["expired", 9104, "expired"],
    ["abandoned", 9104, "abandoned"],
    ["review", 9121, "in_review"],
  ] as const)("status %s (code %i) → %s; the status string decides over the code", (status, code, expected) => {
    expect(decisionWith({ status, code }).status).toBe(expected);
  });

  it("falls back to the code when the status string is missing or unknown", () => {
    expect(decisionWith({ status: undefined, code: 9102 }).status).toBe("rejected");
    expect(decisionWith({ status: "some_future_status", code: 9103 }).status).toBe("resubmission_requested");
  });

  it("records intermediate decision codes (9151, 9161) without a status", () => {
    for (const code of [9151, 9161]) {
      const event = decisionWith({ status: "approved", code });
      expect(event).toMatchObject({ status: null, unmapped: "verification.code: an intermediate decision, not a final one" });
    }
  });

  it("records an unknown decision, a `verification: null` body and a decision without its id, never refusing them", () => {
    expect(decisionWith({ status: "some_future_status", code: 9999 })).toMatchObject({
      status: null,
      providerEventType: "decision",
      correlationId: `veriff:${SESSION_ID}`,
    });
    const none = receiveFixture("veriff", "doc-decision-verification-null.json");
    expect(none).toMatchObject({ status: null, decision: null, unmapped: "verification: missing or null (no decision)" });
    const noId = decisionWith({ id: null });
    expect(noId.status).toBeNull();
    expect(noId.correlationId).toMatch(/^veriff:attempt:/);
    expect(noId.unmapped).toBe("verification.id: missing");
  });

  it("keeps codes beyond 2^53 and non-integers as strings, never as numbers it cannot store", () => {
    expect(decisionWith({ status: "declined", code: 1e20, reasonCode: 1.5e300 }).decision).toEqual({
      status: "declined",
      code: "100000000000000000000",
      reasonCode: "1.5e+300",
    });
    const huge = receiveSigned(
      "veriff",
      `{"verification":{"id":"${SESSION_ID}","status":"approved","code":123456789012345678901234567890}}`,
    );
    expect(huge.decision?.["code"]).toBe("1.2345678901234568e+29");
  });

  it("omits absent or empty subject keys and maps a missing attemptId and decisionTime to null", () => {
    const decision = decisionWith({ decisionTime: undefined, attemptId: null, vendorData: "", endUserId: null });
    expect(decision).toMatchObject({ occurredAt: null, attemptId: null, subject: {} });
    expect(decisionWith({ decisionTime: "not a time" }).occurredAt).toBeNull();
    expect(decisionWith({ decisionTime: "+010000-01-01T00:00:00Z" }).occurredAt).toBeNull();
  });
});

describe("veriff: event webhooks", () => {
  it("normalizes a signed event webhook (started) exactly", () => {
    const body = fixture("veriff", "event-started.json");
    expect(receiveFixture("veriff", "event-started.json")).toEqual({
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
      unmapped: null,
    } satisfies NormalizedEvent);
  });

  it.each([
    ["event-submitted.json", "event.submitted", "submitted"],
    ["doc-event-7001-started.json", "event.started", "started"],
    ["doc-event-7002-submitted.json", "event.submitted", "submitted"],
  ] as const)("%s → %s / %s", (name, type, status) => {
    expect(receiveFixture("veriff", name)).toMatchObject({ providerEventType: type, status, occurredAt: null });
  });

  it("falls back to the code for an unknown action, and records codes beyond 7001/7002 (e.g. 7003, 7005) without a status", () => {
    expect(eventWith({ action: "some_future_action", code: 7002 }).status).toBe("submitted");
    for (const [action, code] of [
      ["tier_1_approved", 7003],
      ["address", 7005],
    ] as const) {
      const event = eventWith({ action, code });
      expect(event).toMatchObject({ status: null, providerEventType: `event.${action}`, correlationId: `veriff:${SESSION_ID}` });
      expect(event.unmapped).toBe("action and code: an event without a KYC status mapping");
    }
  });
});

describe("veriff: other formats on the same endpoint", () => {
  it("maps Full Auto decisions (the only decision delivery on Full Auto plans), with their time", () => {
    const approved = receiveFixture("veriff", "doc-fullauto-approved.json");
    expect(approved).toMatchObject({
      correlationId: "veriff:0c5e1a7b-3f2d-4e8a-9b61-2d4f6a8c0e1a",
      providerEventType: "fullauto",
      status: "approved",
      occurredAt: "2025-03-19T10:31:07.442Z",
      attemptId: "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b000a",
      subject: { vendorData: "fixture-vendor-0003", endUserId: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a" },
      decision: { decision: "approved", decisionScore: "0.97" },
      unmapped: null,
    });
    expect(receiveFixture("veriff", "doc-fullauto-declined.json").status).toBe("rejected");
    // Without `time` there is no decision time: acceptanceTime is the session's start.
    const untimed = fixtureJson("veriff", "doc-fullauto-approved.json");
    delete untimed["time"];
    expect(receiveSigned("veriff", untimed).occurredAt).toBeNull();
    const objectDecision = fixtureJson("veriff", "doc-fullauto-approved.json");
    const data = objectDecision["data"] as Json;
    const wrapped = {
      ...objectDecision,
      data: { ...data, verification: { ...(data["verification"] as Json), decision: { value: "declined" } } },
    };
    expect(receiveSigned("veriff", wrapped).status).toBe("rejected");
  });

  it("records watchlist-screening results (current, enhanced and the older flat shape) without a status", () => {
    const current = receiveFixture("veriff", "doc-watchlist-current-possible-match.json");
    expect(current).toMatchObject({ status: null, unmapped: null, decision: { matchStatus: "possible_match" } });
    expect(current.providerEventType).toMatch(/^watchlist\./);
    expect(current.correlationId).toMatch(/^veriff:[0-9a-f-]{36}$/);
    expect(receiveFixture("veriff", "doc-watchlist-enhanced-no-match.json")).toMatchObject({
      status: null,
      decision: { matchStatus: "no_match" },
    });
    // The older shape has no sessionId: filed under its attempt.
    expect(receiveFixture("veriff", "doc-watchlist-legacy-flat.json").correlationId).toMatch(/^veriff:attempt:/);
  });

  it("records user-defined statuses under their session without a status, keeping only the codes", () => {
    const event = receiveFixture("veriff", "doc-user-status-created.json");
    expect(event).toMatchObject({
      correlationId: "veriff:0c5e1a7b-3f2d-4e8a-9b61-2d4f6a8c0e2e",
      providerEventType: "user-status.created",
      status: null,
      unmapped: null,
      occurredAt: "2025-03-21T08:00:02.998Z",
      attemptId: "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b000e",
      decision: { statusCode: "fixture_custom_status_for_suspicious_attempt", reasonCode: null },
    });
    const text = JSON.stringify(event);
    for (const typed of ["FIXTURE free text", "FIXTUREFIRST", "Fixture custom status"]) expect(text).not.toContain(typed);
    // Without `time`, the label's creation time; recognised by its userDefinedData alone too.
    const payload = fixtureJson("veriff", "doc-user-status-created.json");
    const { eventType: _eventType, time: _time, ...untyped } = payload;
    expect(receiveSigned("veriff", untyped)).toMatchObject({
      providerEventType: "user-status",
      unmapped: null,
      occurredAt: "2025-03-21T07:59:15.090Z",
    });
  });

  it("records any other format under the session it names, and a body that is not an object under its digest", () => {
    const userDefined = receiveSigned("veriff", {
      sessionId: SESSION_ID,
      attemptId: "a",
      status: { name: "Reviewed by compliance" },
      createdTime: "2025-01-01T00:00:00Z",
    });
    expect(userDefined).toMatchObject({ correlationId: `veriff:${SESSION_ID}`, status: null, unmapped: "an unknown webhook format" });
    // User-defined statuses carry the session at data.verification.id.
    const nested = receiveSigned("veriff", { data: { verification: { id: SESSION_ID, attemptId: "a2" } }, status: "Reviewed" });
    expect(nested).toMatchObject({ correlationId: `veriff:${SESSION_ID}`, attemptId: "a2", status: null });
    for (const body of ["[]", "42", '"text"', "null"]) {
      const event = receiveSigned("veriff", body);
      expect(event.correlationId).toMatch(/^veriff:unidentified:[0-9a-f]{32}$/);
      expect(event.unmapped).toBe("the body is not a JSON object");
    }
  });
});

describe("veriff: identity and personal data", () => {
  it("derives the eventId from the exact bytes: stable on redelivery, different for other bytes", () => {
    const a = receiveFixture("veriff", "decision-approved.json");
    expect(receiveFixture("veriff", "decision-approved.json").eventId).toBe(a.eventId);
    const reserialised = JSON.stringify(fixtureJson("veriff", "decision-approved.json"));
    expect(receiveSigned("veriff", reserialised).eventId).not.toBe(a.eventId);
  });

  it("keeps person, document, reasons, risk labels, IPs, insights and watchlist hits out of every event", () => {
    const names = [
      "decision-approved.json",
      "decision-declined.json",
      "doc-decision-declined-reasoncode.json",
      "doc-fullauto-approved.json",
      "doc-fullauto-declined.json",
      "doc-watchlist-current-possible-match.json",
      "doc-watchlist-legacy-flat.json",
      "doc-user-status-created.json",
    ];
    for (const name of names) {
      const personal = personalValues(fixtureJson("veriff", name), PERSONAL);
      expect(personal.length).toBeGreaterThan(0);
      const event = JSON.stringify(receiveFixture("veriff", name));
      for (const value of personal) expect(event).not.toContain(value);
    }
  });

  it("replaces an over-long vendorData by its digest, so that it stays a storable index key", () => {
    const event = decisionWith({ vendorData: "é".repeat(1100) });
    expect(event.subject["vendorData"]).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
