/**
 * id beyond (uniicy), docs/providers/idbeyond.md: `x-verification-signature: hex(HMAC-SHA256(rawBody,
 * webhookSecret))`. The secret is chosen per session at create time, so any configured secret
 * may match; unsigned requests are rejected. No event id: the eventId is a digest of the bytes.
 */
import type { EventDraft } from "../core/canonical.js";
import { hmacDigest, matchesAnySecret, sha256Hex } from "../core/crypto.js";
import type { Status } from "../core/event.js";
import { header } from "../core/http.js";
import { toIsoTime } from "../core/time.js";
import { asObject, asString, firstString, type JsonObject, prop } from "./json.js";
import {
  type AuthContext,
  type AuthResult,
  authFailure,
  contentEventId,
  correlationIdOf,
  type NormalizeContext,
  type Provider,
  type RawRequest,
  unidentifiedCorrelationId,
} from "./types.js";

function authenticate({ body, headers }: RawRequest, { secrets }: AuthContext): AuthResult {
  const received = header(headers, "x-verification-signature");
  if (received === undefined) return authFailure("missing-signature");
  return matchesAnySecret(received, secrets, (secret) => hmacDigest("sha256", secret, body))
    ? { ok: true, content: body }
    : authFailure("signature-mismatch");
}

/** `reviewStatus` is free-form; these are the values id beyond and its reference receiver use. */
const REVIEW_STATUS: ReadonlyMap<string, Status> = new Map([
  ["none", "submitted"], // capture complete, no review yet
  ["pending", "in_review"], // the reference receiver reads it as pending_review
  ["pending_review", "in_review"],
  ["approved", "approved"],
  ["rejected", "rejected"],
]);

const DECISION_STATUS: ReadonlyMap<string, Status> = new Map([
  ["approved", "approved"],
  ["rejected", "rejected"],
]);

/**
 * `verification.completed`: `decision` decides when it is a terminal call (`approved`/`rejected`);
 * `reviewStatus` covers the transitional states (`decision: null`) and is the fallback, as id beyond's
 * API reference and its reference receiver read them. `verification.extraction` means a
 * document is being analysed: `started`, which the transition rule never lets override a later
 * stage (an extraction may arrive after the decision, with a later timestamp).
 */
function mappingOf(event: string | undefined, body: JsonObject): { status: Status | null; unmapped: string | null } {
  switch (event) {
    case "verification.completed": {
      const reviewStatus = asString(prop(body, "reviewStatus"));
      const status =
        DECISION_STATUS.get(asString(prop(body, "decision")) ?? "") ??
        (reviewStatus === undefined ? undefined : REVIEW_STATUS.get(reviewStatus));
      return status === undefined ? { status: null, unmapped: "reviewStatus and decision: no known status" } : { status, unmapped: null };
    }
    case "verification.extraction":
      return { status: "started", unmapped: null };
    case undefined:
      return { status: null, unmapped: "event: missing" };
    default:
      return { status: null, unmapped: "event: unknown" };
  }
}

function normalize(json: unknown, { content, receivedAt }: NormalizeContext): EventDraft {
  const body = asObject(json) ?? {};
  const event = asString(prop(body, "event"));
  const sessionId = firstString(body, "verificationSessionId");
  const externalUserId = asString(prop(body, "externalUserId"));
  const mapping = mappingOf(event, body);
  // Without its session an event cannot set a verification's status: it is recorded under the
  // user it names (as id beyond's reference receiver files it; by a digest, since the user key
  // may be an e-mail address and a correlationId appears in logs), else under its own digest.
  const correlationId =
    sessionId !== undefined
      ? correlationIdOf("idbeyond", sessionId)
      : externalUserId !== undefined
        ? correlationIdOf("idbeyond", "user", sha256Hex(externalUserId).slice(0, 32))
        : unidentifiedCorrelationId("idbeyond", content);
  const decision = asString(prop(body, "decision"));
  const reviewStatus = asString(prop(body, "reviewStatus"));
  return {
    eventId: contentEventId("idbeyond", content),
    correlationId,
    provider: "idbeyond",
    providerEventType: event ?? "unknown",
    status: sessionId === undefined ? null : mapping.status,
    occurredAt: toIsoTime(prop(body, "timestamp")), // ISO 8601 (epoch milliseconds tolerated)
    receivedAt,
    subject: externalUserId === undefined ? {} : { externalUserId },
    // The outcome fields only; `rationale`, `metadata` and OCR fields may hold personal data.
    decision:
      decision === undefined && reviewStatus === undefined ? null : { decision: decision ?? null, reviewStatus: reviewStatus ?? null },
    attemptId: null, // id beyond has no attempts within a session
    sandbox: false, // test and live keys share one runtime; payloads carry no flag
    unmapped:
      asObject(json) === undefined
        ? "the body is not a JSON object"
        : sessionId === undefined
          ? "verificationSessionId: missing"
          : mapping.unmapped,
  };
}

export const idbeyond: Provider = { id: "idbeyond", authenticate, normalize };
