import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent, Status } from "../../../lambdas/core/event.js";
import { fold } from "../../../lambdas/model/transition.js";
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

const SECRET = "idbeyond-webhook-secret-77";
const SESSION_ID = "c3ae1b0c-59f1-4b55-bf2d-34d2a50ebe4a";
const EXTERNAL_USER_ID = "f9f0c2d4-7a1e-4c3b-9e8d-2b1a0c9db3a1";
const sign = (body: Buffer, secret = SECRET): string => createHmac("sha256", secret).update(body).digest("hex");
const sha256 = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

const completedWith = (changes: Json): NormalizedEvent =>
  receiveSigned("idbeyond", { ...fixtureJson("idbeyond", "completed-approved.json"), ...changes });

describe("idbeyond: authentication", () => {
  const body = fixture("idbeyond", "completed-approved.json");
  const auth = (headers: Record<string, string>, secrets = [SECRET]) => receipt("idbeyond", body, headers, { secrets });

  it("accepts x-verification-signature = hex(HMAC-SHA256(raw body, session secret)), any header and hex case, any configured secret", () => {
    expect(auth({ "x-verification-signature": sign(body) }).kind).toBe("accepted");
    expect(auth({ "X-Verification-Signature": sign(body).toUpperCase() }).kind).toBe("accepted");
    expect(auth({ "x-verification-signature": sign(body) }, ["session-a", SECRET, "session-c"]).kind).toBe("accepted");
  });

  it("names the cause: unsigned, a digest under another header, a wrong secret", () => {
    expect(auth({})).toEqual({ kind: "unauthenticated", cause: "missing-signature" });
    expect(auth({ "x-signature": sign(body) })).toEqual({ kind: "unauthenticated", cause: "missing-signature" });
    expect(auth({ "x-verification-signature": sign(body, "other") })).toEqual({ kind: "unauthenticated", cause: "signature-mismatch" });
  });
});

describe("idbeyond: normalization", () => {
  it("normalizes a signed verification.completed (approved) exactly", () => {
    const body = fixture("idbeyond", "completed-approved.json");
    expect(receiveFixture("idbeyond", "completed-approved.json")).toEqual({
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
      unmapped: null,
    } satisfies NormalizedEvent);
  });

  it("reads an epoch-milliseconds timestamp as well as ISO 8601", () => {
    expect(receiveFixture("idbeyond", "completed-pending-review.json")).toMatchObject({
      status: "in_review",
      occurredAt: "2026-04-23T18:50:15.817Z",
    });
  });

  it("normalizes verification.extraction as started, without outcome fields", () => {
    expect(receiveFixture("idbeyond", "extraction.json")).toMatchObject({
      providerEventType: "verification.extraction",
      status: "started",
      decision: null,
      occurredAt: "2026-04-23T18:50:02.120Z",
    });
  });

  it.each([
    ["none", null, "submitted"],
    ["pending", null, "in_review"],
    ["pending_review", null, "in_review"],
    ["approved", "approved", "approved"],
    ["rejected", "rejected", "rejected"],
  ] as const)("reviewStatus %s (decision %s) → %s", (reviewStatus, decision, expected) => {
    expect(completedWith({ reviewStatus, decision })).toMatchObject({ status: expected, decision: { decision, reviewStatus } });
  });

  it.each([
    ["pending_review", "approved", "approved"],
    ["none", "approved", "approved"],
    ["pending", "rejected", "rejected"],
    ["rejected", "approved", "approved"],
    ["approved", "rejected", "rejected"],
    [undefined, "approved", "approved"],
    [null, "rejected", "rejected"],
    ["some_future_review_status", "approved", "approved"],
    ["some_future_review_status", null, null],
    ["pending_review", "some_future_decision", "in_review"],
    [undefined, undefined, null],
  ] as const)("a terminal decision decides over reviewStatus (reviewStatus %s, decision %s → %s)", (reviewStatus, decision, expected) => {
    expect(completedWith({ reviewStatus, decision }).status).toBe(expected);
  });

  it.each([
    ["doc-completed-none.json", "submitted"],
    ["doc-completed-pending.json", "in_review"],
    ["doc-completed-pending-review.json", "in_review"],
    ["doc-completed-approved.json", "approved"],
    ["doc-completed-rejected.json", "rejected"],
    ["doc-extraction-after-approval.json", "started"],
  ] as const)("%s → %s", (file, status) => {
    expect(receiveFixture("idbeyond", file)).toMatchObject({ status, unmapped: null });
  });

  it("records an unknown event, and an event without verificationSessionId under its user, never refusing them", () => {
    expect(receiveFixture("idbeyond", "doc-unknown-event.json")).toMatchObject({ status: null, unmapped: "event: unknown" });
    const noSession = receiveFixture("idbeyond", "doc-completed-no-session-id.json");
    const user = String(fixtureJson("idbeyond", "doc-completed-no-session-id.json")["externalUserId"]);
    const userDigest = createHash("sha256").update(user).digest("hex").slice(0, 32);
    expect(noSession).toMatchObject({
      correlationId: `idbeyond:user:${userDigest}`,
      status: null,
      unmapped: "verificationSessionId: missing",
      subject: { externalUserId: user },
    });
    expect(receiveSigned("idbeyond", { event: "verification.completed", decision: "approved" }).correlationId).toMatch(
      /^idbeyond:unidentified:/,
    );
    // Explicit nulls and values of other types are tolerated.
    expect(completedWith({ decision: null, reviewStatus: null, timestamp: null, externalUserId: 42 })).toMatchObject({
      status: null,
      subject: {},
      occurredAt: null,
    });
  });

  it("an extraction delivered after the decision, with a later timestamp, never moves the verification back", () => {
    const approved = receiveFixture("idbeyond", "doc-completed-approved.json");
    const extraction = receiveFixture("idbeyond", "doc-extraction-after-approval.json");
    expect(Date.parse(extraction.occurredAt ?? "")).toBeGreaterThan(Date.parse(approved.occurredAt ?? ""));
    expect(fold([approved, extraction])?.status).toBe("approved" satisfies Status);
    expect(fold([extraction, approved])?.status).toBe("approved");
  });

  it("derives the eventId from the exact bytes and keeps rationale, metadata and OCR fields out of the event", () => {
    expect(receiveFixture("idbeyond", "extraction.json").eventId).toBe(`idbeyond:${sha256(fixture("idbeyond", "extraction.json"))}`);
    for (const file of [
      "completed-approved.json",
      "extraction.json",
      "doc-completed-approved.json",
      "doc-extraction-after-approval.json",
      "doc-completed-rejected.json",
    ]) {
      const json = fixtureJson("idbeyond", file);
      const personal = personalValues(json, ["rationale", "metadata", "extracted", "ocr", "heatmaps"]);
      expect(personal.length).toBeGreaterThan(0);
      const event = JSON.stringify(receiveFixture("idbeyond", file));
      for (const value of personal) expect(event).not.toContain(value);
    }
  });
});
