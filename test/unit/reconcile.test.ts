import { describe, expect, it } from "vitest";
import type { EventDraft } from "../../lambdas/core/canonical.js";
import { RECONCILER } from "../../lambdas/core/contract.js";
import type { NormalizedEvent, ProviderId } from "../../lambdas/core/event.js";
import {
  type ConfiguredApi,
  createReconciler,
  failedProviders,
  passAnswer,
  type ReconcileDeps,
  ReconciliationIncomplete,
} from "../../lambdas/reconciler/reconcile.js";
import { reconcileOptionsOf } from "../../lambdas/reconciler/request.js";
import type { ApiRequest, ApiResponse, LookupResult, StatusApi } from "../../lambdas/reconciler/types.js";
import { recordingLogger, recordingMetrics } from "../support/apigw.js";

const NOW = new Date("2026-11-22T12:00:00.000Z");

const draft = (correlationId: string, status: "approved" | "submitted"): EventDraft => ({
  eventId: `idngo:reconcile:${correlationId.slice(6)}`,
  correlationId,
  provider: "idngo",
  providerEventType: "status-api",
  status,
  occurredAt: "2026-11-21T10:00:00.000Z",
  receivedAt: NOW.toISOString(),
  subject: {},
  decision: null,
  attemptId: null,
  sandbox: false,
  unmapped: null,
  origin: "reconciliation",
});

/** A status API whose answers are given per verification id (the id after `idngo:`); `throws` ids make the fetch fail. */
function fakeApi(answers: Record<string, LookupResult | "throws">): ConfiguredApi & { asked: string[] } {
  const asked: string[] = [];
  const api: StatusApi = {
    provider: "idngo",
    verificationIdOf: (correlationId) => (correlationId.startsWith("idngo:action:") ? undefined : correlationId.slice(6)),
    request: (id): ApiRequest => ({ method: "GET", url: `https://api.example/${id}`, headers: {} }),
    parse: (_correlationId, id): LookupResult => {
      const answer = answers[id];
      if (answer === undefined || answer === "throws") throw new Error("unexpected parse");
      return answer;
    },
  };
  return {
    api,
    asked,
    fetch: async (request) => {
      const built = typeof request === "function" ? request() : request;
      const id = built.url.split("/").at(-1) ?? "";
      asked.push(id);
      if (answers[id] === "throws") throw Object.assign(new Error("no answer"), { name: "ProviderUnavailable" });
      return { status: 200, headers: {}, body: "{}" } satisfies ApiResponse;
    },
  };
}

function setup(
  candidates: Partial<Record<ProviderId, string[] | "unreadable">>,
  api: (provider: ProviderId) => Promise<ConfiguredApi | undefined>,
) {
  const enqueued: NormalizedEvent[] = [];
  const windows: [ProviderId, string, string][] = [];
  const metrics = recordingMetrics();
  const logger = recordingLogger();
  const deps: ReconcileDeps = {
    candidates: async function* (provider, from, before) {
      windows.push([provider, from, before]);
      const ids = candidates[provider] ?? [];
      if (ids === "unreadable") throw Object.assign(new Error("Requested resource not found"), { name: "ResourceNotFoundException" });
      yield* ids;
    },
    api,
    enqueue: async (event) => {
      enqueued.push(event);
    },
    logger,
    metrics,
    now: () => NOW,
  };
  return { reconcile: createReconciler(deps), enqueued, windows, metrics, logger };
}

const options = { olderThanHours: 24, maxAgeDays: 30, maxLookups: 100, providers: ["idngo", "idbeyond"] as ProviderId[] };

describe("a reconciliation pass", () => {
  it("looks up the window's candidates, enqueues what the provider reports, and counts each outcome", async () => {
    const api = fakeApi({
      a: { kind: "event", draft: draft("idngo:a", "approved"), final: true },
      b: { kind: "event", draft: draft("idngo:b", "submitted"), final: false },
      c: { kind: "no-decision" },
      d: { kind: "rejected", reason: "HTTP 401" },
      e: "throws",
    });
    const run = setup(
      { idngo: ["idngo:a", "idngo:b", "idngo:c", "idngo:d", "idngo:e", "idngo:action:x"], idbeyond: ["idbeyond:z"] },
      async (p) => (p === "idngo" ? api : undefined),
    );
    const report = await run.reconcile(options);
    expect(run.windows).toEqual([
      ["idngo", "2026-10-23T12:00:00.000Z", "2026-11-21T12:00:00.000Z"],
      ["idbeyond", "2026-10-23T12:00:00.000Z", "2026-11-21T12:00:00.000Z"],
    ]);
    const idngo = report.providers.find((p) => p.provider === "idngo");
    expect(idngo).toMatchObject({
      polled: true,
      stuck: 6,
      lookedUp: 5,
      changed: 1,
      unchanged: 2,
      failed: 2,
      notLookedUp: 1,
      stuckAfter: 5,
    });
    expect(new Set(api.asked)).toEqual(new Set(["a", "b", "c", "d", "e"]));
    expect(idngo?.lookups.find((l) => l.correlationId === "idngo:e")).toEqual({
      correlationId: "idngo:e",
      result: "failed",
      status: null,
      reason: "ProviderUnavailable",
    });
    expect(idngo?.lookups.find((l) => l.correlationId === "idngo:d")).toMatchObject({ result: "failed", reason: "HTTP 401" });
    // Both answers with a status go to the queue (the transition rule decides), as canonical events.
    expect(run.enqueued.map((e) => [e.correlationId, e.status, e.origin, e.specVersion])).toEqual(
      expect.arrayContaining([
        ["idngo:a", "approved", "reconciliation", "1"],
        ["idngo:b", "submitted", "reconciliation", "1"],
      ]),
    );
    expect(run.enqueued).toHaveLength(2);
    // A provider without an API is counted, not polled.
    expect(report.providers.find((p) => p.provider === "idbeyond")).toMatchObject({ polled: false, stuck: 1, lookedUp: 0, stuckAfter: 1 });
    expect(run.metrics.total("StuckVerifications")).toBe(6);
    expect(run.metrics.total("ReconciliationChanged")).toBe(1);
    expect(run.metrics.total("ReconciliationFailures")).toBe(2);
    expect(run.metrics.flushes).toBe(1);
  });

  it("a dry run enqueues nothing; at most maxLookups per provider, the first candidates first", async () => {
    const answers = Object.fromEntries(
      ["a", "b", "c"].map((id) => [id, { kind: "event", draft: draft(`idngo:${id}`, "approved"), final: true } as const]),
    );
    const api = fakeApi(answers);
    const run = setup({ idngo: ["idngo:a", "idngo:b", "idngo:c"] }, async () => api);
    const report = await run.reconcile({ ...options, providers: ["idngo"], dryRun: true, maxLookups: 2 });
    expect(run.enqueued).toEqual([]);
    expect(report.dryRun).toBe(true);
    expect(api.asked.sort()).toEqual(["a", "b"]);
    expect(report.providers[0]).toMatchObject({ stuck: 3, lookedUp: 2, changed: 2, deferred: 1, stuckAfter: 1 });
  });

  it("starts no lookup once the function's time left is under the reserve: the rest are deferred, the pass still ends with its metrics", async () => {
    const answers = Object.fromEntries(
      ["a", "b", "c", "d"].map((id) => [id, { kind: "event", draft: draft(`idngo:${id}`, "approved"), final: true } as const]),
    );
    const api = fakeApi(answers);
    const run = setup({ idngo: ["idngo:a", "idngo:b", "idngo:c", "idngo:d"] }, async () => api);
    const reserveMs = RECONCILER.reserveSeconds * 1000;
    // Time enough for two lookups, then just under the reserve.
    const left = [reserveMs + 60_000, reserveMs, reserveMs - 1];
    const report = await run.reconcile({ ...options, providers: ["idngo"], remainingTimeMs: () => left.shift() ?? 0 });
    expect(api.asked.sort()).toEqual(["a", "b"]);
    expect(report.providers[0]).toMatchObject({ stuck: 4, lookedUp: 2, changed: 2, deferred: 2, stuckAfter: 2 });
    expect(run.metrics.total("StuckVerifications")).toBe(2);
    expect(run.metrics.flushes).toBe(1);
  });

  it("one provider's broken credentials: its stuck verifications are still counted, the error is reported, the others go on", async () => {
    const api = fakeApi({ a: { kind: "event", draft: draft("idngo:a", "approved"), final: true } });
    const run = setup({ idngo: ["idngo:a"], veriff: ["veriff:s", "veriff:t"] }, async (p) => {
      if (p === "veriff") throw Object.assign(new Error("the veriff API credentials secret lacks apiSecret"), { name: "ConfigError" });
      return api;
    });
    const report = await run.reconcile({ ...options, providers: ["veriff", "idngo"] });
    expect(report.providers.map((p) => [p.provider, p.polled, p.stuck, p.stuckAfter, p.failed, p.changed, p.error])).toEqual([
      ["veriff", false, 2, 2, 0, 0, "credentials: ConfigError: the veriff API credentials secret lacks apiSecret"],
      ["idngo", true, 1, 0, 0, 1, undefined],
    ]);
    expect(failedProviders(report)).toEqual(["veriff (credentials: ConfigError: the veriff API credentials secret lacks apiSecret)"]);
    // Still alarmed on: counted as stuck, and as a failure of the provider.
    expect(run.metrics.total("StuckVerifications")).toBe(2);
    expect(run.metrics.total("ReconciliationFailures")).toBe(1);
    expect(run.logger.lines.some((l) => l.includes('"level":"error"') && l.includes("veriff"))).toBe(true);
  });

  it("one provider's unreadable index: reported, no stuck count invented, the others go on", async () => {
    const api = fakeApi({ a: { kind: "event", draft: draft("idngo:a", "approved"), final: true } });
    const run = setup({ idngo: ["idngo:a"], veriff: "unreadable" }, async (p) => (p === "idngo" ? api : undefined));
    const report = await run.reconcile({ ...options, providers: ["veriff", "idngo"] });
    expect(report.providers[0]).toMatchObject({
      provider: "veriff",
      stuck: 0,
      error: "candidates: ResourceNotFoundException: Requested resource not found",
    });
    expect(report.providers[1]).toMatchObject({ provider: "idngo", changed: 1 });
    // A scheduled pass fails (the ReconcilerErrors alarm) once every provider had its turn; the CLI gets the report.
    expect(() => passAnswer(report, { source: "schedule" })).toThrow(
      new ReconciliationIncomplete(["veriff (candidates: ResourceNotFoundException: Requested resource not found)"]),
    );
    expect(() => passAnswer(report, {})).toThrow(ReconciliationIncomplete);
    expect(passAnswer(report, { source: "cli" })).toBe(report);
    const complete = { ...report, providers: report.providers.slice(1) };
    expect(passAnswer(complete, { source: "schedule" })).toBe(complete);
    // idngo's count only: veriff's is unknown, not 0.
    expect([...run.metrics.counts.keys()].filter((k) => k.startsWith("StuckVerifications"))).toHaveLength(1);
    expect(run.metrics.total("ReconciliationFailures")).toBe(1);
  });

  it("records metrics only when asked to (the scheduled kind of pass), and by default not for a dry run", async () => {
    const api = fakeApi({ a: { kind: "event", draft: draft("idngo:a", "approved"), final: true } });
    for (const [passOptions, recorded] of [
      [{ ...options }, true],
      [{ ...options, dryRun: true }, false],
      [{ ...options, recordMetrics: false }, false],
      [{ ...options, dryRun: true, recordMetrics: true }, true],
    ] as const) {
      const run = setup({ idngo: ["idngo:a"] }, async () => api);
      await run.reconcile(passOptions);
      expect(run.metrics.counts.size > 0, JSON.stringify(passOptions)).toBe(recorded);
      expect(run.metrics.flushes).toBe(1);
    }
  });

  it("logs a lookup the provider refused by its reason only, as a warning", async () => {
    const api = fakeApi({ d: { kind: "rejected", reason: "HTTP 401 (app-token-signature-mismatch, 4003)" }, n: { kind: "not-found" } });
    const run = setup({ idngo: ["idngo:d", "idngo:n"] }, async () => api);
    await run.reconcile({ ...options, providers: ["idngo"] });
    const warnings = run.logger.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["level"] === "warn");
    expect(warnings.map((w) => [w["correlationId"], w["reason"]]).sort()).toEqual([
      ["idngo:d", "HTTP 401 (app-token-signature-mismatch, 4003)"],
      ["idngo:n", "unknown to the provider"],
    ]);
  });
});

describe("reconcileOptionsOf", () => {
  const defaults = { olderThanHours: 24, maxAgeDays: 30, maxLookups: 500 };
  it("records metrics for a pass at the configured age that enqueues, not for a dry run or another age", () => {
    expect(reconcileOptionsOf({ source: "schedule" }, defaults)).toMatchObject({
      source: "schedule",
      recordMetrics: true,
      olderThanHours: 24,
    });
    expect(reconcileOptionsOf({ olderThanHours: 24, provider: "idngo" }, defaults)).toMatchObject({
      recordMetrics: true,
      providers: ["idngo"],
    });
    expect(reconcileOptionsOf({ olderThanHours: 2 }, defaults)).toMatchObject({ recordMetrics: false, olderThanHours: 2 });
    expect(reconcileOptionsOf({ dryRun: true }, defaults)).toMatchObject({ recordMetrics: false, dryRun: true });
    expect(reconcileOptionsOf(undefined, defaults)).toMatchObject({ recordMetrics: true, dryRun: false });
  });

  it("refuses anything else, naming the fields only", () => {
    expect(() => reconcileOptionsOf({ olderThanHours: 720 }, defaults)).toThrow("not a reconcile request: olderThanHours");
    expect(() => reconcileOptionsOf({ secret: "x" }, defaults)).toThrow(/not a reconcile request/);
    expect(() => reconcileOptionsOf({ secret: "x" }, defaults)).not.toThrow(/"x"/);
    for (const request of [[], [{ dryRun: true }], "x", 42, true]) {
      expect(() => reconcileOptionsOf(request, defaults)).toThrow(/not a reconcile request/);
    }
  });
});
