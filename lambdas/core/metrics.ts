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
 * `POWERTOOLS_SERVICE_NAME`). Counts are summed per dimension set and written at `flush()`, one
 * EMF line per set: usually one per invocation.
 */
export function powertoolsMetrics(serviceName?: string): AppMetrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, ...(serviceName === undefined ? {} : { serviceName }) });
  const pending = new Map<string, { dimensions: Record<string, string>; counts: Map<string, number> }>();
  return {
    count(metric, dimensions, value = 1) {
      const dims = dimensions as Record<string, string>;
      const key = JSON.stringify(Object.entries(dims).sort());
      let group = pending.get(key);
      if (group === undefined) {
        group = { dimensions: dims, counts: new Map() };
        pending.set(key, group);
      }
      group.counts.set(metric, (group.counts.get(metric) ?? 0) + value);
    },
    flush() {
      for (const { dimensions, counts } of pending.values()) {
        for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
        for (const [name, value] of counts) metrics.addMetric(name, MetricUnit.Count, value);
        metrics.publishStoredMetrics();
      }
      pending.clear();
    },
  };
}
