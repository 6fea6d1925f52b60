/**
 * The pipeline's metrics, described once: their names and dimensions, emitted by the functions as
 * CloudWatch Embedded Metric Format lines (Powertools Metrics), alarmed on and graphed by the
 * stack (lib/monitoring.ts). Every metric also carries Powertools' `service` dimension (the
 * function's service name, SERVICES in contract.ts).
 */
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { AuthFailureCause } from "../providers/types.js";
import type { ProviderId, Status } from "./event.js";

export const METRICS_NAMESPACE = "KycWebhooks";

/** Why ingest refused a request: an authentication failure cause, or the shape of the request. */
export type RejectionCause = AuthFailureCause | "not-json" | "too-large";

/** Each metric with its dimensions (besides `service`): what the functions emit and the stack reads. */
export interface MetricDimensions {
  /** Ingest: a webhook accepted (enqueued), per provider. */
  WebhooksAccepted: { provider: ProviderId };
  /** Ingest: an accepted webhook that could not be mapped (recorded without status). */
  WebhooksUnmapped: { provider: ProviderId };
  /** Ingest: a request refused, by cause. */
  WebhooksRejected: { provider: ProviderId; cause: RejectionCause };
  /** Ingest: a request that failed authentication (whatever the cause): alarmed per provider (a bad rotation). */
  AuthenticationFailures: { provider: ProviderId };
  /** Ingest: an accepted request that could not be enqueued (answered 503; the provider retries). */
  EnqueueFailures: { provider: ProviderId };
  /** Consumer: an event applied, by outcome (the history's `outcome`; `duplicate` includes redeliveries). */
  EventsProcessed: { provider: ProviderId; outcome: "applied" | "duplicate" | "stale" | "recorded" };
  /** Consumer: a record that failed (retried, then the DLQ). */
  EventsFailed: Record<string, never>;
  /** Publisher: a status change put on the status-changes queue, by new status. */
  StatusChangesPublished: { status: Status };
  /** Publisher: a send to status-changes that failed (retried from the stream). */
  PublishFailures: Record<string, never>;
  /** Publisher: a stream record no message could be built from (a notice went to the failure queue). */
  UnpublishableRecords: Record<string, never>;
  /** Reconciler, per pass: verifications looked up in the provider's status API. */
  ReconciliationLookups: { provider: ProviderId };
  /** Reconciler: lookups that found a final status (enqueued as an event). */
  ReconciliationChanged: { provider: ProviderId };
  /** Reconciler: lookups that found no final status yet. */
  ReconciliationUnchanged: { provider: ProviderId };
  /** Reconciler: lookups without a usable answer (unavailable after retries, refused, unknown), plus 1 per provider that could not be reconciled. */
  ReconciliationFailures: { provider: ProviderId };
  /** Reconciler, per pass: verifications still not in a final status after the pass, unchanged for longer than the age (also for providers not polled). */
  StuckVerifications: { provider: ProviderId };
}

export type MetricName = keyof MetricDimensions;

/** What a function counts with; flushed once per invocation. */
export interface AppMetrics {
  count<M extends MetricName>(metric: M, dimensions: MetricDimensions[M], value?: number): void;
  /** Writes what was counted since the last flush (one EMF line per dimension set). */
  flush(): void;
}

/**
 * Powertools Metrics under `METRICS_NAMESPACE` for the function `serviceName` (in Lambda its
 * `POWERTOOLS_SERVICE_NAME`). Counts are summed per dimension set and written to stdout at
 * `flush()`, one EMF line per set: usually one per invocation.
 */
export function powertoolsMetrics(serviceName?: string): AppMetrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, ...(serviceName === undefined ? {} : { serviceName }) });
  /**
   * One entry per dimension set ever counted, kept across flushes with Powertools' EMF line for each
   * list of metric names it was flushed with: the JSON text around the numbers that change (the
   * time, then each count), built (and checked) once, so that a flush only joins them.
   */
  interface Group {
    readonly dimensions: Record<string, string>;
    /** The counts since the last flush, in the order first counted. */
    readonly counts: Map<string, number>;
    /** Their names in that order, joined: which template the flush takes. */
    names: string;
    readonly templates: Map<string, readonly string[]>;
  }
  const groups = new Map<string, Group>();
  /** The groups counted since the last flush, in the order first counted (one EMF line each). */
  const pending: Group[] = [];

  /** The EMF line Powertools serializes for one dimension set and its counts, cut where the time and the counts go. */
  function template(dimensions: Record<string, string>, counts: Map<string, number>): readonly string[] {
    for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
    for (const name of counts.keys()) metrics.addMetric(name, MetricUnit.Count, 1);
    let document: ReturnType<Metrics["serializeMetrics"]>;
    try {
      document = metrics.serializeMetrics();
    } finally {
      metrics.clearMetrics();
      metrics.clearDimensions();
    }
    // Markers in place of the numbers: strings that JSON escapes and that no name or value contains.
    const marked: Record<string, unknown> = { ...document, _aws: { ...document._aws, Timestamp: "\u0000t" } };
    [...counts.keys()].forEach((name, i) => {
      marked[name] = `\u0000${i}`;
    });
    // Split at the markers, keeping their names: text, marker, text, marker, …, text.
    const pieces = JSON.stringify(marked).split(/"\\u0000(t|\d+)"/);
    const markers = pieces.filter((_, i) => i % 2 === 1);
    // The time first (`_aws` leads the document), then the counts in the order they were counted.
    if (markers.join(",") !== ["t", ...[...counts.keys()].map((_, i) => String(i))].join(",")) {
      throw new Error("unexpected EMF document layout");
    }
    return pieces.filter((_, i) => i % 2 === 0);
  }

  return {
    count(metric, dimensions, value = 1) {
      const dims = dimensions as Record<string, string>;
      // Names and values are our own identifiers (no control characters): a plain join is unambiguous.
      let key = "";
      for (const name of Object.keys(dims).sort()) key += `${name}\u0000${dims[name]}\u0001`;
      let group = groups.get(key);
      if (group === undefined) {
        if (groups.size >= 256 && pending.length === 0) groups.clear();
        group = { dimensions: dims, counts: new Map(), names: "", templates: new Map() };
        groups.set(key, group);
      }
      if (group.counts.size === 0) pending.push(group);
      const counted = group.counts.get(metric);
      if (counted === undefined) group.names = group.names === "" ? metric : `${group.names}\u0000${metric}`;
      group.counts.set(metric, (counted ?? 0) + value);
    },
    flush() {
      for (const group of pending) {
        const { dimensions, counts, names } = group;
        // An ingest function flushes the same document shape on nearly every invocation: Powertools
        // builds it the first time; later flushes only put in the time and the counts (building it
        // anew, with the library's environment lookups, cost as much CPU as authenticating a webhook).
        let parts = group.templates.get(names);
        if (parts === undefined) {
          parts = template(dimensions, counts);
          group.templates.set(names, parts);
        }
        let line = `${parts[0]}${Date.now()}${parts[1]}`;
        let i = 2;
        for (const value of counts.values()) line += `${value}${parts[i++]}`;
        // One direct write, as publishStoredMetrics() would through its own Console (whose log()
        // attaches and removes a stream listener per call).
        process.stdout.write(`${line}\n`);
        counts.clear();
        group.names = "";
      }
      pending.length = 0;
    },
  };
}
