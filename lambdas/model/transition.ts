/**
 * The transition rule (README "Transition rule"). Pure: no I/O, no clock.
 *
 * Every status-bearing event has a precedence; a verification's state is the event with the
 * highest precedence seen so far. Precedence is a strict total order, so the state after a set
 * of events does not depend on the order (or the number of times) they were delivered.
 *
 * Precedence, compared field by field:
 *   1. `deleted` beats everything: deletion is final.
 *   2. the tier of the event:
 *        0  untimed: no provider time, or a `started` event (a progress signal whose time is
 *           not a lifecycle time: an id beyond extraction may carry a later timestamp than the
 *           decision it preceded);
 *        1  timed: the provider's own time of this status;
 *        2  session end without a time: `expired` or `abandoned` with no provider time (Veriff
 *           sends them with `decisionTime: null`); nothing follows them in a session.
 *   3. within the timed tier, the later provider time (`occurredAt`);
 *   4. the later lifecycle stage (STAGE below), so that events sharing a time, or both lacking
 *      one, still order sensibly (`submitted` < `in_review` < decisions);
 *   5. the eventId, a tie-break that only makes the order total.
 */
import type { NormalizedEvent, Status } from "../core/event.js";

/** Lifecycle stage of each status; among equals in time, the later stage wins. */
export const STAGE: Readonly<Record<Status, number>> = {
  created: 0,
  started: 1,
  submitted: 2,
  in_review: 3,
  on_hold: 4,
  resubmission_requested: 5,
  approved: 6,
  abandoned: 7,
  expired: 8,
  // Two conflicting decisions with the same time (or none): the more conservative one wins.
  rejected: 9,
  deleted: 10,
};

/** What the state keeps of the event it was set by: enough to compare precedence. */
export interface AppliedEvent {
  readonly eventId: string;
  readonly status: Status;
  readonly occurredAt: string | null;
}

export type Outcome = "applied" | "duplicate" | "stale" | "recorded";

/** The reason when the event is the one that set the current status (a redelivery, or the retry of an interrupted write). */
export const ALREADY_SET_BY_THIS_EVENT = "this event already set the current status";

export interface Transition {
  readonly outcome: Outcome;
  /** Why, in words, for the history item. */
  readonly reason: string;
  /** The event that sets the state from now on, when it changes; `undefined` = state unchanged. */
  readonly next?: AppliedEvent;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The precedence tier of an event (rule 2 above). */
export function tierOf(event: Pick<AppliedEvent, "status" | "occurredAt">): 0 | 1 | 2 {
  if (event.occurredAt === null) return event.status === "expired" || event.status === "abandoned" ? 2 : 0;
  return event.status === "started" ? 0 : 1;
}

/** Negative when `a` has lower precedence than `b`, positive when higher, 0 only for the same eventId. */
export function comparePrecedence(a: AppliedEvent, b: AppliedEvent): number {
  const deleted = Number(a.status === "deleted") - Number(b.status === "deleted");
  if (deleted !== 0) return deleted;
  const [tierA, tierB] = [tierOf(a), tierOf(b)];
  if (tierA !== tierB) return tierA - tierB;
  if (tierA === 1 && a.occurredAt !== null && b.occurredAt !== null) {
    const time = Date.parse(a.occurredAt) - Date.parse(b.occurredAt);
    if (time !== 0) return time;
  }
  const stage = STAGE[a.status] - STAGE[b.status];
  if (stage !== 0) return stage;
  return compareStrings(a.eventId, b.eventId);
}

/**
 * Decides what `event` does to a verification whose state was set by `current` (null: no
 * status yet). Redeliveries of the same eventId are filtered before this (history item exists).
 */
export function decide(current: AppliedEvent | null, event: NormalizedEvent): Transition {
  if (event.status === null) {
    return { outcome: "recorded", reason: event.unmapped ? `not mapped: ${event.unmapped}` : "this event carries no KYC status" };
  }
  const candidate: AppliedEvent = { eventId: event.eventId, status: event.status, occurredAt: event.occurredAt };
  if (current === null) {
    return { outcome: "applied", reason: "first status of this verification", next: candidate };
  }
  if (current.eventId === candidate.eventId) {
    return { outcome: "duplicate", reason: ALREADY_SET_BY_THIS_EVENT };
  }
  if (comparePrecedence(candidate, current) < 0) {
    return { outcome: "stale", reason: staleReason(candidate, current) };
  }
  if (candidate.status === current.status) {
    // Newer evidence for the same status: it becomes the reference, the status does not change.
    return { outcome: "duplicate", reason: `status is already ${current.status}`, next: candidate };
  }
  return { outcome: "applied", reason: appliedReason(candidate, current), next: candidate };
}

const TIER_NAMES = ["an untimed or progress event", "a provider-timed event", "a session end without a time"] as const;

function staleReason(event: AppliedEvent, current: AppliedEvent): string {
  if (current.status === "deleted") return "the verification was deleted: deletion is final";
  const [tier, currentTier] = [tierOf(event), tierOf(current)];
  if (tier !== currentTier) return `${TIER_NAMES[tier]} does not override ${current.status} (${TIER_NAMES[currentTier]})`;
  if (tier === 1 && event.occurredAt !== current.occurredAt) {
    return `older (${event.occurredAt}) than the current ${current.status} (${current.occurredAt})`;
  }
  return `${event.status} is an earlier stage than the current ${current.status}`;
}

function appliedReason(event: AppliedEvent, current: AppliedEvent): string {
  if (event.status === "deleted") return "deletion is final";
  const [tier, currentTier] = [tierOf(event), tierOf(current)];
  if (tier !== currentTier) return `${TIER_NAMES[tier]} supersedes ${TIER_NAMES[currentTier]}`;
  if (tier === 1 && event.occurredAt !== current.occurredAt) {
    return `newer (${event.occurredAt}) than the current ${current.status} (${current.occurredAt})`;
  }
  return `${event.status} is a later stage than ${current.status}`;
}

/** The state after applying `events` in the given order: the reference for order-independence. */
export function fold(events: readonly NormalizedEvent[]): AppliedEvent | null {
  const seen = new Set<string>();
  let state: AppliedEvent | null = null;
  for (const event of events) {
    if (seen.has(event.eventId)) continue;
    seen.add(event.eventId);
    state = decide(state, event).next ?? state;
  }
  return state;
}
