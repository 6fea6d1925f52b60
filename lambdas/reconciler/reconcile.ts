/**
 * One reconciliation pass (docs/reconciliation.md): for each provider, the verifications that are
 * not in a final status and whose status has not changed for `olderThanHours` (the sparse index
 * TABLE.pendingIndex, never a scan) are counted; where the provider's status API is configured,
 * each is looked up and the answer goes onto the events queue as a normalized event, so the same
 * transition rule, exactly-once effect and status-change message apply as for a webhook.
 *
 * Providers run side by side and each has its own polite fetcher (rate, concurrency, retries):
 * one failing or slow provider never holds up another. Nothing of an answer but its status
 * fields is kept, and nothing of it is logged.
 */
import { canonicalEvent } from "../core/canonical.js";
import { RECONCILER } from "../core/contract.js";
import { describeError } from "../core/errors.js";
import type { NormalizedEvent, ProviderId } from "../core/event.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import type { RequestBudget } from "./polite-fetch.js";
import type { ApiRequest, ApiResponse, LookupResult, StatusApi } from "./types.js";

/** A provider whose status API can be called: its API and the fetcher that paces the calls. */
export interface ConfiguredApi {
  readonly api: StatusApi;
  /** Sends a request built (and signed) by the given function, once per attempt, within `budget`. */
  readonly fetch: (request: ApiRequest | (() => ApiRequest), budget?: RequestBudget) => Promise<ApiResponse>;
}

export interface ReconcileDeps {
  /**
   * The correlationIds of `provider`'s verifications not in a final status whose last status
   * change lies between `from` and `before`, the most recently changed first.
   */
  readonly candidates: (provider: ProviderId, from: string, before: string) => AsyncIterable<string>;
  /**
   * The provider's status API, when it has one and its credentials are configured (undefined: its
   * stuck verifications are counted, not polled). Throws when the credentials are malformed.
   */
  readonly api: (provider: ProviderId) => Promise<ConfiguredApi | undefined>;
  /** Resolves once SQS holds the event (the ingest enqueuer). */
  readonly enqueue: (event: NormalizedEvent) => Promise<void>;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  readonly now?: () => Date;
}

export interface ReconcileOptions {
  /** Who asked (`schedule`, `cli`): informational, and whether an incomplete pass fails the invocation (handler). */
  readonly source?: string;
  /** Hours since the last status change after which a verification is looked up. */
  readonly olderThanHours: number;
  /** Days since the last status change after which a verification is left alone (neither looked up nor counted). */
  readonly maxAgeDays: number;
  /** Only these providers (default: all). */
  readonly providers: readonly ProviderId[];
  /** Look up, but enqueue nothing. */
  readonly dryRun?: boolean;
  /** Lookups per provider in this pass; the most recently changed first, the rest wait for the next pass. */
  readonly maxLookups: number;
  /**
   * The time the invocation has left, in ms (Lambda's `context.getRemainingTimeInMillis`). No
   * lookup starts once it is under RECONCILER.reserveSeconds: the pass then ends with its metrics
   * and report instead of being cut off by the function's timeout. Unset (local mode): no limit.
   */
  readonly remainingTimeMs?: () => number;
  /**
   * Whether this pass's counts go to the metrics (default: unless a dry run). Only the scheduled
   * kind of pass (the configured age, not a dry run) should: a pass at another age would move the
   * StuckVerifications alarm with counts of another measure.
   */
  readonly recordMetrics?: boolean;
}

/** What one lookup did, for the CLI: ids and statuses only. */
export interface LookupLine {
  readonly correlationId: string;
  /** `changed`: a final status found and enqueued; `unchanged`: no final status yet; `failed`: no usable answer. */
  readonly result: "changed" | "unchanged" | "failed";
  /** The status the provider reports, when it reports one. */
  readonly status: string | null;
  /** Why, when it failed or found nothing (never a value from the answer). */
  readonly reason?: string;
}

export interface ProviderReport {
  readonly provider: ProviderId;
  /** Whether the provider's status API is configured (else its stuck verifications are only counted). */
  readonly polled: boolean;
  /** Verifications not in a final status and unchanged for longer than the age. */
  readonly stuck: number;
  readonly lookedUp: number;
  readonly changed: number;
  readonly unchanged: number;
  readonly failed: number;
  /**
   * Stuck verifications the API could look up that this pass left for the next one: beyond
   * maxLookups, or once the function's time ran short (remainingTimeMs).
   */
  readonly deferred: number;
  /** Stuck verifications whose id the API cannot look up (an attempt, transaction monitoring, an unidentified event, a digest). */
  readonly notLookedUp: number;
  /** Stuck verifications left after this pass: `stuck - changed`. */
  readonly stuckAfter: number;
  readonly lookups: readonly LookupLine[];
  /**
   * Why this provider could not be reconciled, when it could not: `candidates: …` (the index could
   * not be read: `stuck` is unknown, reported as 0) or `credentials: …` (its API credentials are
   * unusable: its stuck verifications are counted, none is looked up). An error name and our own
   * message, never a value of the credentials.
   */
  readonly error?: string;
}

export interface ReconcileReport {
  readonly startedAt: string;
  readonly olderThanHours: number;
  readonly dryRun: boolean;
  readonly providers: readonly ProviderReport[];
}

/** Runs `task` over `items` with at most `limit` running at once (the fetcher paces the calls themselves). */
async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await task(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export function createReconciler(deps: ReconcileDeps): (options: ReconcileOptions) => Promise<ReconcileReport> {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());

  async function lookup(
    configured: ConfiguredApi,
    correlationId: string,
    verificationId: string,
    budget: RequestBudget,
  ): Promise<LookupResult> {
    const { api } = configured;
    // Signed anew for every attempt: IDnGO refuses a signature timestamp a minute old, and retries can take longer.
    const response = await configured.fetch(() => api.request(verificationId, now()), budget);
    return api.parse(correlationId, verificationId, response, now().toISOString());
  }

  /** Resolves the provider's API; a failure (malformed credentials) is reported, never fatal to the count. */
  async function apiOf(provider: ProviderId): Promise<{ configured: ConfiguredApi | undefined; error?: string }> {
    try {
      return { configured: await deps.api(provider) };
    } catch (error) {
      const described = describeError(error);
      logger.error("reconciliation: the provider's API credentials are unusable; its stuck verifications are counted, not looked up", {
        provider,
        ...described,
      });
      return { configured: undefined, error: `credentials: ${described.error}: ${described.errorMessage}` };
    }
  }

  async function reconcileProvider(provider: ProviderId, from: string, before: string, options: ReconcileOptions): Promise<ProviderReport> {
    const ids: string[] = [];
    for await (const id of deps.candidates(provider, from, before)) ids.push(id);
    const { configured, error } = await apiOf(provider);
    const lookups: LookupLine[] = [];
    let notLookedUp = 0;
    let deferred = 0;
    if (configured !== undefined) {
      const work: { correlationId: string; verificationId: string }[] = [];
      for (const correlationId of ids) {
        const verificationId = configured.api.verificationIdOf(correlationId);
        if (verificationId === undefined) notLookedUp += 1;
        else if (work.length < options.maxLookups) work.push({ correlationId, verificationId });
        else deferred += 1;
      }
      const reserveMs = RECONCILER.reserveSeconds * 1000;
      const timeLeft = options.remainingTimeMs;
      // A lookup's retries end while the pass still has time for its metrics and report; a provider's
      // request for a long pause holds for the rest of the pass.
      const pause = { until: Number.NEGATIVE_INFINITY };
      const budget: RequestBudget =
        timeLeft === undefined ? { pause } : { pause, remainingMs: () => timeLeft() - RECONCILER.finishSeconds * 1000 };
      await eachLimited(work, 8, async ({ correlationId, verificationId }) => {
        if (timeLeft !== undefined && timeLeft() < reserveMs) {
          deferred += 1;
          return;
        }
        let line: LookupLine;
        try {
          const result = await lookup(configured, correlationId, verificationId, budget);
          line = await settle(correlationId, result, options.dryRun === true);
          if (line.result === "failed") {
            // An answer no retry within the pass fixes (a 4xx, a 404, an answer that does not verify):
            // the reason is ours or the provider's error identifiers, never a value of the answer.
            logger.warn("reconciliation lookup refused: asked again on the next pass", { provider, correlationId, reason: line.reason });
          }
        } catch (error) {
          const described = describeError(error);
          logger.warn("reconciliation lookup failed: retried on the next pass", { provider, correlationId, ...described });
          line = { correlationId, result: "failed", status: null, reason: described.error };
        }
        lookups.push(line);
      });
    }
    const count = (result: LookupLine["result"]) => lookups.filter((l) => l.result === result).length;
    return {
      provider,
      polled: configured !== undefined,
      stuck: ids.length,
      lookedUp: lookups.length,
      changed: count("changed"),
      unchanged: count("unchanged"),
      failed: count("failed"),
      deferred,
      notLookedUp,
      stuckAfter: ids.length - count("changed"),
      lookups,
      ...(error === undefined ? {} : { error }),
    };
  }

  /** The report of a provider whose candidates could not be read: nothing is known of it. */
  function unreadable(provider: ProviderId, reason: unknown): ProviderReport {
    const described = describeError(reason);
    logger.error("reconciliation: the provider's stuck verifications could not be read", { provider, ...described });
    return {
      provider,
      polled: false,
      stuck: 0,
      lookedUp: 0,
      changed: 0,
      unchanged: 0,
      failed: 0,
      deferred: 0,
      notLookedUp: 0,
      stuckAfter: 0,
      lookups: [],
      error: `candidates: ${described.error}: ${described.errorMessage}`,
    };
  }

  function record(report: ProviderReport): void {
    const dimensions = { provider: report.provider };
    metrics.count("ReconciliationLookups", dimensions, report.lookedUp);
    metrics.count("ReconciliationChanged", dimensions, report.changed);
    metrics.count("ReconciliationUnchanged", dimensions, report.unchanged);
    // A provider that could not be reconciled at all counts as one failure.
    metrics.count("ReconciliationFailures", dimensions, report.failed + (report.error === undefined ? 0 : 1));
    // Unknown when the index could not be read: no data point rather than a false 0.
    if (!report.error?.startsWith("candidates:")) metrics.count("StuckVerifications", dimensions, report.stuckAfter);
  }

  /** Enqueues what a lookup found (unless a dry run) and says what it did. */
  async function settle(correlationId: string, result: LookupResult, dryRun: boolean): Promise<LookupLine> {
    switch (result.kind) {
      case "event": {
        const event = canonicalEvent(result.draft);
        if (!dryRun) await deps.enqueue(event);
        return { correlationId, result: result.final ? "changed" : "unchanged", status: event.status };
      }
      case "no-decision":
        return { correlationId, result: "unchanged", status: null, reason: "no decision yet" };
      case "not-found":
        return { correlationId, result: "failed", status: null, reason: "unknown to the provider" };
      case "rejected":
        return { correlationId, result: "failed", status: null, reason: result.reason };
    }
  }

  return async (options) => {
    const startedAt = now();
    const before = new Date(startedAt.getTime() - options.olderThanHours * 3_600_000).toISOString();
    const from = new Date(startedAt.getTime() - options.maxAgeDays * 86_400_000).toISOString();
    const recordMetrics = options.recordMetrics ?? options.dryRun !== true;
    try {
      // Side by side: one provider's failure or slowness never holds up another's pass.
      const settled = await Promise.allSettled(options.providers.map((p) => reconcileProvider(p, from, before, options)));
      const providers = settled.map((outcome, i): ProviderReport => {
        const report = outcome.status === "fulfilled" ? outcome.value : unreadable(options.providers[i] as ProviderId, outcome.reason);
        if (recordMetrics) record(report);
        return report;
      });
      return { startedAt: startedAt.toISOString(), olderThanHours: options.olderThanHours, dryRun: options.dryRun === true, providers };
    } finally {
      metrics.flush();
    }
  };
}

/** The providers a pass could not reconcile, with why (ProviderReport.error). */
export function failedProviders(report: ReconcileReport): readonly string[] {
  return report.providers.flatMap((p) => (p.error === undefined ? [] : [`${p.provider} (${p.error})`]));
}

/** Thrown at the end of a scheduled pass that could not reconcile every provider (the ReconcilerErrors alarm). */
export class ReconciliationIncomplete extends Error {
  override readonly name = "ReconciliationIncomplete";
  constructor(failed: readonly string[]) {
    super(`reconciliation incomplete for ${failed.join(", ")}`);
  }
}

/**
 * What an invocation answers for a finished pass: its report, or, when a provider could not be
 * reconciled and the pass was not asked for by the CLI (which prints the report and exits 1),
 * ReconciliationIncomplete, so that the invocation fails and is alarmed on.
 */
export function passAnswer(report: ReconcileReport, options: Pick<ReconcileOptions, "source">): ReconcileReport {
  const failed = failedProviders(report);
  if (failed.length > 0 && options.source !== "cli") throw new ReconciliationIncomplete(failed);
  return report;
}
