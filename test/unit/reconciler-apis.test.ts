import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalEvent, type EventDraft } from "../../lambdas/core/canonical.js";
import { parseNormalizedEvent } from "../../lambdas/core/event-schema.js";
import { correlationIdOf, unidentifiedCorrelationId } from "../../lambdas/providers/types.js";
import { idngoSignature, idngoStatusApi } from "../../lambdas/reconciler/idngo-api.js";
import type { ApiResponse, LookupResult } from "../../lambdas/reconciler/types.js";
import { veriffStatusApi } from "../../lambdas/reconciler/veriff-api.js";
import { fixture, fixtureJson, type Json, personalValues, RECEIVED_AT, receiveSigned } from "../support/providers.js";

const IDNGO = { baseUrl: "https://api.idngo.test", appToken: "sbx:unit-token", appSecret: "unit-idngo-secret" };
const VERIFF = { baseUrl: "https://stationapi.veriff.com", apiKey: "unit-api-key", apiSecret: "unit-veriff-secret" };
const idngo = idngoStatusApi(IDNGO);
const veriff = veriffStatusApi(VERIFF);

const APPLICANT = "65a1b2c3d4e5f60718293a4b";
const SESSION = "0c5e1a7b-3f2d-4e8a-9b61-2d4f6a8c0e1e"; // the id inside api-decision-approved.json
const NOW = new Date("2026-11-22T10:00:00.000Z");

/** Independent of the code under test: node:crypto directly. */
const hmac = (secret: string, data: string): string => createHmac("sha256", secret).update(data, "utf8").digest("hex");

const ok = (body: unknown, headers: Record<string, string> = {}): ApiResponse => ({
  status: 200,
  headers,
  body: typeof body === "string" ? body : JSON.stringify(body),
});

/** A Veriff answer signed as Veriff signs it (x-hmac-signature over the body). */
const signedVeriff = (body: unknown, status = 200, secret = VERIFF.apiSecret): ApiResponse => {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  return { status, headers: { "x-hmac-signature": hmac(secret, text) }, body: text };
};

const parseIdngo = (response: ApiResponse, applicantId = APPLICANT): LookupResult =>
  idngo.parse(`idngo:${applicantId}`, applicantId, response, RECEIVED_AT);
const parseVeriff = (response: ApiResponse, sessionId = SESSION): LookupResult =>
  veriff.parse(`veriff:${sessionId}`, sessionId, response, RECEIVED_AT);

function eventOf(result: LookupResult): { draft: EventDraft; final: boolean } {
  if (result.kind !== "event") throw new Error(`expected an event, got ${JSON.stringify(result)}`);
  return result;
}

/** The draft is what the consumer accepts: canonical and valid against the event schema. */
function expectStorable(draft: EventDraft): void {
  const event = canonicalEvent(draft);
  expect(parseNormalizedEvent(JSON.stringify(event))).toEqual({ ...event, origin: "reconciliation" });
}

// ---------------------------------------------------------------------------------------------

describe("idngo status API: request signing (https://docs.sumsub.com/reference/authentication)", () => {
  it("reproduces the documented string-to-sign: ts + METHOD + URI with query + body", () => {
    const documented =
      "1607551635POST/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600";
    expect(
      idngoSignature(
        "docs-secret",
        "1607551635",
        "POST",
        "/resources/accessTokens?userId=cfd20712-24a2-4c7d-9ab0-146f3c142335&levelName=basic-kyc-level&ttlInSecs=600",
      ),
    ).toBe(hmac("docs-secret", documented));
    expect(idngoSignature("s", "1", "post", "/p", '{"a":1}')).toBe(hmac("s", '1POST/p{"a":1}'));
  });

  it("signs GET /resources/applicants/{id}/status with Unix seconds and a lowercase hex HMAC, no body", () => {
    const request = idngo.request(APPLICANT, new Date("2026-11-22T10:00:00.999Z"));
    const ts = String(Math.floor(Date.parse("2026-11-22T10:00:00.999Z") / 1000));
    expect(request).toEqual({
      method: "GET",
      url: `https://api.idngo.test/resources/applicants/${APPLICANT}/status`,
      headers: {
        Accept: "application/json",
        "X-App-Token": IDNGO.appToken,
        "X-App-Access-Ts": ts,
        "X-App-Access-Sig": hmac(IDNGO.appSecret, `${ts}GET/resources/applicants/${APPLICANT}/status`),
      },
    });
    expect(request.headers["X-App-Access-Sig"]).toMatch(/^[0-9a-f]{64}$/);
  });

  it("signs the path that is sent: a trailing slash changes nothing, a path prefix is signed with it", () => {
    const sig = (baseUrl: string): [string, string | undefined] => {
      const request = idngoStatusApi({ ...IDNGO, baseUrl }).request(APPLICANT, NOW);
      return [request.url, request.headers["X-App-Access-Sig"]];
    };
    expect(sig("https://api.idngo.test/")).toEqual(sig("https://api.idngo.test"));
    const [url, signature] = sig("https://proxy.test/kyc/sumsub");
    expect(url).toBe(`https://proxy.test/kyc/sumsub/resources/applicants/${APPLICANT}/status`);
    const ts = String(NOW.getTime() / 1000);
    expect(signature).toBe(hmac(IDNGO.appSecret, `${ts}GET/kyc/sumsub/resources/applicants/${APPLICANT}/status`));
    expect(sig("https://proxy.test/kyc/sumsub/")[0]).toBe(url);
  });

  it("percent-encodes the applicant id as one path segment and signs the encoded path", () => {
    const id = "a/b?c#d%e f!";
    const request = idngo.request(id, NOW);
    const path = "/resources/applicants/a%2Fb%3Fc%23d%25e%20f%21/status";
    expect(new URL(request.url).pathname).toBe(path);
    expect(request.headers["X-App-Access-Sig"]).toBe(hmac(IDNGO.appSecret, `${NOW.getTime() / 1000}GET${path}`));
    expect(() => idngo.request("..", NOW)).toThrow(TypeError);
  });

  it("signs GET /resources/applicantActions/{actionId}/one for an action (https://docs.sumsub.com/reference/get-action-information)", () => {
    const actionId = "63f2a1b20a975a7c8d9e0f11";
    const lookupId = idngo.verificationIdOf(correlationIdOf("idngo", "action", actionId));
    expect(lookupId).toBeDefined();
    const request = idngo.request(lookupId ?? "", NOW);
    const path = `/resources/applicantActions/${actionId}/one`;
    expect(request.url).toBe(`https://api.idngo.test${path}`);
    expect(request.headers["X-App-Access-Sig"]).toBe(hmac(IDNGO.appSecret, `${NOW.getTime() / 1000}GET${path}`));
  });
});

describe("veriff decision API: request signing (https://devdocs.veriff.com/apidocs/v1sessionsiddecision-1)", () => {
  it("signs GET /v1/sessions/{id}/decision with X-AUTH-CLIENT and the HMAC of the session id", () => {
    expect(veriff.request(SESSION, NOW)).toEqual({
      method: "GET",
      url: `https://stationapi.veriff.com/v1/sessions/${SESSION}/decision`,
      headers: {
        "Content-Type": "application/json",
        "X-AUTH-CLIENT": VERIFF.apiKey,
        "X-HMAC-SIGNATURE": hmac(VERIFF.apiSecret, SESSION),
      },
    });
  });

  it("appends /v1 once, whether the base URL has a trailing slash, a trailing /v1, or neither", () => {
    const url = (baseUrl: string): string => veriffStatusApi({ ...VERIFF, baseUrl }).request(SESSION, NOW).url;
    const expected = `https://stationapi.veriff.com/v1/sessions/${SESSION}/decision`;
    for (const base of [
      "https://stationapi.veriff.com",
      "https://stationapi.veriff.com/",
      "https://stationapi.veriff.com/v1",
      "https://stationapi.veriff.com/v1/",
    ]) {
      expect(url(base)).toBe(expected);
    }
  });

  it("signs the raw session id, not its encoded form", () => {
    const request = veriff.request("a b", NOW);
    expect(request.url).toContain("/v1/sessions/a%20b/decision");
    expect(request.headers["X-HMAC-SIGNATURE"]).toBe(hmac(VERIFF.apiSecret, "a b"));
  });

  it("refuses a malformed base URL when configured", () => {
    expect(() => veriffStatusApi({ ...VERIFF, baseUrl: "not a url" })).toThrow();
    expect(() => idngoStatusApi({ ...IDNGO, baseUrl: "" })).toThrow();
  });
});

// ---------------------------------------------------------------------------------------------

describe("verificationIdOf", () => {
  it("names the applicant of idngo:{applicantId} and the action of idngo:action:{actionId} only", () => {
    expect(idngo.verificationIdOf(`idngo:${APPLICANT}`)).toBe(APPLICANT);
    expect(idngo.verificationIdOf(correlationIdOf("idngo", "action", "65a1b2c3d4e5f60718293aff"))).toBe("action:65a1b2c3d4e5f60718293aff");
    for (const id of [
      "idngo:action:",
      "idngo:action:a:b",
      "idngo:action:..",
      correlationIdOf("idngo", "kyt", "txn-1"),
      correlationIdOf("idngo", "kytcase", "case-1"),
      unidentifiedCorrelationId("idngo", Buffer.from("{}")),
      correlationIdOf("idngo", "x".repeat(101)), // replaced by its digest: idngo:sha256:…
      `veriff:${SESSION}`,
      "idngo:",
      "idngo:.",
      "idngo:..",
      "idngo:a b",
      "idngo:a:b",
      "IDNGO:abc",
      "",
    ]) {
      expect(idngo.verificationIdOf(id), id).toBeUndefined();
    }
  });

  it("names the session of veriff:{sessionId} only", () => {
    expect(veriff.verificationIdOf(`veriff:${SESSION}`)).toBe(SESSION);
    for (const id of [
      correlationIdOf("veriff", "attempt", "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b000f"),
      unidentifiedCorrelationId("veriff", Buffer.from("{}")),
      correlationIdOf("veriff", "é".repeat(3)),
      `idngo:${APPLICANT}`,
      "veriff:",
      "veriff:..",
    ]) {
      expect(veriff.verificationIdOf(id), id).toBeUndefined();
    }
  });

  it("agrees with the correlationIds the webhooks build, for every IDnGO fixture", () => {
    const names = [
      "seed-applicantReviewed-green.json",
      "seed-applicantReset.json",
      "ours-applicantActionReviewed.json",
      "doc-applicantKytTxnCreated-no-applicantId.json",
      "doc-kytCaseCreated.json",
      "doc-beneficiary-applicantReviewed-red-retry.json",
    ];
    for (const name of names) {
      const body = fixtureJson("idngo", name);
      const event = receiveSigned("idngo", fixture("idngo", name));
      const action = body["applicantActionId"];
      const applicant = body["applicantId"];
      const expected = typeof action === "string" ? `action:${action}` : typeof applicant === "string" ? applicant : undefined;
      expect(idngo.verificationIdOf(event.correlationId), name).toBe(expected);
    }
  });

  it("agrees with the correlationIds the webhooks build, for Veriff sessions and session-less attempts", () => {
    const decision = receiveSigned("veriff", fixture("veriff", "decision-approved.json"));
    const session = (fixtureJson("veriff", "decision-approved.json")["verification"] as Json)["id"];
    expect(veriff.verificationIdOf(decision.correlationId)).toBe(session);
    const legacy = receiveSigned("veriff", fixture("veriff", "doc-watchlist-legacy-flat.json")); // attempt only
    expect(legacy.correlationId).toMatch(/^veriff:attempt:/);
    expect(veriff.verificationIdOf(legacy.correlationId)).toBeUndefined();
  });

  it("never throws, and any id it names round-trips and builds a one-segment request path", () => {
    const named = { idngo: 0, veriff: 0, action: 0 };
    // Any string, and strings shaped like lookup ids (with and without `action:`), so that the naming branches run too.
    const tails = fc.oneof(fc.string({ unit: "binary", maxLength: 140 }), fc.stringMatching(/^(action:)?[\x21-\x39\x3b-\x7e]{1,100}$/));
    fc.assert(
      fc.property(tails, fc.constantFrom("idngo:", "veriff:", ""), (tail, prefix) => {
        for (const api of [idngo, veriff]) {
          const input = `${prefix}${tail}`;
          const id = api.verificationIdOf(input);
          if (id === undefined) continue;
          // `/resources/applicants/{id}/status`, `/resources/applicantActions/{id}/one` and
          // `/v1/sessions/{id}/decision`: the id stays one segment.
          const action = id.startsWith("action:") ? id.slice("action:".length) : undefined;
          expect(`${api.provider}:${id}`).toBe(input);
          const segments = new URL(api.request(id, NOW).url).pathname.split("/");
          expect(segments).toHaveLength(5);
          expect(decodeURIComponent(segments[3] ?? "")).toBe(action ?? id);
          if (action !== undefined) expect(segments.slice(1, 3)).toEqual(["resources", "applicantActions"]);
          named[action !== undefined ? "action" : api.provider] += 1;
        }
      }),
      { numRuns: 300 },
    );
    // Every branch was exercised, not only the refusals.
    expect(named.idngo).toBeGreaterThan(0);
    expect(named.veriff).toBeGreaterThan(0);
    expect(named.action).toBeGreaterThan(0);
  });

  it("names back every short printable id a webhook could file a verification under", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x2e\x30-\x39\x3b-\x7e]{1,100}$/), (id) => {
        fc.pre(id !== "." && id !== "..");
        expect(idngo.verificationIdOf(correlationIdOf("idngo", id))).toBe(id);
        expect(veriff.verificationIdOf(correlationIdOf("veriff", id))).toBe(id);
      }),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("idngo status API: parsing", () => {
  const green = fixtureJson("idngo", "api-status-completed-green.json");
  const pending = fixtureJson("idngo", "api-status-pending.json");
  const withResult = (reviewResult: Json, base: Json = green): Json => ({ ...base, reviewResult });

  it("maps a completed GREEN review to approved, timed by reviewDate, final", () => {
    const { draft, final } = eventOf(parseIdngo(ok(green)));
    expect(final).toBe(true);
    expect(draft).toEqual({
      eventId: expect.stringMatching(/^idngo:reconcile:[0-9a-f]{32}$/),
      correlationId: `idngo:${APPLICANT}`,
      provider: "idngo",
      providerEventType: "status-api",
      status: "approved",
      occurredAt: "2025-02-03T09:14:27.000Z",
      receivedAt: RECEIVED_AT,
      subject: {},
      decision: { answer: "GREEN", rejectType: null, labels: [] },
      attemptId: null,
      sandbox: false,
      unmapped: null,
      origin: "reconciliation",
    });
    expectStorable(draft);
  });

  it("maps pending to submitted, timed by createDate (the check's start: a lower bound of the status's time), not final", () => {
    const { draft, final } = eventOf(parseIdngo(ok(pending)));
    expect([draft.status, draft.occurredAt, draft.decision, final]).toEqual(["submitted", "2025-02-04T09:58:40.000Z", null, false]);
    expectStorable(draft);
    // A non-completed status is never timed by a reviewDate (a previous review's completion) ...
    const resubmitted = eventOf(parseIdngo(ok({ ...pending, reviewDate: "2025-02-05 10:00:00+0000" }))).draft;
    expect(resubmitted.occurredAt).toBe("2025-02-04T09:58:40.000Z");
    // ... a completed one without reviewDate falls back to createDate, and without either it is untimed.
    const { reviewDate: _reviewDate, ...noReviewDate } = green;
    expect(eventOf(parseIdngo(ok(noReviewDate))).draft.occurredAt).toBe("2025-02-03T09:13:38.000Z");
    const { createDate: _createDate, ...untimed } = pending;
    expect(eventOf(parseIdngo(ok(untimed))).draft.occurredAt).toBeNull();
    expect(eventOf(parseIdngo(ok({ ...pending, createDate: "not a time" }))).draft.occurredAt).toBeNull();
  });

  it("maps RED RETRY to resubmission_requested and RED FINAL to rejected, keeping answer, type and labels but no comments", () => {
    const retry = eventOf(
      parseIdngo(
        ok(
          withResult({
            reviewAnswer: "RED",
            reviewRejectType: "RETRY",
            rejectLabels: ["DOCUMENT_PAGE_MISSING", "BAD_PROOF_OF_ADDRESS"],
            moderationComment: "FIXTURE PUBLIC COMMENT",
            clientComment: "FIXTURE PRIVATE COMMENT",
          }),
        ),
      ),
    );
    expect([retry.draft.status, retry.final]).toEqual(["resubmission_requested", false]);
    expect(retry.draft.decision).toEqual({ answer: "RED", rejectType: "RETRY", labels: ["DOCUMENT_PAGE_MISSING", "BAD_PROOF_OF_ADDRESS"] });
    expect(JSON.stringify(retry)).not.toContain("FIXTURE");
    const final = eventOf(parseIdngo(ok(withResult({ reviewAnswer: "RED", reviewRejectType: "FINAL", rejectLabels: ["FORGERY"] }))));
    expect([final.draft.status, final.final]).toEqual(["rejected", true]);
  });

  it("maps every status exactly as an applicant webhook with the same status fields", () => {
    const webhook = fixtureJson("idngo", "seed-applicantReviewed-green.json");
    const statuses = ["init", "pending", "prechecked", "queued", "completed", "onHold", "awaitingService", "awaitingUser", "weird"];
    const results = [
      undefined,
      { reviewAnswer: "GREEN" },
      { reviewAnswer: "RED", reviewRejectType: "RETRY" },
      { reviewAnswer: "RED" },
      { reviewAnswer: "YELLOW" },
    ];
    for (const reviewStatus of statuses) {
      for (const reviewResult of results) {
        const fields = { reviewStatus, ...(reviewResult === undefined ? {} : { reviewResult }) };
        const { reviewResult: _dropped, ...webhookBase } = webhook;
        const expected = receiveSigned("idngo", { ...webhookBase, ...fields });
        const { draft, final } = eventOf(parseIdngo(ok({ ...pending, ...fields })));
        expect([draft.status, draft.decision], JSON.stringify(fields)).toEqual([expected.status, expected.decision]);
        expect(draft.unmapped === null, JSON.stringify(fields)).toBe(expected.status !== null);
        expect(final).toBe(["approved", "rejected", "expired", "abandoned", "deleted"].includes(draft.status ?? ""));
      }
    }
  });

  it("records an unknown status as unmapped, never final", () => {
    const { draft, final } = eventOf(parseIdngo(ok({ ...pending, reviewStatus: "somethingNew" })));
    expect([draft.status, final]).toEqual([null, false]);
    expect(draft.unmapped).toMatch(/reviewStatus/);
    const missing = eventOf(parseIdngo(ok({ reviewId: "x" })));
    expect([missing.draft.status, missing.final]).toEqual([null, false]);
    expectStorable(missing.draft);
  });

  it("gives the same eventId to two answers that differ only in counters, and a new one when the status changes", () => {
    const again = {
      ...green,
      elapsedSincePendingMs: 999_999,
      elapsedSinceQueuedMs: 888_888,
      priority: 7,
      attemptCnt: 3,
      levelAutoCheckMode: "x",
    };
    const first = eventOf(parseIdngo(ok(green))).draft;
    expect(eventOf(parseIdngo(ok(again))).draft.eventId).toBe(first.eventId);
    const labels = (rejectLabels: string[]): string =>
      eventOf(parseIdngo(ok(withResult({ reviewAnswer: "RED", reviewRejectType: "FINAL", rejectLabels })))).draft.eventId;
    expect(labels(["A", "B"])).toBe(labels(["B", "A"]));
    const changed = [
      { ...green, reviewStatus: "onHold" },
      withResult({ reviewAnswer: "RED" }),
      { ...green, reviewDate: "2025-02-03 09:14:28+0000" },
      { ...green, attemptId: "newAttempt" },
      { ...green, createDate: "2025-02-03 09:13:39+0000" },
    ];
    for (const body of changed) expect(eventOf(parseIdngo(ok(body))).draft.eventId).not.toBe(first.eventId);
    expect(eventOf(parseIdngo(ok(green), "another-applicant")).draft.eventId).not.toBe(first.eventId);
  });

  it("answers not-found for a 404, and names only the status and Sumsub's error identifiers of other errors", () => {
    expect(parseIdngo({ status: 404, headers: {}, body: '{"description":"Applicant not found"}' })).toEqual({ kind: "not-found" });
    const unauthorized = parseIdngo({ status: 401, headers: {}, body: fixture("idngo", "api-error-401.json").toString("utf8") });
    expect(unauthorized).toEqual({ kind: "rejected", reason: "HTTP 401 (app-token-signature-mismatch, 4003)" });
    expect(parseIdngo({ status: 400, headers: {}, body: "" })).toEqual({ kind: "rejected", reason: "HTTP 400" });
    // Free text in errorName (a space, capitals) is not an identifier: left out, as description always is.
    const prose = parseIdngo({
      status: 403,
      headers: {},
      body: JSON.stringify({ description: "FIXTUREFIRST FIXTURELAST", errorName: "FIXTUREFIRST FIXTURELAST", errorCode: "FIXID" }),
    });
    expect(prose).toEqual({ kind: "rejected", reason: "HTTP 403" });
    expect(
      parseIdngo({ status: 401, headers: {}, body: JSON.stringify({ errorName: "app-token-signature mismatch", errorCode: 4003 }) }),
    ).toEqual({
      kind: "rejected",
      reason: "HTTP 401 (4003)",
    });
  });

  it("rejects a 200 that is not a JSON object", () => {
    for (const body of ["<html>", "", "[]", "null", '"completed"', "42"]) {
      expect(parseIdngo(ok(body)), body).toEqual({ kind: "rejected", reason: "HTTP 200: the body is not a JSON object" });
    }
  });
});

describe("idngo action API: parsing (https://docs.sumsub.com/reference/get-action-information)", () => {
  const ACTION = "63f2a1b20a975a7c8d9e0f11"; // the id inside api-action-completed-green.json
  const correlationId = correlationIdOf("idngo", "action", ACTION);
  const lookupId = `action:${ACTION}`;
  const action = fixtureJson("idngo", "api-action-completed-green.json");
  const review = action["review"] as Json;
  const parseAction = (body: unknown): LookupResult => idngo.parse(correlationId, lookupId, ok(body), RECEIVED_AT);

  it("maps the answer's review as an action webhook with the same status fields, timed by review.reviewDate", () => {
    const { draft, final } = eventOf(parseAction(action));
    expect(final).toBe(true);
    expect(draft).toEqual({
      eventId: expect.stringMatching(/^idngo:reconcile:[0-9a-f]{32}$/),
      correlationId,
      provider: "idngo",
      providerEventType: "action-api",
      status: "approved",
      occurredAt: "2023-02-20T17:45:12.000Z",
      receivedAt: RECEIVED_AT,
      subject: {},
      decision: { answer: "GREEN", rejectType: null, labels: [] },
      attemptId: null,
      sandbox: false,
      unmapped: null,
      origin: "reconciliation",
    });
    expectStorable(draft);
    // The webhook of the same action and status maps to the same status.
    expect(receiveSigned("idngo", fixture("idngo", "ours-applicantActionReviewed.json")).status).toBe(draft.status);
  });

  it("keeps nothing of the action but its review status fields", () => {
    const text = JSON.stringify(parseAction(action));
    for (const value of [
      ...personalValues(action, ["paymentMethod", "checks"]),
      String(action["externalActionId"]),
      String(action["clientId"]),
      String(action["applicantId"]),
    ]) {
      expect(text, value).not.toContain(value);
    }
  });

  it("maps RED RETRY; pending and a completed review without reviewDate are timed by review.createDate", () => {
    const retry = eventOf(
      parseAction({ ...action, review: { ...review, reviewResult: { reviewAnswer: "RED", reviewRejectType: "RETRY" } } }),
    );
    expect([retry.draft.status, retry.final]).toEqual(["resubmission_requested", false]);
    const pending = eventOf(parseAction({ ...action, review: { ...review, reviewStatus: "pending", reviewResult: null } }));
    expect([pending.draft.status, pending.draft.occurredAt, pending.final]).toEqual(["submitted", "2023-02-20T17:44:58.000Z", false]);
    const { reviewDate: _reviewDate, ...noReviewDate } = review;
    const lowerBound = eventOf(parseAction({ ...action, review: noReviewDate }));
    expect([lowerBound.draft.status, lowerBound.draft.occurredAt, lowerBound.final]).toEqual([
      "approved",
      "2023-02-20T17:44:58.000Z",
      true,
    ]);
    // Never the action's own createdAt (the action's creation, outside review).
    const { createDate: _createDate, ...untimedReview } = noReviewDate;
    expect(eventOf(parseAction({ ...action, review: untimedReview })).draft.occurredAt).toBeNull();
  });

  it("never reads the action's own top-level fields as its status, and records an answer without a review as unmapped", () => {
    const topLevel = eventOf(parseAction({ reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }));
    expect([topLevel.draft.status, topLevel.draft.unmapped, topLevel.final]).toEqual([null, "review: missing", false]);
    expectStorable(topLevel.draft);
    const nullReview = eventOf(parseAction({ ...action, review: null }));
    expect(nullReview.draft.status).toBeNull();
  });

  it("gives an action answer an eventId of its own: never the applicant's for the same status fields", () => {
    const fromAction = eventOf(parseAction(action)).draft.eventId;
    expect(eventOf(parseAction({ ...action, checks: [], elapsedSincePendingMs: 1 })).draft.eventId).toBe(fromAction);
    const fromApplicant = eventOf(idngo.parse(`idngo:${ACTION}`, ACTION, ok(review), RECEIVED_AT)).draft.eventId;
    expect(fromApplicant).not.toBe(fromAction);
  });
});

// ---------------------------------------------------------------------------------------------

describe("veriff decision API: parsing", () => {
  const approved = fixtureJson("veriff", "api-decision-approved.json");
  const verification = approved["verification"] as Json;
  const withVerification = (changes: Json): Json => ({ ...approved, verification: { ...verification, ...changes } });

  it("maps an approved decision: status, decisionTime, codes, attemptId, and nothing else", () => {
    const { draft, final } = eventOf(parseVeriff(signedVeriff(approved)));
    expect(final).toBe(true);
    expect(draft).toEqual({
      eventId: expect.stringMatching(/^veriff:reconcile:[0-9a-f]{32}$/),
      correlationId: `veriff:${SESSION}`,
      provider: "veriff",
      providerEventType: "decision-api",
      status: "approved",
      occurredAt: "2025-03-22T13:44:29.551Z",
      receivedAt: RECEIVED_AT,
      subject: {},
      decision: { status: "approved", code: 9001, reasonCode: null },
      attemptId: "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b000f",
      sandbox: false,
      unmapped: null,
      origin: "reconciliation",
    });
    expectStorable(draft);
  });

  it("keeps no personal value of the answer anywhere in the result", () => {
    const result = JSON.stringify(parseVeriff(signedVeriff(approved)));
    const personal = [
      ...personalValues(approved, ["verification.person", "verification.document", "technicalData"]),
      "FIXTURE",
      "Fixture",
      "FIXDOC123456",
      "FIXID0000001",
      "198.51.100.23",
      "1980-01-01",
      "fixture-vendor-0001",
      "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
    ];
    expect(personal.length).toBeGreaterThan(10);
    for (const value of personal) expect(result, value).not.toContain(value);
  });

  it("maps every documented decision exactly as the decision webhook does", () => {
    const names = [
      "doc-decision-abandoned-code-9121.json",
      "doc-decision-abandoned-null-time.json",
      "doc-decision-approved-microseconds.json",
      "doc-decision-approved-offset.json",
      "doc-decision-declined-reasoncode.json",
      "doc-decision-expired-null-time.json",
      "doc-decision-resubmission-requested.json",
      "doc-decision-review-9121.json",
      "decision-declined.json",
    ];
    for (const name of names) {
      const body = fixtureJson("veriff", name);
      const session = (body["verification"] as Json)["id"] as string;
      const webhook = receiveSigned("veriff", fixture("veriff", name));
      const { draft } = eventOf(parseVeriff(signedVeriff(body), session));
      expect([draft.status, draft.occurredAt, draft.decision, draft.attemptId, draft.unmapped], name).toEqual([
        webhook.status,
        webhook.occurredAt,
        webhook.decision,
        webhook.attemptId,
        webhook.unmapped,
      ]);
      const text = JSON.stringify(draft);
      for (const value of personalValues(body, ["verification.person", "verification.document", "verification.reason", "technicalData"])) {
        expect(text, `${name}: ${value}`).not.toContain(value);
      }
    }
  });

  it("answers no-decision for verification: null (and an empty verification object)", () => {
    expect(parseVeriff(signedVeriff(fixtureJson("veriff", "api-decision-none.json")))).toEqual({ kind: "no-decision" });
    expect(parseVeriff(signedVeriff({ status: "success", verification: {} }))).toEqual({ kind: "no-decision" });
  });

  it("gives the same eventId to two answers that differ only in personal or other fields", () => {
    const first = eventOf(parseVeriff(signedVeriff(approved))).draft.eventId;
    const other = {
      ...withVerification({
        person: { firstName: "OTHER" },
        document: null,
        riskLabels: [{ label: "x" }],
        acceptanceTime: "2025-01-01T00:00:00Z",
      }),
      technicalData: { ip: "203.0.113.9" },
    };
    expect(eventOf(parseVeriff(signedVeriff(other))).draft.eventId).toBe(first);
    for (const changes of [
      { status: "declined" },
      { code: 9102 },
      { reasonCode: 102 },
      { decisionTime: "2025-03-22T13:44:30Z" },
      { attemptId: "other-attempt" },
    ]) {
      expect(eventOf(parseVeriff(signedVeriff(withVerification(changes)))).draft.eventId, JSON.stringify(changes)).not.toBe(first);
    }
  });

  it("verifies the answer's x-hmac-signature over the body, either hex case; a 2xx answer without one is refused", () => {
    const text = JSON.stringify(approved);
    expect(parseVeriff({ status: 200, headers: {}, body: text })).toEqual({ kind: "rejected", reason: "response signature missing" });
    // An unsigned error answer changes nothing either way: read for its status only.
    expect(parseVeriff({ status: 404, headers: {}, body: "{}" })).toEqual({ kind: "not-found" });
    expect(parseVeriff({ status: 200, headers: { "x-hmac-signature": hmac(VERIFF.apiSecret, text).toUpperCase() }, body: text }).kind).toBe(
      "event",
    );
    const mismatch = { kind: "rejected", reason: "response signature mismatch" };
    expect(parseVeriff(signedVeriff(approved, 200, "another-secret"))).toEqual(mismatch);
    expect(parseVeriff({ status: 200, headers: { "x-hmac-signature": hmac(VERIFF.apiSecret, text) }, body: `${text} ` })).toEqual(mismatch);
    expect(parseVeriff({ status: 200, headers: { "x-hmac-signature": "" }, body: text })).toEqual(mismatch);
    expect(parseVeriff({ ...signedVeriff({ status: "fail" }, 404, "another-secret") })).toEqual(mismatch);
  });

  it("rejects an answer about another session", () => {
    expect(parseVeriff(signedVeriff(approved), "11111111-2222-4333-8444-555555555555")).toEqual({
      kind: "rejected",
      reason: "verification.id: not the session asked for",
    });
    const { draft } = eventOf(parseVeriff(signedVeriff(withVerification({ id: undefined }))));
    expect(draft.status).toBe("approved"); // no id in the answer: the session asked for
  });

  it("answers not-found for a 404 and rejects other errors by status code only", () => {
    expect(parseVeriff(signedVeriff({ status: "fail", message: "Session not found" }, 404))).toEqual({ kind: "not-found" });
    const body = { status: "fail", code: "1818", message: "Signature does not match FIXTUREFIRST" };
    expect(parseVeriff(signedVeriff(body, 401))).toEqual({ kind: "rejected", reason: "HTTP 401" });
    expect(parseVeriff(signedVeriff("", 400))).toEqual({ kind: "rejected", reason: "HTTP 400" });
  });

  it("rejects a 200 that is not a decision answer", () => {
    expect(parseVeriff(signedVeriff("<html>"))).toEqual({ kind: "rejected", reason: "HTTP 200: the body is not a JSON object" });
    expect(parseVeriff(signedVeriff([]))).toEqual({ kind: "rejected", reason: "HTTP 200: the body is not a JSON object" });
    expect(parseVeriff(signedVeriff({ status: "success" }))).toEqual({ kind: "rejected", reason: "verification: missing" });
    expect(parseVeriff(signedVeriff({ verification: "approved" }))).toEqual({ kind: "rejected", reason: "verification: not an object" });
  });

  it("records an unknown decision as unmapped, never final", () => {
    const { draft, final } = eventOf(parseVeriff(signedVeriff(withVerification({ status: "mystery", code: 1234 }))));
    expect([draft.status, final]).toEqual([null, false]);
    expect(draft.unmapped).toMatch(/no known decision/);
    expectStorable(draft);
  });
});

// ---------------------------------------------------------------------------------------------

describe("untrusted answers", () => {
  /** Any JSON value, with the shapes and edge values providers' answers could take (nulls, huge or odd strings, deep nesting). */
  const value = fc.letrec((tie) => ({
    leaf: fc.oneof(
      fc.constant(null),
      fc.boolean(),
      fc.double(),
      fc.integer(),
      fc.string({ unit: "binary", maxLength: 40 }),
      fc.constantFrom(
        "completed",
        "GREEN",
        "RED",
        "RETRY",
        "FINAL",
        "approved",
        "declined",
        "9001",
        "2025-02-03 09:14:27+0000",
        "\uffff",
        "x".repeat(5_000),
      ),
    ),
    node: fc.oneof(
      { depthSize: "small" },
      tie("leaf"),
      fc.array(tie("node"), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 12 }), tie("node"), { maxKeys: 4 }),
    ),
  })).node;
  /** An answer shaped like the endpoint's, each status field replaced by anything. */
  const idngoAnswer = fc.record(
    {
      reviewStatus: value,
      reviewResult: fc.oneof(value, fc.record({ reviewAnswer: value, reviewRejectType: value, rejectLabels: value }, { requiredKeys: [] })),
      reviewDate: value,
      createDate: value,
      attemptId: value,
    },
    { requiredKeys: [] },
  );
  const veriffAnswer = fc.record(
    {
      status: value,
      verification: fc.oneof(
        value,
        fc.record(
          {
            id: fc.constant(SESSION),
            status: value,
            code: value,
            decisionTime: value,
            acceptanceTime: value,
            attemptId: value,
            reasonCode: value,
            reason: value,
          },
          { requiredKeys: ["id"] },
        ),
      ),
    },
    { requiredKeys: [] },
  );

  /** Never throws; an event is storable, carries only a known status, and is final only for a final status. */
  function expectSafe(result: LookupResult): void {
    expect(["event", "no-decision", "not-found", "rejected"]).toContain(result.kind);
    if (result.kind !== "event") return;
    expectStorable(result.draft);
    expect(result.final).toBe(["approved", "rejected", "expired", "abandoned", "deleted"].includes(result.draft.status ?? ""));
  }

  it("any IDnGO applicant or action answer, with any status code, maps to a storable event or a reason", () => {
    fc.assert(
      fc.property(idngoAnswer, fc.boolean(), fc.constantFrom(200, 200, 201, 400, 401, 404, 429, 500), (answer, asAction, status) => {
        const response = { status, headers: {}, body: JSON.stringify(asAction ? { id: "a1", review: answer } : answer) };
        expectSafe(asAction ? idngo.parse("idngo:action:a1", "action:a1", response, RECEIVED_AT) : parseIdngo(response));
      }),
      { numRuns: 300 },
    );
  });

  it("any Veriff decision answer, signed or not, with any status code, maps to a storable event or a reason", () => {
    fc.assert(
      fc.property(veriffAnswer, fc.boolean(), fc.constantFrom(200, 200, 201, 400, 401, 404, 500), (answer, signed, status) => {
        const response = signed ? signedVeriff(answer, status) : { status, headers: {}, body: JSON.stringify(answer) };
        expectSafe(parseVeriff(response));
      }),
      { numRuns: 300 },
    );
  });
});
