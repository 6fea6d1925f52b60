/**
 * id beyond (uniicy), providers.md "idbeyond": `x-verification-signature: hex(HMAC-SHA256(rawBody,
 * webhookSecret))`. The secret is chosen per session at create time, so any configured secret
 * may match; unsigned requests are rejected. No event id: the eventId is a digest of the bytes.
 */
import * as v from "valibot";
import { hmacHex, matchesAnySecret } from "../core/crypto.js";
import { SPEC_VERSION, type Decision, type NormalizedEvent, type Status, type Subject } from "../core/event.js";
import { header } from "../core/http.js";
import {
  contentEventId,
  parsePayload,
  providerIdSchema,
  toIsoTime,
  type AuthContext,
  type NormalizeContext,
  type Provider,
  type RawRequest,
} from "./types.js";

function authenticate({ body, headers }: RawRequest, { secrets }: AuthContext): Buffer | null {
  try {
    const received = header(headers, "x-verification-signature");
    if (received === undefined) return null;
    // An empty secret (e.g. a stray comma in the env list) would let anyone sign: never a key.
    return matchesAnySecret(received, secrets, (secret) => hmacHex("sha256", secret, body)) ? body : null;
  } catch {
    return null;
  }
}

const text = v.nullish(v.string());

// Loose: `rationale`, `metadata` (echoed from session create) and the OCR fields of extraction
// events are personal data or may hold it; they are tolerated and never read.
const payloadSchema = v.looseObject({
  event: v.string(),
  verificationSessionId: providerIdSchema,
  externalUserId: text,
  decision: text,
  reviewStatus: text,
  timestamp: v.nullish(v.union([v.string(), v.number()])), // ISO 8601 or epoch milliseconds
});

type Payload = v.InferOutput<typeof payloadSchema>;

const REVIEW_STATUS: ReadonlyMap<string, Status> = new Map([
  ["none", "submitted"], // capture complete, no review yet
  ["pending_review", "in_review"],
  ["approved", "approved"],
  ["rejected", "rejected"],
]);

const DECISION_STATUS: ReadonlyMap<string, Status> = new Map([
  ["approved", "approved"],
  ["rejected", "rejected"],
]);

function lookup(map: ReadonlyMap<string, Status>, key: string | null | undefined): Status | null {
  return key === null || key === undefined ? null : (map.get(key) ?? null);
}

/**
 * `verification.completed`: `reviewStatus` decides (it also covers the transitional states),
 * `decision` only when reviewStatus is absent or unknown. `verification.extraction` means a
 * document is being analysed: started. Any other event is recorded with no status.
 */
function statusOf(payload: Payload): Status | null {
  switch (payload.event) {
    case "verification.completed":
      return lookup(REVIEW_STATUS, payload.reviewStatus) ?? lookup(DECISION_STATUS, payload.decision);
    case "verification.extraction":
      return "started";
    default:
      return null;
  }
}

/** The outcome fields only, or null when the event carries neither (e.g. extraction). */
function decisionOf({ decision, reviewStatus }: Payload): Decision | null {
  if (decision == null && reviewStatus == null) return null;
  return { decision: decision ?? null, reviewStatus: reviewStatus ?? null };
}

function subjectOf({ externalUserId }: Payload): Subject {
  return externalUserId ? { externalUserId } : {};
}

function normalize(content: Buffer, context: NormalizeContext): NormalizedEvent {
  const payload = parsePayload(content, payloadSchema);
  return {
    specVersion: SPEC_VERSION,
    eventId: contentEventId("idbeyond", content),
    correlationId: `idbeyond:${payload.verificationSessionId}`,
    provider: "idbeyond",
    providerEventType: payload.event,
    status: statusOf(payload),
    occurredAt: toIsoTime(payload.timestamp),
    receivedAt: context.receivedAt,
    subject: subjectOf(payload),
    decision: decisionOf(payload),
    attemptId: null, // id beyond has no attempts within a session
    sandbox: false, // test and live keys share one runtime; payloads carry no flag
  };
}

export const idbeyond: Provider = {
  id: "idbeyond",
  authenticate,
  normalize,
  invalidPayloadIsAuthFailure: false,
};
