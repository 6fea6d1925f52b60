/**
 * Reconciliation end to end: the local pipeline, the provider APIs' fakes (every request's signature
 * checked as the provider checks it, answers from the providers' published examples), and
 * `kyc reconcile` as an operator runs it. The reconciler's clock runs a day ahead, so that what was
 * just applied already counts as unchanged for 24 hours.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProviderId, Status } from "../../lambdas/core/event.js";
import type { ReconcileReport } from "../../lambdas/reconciler/reconcile.js";
import { sampleSessionId, sampleWebhook } from "../../local/samples.js";
import { kyc, pipelineEnv } from "../support/cli.js";
import { consumeStatusChanges, readVerification, useLocalPipeline } from "../support/pipeline.js";
import { FAKE_IDNGO, FAKE_VERIFF, type FakeProviderApis, startFakeProviderApis } from "../support/provider-apis.js";
import { fixtureJson } from "../support/providers.js";

const DAY_AHEAD_MS = 25 * 3_600_000;
const SECRETS: Record<ProviderId, string> = { veriff: "rc-veriff", idngo: "rc-idngo", idbeyond: "rc-idbeyond", neurovision: "rc-nv" };
/** Values of the API fixtures that are personal data (or stand for it): they must never leave the reconciler. */
const PERSONAL = ["FIXTUREFIRST", "FIXTURELAST", "FIXID0000001", "FIXDOC123456", "Fixture Street", "198.51.100.23", "fixture-vendor-0001"];

let fakes: FakeProviderApis;
beforeAll(async () => {
  fakes = await startFakeProviderApis({ now: () => Date.now() + DAY_AHEAD_MS });
});
afterAll(async () => {
  await fakes.close();
});

const local = useLocalPipeline(
  SECRETS,
  {
    reconcilerClock: () => new Date(Date.now() + DAY_AHEAD_MS),
    // Quick retries: the pacing is tested with a fake clock (test/unit/polite-fetch.test.ts).
    reconcilerFetchOptions: { ratePerSecond: 200, burst: 10, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 400, maxRetryAfterMs: 1_500 },
  },
  () => ({
    IDNGO_API_URL: fakes.baseUrls.idngo,
    IDNGO_APP_TOKEN: FAKE_IDNGO.appToken,
    IDNGO_APP_SECRET: FAKE_IDNGO.appSecret,
    VERIFF_API_URL: fakes.baseUrls.veriff,
    VERIFF_API_KEY: FAKE_VERIFF.apiKey,
    VERIFF_API_SECRET: FAKE_VERIFF.apiSecret,
  }),
);

async function deliver(provider: ProviderId, status: Status, sessionId: string, minute: number): Promise<void> {
  const request = sampleWebhook(provider, status, SECRETS[provider], {
    sessionId,
    userKey: `user-${sessionId.slice(0, 8)}`,
    occurredAt: new Date(Date.now() - 3_600_000 + minute * 60_000),
    attemptId: "0f0e0d0c-0b0a-4909-8807-0605040302aa",
  });
  const res = await fetch(`${local.pipeline.url}/webhooks/${provider}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: request.body,
  });
  expect(res.status).toBe(200);
}

async function statusOf(correlationId: string, expected: Status | null, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let view = await readVerification(local.pipeline, correlationId);
  while ((view?.status ?? null) !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    view = await readVerification(local.pipeline, correlationId);
  }
  expect(view?.status ?? null).toBe(expected);
}

async function reconcile(...args: string[]): Promise<{ code: number; report: ReconcileReport; stderr: string }> {
  const run = await kyc(["reconcile", "--json", ...args], pipelineEnv(local.pipeline));
  const [report] = run.json<ReconcileReport>();
  if (report === undefined) throw new Error(`kyc reconcile printed no report: ${run.stderr}`);
  return { code: run.code, report, stderr: run.stderr };
}

const of = (report: ReconcileReport, provider: ProviderId) => report.providers.find((p) => p.provider === provider);

/** IDnGO's status answer for a completed GREEN review, reviewed after the webhooks the test delivered. */
const idngoGreen = () => ({
  ...fixtureJson("idngo", "api-status-completed-green.json"),
  reviewDate: `${new Date(Date.now()).toISOString().replace("T", " ").slice(0, 19)}+0000`,
});
const veriffApproved = (sessionId: string) => {
  const body = fixtureJson("veriff", "api-decision-approved.json");
  return { ...body, verification: { ...(body["verification"] as object), id: sessionId, decisionTime: new Date().toISOString() } };
};

describe("kyc reconcile against the providers' status APIs", () => {
  it("a decision webhook that never came: the verification reaches it, one status change, a second pass changes nothing, the late webhook is a duplicate or stale", async () => {
    const applicant = sampleSessionId("idngo");
    const session = sampleSessionId("veriff");
    await deliver("idngo", "submitted", applicant, 1);
    await deliver("veriff", "started", session, 1);
    await statusOf(`idngo:${applicant}`, "submitted");
    await statusOf(`veriff:${session}`, "started");
    await consumeStatusChanges(local.pipeline, (c) => c.length >= 2, { quietMs: 500 });
    fakes.setIdngo(applicant, idngoGreen());
    fakes.setVeriff(session, veriffApproved(session));

    const first = await reconcile();
    expect(first.code).toBe(0);
    expect(of(first.report, "idngo")?.lookups).toContainEqual({
      correlationId: `idngo:${applicant}`,
      result: "changed",
      status: "approved",
    });
    expect(of(first.report, "veriff")?.lookups).toContainEqual({
      correlationId: `veriff:${session}`,
      result: "changed",
      status: "approved",
    });
    await statusOf(`idngo:${applicant}`, "approved");
    await statusOf(`veriff:${session}`, "approved");
    const changes = await consumeStatusChanges(local.pipeline, (c) => c.length >= 2, { quietMs: 1_000 });
    expect(changes.map((c) => [c.correlationId, c.previousStatus, c.status]).sort()).toEqual(
      [
        [`idngo:${applicant}`, "submitted", "approved"],
        [`veriff:${session}`, "started", "approved"],
      ].sort(),
    );
    for (const value of PERSONAL) expect(JSON.stringify(changes)).not.toContain(value);
    // The history says where it came from.
    const history = (await readVerification(local.pipeline, `idngo:${applicant}`))?.history ?? [];
    expect(history.find((h) => h.status === "approved")).toMatchObject({ outcome: "applied", origin: "reconciliation" });

    // A second pass: both are final now, nothing to look up, nothing changes.
    const requestsBefore = fakes.requests().length;
    const second = await reconcile();
    expect(second.code).toBe(0);
    expect(of(second.report, "idngo")?.lookups.map((l) => l.correlationId)).not.toContain(`idngo:${applicant}`);
    expect(fakes.requests().filter((r) => r.id === applicant || r.id === session).length).toBe(
      fakes
        .requests()
        .slice(0, requestsBefore)
        .filter((r) => r.id === applicant || r.id === session).length,
    );

    // The decision webhook arrives after all: recorded as a duplicate or stale, no status change.
    await deliver("idngo", "approved", applicant, 30);
    await deliver("veriff", "approved", session, 30);
    const deadline = Date.now() + 10_000;
    const outcomes = async (id: string) => (await readVerification(local.pipeline, id))?.history.map((h) => h.outcome) ?? [];
    while (
      ((await outcomes(`idngo:${applicant}`)).length < 3 || (await outcomes(`veriff:${session}`)).length < 3) &&
      Date.now() < deadline
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    for (const id of [`idngo:${applicant}`, `veriff:${session}`]) {
      const late = (await readVerification(local.pipeline, id))?.history.at(-1);
      expect(["duplicate", "stale"]).toContain(late?.outcome);
    }
    expect(await consumeStatusChanges(local.pipeline, () => false, { timeoutMs: 1_500, quietMs: 0 })).toEqual([]);
  }, 60_000);

  it("asking twice before the consumer applied the first answer enqueues the same event: applied once", async () => {
    const applicant = sampleSessionId("idngo");
    const correlationId = `idngo:${applicant}`;
    await deliver("idngo", "submitted", applicant, 1);
    await statusOf(correlationId, "submitted");
    await consumeStatusChanges(local.pipeline, (c) => c.some((x) => x.correlationId === correlationId), { quietMs: 300 });
    fakes.setIdngo(applicant, idngoGreen());
    // Both passes read their candidates before either answer arrives (each is held back 300 ms), so
    // both look the verification up and both enqueue the answer.
    fakes.fault("idngo", { kind: "delay", ms: 300 }, { id: applicant, times: 2 });
    const pass = async (): Promise<ReconcileReport> => {
      const answer = await fetch(`${local.pipeline.url}/reconcile`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ source: "cli", provider: "idngo" }),
      });
      expect(answer.status).toBe(200);
      return (await answer.json()) as ReconcileReport;
    };
    const [a, b] = await Promise.all([pass(), pass()]);
    for (const report of [a, b]) {
      expect(of(report, "idngo")?.lookups).toContainEqual({ correlationId, result: "changed", status: "approved" });
    }
    await statusOf(correlationId, "approved");
    const changes = await consumeStatusChanges(local.pipeline, (c) => c.length >= 1, { quietMs: 1_500 });
    expect(changes.filter((c) => c.correlationId === correlationId)).toHaveLength(1);
    const history = (await readVerification(local.pipeline, correlationId))?.history ?? [];
    expect(history.filter((h) => h.status === "approved")).toHaveLength(1);
  }, 60_000);

  it("a provider answering 500, 429 or not at all does no harm: retried within the pass or left for the next one, the other provider goes on", async () => {
    const flaky = sampleSessionId("idngo");
    const limited = sampleSessionId("idngo");
    const hanging = sampleSessionId("idngo");
    const pending = sampleSessionId("veriff");
    for (const id of [flaky, limited, hanging]) await deliver("idngo", "submitted", id, 1);
    await deliver("veriff", "submitted", pending, 1);
    for (const id of [flaky, limited, hanging]) await statusOf(`idngo:${id}`, "submitted");
    await statusOf(`veriff:${pending}`, "submitted");
    await consumeStatusChanges(local.pipeline, (c) => c.length >= 4, { quietMs: 300 });
    for (const id of [flaky, limited, hanging]) fakes.setIdngo(id, idngoGreen());
    fakes.setVeriff(pending, fixtureJson("veriff", "api-decision-none.json"));
    fakes.fault("idngo", { kind: "500" }, { id: flaky, times: 2 }); // retried within the pass
    fakes.fault("idngo", { kind: "hang" }, { id: hanging, times: 4 }); // every attempt times out

    const first = await reconcile("--dry-run");
    expect(first.code).toBe(1); // some lookups failed
    const idngo = of(first.report, "idngo");
    const line = (id: string) => idngo?.lookups.find((l) => l.correlationId === `idngo:${id}`);
    expect(line(flaky)).toMatchObject({ result: "changed", status: "approved" });
    expect(line(limited)).toMatchObject({ result: "changed", status: "approved" });
    expect(line(hanging)).toMatchObject({ result: "failed", reason: "ProviderUnavailable" });
    // Veriff is not held up, and has no decision yet.
    expect(of(first.report, "veriff")?.lookups.find((l) => l.correlationId === `veriff:${pending}`)).toMatchObject({
      result: "unchanged",
      reason: "no decision yet",
    });
    // A dry run enqueued nothing.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await statusOf(`idngo:${flaky}`, "submitted", 0);
    expect(
      fakes
        .requests("idngo")
        .filter((r) => r.id === flaky)
        .map((r) => r.answer),
    ).toEqual([500, 500, 200]);

    // A Retry-After longer than a pass waits holds for the whole provider, for the rest of the pass:
    // nothing more is sent to it, and its other lookups wait for the next pass too.
    fakes.fault("idngo", { kind: "429", retryAfter: "3600" }, { id: limited, times: 1 });
    const sentBefore = fakes.requests("idngo").length;
    const paused = await reconcile("--dry-run");
    const sent = fakes.requests("idngo").slice(sentBefore);
    const limitedAt = sent.findIndex((r) => r.id === limited && r.answer === 429);
    expect(limitedAt).toBeGreaterThanOrEqual(0);
    // Only attempts already on their way when the 429 reached the client (2 in flight at most).
    expect(sent.slice(limitedAt + 1).length).toBeLessThanOrEqual(2);
    const pausedLines = of(paused.report, "idngo")?.lookups ?? [];
    expect(pausedLines.find((l) => l.correlationId === `idngo:${limited}`)).toMatchObject({ result: "failed", reason: "RetryLater" });
    for (const l of pausedLines) expect(l.result === "changed" || l.reason === "RetryLater").toBe(true);

    // The next pass: the faults are over, everything settles.
    const second = await reconcile();
    expect(second.code).toBe(0);
    for (const id of [flaky, limited, hanging]) await statusOf(`idngo:${id}`, "approved");
    await statusOf(`veriff:${pending}`, "submitted", 0);
    // Every request the fake received was signed as the provider requires.
    expect(fakes.requests().every((r) => r.authenticated)).toBe(true);
  }, 60_000);

  it("providers without a status API are counted, not polled; personal data in the APIs' answers appears nowhere", async () => {
    const idbeyond = sampleSessionId("idbeyond");
    await deliver("idbeyond", "submitted", idbeyond, 1);
    await statusOf(`idbeyond:${idbeyond}`, "submitted");
    const stuckKey = `StuckVerifications ${JSON.stringify({ provider: "idbeyond" })}`;
    const stuckBefore = local.metrics.get("kyc-reconciler")?.counts.get(stuckKey) ?? 0;
    const run = await reconcile("--provider", "idbeyond");
    expect(of(run.report, "idbeyond")).toMatchObject({ polled: false, lookedUp: 0 });
    expect(of(run.report, "idbeyond")?.stuck).toBeGreaterThanOrEqual(1);
    // This pass's own count for id beyond (at the configured age, so it is recorded).
    expect((local.metrics.get("kyc-reconciler")?.counts.get(stuckKey) ?? 0) - stuckBefore).toBeGreaterThanOrEqual(1);

    // A Veriff decision answer full of personal data (person, document, address, IP) goes through the pipeline.
    const session = sampleSessionId("veriff");
    await deliver("veriff", "submitted", session, 1);
    await statusOf(`veriff:${session}`, "submitted");
    await consumeStatusChanges(local.pipeline, (c) => c.some((x) => x.correlationId === `veriff:${session}`), { quietMs: 300 });
    const answer = veriffApproved(session);
    for (const value of PERSONAL) expect(JSON.stringify(answer)).toContain(value);
    fakes.setVeriff(session, answer);
    const veriffRun = await reconcile("--provider", "veriff");
    expect(of(veriffRun.report, "veriff")?.lookups).toContainEqual({
      correlationId: `veriff:${session}`,
      result: "changed",
      status: "approved",
    });
    await statusOf(`veriff:${session}`, "approved");
    const changes = await consumeStatusChanges(local.pipeline, (c) => c.some((x) => x.correlationId === `veriff:${session}`), {
      quietMs: 500,
    });
    const view = await readVerification(local.pipeline, `veriff:${session}`);
    expect(view?.history).toContainEqual(expect.objectContaining({ status: "approved", outcome: "applied", origin: "reconciliation" }));

    // Everything the pipeline wrote: logs, the reports, the table (through the read API), the messages.
    const written = [
      JSON.stringify(local.logger.lines),
      JSON.stringify([run.report, veriffRun.report]),
      JSON.stringify(view),
      JSON.stringify(changes),
    ].join("\n");
    for (const value of PERSONAL) expect(written).not.toContain(value);
  }, 60_000);
});
