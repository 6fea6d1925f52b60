/**
 * The normalized event, version 1: the body of every message on the events queue.
 * Downstream code reads it, so changes here are contract changes (additive only within v1).
 * Every field is bounded and canonical: see `canonicalEvent` (lambdas/core/canonical.ts) and
 * docs/architecture.md "The normalized event".
 */

export const SPEC_VERSION = "1" as const;

export const STATUSES = [
  "created",
  "started",
  "submitted",
  "in_review",
  "on_hold",
  "resubmission_requested",
  "approved",
  "rejected",
  "expired",
  "abandoned",
  "deleted",
] as const;

export type Status = (typeof STATUSES)[number];

/** Statuses after which a verification expects no further lifecycle event (the reconciler skips them). */
export const FINAL_STATUSES: readonly Status[] = ["approved", "rejected", "expired", "abandoned", "deleted"];

export const PROVIDER_IDS = ["veriff", "idngo", "idbeyond", "neurovision"] as const;

export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(value: string | undefined): value is ProviderId {
  return (PROVIDER_IDS as readonly (string | undefined)[]).includes(value);
}

/** Integrator-owned keys that identify the end user; never personal data. */
export type Subject = Readonly<Record<string, string>>;

/** One value of the decision details: numbers are safe integers, strings and lists are bounded. */
export type DecisionValue = string | number | boolean | readonly string[] | null;

/** Provider-specific, non-personal outcome details (answer codes, labels, reason codes). */
export type DecisionDetails = Readonly<Record<string, DecisionValue>>;

export interface NormalizedEvent {
  readonly specVersion: typeof SPEC_VERSION;
  /** Stable across redeliveries, distinct for distinct events; SQS MessageDeduplicationId and the consumer's idempotency key. */
  readonly eventId: string;
  /** `{provider}:{provider's verification id}`; SQS MessageGroupId and the table's partition key. */
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly providerEventType: string;
  /** `null` when the event carries no status: recorded, status unchanged. */
  readonly status: Status | null;
  /** The provider's own time of this status, ISO 8601 UTC (years 0000-9999), or null. */
  readonly occurredAt: string | null;
  readonly receivedAt: string;
  readonly subject: Subject;
  readonly decision: DecisionDetails | null;
  readonly attemptId: string | null;
  readonly sandbox: boolean;
  /**
   * Why an authenticated event could not be mapped (names what was missing or unknown, never a
   * value), or null when it was. An unmapped event is recorded in the history and changes nothing.
   * Absent in events written before this field existed (read as null).
   */
  readonly unmapped?: string | null;
  /**
   * Where the event came from: a provider's webhook, or the reconciler's lookup in the provider's
   * status API (a webhook that never arrived). Absent in events written before this field
   * existed, and on webhook events (read as "webhook").
   */
  readonly origin?: EventOrigin;
}

export const EVENT_ORIGINS = ["webhook", "reconciliation"] as const;
export type EventOrigin = (typeof EVENT_ORIGINS)[number];
