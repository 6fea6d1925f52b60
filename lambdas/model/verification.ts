/**
 * The verification model, pure: what a verification's state item and history items hold, and
 * what one event does to them (through the transition rule). No I/O, no clock: the store
 * (lambdas/consumer/store.ts) reads the current state, calls `applyEvent`, and writes the result
 * with conditions; the publisher and the read API read the same types.
 */
import { createHash } from "node:crypto";
import { LIMITS, subjectIndexKey } from "../core/canonical.js";
import { TABLE } from "../core/contract.js";
import { type DecisionDetails, FINAL_STATUSES, type NormalizedEvent, type ProviderId, type Status, type Subject } from "../core/event.js";
import { type AppliedEvent, decide, type Outcome, type Transition } from "./transition.js";

/** The state item of one verification (`sk = "STATE"`). */
export interface VerificationState {
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly status: Status | null;
  readonly subject: Subject;
  /** The GSI key: the integrator's user key (see `subjectKeyOf`); absent when the subject has none. */
  readonly subjectKey?: string;
  /** The event the status was set by, and that event's provider time. */
  readonly appliedEventId: string | null;
  readonly occurredAt: string | null;
  readonly decision: DecisionDetails | null;
  /** True once any event of the verification came from the provider's sandbox (test) environment; absent on older items. */
  readonly sandbox?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When `status` last changed. */
  readonly statusChangedAt: string | null;
  /**
   * Whether this write changed `status`: the publisher's event source filter lets only such
   * stream records through (absent on items written before the attribute existed).
   */
  readonly statusChanged?: boolean;
  /**
   * The reconciler's index keys (TABLE.pendingIndex), present only while the status is set and
   * not final: `{provider}#{shard}` and the start of the hour of the last status change.
   */
  readonly pendingKey?: string;
  readonly pendingSince?: string;
  /** Optimistic lock: +1 on every write of the state item. */
  readonly version: number;
}

/** `{provider}#{shard}`: the reconciler's index partition of a verification (a digest of its id picks the shard). */
export function pendingKeyOf(provider: ProviderId, correlationId: string): string {
  const shard = createHash("sha256").update(correlationId).digest().readUInt32BE(0) % TABLE.pendingIndex.shards;
  return `${provider}#${shard}`;
}

/** The start of the UTC hour of an ISO 8601 time (`2026-11-22T10:37:12.345Z` → `2026-11-22T10:00:00.000Z`). */
export const hourOf = (iso: string): string => `${iso.slice(0, 13)}:00:00.000Z`;

/** The reconciler's index attributes of a state: none when the status is unset or final. */
function pendingAttributesOf(
  provider: ProviderId,
  correlationId: string,
  status: Status | null,
  since: string,
): { pendingKey: string; pendingSince: string } | Record<string, never> {
  if (status === null || FINAL_STATUSES.includes(status)) return {};
  return { pendingKey: pendingKeyOf(provider, correlationId), pendingSince: hourOf(since) };
}

/** One history item per distinct event (`sk = "EVENT#{eventId}"`). No personal data: ids, times, outcome. */
export interface HistoryEntry {
  readonly eventId: string;
  readonly providerEventType: string;
  readonly status: Status | null;
  readonly occurredAt: string | null;
  readonly receivedAt: string;
  readonly processedAt: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly attemptId: string | null;
  readonly sandbox: boolean;
  /** Set for an event the reconciler found in the provider's status API; absent for webhooks. */
  readonly origin?: "reconciliation";
}

/** The user keys the subject index reads, in precedence order. */
const SUBJECT_INDEX_KEYS = ["externalUserId", "vendorData", "clientKey", "endUserId"] as const;

/** The one user key of a subject that the subject index lists verifications by (bounded as the read API looks it up). */
export function subjectKeyOf(subject: Subject): string | undefined {
  for (const name of SUBJECT_INDEX_KEYS) {
    const key = subject[name];
    if (key !== undefined && key !== "") return subjectIndexKey(key);
  }
  return undefined;
}

/**
 * A verification's subject after one more event: every key any of its events named, each with the
 * smallest value (code-unit order) an event gave it, at most `LIMITS.subjectKeys` keys (the first
 * by name). The same events give the same subject in any order. Returns `current` itself when the
 * event adds nothing.
 */
export function mergeSubjects(current: Subject, incoming: Subject): Subject {
  // Maps, not property reads: a key such as `__proto__` is data here.
  const values = new Map(Object.entries(current));
  let changed = false;
  for (const [key, value] of Object.entries(incoming)) {
    const known = values.get(key);
    if (value === "" || (known !== undefined && known !== "" && known <= value)) continue;
    values.set(key, value);
    changed = true;
  }
  if (!changed) return current;
  const keys = [...values.keys()].sort().slice(0, LIMITS.subjectKeys);
  const before = new Map(Object.entries(current));
  if (keys.length === before.size && keys.every((key) => before.get(key) === values.get(key))) return current;
  return Object.fromEntries(keys.map((key) => [key, values.get(key) ?? ""]));
}

/** What the state keeps of the event that set its status (null: no status yet). */
export function appliedOf(state: VerificationState | undefined): AppliedEvent | null {
  if (state?.status == null || state.appliedEventId === null) return null;
  return { eventId: state.appliedEventId, status: state.status, occurredAt: state.occurredAt };
}

/** What applying one (not yet seen) event to a verification produces. */
export interface Application {
  readonly transition: Transition;
  readonly history: HistoryEntry;
  /** The state after the event. */
  readonly next: VerificationState;
  /**
   * Whether the state item must be written: when the transition moves it, on a verification's
   * first event, when it learns that the verification is a sandbox one, or when its subject
   * changes (whatever the event's outcome, so that the result does not depend on the delivery
   * order). Otherwise only its version is checked (nothing changed).
   */
  readonly writeState: boolean;
}

/** Applies `event` to the verification whose state is `current` (undefined: none yet), at `now`. */
export function applyEvent(current: VerificationState | undefined, event: NormalizedEvent, now: string): Application {
  const transition = decide(appliedOf(current), event);
  const next = transition.next;
  // Every event adds what it knows of the subject, stale or not, so that the order does not matter.
  const subject = mergeSubjects(current?.subject ?? {}, event.subject);
  const subjectChanged = current !== undefined && subject !== current.subject;
  const subjectKey = subjectKeyOf(subject);
  const status = next?.status ?? current?.status ?? null;
  const statusChanged = status !== (current?.status ?? null);
  const sandbox = event.sandbox || (current?.sandbox ?? false);
  return {
    transition,
    history: {
      eventId: event.eventId,
      providerEventType: event.providerEventType,
      status: event.status,
      occurredAt: event.occurredAt,
      receivedAt: event.receivedAt,
      processedAt: now,
      outcome: transition.outcome,
      reason: transition.reason,
      attemptId: event.attemptId,
      sandbox: event.sandbox,
      ...(event.origin === "reconciliation" ? { origin: event.origin } : {}),
    },
    next: {
      correlationId: event.correlationId,
      provider: event.provider,
      status,
      subject,
      ...(subjectKey === undefined ? {} : { subjectKey }),
      appliedEventId: next?.eventId ?? current?.appliedEventId ?? null,
      occurredAt: next ? next.occurredAt : (current?.occurredAt ?? null),
      decision: next ? event.decision : (current?.decision ?? null),
      sandbox,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
      statusChangedAt: statusChanged ? now : (current?.statusChangedAt ?? null),
      statusChanged,
      ...pendingAttributesOf(
        event.provider,
        event.correlationId,
        status,
        (statusChanged ? now : current?.statusChangedAt) ?? current?.createdAt ?? now,
      ),
      version: (current?.version ?? 0) + 1,
    },
    writeState: next !== undefined || current === undefined || sandbox !== (current.sandbox ?? false) || subjectChanged,
  };
}
