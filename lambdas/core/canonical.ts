/**
 * Bounded, canonical events by construction. Whatever a provider's payload holds, the event
 * that ingest enqueues can be stored by the consumer: every string has a byte limit (a longer
 * key is replaced by a digest), numbers are safe integers or strings, times are canonical ISO
 * within years 0000-9999 or null, and strings are well-formed Unicode. The limits are
 * documented in docs/architecture.md ("Bounds") and checked by the consumer's schema.
 */
import { sha256Hex } from "./crypto.js";
import {
  type DecisionDetails,
  type DecisionValue,
  type EventOrigin,
  type NormalizedEvent,
  type ProviderId,
  SPEC_VERSION,
  type Status,
  type Subject,
} from "./event.js";
import { isCanonicalTime } from "./time.js";

export const LIMITS = {
  /** correlationId and eventId: printable ASCII (SQS ids, DynamoDB keys). */
  idChars: 128,
  /** A provider's own id inside a correlationId (`{provider}:{id}`). */
  providerIdChars: 100,
  providerEventTypeBytes: 128,
  attemptIdBytes: 128,
  /** Each subject value; also the subject index key (DynamoDB allows 2,048 bytes). */
  subjectValueBytes: 512,
  subjectKeys: 8,
  decisionKeys: 16,
  decisionStringBytes: 256,
  decisionListItems: 50,
  decisionListItemBytes: 128,
  unmappedBytes: 512,
} as const;

const PRINTABLE_ASCII_ID = /^[\x21-\x7e]+$/;
/** Printable ASCII without `:` (the separator of correlationId parts) and `/` (a correlationId is one URL path segment). */
const ID_PART = /^[\x21-\x2e\x30-\x39\x3b-\x7e]+$/;

/** `sha256:` and the hex SHA-256 of the UTF-8 bytes of `value`: what replaces an over-long key. */
export function digestKey(value: string): string {
  return `sha256:${sha256Hex(value.toWellFormed())}`;
}

/** `value` as well-formed Unicode when it fits in `maxBytes` UTF-8 bytes, else its digest. */
export function boundedText(value: string, maxBytes: number): string {
  const text = value.toWellFormed();
  return Buffer.byteLength(text, "utf8") <= maxBytes ? text : digestKey(text);
}

/**
 * Whether `idPart` keeps `value` as it is: 1-100 printable ASCII characters, without spaces, `:`
 * or `/`. An id with a `:` could otherwise read as one of the pipeline's own forms
 * (`idngo:action:{id}`, `veriff:attempt:{id}`, `sha256:{hex}`) and merge two verifications; one
 * with a `/` could not be read back through `GET /verifications/{correlationId}`.
 */
export function isPlainIdPart(value: string): boolean {
  return value.length <= LIMITS.providerIdChars && ID_PART.test(value);
}

/**
 * A provider's verification (or event) id as part of a correlationId: kept when `isPlainIdPart`,
 * else replaced by its digest (71 characters).
 */
export function idPart(value: string): string {
  return isPlainIdPart(value) ? value : digestKey(value);
}

/** The subject index key of a subject value; the read API maps its `subject` parameter the same way. */
export function subjectIndexKey(value: string): string {
  return boundedText(value, LIMITS.subjectValueBytes);
}

function boundedId(provider: ProviderId, value: string): string {
  return value.length <= LIMITS.idChars && PRINTABLE_ASCII_ID.test(value) ? value : `${provider}:${digestKey(value)}`;
}

/** The first `limit` own enumerable keys of `value`, as `Object.entries(value).slice(0, limit)` would list them. */
function firstKeys(value: Readonly<Record<string, unknown>>, limit: number): readonly string[] {
  const keys = Object.keys(value);
  return keys.length <= limit ? keys : keys.slice(0, limit);
}

function boundedSubject(subject: Readonly<Record<string, unknown>>): Subject {
  const out: Record<string, string> = {};
  for (const key of firstKeys(subject, LIMITS.subjectKeys)) {
    const value = subject[key];
    if (typeof value === "string" && value.length > 0) out[key] = subjectIndexKey(value);
  }
  return out;
}

/** A number the pipeline keeps: a safe integer as is, any other finite number as its string form. */
function boundedNumber(value: number): number | string | null {
  if (Number.isSafeInteger(value)) return value;
  return Number.isFinite(value) ? String(value) : null;
}

function boundedDecisionValue(value: unknown): DecisionValue {
  if (value === null || typeof value === "boolean") return value;
  if (typeof value === "string") return boundedText(value, LIMITS.decisionStringBytes);
  if (typeof value === "number") return boundedNumber(value);
  if (Array.isArray(value)) {
    return value
      .filter((item): item is string => typeof item === "string")
      .slice(0, LIMITS.decisionListItems)
      .map((item) => boundedText(item, LIMITS.decisionListItemBytes));
  }
  return null;
}

function boundedDecision(decision: Readonly<Record<string, unknown>> | null): DecisionDetails | null {
  if (decision === null) return null;
  const out: Record<string, DecisionValue> = {};
  for (const key of firstKeys(decision, LIMITS.decisionKeys)) out[key] = boundedDecisionValue(decision[key]);
  return out;
}

/** What a provider's normalization produces; `canonicalEvent` bounds it. */
export interface EventDraft {
  readonly eventId: string;
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly providerEventType: string;
  readonly status: Status | null;
  readonly occurredAt: string | null;
  readonly receivedAt: string;
  readonly subject: Readonly<Record<string, unknown>>;
  readonly decision: Readonly<Record<string, unknown>> | null;
  readonly attemptId: string | null;
  readonly sandbox: boolean;
  readonly unmapped: string | null;
  /** Set by the reconciler; webhook events leave it out. */
  readonly origin?: EventOrigin;
}

/** The version-1 event for a draft: every field bounded and canonical (idempotent). */
export function canonicalEvent(draft: EventDraft): NormalizedEvent {
  const { provider } = draft;
  return {
    specVersion: SPEC_VERSION,
    eventId: boundedId(provider, draft.eventId),
    correlationId: boundedId(provider, draft.correlationId),
    provider,
    providerEventType: boundedText(draft.providerEventType, LIMITS.providerEventTypeBytes),
    status: draft.status,
    occurredAt: draft.occurredAt !== null && isCanonicalTime(draft.occurredAt) ? draft.occurredAt : null,
    receivedAt: draft.receivedAt,
    subject: boundedSubject(draft.subject),
    decision: boundedDecision(draft.decision),
    attemptId: draft.attemptId === null || draft.attemptId === "" ? null : boundedText(draft.attemptId, LIMITS.attemptIdBytes),
    sandbox: draft.sandbox,
    unmapped: draft.unmapped === null ? null : boundedText(draft.unmapped, LIMITS.unmappedBytes),
    ...(draft.origin === "reconciliation" ? { origin: draft.origin } : {}),
  };
}
