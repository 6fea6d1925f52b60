/**
 * Veriff (docs/providers/veriff.md). Several webhook formats reach one integration's endpoint:
 * - decision webhooks `{status, verification: {id, attemptId, code, status, reasonCode, decisionTime, …}}`;
 * - event webhooks `{id, attemptId, feature, code: 7001|7002|…, action, vendorData, endUserId}` (no time);
 * - Full Auto webhooks `{eventType: "fullauto", sessionId, attemptId, time, data: {verification: {decision, decisionScore}}}`
 *   (on Full Auto plans, the only way the decision arrives);
 * - watchlist-screening (PEP/sanctions) webhooks `{checkType, sessionId?, attemptId, matchStatus, totalHits, createdAt}`
 *   (no KYC status: recorded);
 * - user-defined statuses `{eventType: "user-status.created", attemptId, time, data: {verification: {id, userDefinedData}}}`
 *   (the integrator's own labels, no KYC status: recorded);
 * - anything else (future formats): recorded under its session when it names one.
 * No event id and no timestamp header: the eventId is a digest of the authenticated bytes.
 */
import type { EventDraft } from "../core/canonical.js";
import { hmacDigest, matchesAnySecret, sha256Digest } from "../core/crypto.js";
import type { Status } from "../core/event.js";
import { header } from "../core/http.js";
import { toIsoTime } from "../core/time.js";
import { asNumber, asObject, asString, firstString, type JsonObject, prop } from "./json.js";
import {
  type AuthContext,
  type AuthResult,
  authFailure,
  type Bytes,
  contentEventId,
  correlationIdOf,
  type NormalizeContext,
  type Provider,
  type RawRequest,
  unidentifiedCorrelationId,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Authentication

interface Scheme {
  readonly header: string;
  readonly digest: (body: Bytes, secret: string) => Buffer;
}

/** Today's scheme: `x-hmac-signature: hex(HMAC-SHA256(rawBody, secret))`. */
const HMAC: Scheme = { header: "x-hmac-signature", digest: (body, secret) => hmacDigest("sha256", secret, body) };

/** Legacy (Veriff's FAQ): `x-signature: hex(SHA-256(rawBody ‖ secret))`; only when configured. */
const LEGACY: Scheme = { header: "x-signature", digest: (body, secret) => sha256Digest(body, secret) };

/** Authentic when any enabled scheme's header verifies with any configured secret. */
function authenticate({ body, headers }: RawRequest, { secrets, options }: AuthContext): AuthResult {
  const hmac = header(headers, HMAC.header);
  // The legacy header only matters when it is enabled, or to say why a request without the HMAC failed.
  const legacy = hmac === undefined || options.veriffLegacySignature ? header(headers, LEGACY.header) : undefined;
  if (hmac === undefined && legacy === undefined) return authFailure("missing-signature");
  if (hmac === undefined && !options.veriffLegacySignature) return authFailure("algorithm-not-enabled");
  const candidates: [Scheme, string | undefined][] = [
    [HMAC, hmac],
    [LEGACY, options.veriffLegacySignature ? legacy : undefined],
  ];
  const ok = candidates.some(
    ([scheme, received]) => received !== undefined && matchesAnySecret(received, secrets, (secret) => scheme.digest(body, secret)),
  );
  return ok ? { ok: true, content: body } : authFailure("signature-mismatch");
}

// ---------------------------------------------------------------------------------------------
// Status mapping. A signal first, a code second; anything else → null (recorded).

const EVENT_ACTION_STATUS: ReadonlyMap<string, Status> = new Map([
  ["started", "started"],
  ["submitted", "submitted"],
]);

const EVENT_CODE_STATUS: ReadonlyMap<number, Status> = new Map([
  [7001, "started"],
  [7002, "submitted"],
]);

const DECISION_STATUS: ReadonlyMap<string, Status> = new Map([
  ["approved", "approved"],
  ["declined", "rejected"],
  ["resubmission_requested", "resubmission_requested"],
  ["expired", "expired"],
  ["abandoned", "abandoned"],
  ["review", "in_review"],
]);

// Veriff's own tables disagree on 9121 ("review" in the status table, "abandoned" in the API
// reference) and list 9104 for both expired and abandoned, which is why `verification.status`
// decides first; the code only decides when the status does not.
const DECISION_CODE_STATUS: ReadonlyMap<number, Status> = new Map([
  [9001, "approved"],
  [9102, "rejected"],
  [9103, "resubmission_requested"],
  [9104, "expired"],
  [9121, "in_review"],
]);

/** Intermediate decisions (not final, undocumented in the public API): recorded, never mapped. */
const INTERMEDIATE_CODES: ReadonlySet<number> = new Set([9151, 9161]);

function lookup<K>(map: ReadonlyMap<K, Status>, key: K | undefined): Status | undefined {
  return key === undefined ? undefined : map.get(key);
}

// ---------------------------------------------------------------------------------------------
// Normalization

type Specific = Pick<
  EventDraft,
  "correlationId" | "providerEventType" | "status" | "occurredAt" | "subject" | "decision" | "attemptId" | "unmapped"
>;

/** The integrator's own keys, each only when a non-empty string. */
function subjectOf(fields: JsonObject | undefined): Record<string, string> {
  const subject: Record<string, string> = {};
  const vendorData = asString(prop(fields, "vendorData"));
  const endUserId = asString(prop(fields, "endUserId"));
  if (vendorData !== undefined) subject["vendorData"] = vendorData;
  if (endUserId !== undefined) subject["endUserId"] = endUserId;
  return subject;
}

/**
 * The session id wherever a format puts it: `verification.id` (decisions), `id` (events),
 * `sessionId` (Full Auto, watchlist), `data.verification.id` (user-defined statuses).
 */
function sessionIdOf(body: JsonObject): string | undefined {
  return (
    firstString(asObject(prop(body, "verification")), "id") ??
    firstString(body, "sessionId", "id") ??
    firstString(asObject(prop(asObject(prop(body, "data")), "verification")), "id")
  );
}

/** `veriff:{session id}`, else `veriff:attempt:{attempt id}`, else one per distinct unidentified event. */
function sessionCorrelationId(sessionId: string | undefined, attemptId: string | undefined, content: Bytes): string {
  if (sessionId !== undefined) return correlationIdOf("veriff", sessionId);
  if (attemptId !== undefined) return correlationIdOf("veriff", "attempt", attemptId);
  return unidentifiedCorrelationId("veriff", content);
}

export function fromDecision(body: JsonObject, content: Bytes): Specific {
  const verification = asObject(prop(body, "verification"));
  const sessionId = sessionIdOf(body);
  const attemptId = firstString(verification, "attemptId") ?? firstString(body, "attemptId");
  const veriffStatus = asString(prop(verification, "status"));
  const code = asNumber(prop(verification, "code"));
  const intermediate = code !== undefined && INTERMEDIATE_CODES.has(code);
  const status = intermediate ? undefined : (lookup(DECISION_STATUS, veriffStatus) ?? lookup(DECISION_CODE_STATUS, code));
  let unmapped: string | null = null;
  if (verification === undefined) unmapped = "verification: missing or null (no decision)";
  else if (sessionId === undefined) unmapped = "verification.id: missing";
  else if (intermediate) unmapped = "verification.code: an intermediate decision, not a final one";
  else if (status === undefined) unmapped = "verification.status and verification.code: no known decision";
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    providerEventType: "decision",
    // A decision without its session cannot set a verification's status: recorded only.
    status: sessionId === undefined ? null : (status ?? null),
    occurredAt: toIsoTime(prop(verification, "decisionTime")),
    subject: subjectOf(verification ?? body),
    // Codes only: `reason` is free text, and `person`, `document`, `riskLabels` (with links to
    // other sessions) and `technicalData` are personal data.
    decision:
      verification === undefined
        ? null
        : { status: veriffStatus ?? null, code: prop(verification, "code") ?? null, reasonCode: prop(verification, "reasonCode") ?? null },
    attemptId: attemptId ?? null,
    unmapped,
  };
}

function fromEvent(body: JsonObject, content: Bytes): Specific {
  const sessionId = sessionIdOf(body);
  const attemptId = firstString(body, "attemptId");
  const action = asString(prop(body, "action"));
  const status = lookup(EVENT_ACTION_STATUS, action) ?? lookup(EVENT_CODE_STATUS, asNumber(prop(body, "code")));
  let unmapped: string | null = null;
  if (sessionId === undefined) unmapped = "id: missing";
  else if (status === undefined) unmapped = "action and code: an event without a KYC status mapping";
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    // `event.{action}` (e.g. `event.submitted`) keeps event webhooks apart from `decision`.
    providerEventType: `event.${action ?? String(asNumber(prop(body, "code")) ?? "unknown")}`,
    status: sessionId === undefined ? null : (status ?? null),
    occurredAt: null, // event webhooks carry no time
    subject: subjectOf(body),
    decision: null,
    attemptId: attemptId ?? null,
    unmapped,
  };
}

/** Full Auto: `data.verification.decision` is a string (or `{value}` in some integrations). */
function fromFullAuto(body: JsonObject, content: Bytes): Specific {
  const sessionId = sessionIdOf(body);
  const attemptId = firstString(body, "attemptId");
  const verification = asObject(prop(asObject(prop(body, "data")), "verification"));
  const rawDecision = prop(verification, "decision");
  const decision = asString(rawDecision) ?? asString(prop(asObject(rawDecision), "value"));
  const status = lookup(DECISION_STATUS, decision);
  let unmapped: string | null = null;
  if (sessionId === undefined) unmapped = "sessionId: missing";
  else if (status === undefined) unmapped = "data.verification.decision: no known decision";
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    providerEventType: "fullauto",
    status: sessionId === undefined ? null : (status ?? null),
    // `time` is when the decision was made; `acceptanceTime` is the session's start, never a decision time.
    occurredAt: toIsoTime(prop(body, "time")),
    subject: subjectOf(body),
    // Extracted person and document data and the insights are personal data: never copied.
    decision: { decision: decision ?? null, decisionScore: prop(verification, "decisionScore") ?? null },
    attemptId: attemptId ?? null,
    unmapped,
  };
}

/** Watchlist screening (PEP/sanctions): a result about the person, not a verification status. */
function fromWatchlist(body: JsonObject, content: Bytes): Specific {
  const sessionId = sessionIdOf(body);
  const attemptId = firstString(body, "attemptId");
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    providerEventType: `watchlist.${asString(prop(body, "checkType")) ?? "result"}`,
    status: null,
    occurredAt: toIsoTime(prop(body, "createdAt")),
    subject: subjectOf(body),
    // The search term and the hits (names, dates of birth, associates) are personal data.
    decision: { matchStatus: prop(body, "matchStatus") ?? null, totalHits: prop(body, "totalHits") ?? null },
    attemptId: attemptId ?? null,
    unmapped: null,
  };
}

/**
 * User-defined statuses `{eventType: "user-status.created", attemptId, time, data: {verification: {id,
 * userDefinedData: {status, statusCode, reason, reasonCode, createdAt}}}}`: a Customer Portal user
 * labelled an attempt with one of the integrator's own statuses. A known format without a KYC status.
 */
function fromUserStatus(body: JsonObject, content: Bytes): Specific {
  const sessionId = sessionIdOf(body);
  const verification = asObject(prop(asObject(prop(body, "data")), "verification"));
  const userDefined = asObject(prop(verification, "userDefinedData"));
  const attemptId = firstString(body, "attemptId") ?? firstString(verification, "attemptId");
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    providerEventType: asString(prop(body, "eventType")) ?? "user-status",
    status: null,
    occurredAt: toIsoTime(prop(body, "time")) ?? toIsoTime(prop(userDefined, "createdAt")),
    subject: subjectOf(body),
    // The codes only: `status` and `reason` are text a person typed, and may name the end user.
    decision: { statusCode: prop(userDefined, "statusCode") ?? null, reasonCode: prop(userDefined, "reasonCode") ?? null },
    attemptId: attemptId ?? null,
    unmapped: null,
  };
}

/** `eventType` `user-status.*`, or a `data.verification.userDefinedData` object. */
function isUserStatus(body: JsonObject): boolean {
  const eventType = asString(prop(body, "eventType"));
  if (eventType?.startsWith("user-status.")) return true;
  return asObject(prop(asObject(prop(asObject(prop(body, "data")), "verification")), "userDefinedData")) !== undefined;
}

/** Any other format: recorded under its session when it names one. */
function fromUnknown(body: JsonObject, content: Bytes): Specific {
  const sessionId = sessionIdOf(body);
  const attemptId =
    firstString(body, "attemptId") ?? firstString(asObject(prop(asObject(prop(body, "data")), "verification")), "attemptId");
  return {
    correlationId: sessionCorrelationId(sessionId, attemptId, content),
    providerEventType: asString(prop(body, "eventType")) ?? "unknown",
    status: null,
    occurredAt: null,
    subject: subjectOf(body),
    decision: null,
    attemptId: attemptId ?? null,
    unmapped: "an unknown webhook format",
  };
}

function specificOf(json: unknown, content: Bytes): Specific {
  const body = asObject(json);
  if (body === undefined) return { ...fromUnknown({}, content), unmapped: "the body is not a JSON object" };
  if (Object.hasOwn(body, "verification")) return fromDecision(body, content);
  if (prop(body, "eventType") === "fullauto") return fromFullAuto(body, content);
  if (Object.hasOwn(body, "checkType") || Object.hasOwn(body, "matchStatus")) return fromWatchlist(body, content);
  if (Object.hasOwn(body, "action") || Object.hasOwn(body, "feature")) return fromEvent(body, content);
  if (isUserStatus(body)) return fromUserStatus(body, content);
  return fromUnknown(body, content);
}

function normalize(json: unknown, { content, receivedAt }: NormalizeContext): EventDraft {
  return {
    eventId: contentEventId("veriff", content),
    provider: "veriff",
    receivedAt,
    sandbox: false, // Veriff payloads carry no sandbox flag (test integrations have their own keys)
    ...specificOf(json, content),
  };
}

export const veriff: Provider = { id: "veriff", authenticate, normalize };
