/**
 * The reconciler's real signing, transport and parsing against the local fakes of the IDnGO and
 * Veriff status APIs (test/support/provider-apis.ts), which check every request as the providers
 * document it. No real provider is ever called.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { idngoStatusApi } from "../../lambdas/reconciler/idngo-api.js";
import { createPoliteFetcher, type PoliteFetcher, ProviderUnavailable, RetryLater } from "../../lambdas/reconciler/polite-fetch.js";
import type { LookupResult, StatusApi } from "../../lambdas/reconciler/types.js";
import { veriffStatusApi } from "../../lambdas/reconciler/veriff-api.js";
import { FAKE_IDNGO, FAKE_VERIFF, type FakeProviderApis, startFakeProviderApis } from "../support/provider-apis.js";
import { fixture, fixtureJson, personalValues, RECEIVED_AT } from "../support/providers.js";

const APPLICANT = "65a1b2c3d4e5f60718293a4b";
const SESSION = "0c5e1a7b-3f2d-4e8a-9b61-2d4f6a8c0e1e"; // the id inside api-decision-approved.json

let fake: FakeProviderApis;

beforeAll(async () => {
  fake = await startFakeProviderApis();
});
afterAll(async () => {
  await fake.close();
});
beforeEach(() => fake.reset());

const idngoApi = (overrides: Partial<typeof FAKE_IDNGO> = {}): StatusApi =>
  idngoStatusApi({ baseUrl: fake.baseUrls.idngo, ...FAKE_IDNGO, ...overrides });
const veriffApi = (overrides: Partial<typeof FAKE_VERIFF> = {}): StatusApi =>
  veriffStatusApi({ baseUrl: fake.baseUrls.veriff, ...FAKE_VERIFF, ...overrides });

/** Fast retries: real time, small delays. */
const politeFetcher = (): PoliteFetcher => createPoliteFetcher({ ratePerSecond: 50, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 400 });

/** One lookup as the reconciler does it: sign (afresh per attempt), fetch politely, parse. */
async function lookup(api: StatusApi, id: string, fetcher = politeFetcher(), signedAt?: () => Date): Promise<LookupResult> {
  const response = await fetcher(() => api.request(id, signedAt?.() ?? new Date()));
  return api.parse(`${api.provider}:${id}`, id, response, RECEIVED_AT);
}

describe("IDnGO status API against its fake", () => {
  it("a correctly signed request gets the fixture's answer, mapped", async () => {
    fake.setIdngo(APPLICANT, fixtureJson("idngo", "api-status-completed-green.json"));
    const result = await lookup(idngoApi(), APPLICANT);
    expect(result).toMatchObject({ kind: "event", final: true, draft: { status: "approved", occurredAt: "2025-02-03T09:14:27.000Z" } });
    const [recorded, ...others] = fake.requests("idngo");
    expect(others).toHaveLength(0);
    expect(recorded).toMatchObject({
      method: "GET",
      path: `/resources/applicants/${APPLICANT}/status`,
      id: APPLICANT,
      authenticated: true,
      answer: 200,
    });
    expect(recorded?.headers).toEqual(expect.arrayContaining(["accept", "x-app-token", "x-app-access-ts", "x-app-access-sig"]));
  });

  it("asking twice gives the same event id", async () => {
    fake.setIdngo(APPLICANT, fixtureJson("idngo", "api-status-pending.json"));
    const first = await lookup(idngoApi(), APPLICANT);
    fake.setIdngo(APPLICANT, { ...fixtureJson("idngo", "api-status-pending.json"), elapsedSincePendingMs: 99_999 });
    const second = await lookup(idngoApi(), APPLICANT);
    expect(first).toMatchObject({ kind: "event", final: false, draft: { status: "submitted" } });
    expect(second.kind === "event" && first.kind === "event" && second.draft.eventId === first.draft.eventId).toBe(true);
  });

  it("a wrong secret gets Sumsub's 401, which is not retried and names only its error identifiers", async () => {
    const result = await lookup(idngoApi({ appSecret: "not-the-secret" }), APPLICANT);
    expect(result).toEqual({ kind: "rejected", reason: "HTTP 401 (app-token-signature-mismatch, 4003)" });
    expect(fake.requests("idngo")).toEqual([
      expect.objectContaining({ authenticated: false, authFailure: "signature-mismatch", answer: 401 }),
    ]);
    expect(JSON.stringify(result)).not.toContain("Request signature mismatch"); // the description
  });

  it("an unknown token, or a timestamp more than a minute off, gets the 401 too", async () => {
    await lookup(idngoApi({ appToken: "sbx:someone-else" }), APPLICANT);
    await lookup(idngoApi(), APPLICANT, politeFetcher(), () => new Date(Date.now() - 120_000));
    await lookup(idngoApi(), APPLICANT, politeFetcher(), () => new Date(Date.now() + 120_000));
    expect(fake.requests("idngo").map((r) => [r.authFailure, r.answer])).toEqual([
      ["unknown-token", 401],
      ["ts-out-of-window", 401],
      ["ts-out-of-window", 401],
    ]);
  });

  it("an action is looked up at the action endpoint, signed the same way, and only its review is kept", async () => {
    const action = fixtureJson("idngo", "api-action-completed-green.json");
    const actionId = String(action["id"]);
    fake.setIdngo(`action:${actionId}`, action);
    const api = idngoApi();
    const lookupId = api.verificationIdOf(`idngo:action:${actionId}`);
    expect(lookupId).toBe(`action:${actionId}`);
    const result = await lookup(api, lookupId ?? "");
    expect(result).toMatchObject({
      kind: "event",
      final: true,
      draft: { correlationId: `idngo:action:${actionId}`, status: "approved", providerEventType: "action-api" },
    });
    expect(fake.requests("idngo")).toEqual([
      expect.objectContaining({ path: `/resources/applicantActions/${actionId}/one`, authenticated: true, answer: 200 }),
    ]);
    const text = JSON.stringify(result);
    for (const value of personalValues(action, ["paymentMethod"])) expect(text).not.toContain(value);
  });

  it("an unknown applicant is not-found", async () => {
    expect(await lookup(idngoApi(), "000000000000000000000000")).toEqual({ kind: "not-found" });
  });
});

describe("Veriff decision API against its fake", () => {
  const approved = fixtureJson("veriff", "api-decision-approved.json");

  it("a correctly signed request gets the decision, its response signature verified end to end, no personal data kept", async () => {
    fake.setVeriff(SESSION, fixture("veriff", "api-decision-approved.json").toString("utf8"));
    const fetcher = politeFetcher();
    const api = veriffApi();
    const response = await fetcher(api.request(SESSION, new Date()));
    expect(response.headers["x-hmac-signature"]).toMatch(/^[0-9a-f]{64}$/);
    const result = api.parse(`veriff:${SESSION}`, SESSION, response, RECEIVED_AT);
    expect(result).toMatchObject({
      kind: "event",
      final: true,
      draft: { status: "approved", attemptId: "7a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b000f" },
    });
    const text = JSON.stringify(result);
    for (const value of [...personalValues(approved, ["verification.person", "verification.document", "technicalData"]), "FIXTURE"]) {
      expect(text).not.toContain(value);
    }
    expect(fake.requests("veriff")).toEqual([
      expect.objectContaining({ method: "GET", path: `/v1/sessions/${SESSION}/decision`, authenticated: true, answer: 200 }),
    ]);
    expect(fake.requests("veriff")[0]?.headers).toEqual(expect.arrayContaining(["content-type", "x-auth-client", "x-hmac-signature"]));
  });

  it("an answer whose signature does not match its body is rejected", async () => {
    fake.setVeriff(SESSION, approved);
    fake.fault("veriff", { kind: "bad-signature" }, { id: SESSION });
    expect(await lookup(veriffApi(), SESSION)).toEqual({ kind: "rejected", reason: "response signature mismatch" });
  });

  it("a wrong secret gets Veriff's 401 (1818), whose signature our secret cannot verify either", async () => {
    fake.setVeriff(SESSION, approved);
    expect(await lookup(veriffApi({ apiSecret: "not-the-secret" }), SESSION)).toEqual({
      kind: "rejected",
      reason: "response signature mismatch",
    });
    expect(fake.requests("veriff")).toEqual([expect.objectContaining({ authFailure: "signature-mismatch", answer: 401 })]);
  });

  it("an unknown API key gets a 401 named by its status only", async () => {
    expect(await lookup(veriffApi({ apiKey: "11111111-2222-4333-8444-555555555555" }), SESSION)).toEqual({
      kind: "rejected",
      reason: "HTTP 401",
    });
    expect(fake.requests("veriff")).toEqual([expect.objectContaining({ authFailure: "unknown-key", answer: 401 })]);
  });

  it("no decision yet, and an unknown session", async () => {
    fake.setVeriff(SESSION, fixtureJson("veriff", "api-decision-none.json"));
    expect(await lookup(veriffApi(), SESSION)).toEqual({ kind: "no-decision" });
    expect(await lookup(veriffApi(), "99999999-2222-4333-8444-555555555555")).toEqual({ kind: "not-found" });
  });
});

describe("fault injection through the polite fetcher", () => {
  it("500s are retried until the answer comes", async () => {
    fake.setIdngo(APPLICANT, fixtureJson("idngo", "api-status-completed-green.json"));
    fake.fault("idngo", { kind: "500" }, { id: APPLICANT, times: 2 });
    expect(await lookup(idngoApi(), APPLICANT)).toMatchObject({ kind: "event", draft: { status: "approved" } });
    expect(fake.requests("idngo").map((r) => r.answer)).toEqual([500, 500, 200]);
    expect(fake.requests("idngo").every((r) => r.authenticated)).toBe(true);
  });

  it("a 429 with Retry-After is waited for; a long one is left to the next pass", async () => {
    fake.setVeriff(SESSION, fixtureJson("veriff", "api-decision-approved.json"));
    fake.fault("veriff", { kind: "429", retryAfter: "1" });
    // The waits the fetcher asks for, recorded (and really waited): the Retry-After of 1 s is one of them.
    const waits: number[] = [];
    const sleep = (ms: number, signal?: AbortSignal): Promise<void> => {
      waits.push(ms);
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    };
    const fetcher = createPoliteFetcher({ ratePerSecond: 50, baseDelayMs: 10, maxDelayMs: 50, timeoutMs: 400, sleep });
    expect(await lookup(veriffApi(), SESSION, fetcher)).toMatchObject({ kind: "event" });
    expect(waits).toContain(1_000);
    expect(fake.requests("veriff").map((r) => r.answer)).toEqual([429, 200]);

    fake.reset();
    fake.setVeriff(SESSION, fixtureJson("veriff", "api-decision-approved.json"));
    fake.fault("veriff", { kind: "429", retryAfter: "120" });
    await expect(lookup(veriffApi(), SESSION)).rejects.toBeInstanceOf(RetryLater);
    expect(fake.requests("veriff")).toHaveLength(1);
  });

  it("a hanging answer times out and is retried", async () => {
    fake.setIdngo(APPLICANT, fixtureJson("idngo", "api-status-pending.json"));
    fake.fault("idngo", { kind: "hang" }, { id: APPLICANT });
    expect(await lookup(idngoApi(), APPLICANT)).toMatchObject({ kind: "event", draft: { status: "submitted" } });
    expect(fake.requests("idngo").map((r) => r.answer)).toEqual(["hang", 200]);
  });

  it("a provider that keeps failing is ProviderUnavailable after maxAttempts, and the other provider is unaffected", async () => {
    fake.setVeriff(SESSION, fixtureJson("veriff", "api-decision-approved.json"));
    fake.setIdngo(APPLICANT, fixtureJson("idngo", "api-status-completed-green.json"));
    fake.fault("veriff", { kind: "500" }, { times: 10 });
    const [veriff, idngo] = await Promise.allSettled([lookup(veriffApi(), SESSION), lookup(idngoApi(), APPLICANT)]);
    expect(veriff).toMatchObject({ status: "rejected", reason: expect.any(ProviderUnavailable) });
    expect(veriff.status === "rejected" && String(veriff.reason)).toContain("HTTP 500 after 4 attempts");
    expect(idngo).toMatchObject({ status: "fulfilled", value: { kind: "event" } });
    expect(fake.requests("veriff")).toHaveLength(4);
    expect(fake.requests("idngo")).toHaveLength(1);
  });
});
