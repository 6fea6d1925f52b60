/**
 * The normalized event, version 1 (design.md): the body of every message on the events queue.
 * Downstream code reads it, so changes here are contract changes.
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

export const PROVIDER_IDS = ["veriff", "idngo", "idbeyond", "neurovision"] as const;

export type ProviderId = (typeof PROVIDER_IDS)[number];

export function isProviderId(value: string | undefined): value is ProviderId {
  return (PROVIDER_IDS as readonly (string | undefined)[]).includes(value);
}

/** Integrator-owned keys that identify the end user; never personal data. */
export type Subject = Readonly<Record<string, string>>;

/** Provider-specific, non-personal outcome details (answer codes, labels, reason codes). */
export type Decision = Readonly<Record<string, string | number | boolean | readonly string[] | null>>;

export interface NormalizedEvent {
  readonly specVersion: typeof SPEC_VERSION;
  /** Stable across redeliveries; SQS MessageDeduplicationId and the consumer's idempotency key. */
  readonly eventId: string;
  /** `{provider}:{provider's verification id}`; SQS MessageGroupId and the table's partition key. */
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly providerEventType: string;
  /** `null` when the event carries no status (unknown type): recorded, status unchanged. */
  readonly status: Status | null;
  /** The provider's own time, ISO 8601 UTC, or null when the payload has none. */
  readonly occurredAt: string | null;
  readonly receivedAt: string;
  readonly subject: Subject;
  readonly decision: Decision | null;
  readonly attemptId: string | null;
  readonly sandbox: boolean;
}

/** Longest correlationId the pipeline accepts (SQS MessageGroupId limit). */
export const MAX_CORRELATION_ID_LENGTH = 128;
