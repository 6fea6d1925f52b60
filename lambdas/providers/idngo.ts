/**
 * IDnGO / Cyberity (white labels of the Sumsub API): `x-payload-digest` = hex HMAC of the raw
 * body, algorithm named by `x-payload-digest-alg` (seed 004, providers.md "idngo").
 */
import * as v from "valibot";
import { hmacHex, matchesAnySecret, type HmacAlgorithm } from "../core/crypto.js";
import { SPEC_VERSION, type Decision, type NormalizedEvent, type Status, type Subject } from "../core/event.js";
import { header } from "../core/http.js";
import {
  InvalidPayload,
  contentEventId,
  parsePayload,
  providerIdSchema,
  type AuthContext,
  type NormalizeContext,
  type Provider,
  type RawRequest,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Authentication

/** Digest algorithm for the `x-payload-digest-alg` header; null = authentication failure. */
function digestAlgorithm(name: string | undefined, allowSha1: boolean): HmacAlgorithm | null {
  switch (name) {
    case undefined: // header missing: SHA-256, Sumsub's default for new webhooks (ours)
    case "HMAC_SHA256_HEX":
      return "sha256";
    case "HMAC_SHA512_HEX":
      return "sha512";
    case "HMAC_SHA1_HEX": // deprecated by Sumsub: only when explicitly configured (ours)
      return allowSha1 ? "sha1" : null;
    default:
      return null;
  }
}

function authenticate(request: RawRequest, auth: AuthContext): Buffer | null {
  try {
    const digest = header(request.headers, "x-payload-digest");
    const algorithm = digestAlgorithm(header(request.headers, "x-payload-digest-alg"), auth.options.idngoAllowSha1);
    if (digest === undefined || algorithm === null) return null;
    return matchesAnySecret(digest, auth.secrets, (secret) => hmacHex(algorithm, secret, request.body)) ? request.body : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Payload

const token = providerIdSchema;
const text = v.pipe(v.string(), v.maxLength(256));

const reviewResultSchema = v.looseObject({
  // GREEN | RED today; any other token is kept and yields no status rather than a 400.
  reviewAnswer: v.optional(token),
  rejectLabels: v.optional(v.array(v.pipe(v.string(), v.maxLength(100)))),
  reviewRejectType: v.optional(token),
  // moderationComment / clientComment may hold private information: accepted, never read.
});

const payloadSchema = v.looseObject({
  type: token,
  applicantId: v.optional(providerIdSchema),
  applicantActionId: v.optional(providerIdSchema),
  /** Sumsub's event (delivery) id: the pipeline's eventId, NOT its correlationId. */
  correlationId: v.optional(providerIdSchema),
  inspectionId: v.optional(text),
  levelName: v.optional(text),
  externalUserId: v.optional(text),
  externalApplicantActionId: v.optional(text),
  applicantType: v.optional(text),
  clientId: v.optional(text),
  // Documented as Boolean, but the seed's own examples send "true"/"false" strings.
  sandboxMode: v.optional(v.union([v.boolean(), v.picklist(["true", "false"])])),
  reviewStatus: v.optional(token),
  reviewResult: v.optional(reviewResultSchema),
  createdAtMs: v.optional(v.string()),
});

type Payload = v.InferOutput<typeof payloadSchema>;
type ReviewResult = v.InferOutput<typeof reviewResultSchema>;

const SUMSUB_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z?$/;

/**
 * `createdAtMs` is a UTC string `yyyy-MM-dd HH:mm:ss.fff` (not epoch ms). `Date.parse` reads that
 * form as local time, so it is decomposed and built with `Date.UTC`. The fraction is optional.
 * Returns null for anything that is not a real calendar time.
 */
export function parseSumsubTime(value: string): string | null {
  const m = SUMSUB_TIME.exec(value);
  if (m === null) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms));
  const roundTrips =
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month - 1 &&
    date.getUTCDate() === day &&
    date.getUTCHours() === hour &&
    date.getUTCMinutes() === minute &&
    date.getUTCSeconds() === second;
  return roundTrips ? date.toISOString() : null;
}

function isActionWebhook(payload: Payload): boolean {
  return payload.type.startsWith("applicantAction") || payload.applicantActionId !== undefined;
}

function correlationIdOf(payload: Payload): string {
  if (isActionWebhook(payload)) {
    if (payload.applicantActionId === undefined) throw new InvalidPayload("applicantActionId: required for action webhooks");
    return `idngo:action:${payload.applicantActionId}`;
  }
  if (payload.applicantId === undefined) throw new InvalidPayload("applicantId: required");
  return `idngo:${payload.applicantId}`;
}

function occurredAtOf(payload: Payload): string | null {
  if (payload.createdAtMs === undefined) return null;
  const iso = parseSumsubTime(payload.createdAtMs);
  if (iso === null) throw new InvalidPayload("createdAtMs: expected a UTC time yyyy-MM-dd HH:mm:ss.fff");
  return iso;
}

/**
 * Types whose reviewStatus is the applicant's (or action's) current status. The informational
 * ones (applicantPersonalInfoChanged, applicantLevelChanged, applicantWorkflowCompleted) are
 * included on purpose: they carry the *current* reviewStatus, and with createdAtMs ordering a
 * current status is never wrong (a level change does put the applicant back to `init`).
 * Not listed, so status null (accepted and recorded): applicantTagsChanged, applicantActivated,
 * applicantDeactivated (they repeat reviewStatus but carry no verification outcome) and unknown types.
 */
const REVIEW_STATUS_TYPES: ReadonlySet<string> = new Set([
  "applicantCreated",
  "applicantPending",
  "applicantReviewed",
  "applicantOnHold",
  "applicantPrechecked",
  "applicantPersonalInfoChanged",
  "applicantLevelChanged",
  "applicantWorkflowCompleted",
  "applicantActionPending",
  "applicantActionReviewed",
  "applicantActionOnHold",
]);

/**
 * `completed` + answer. RED without a reject type (or with an unknown one) is read as
 * `rejected`: the conservative reading, a RETRY would have said so. Unknown answers: null.
 */
function completedStatus(result: ReviewResult | undefined): Status | null {
  switch (result?.reviewAnswer) {
    case "GREEN":
      return "approved";
    case "RED":
      return result.reviewRejectType === "RETRY" ? "resubmission_requested" : "rejected";
    default:
      return null;
  }
}

/** reviewStatus → status. `awaitingUser`, `awaitingService` and unknown values have no documented mapping: null. */
function reviewStatusToStatus(reviewStatus: string | undefined, result: ReviewResult | undefined): Status | null {
  switch (reviewStatus) {
    case "init":
      return "created";
    case "pending":
      return "submitted";
    case "prechecked":
    case "queued":
      return "in_review";
    case "onHold":
      return "on_hold";
    case "completed":
      return completedStatus(result);
    default:
      return null;
  }
}

function statusOf(payload: Pick<Payload, "type" | "reviewStatus" | "reviewResult">): Status | null {
  if (payload.type === "applicantReset") return "created"; // a new cycle, whatever reviewResult still says
  if (payload.type === "applicantDeleted") return "deleted"; // final, even though reviewStatus says `init`
  if (!REVIEW_STATUS_TYPES.has(payload.type)) return null; // no outcome or unknown type: recorded only
  return reviewStatusToStatus(payload.reviewStatus, payload.reviewResult);
}

/**
 * `{answer, rejectType, labels}` only when the review is `completed` (providers.md: the answer
 * only counts then; applicantReset still carries the previous GREEN). Comments are never copied.
 */
function decisionOf(payload: Payload): Decision | null {
  const result = payload.reviewResult;
  if (payload.reviewStatus !== "completed" || result?.reviewAnswer === undefined) return null;
  return { answer: result.reviewAnswer, rejectType: result.reviewRejectType ?? null, labels: result.rejectLabels ?? [] };
}

function subjectOf(payload: Payload): Subject {
  const subject: Record<string, string> = {};
  if (payload.externalUserId) subject["externalUserId"] = payload.externalUserId;
  if (isActionWebhook(payload) && payload.externalApplicantActionId) {
    subject["externalApplicantActionId"] = payload.externalApplicantActionId;
  }
  return subject;
}

function normalize(content: Buffer, context: NormalizeContext): NormalizedEvent {
  const payload = parsePayload(content, payloadSchema);
  return {
    specVersion: SPEC_VERSION,
    eventId: payload.correlationId === undefined ? contentEventId("idngo", content) : `idngo:${payload.correlationId}`,
    correlationId: correlationIdOf(payload),
    provider: "idngo",
    providerEventType: payload.type,
    status: statusOf(payload),
    occurredAt: occurredAtOf(payload),
    receivedAt: context.receivedAt,
    subject: subjectOf(payload),
    decision: decisionOf(payload),
    attemptId: null,
    sandbox: payload.sandboxMode === true || payload.sandboxMode === "true",
  };
}

export const idngo: Provider = {
  id: "idngo",
  authenticate,
  normalize,
  invalidPayloadIsAuthFailure: false,
};
