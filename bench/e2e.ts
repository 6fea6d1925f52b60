/**
 * Bench phase 4, the driver: starts the pipeline process (bench/e2e-pipeline.ts), plays the load
 * on it over HTTP from this process (so the client does not share the pipeline's event loop),
 * measures the answers, and counts every log and EMF line the functions write, by function.
 */
import { createInterface } from "node:readline";
import type { ProviderId } from "../lambdas/core/event.js";
import { exited, nextMessage, startTsx } from "./lib/child.js";
import { type DriverMessage, E2E_SECRET, type PipelineStats } from "./lib/e2e-protocol.js";
import type { StackFacts } from "./lib/facts.js";
import { loadPlan } from "./lib/plan.js";
import { quantile } from "./lib/stats.js";

export interface LogTotals {
  lines: number;
  bytes: number;
  emfLines: number;
  emfBytes: number;
  /** Lines Lambda would drop (below the function's application log level, JSON log format). */
  droppedLines: number;
}

export interface EndToEndResult {
  readonly webhooks: number;
  readonly duplicates: number;
  readonly verifications: number;
  readonly concurrency: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly accepted: number;
  readonly acceptedPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly loadSeconds: number;
  readonly secondsToLastApplied: number | null;
  readonly secondsToLastStatusChange: number | null;
  readonly meanRequestBytes: number;
  readonly meanResponseBytes: number;
  readonly byProvider: Readonly<Record<string, number>>;
  /** Log and EMF lines written during the load, by service (the functions' and the local pipeline's own). */
  readonly logs: Readonly<Record<string, LogTotals>>;
  /** Distinct metric + dimension values seen in the EMF lines (CloudWatch bills each as a custom metric). */
  readonly customMetrics: readonly string[];
  readonly pipeline: PipelineStats;
  readonly startupSeconds: number;
}

const LEVEL_RANK: Readonly<Record<string, number>> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, CRITICAL: 5, FATAL: 5 };

type Json = Record<string, unknown>;

export async function runEndToEnd(
  facts: StackFacts,
  factsPath: string,
  options: { readonly webhooks: number; readonly duplicateShare: number; readonly concurrency: number; readonly seed: number },
): Promise<EndToEndResult> {
  const plan = loadPlan({ total: options.webhooks, duplicateShare: options.duplicateShare, secret: E2E_SECRET, seed: options.seed });
  const started = Date.now();
  const child = startTsx("bench/e2e-pipeline.ts", [factsPath], {
    stdout: "pipe",
    ipc: true,
    // Lambda's active tracing sets this per invocation; Powertools Logger copies its root into every line.
    env: { _X_AMZN_TRACE_ID: "Root=1-6740f1a2-3b4c5d6e7f8091a2b3c4d5e6;Parent=53995c3f42cd8ad8;Sampled=1" },
  });
  const tell = (message: DriverMessage) => child.send(message);

  // Lambda's JSON log format filters application lines below the function's application log level.
  const minLevel = new Map(
    facts.functions.map((f) => [f.service, f.logFormat === "JSON" ? (LEVEL_RANK[f.applicationLogLevel ?? "INFO"] ?? 2) : 0]),
  );
  const logs: Record<string, LogTotals> = {};
  const metrics = new Set<string>();
  let counting = false;
  // Powertools writes warn and error lines to stderr, the rest to stdout: Lambda captures both.
  const onLine = (line: string) => {
    if (!counting) return;
    if (!line.startsWith("{")) return; // not a log line (a runtime warning on stderr)
    let json: Json;
    try {
      json = JSON.parse(line) as Json;
    } catch {
      json = {};
    }
    const service = typeof json["service"] === "string" ? json["service"] : "other";
    const totals = logs[service] ?? { lines: 0, bytes: 0, emfLines: 0, emfBytes: 0, droppedLines: 0 };
    logs[service] = totals;
    const bytes = Buffer.byteLength(line) + 1;
    const emf = json["_aws"] !== undefined;
    const level = emf ? "INFO" : String(json["level"] ?? "INFO").toUpperCase();
    if ((LEVEL_RANK[level] ?? 2) < (minLevel.get(service) ?? 0)) {
      totals.droppedLines += 1;
      return;
    }
    if (emf) {
      totals.emfLines += 1;
      totals.emfBytes += bytes;
      for (const directive of ((json["_aws"] as Json)["CloudWatchMetrics"] ?? []) as Json[]) {
        const dimensionSets = (directive["Dimensions"] ?? []) as string[][];
        for (const metric of (directive["Metrics"] ?? []) as Json[]) {
          for (const set of dimensionSets) {
            metrics.add(
              `${String(directive["Namespace"])}/${String(metric["Name"])}{${set.map((d) => `${d}=${String(json[d])}`).join(",")}}`,
            );
          }
        }
      }
    } else {
      totals.lines += 1;
      totals.bytes += bytes;
    }
  };
  for (const stream of [child.stdout, child.stderr]) if (stream !== null) createInterface({ input: stream }).on("line", onLine);

  try {
    const ready = await nextMessage(child, (m) => ((m as Json)["type"] === "ready" ? String((m as Json)["url"]) : undefined), 90_000);
    const startupSeconds = (Date.now() - started) / 1000;
    counting = true;
    tell({ type: "load-start" });

    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    const eventIds = new Set<string>();
    const byProvider: Record<string, number> = {};
    let responseBytes = 0;
    let requestBytes = 0;
    let lastAcceptedAt = 0;
    let next = 0;
    const loadStart = performance.now();
    let loadEnd = loadStart;
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        for (;;) {
          const delivery = plan.deliveries[next];
          next += 1;
          if (delivery === undefined) return;
          const t0 = performance.now();
          const res = await fetch(`${ready}/webhooks/${delivery.provider satisfies ProviderId}`, {
            method: "POST",
            headers: { "content-type": "application/json", ...delivery.headers },
            body: delivery.body,
          });
          const text = await res.text();
          const t1 = performance.now();
          latencies.push(t1 - t0);
          loadEnd = Math.max(loadEnd, t1);
          statuses[String(res.status)] = (statuses[String(res.status)] ?? 0) + 1;
          byProvider[delivery.provider] = (byProvider[delivery.provider] ?? 0) + 1;
          responseBytes += Buffer.byteLength(text);
          requestBytes += Buffer.byteLength(delivery.body);
          if (res.status === 200) {
            lastAcceptedAt = Math.max(lastAcceptedAt, performance.timeOrigin + t1);
            const id = (JSON.parse(text) as Json)["eventId"];
            if (typeof id === "string") eventIds.add(id);
          }
        }
      }),
    );
    const loadSeconds = (loadEnd - loadStart) / 1000;
    tell({ type: "load-done", lastAcceptedAt, eventIds: [...eventIds] });
    const stats = await nextMessage(
      child,
      (m) => ((m as Json)["type"] === "result" ? ((m as Json)["stats"] as PipelineStats) : undefined),
      240_000,
    );
    counting = false;
    tell({ type: "stop" });
    await Promise.race([exited(child), new Promise((resolve) => setTimeout(resolve, 15_000))]);
    const accepted = statuses["200"] ?? 0;
    const after = (t: number | null) => (t === null || lastAcceptedAt === 0 ? null : (t - lastAcceptedAt) / 1000);
    return {
      webhooks: plan.deliveries.length,
      duplicates: plan.deliveries.filter((d) => d.duplicate).length,
      verifications: plan.verifications,
      concurrency: options.concurrency,
      statuses,
      accepted,
      acceptedPerSecond: accepted / loadSeconds,
      p50Ms: quantile(latencies, 0.5),
      p99Ms: quantile(latencies, 0.99),
      loadSeconds,
      secondsToLastApplied: stats.historiesCompleteAt === null ? null : after(stats.lastAppliedAt),
      secondsToLastStatusChange: after(stats.statusChangesLastSentTimestamp ?? stats.lastStatusChangeAt),
      meanRequestBytes: requestBytes / Math.max(1, latencies.length),
      meanResponseBytes: responseBytes / Math.max(1, latencies.length),
      byProvider,
      logs,
      customMetrics: [...metrics].sort(),
      pipeline: stats,
      startupSeconds,
    };
  } catch (error) {
    throw new Error(`end-to-end run failed: ${String(error)}\n${child.stderrText()}`);
  } finally {
    if (child.exitCode === null) child.kill("SIGTERM");
  }
}
