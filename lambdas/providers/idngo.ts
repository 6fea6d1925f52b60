/**
 * IDnGO / Cyberity (white labels of the Sumsub API), docs/providers/idngo.md: `x-payload-digest`
 * = hex HMAC of the raw body, algorithm named by `x-payload-digest-alg`.
 */
import type { EventDraft } from "../core/canonical.js";
import { type HmacAlgorithm, hmacDigest, matchesAnySecret, sha256Hex } from "../core/crypto.js";
import type { Status } from "../core/event.js";
import { header } from "../core/http.js";
import { toIsoTime } from "../core/time.js";
import { asBoolean, asObject, asString, asStrings, firstString, type JsonObject, prop } from "./json.js";
import {
  type AuthContext,
  type AuthResult,
  authFailure,
  type Bytes,
  correlationIdOf,
  type NormalizeContext,
  type Provider,
  type RawRequest,
  unidentifiedCorrelationId,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Authentication

const ALGORITHMS: ReadonlyMap<string, HmacAlgorithm> = new Map([
  ["HMAC_SHA256_HEX", "sha256"],
  ["HMAC_SHA512_HEX", "sha512"],
  ["HMAC_SHA1_HEX", "sha1"],
]);

function authenticate(request: RawRequest, auth: AuthContext): AuthResult {
  const digest = header(request.headers, "x-payload-digest");
  if (digest === undefined) return authFailure("missing-signature");
  const name = header(request.headers, "x-payload-digest-alg");
  // A missing algorithm header means SHA-256, Sumsub's default for new webhooks (ours).
  const algorithm = name === undefined ? "sha256" : ALGORITHMS.get(name.trim().toUpperCase());
  if (algorithm === undefined) return authFailure("unknown-algorithm");
  // SHA-1 is deprecated by Sumsub: only when explicitly configured (ours).
  if (algorithm === "sha1" && !auth.options.idngoAllowSha1) return authFailure("algorithm-not-enabled");
  return matchesAnySecret(digest, auth.secrets, (secret) => hmacDigest(algorithm, secret, request.body))
    ? { ok: true, content: request.body }
    : authFailure("signature-mismatch");
}

// ---------------------------------------------------------------------------------------------
// Status mapping

/**
 * `reviewStatus` → status. `completed` needs the answer: GREEN approved; RED rejected, or
 * resubmission_requested when the reject type is RETRY (RED without a type is read as the
 * conservative `rejected`). `awaitingService` (paused for a slow external check, even with a
 * GREEN answer) is in_review; `awaitingUser` (a company waiting for its associated parties) is on_hold.
 */
export function reviewStatusToStatus(reviewStatus: string | undefined, result: JsonObject | undefined): Status | undefined {
  switch (reviewStatus) {
    case "init":
      return "created";
    case "pending":
      return "submitted";
    case "prechecked":
    case "queued":
    case "awaitingService":
      return "in_review";
    case "onHold":
    case "awaitingUser":
      return "on_hold";
    case "completed":
      switch (asString(prop(result, "reviewAnswer"))) {
        case "GREEN":
          return "approved";
        case "RED":
          return prop(result, "reviewRejectType") === "RETRY" ? "resubmission_requested" : "rejected";
        default:
          return undefined;
      }
    default:
      return undefined;
  }
}

/** Types that end a verification whatever their reviewStatus says. */
const TYPE_STATUS: ReadonlyMap<string, Status> = new Map([
  ["applicantReset", "created"], // a new cycle, whatever reviewResult still says
  ["applicantDeleted", "deleted"], // final, even though reviewStatus says `init`
]);

/**
 * Types whose reviewStatus is the applicant's (or action's) current status. The informational
 * ones (applicantPersonalInfoChanged, applicantLevelChanged) are included on purpose: they carry
 * the *current* reviewStatus, and with createdAtMs ordering a current status is never wrong.
 * Every `applicantAction…` type is read the same way, for the action.
 */
const REVIEW_STATUS_TYPES: ReadonlySet<string> = new Set([
  "applicantCreated",
  "applicantPending",
  "applicantReviewed",
  "applicantOnHold",
  "applicantPrechecked",
  "applicantAwaitingUser",
  "applicantAwaitingService",
  "applicantPersonalInfoChanged",
  "applicantLevelChanged",
  "applicantWorkflowCompleted",
  "applicantWorkflowFailed",
]);

/**
 * Known types that carry no KYC status of the applicant: recorded only. Transaction monitoring
 * (`applicantKyt…`, `kytCase…`, `amlCase…`) reports on a *transaction* or a case: its
 * reviewStatus/reviewAnswer must never change the person's verification (a rejected transfer
 * does not reject a verified person). Fraud network detection (`applicantFraudNetwork…`)
 * reports a network of linked applicants, not a review.
 */
function isInformational(type: string): boolean {
  return (
    /^(applicantKyt|kytCase|amlCase|videoIdent|applicantFraudNetwork)/.test(type) ||
    [
      "applicantTagsChanged",
      "applicantActivated",
      "applicantDeactivated",
      "applicantTravelRuleStatusChanged",
      // Personal data erased on request: the applicant and its review status remain.
      "applicantPersonalDataDeleted",
    ].includes(type)
  );
}

const isActionType = (type: string): boolean => type.startsWith("applicantAction");

// ---------------------------------------------------------------------------------------------
// Normalization

interface Mapping {
  readonly status: Status | null;
  readonly unmapped: string | null;
}

function mappingOf(type: string | undefined, body: JsonObject): Mapping {
  if (type === undefined) return { status: null, unmapped: "type: missing" };
  const byType = TYPE_STATUS.get(type);
  if (byType !== undefined) return { status: byType, unmapped: null };
  if (isInformational(type)) return { status: null, unmapped: null };
  if (!REVIEW_STATUS_TYPES.has(type) && !isActionType(type)) return { status: null, unmapped: "type: unknown" };
  const status = reviewStatusToStatus(asString(prop(body, "reviewStatus")), asObject(prop(body, "reviewResult")));
  return status === undefined
    ? { status: null, unmapped: "reviewStatus (with reviewResult.reviewAnswer): no known status" }
    : { status, unmapped: null };
}

/**
 * The verification an event belongs to: `idngo:{applicantId}`; an action's `idngo:action:{applicantActionId}`;
 * transaction monitoring without an applicant `idngo:kyt:{kytTxnId}` or `idngo:kytcase:{kytCaseId}`,
 * fraud network detection without one `idngo:network:{networkId}`;
 * else one correlationId per distinct unidentified event. `missing` names why an event filed
 * elsewhere than under its applicant or action cannot set a status.
 */
function correlationIdFor(type: string | undefined, body: JsonObject, content: Bytes): { id: string; missing: string | null } {
  const applicantId = firstString(body, "applicantId");
  const actionId = firstString(body, "applicantActionId");
  if (actionId !== undefined) return { id: correlationIdOf("idngo", "action", actionId), missing: null };
  const actionWithoutId = type !== undefined && isActionType(type) ? "applicantActionId: missing" : null;
  if (applicantId !== undefined) return { id: correlationIdOf("idngo", applicantId), missing: actionWithoutId };
  const txnId = firstString(body, "kytTxnId");
  if (txnId !== undefined)
    return { id: correlationIdOf("idngo", "kyt", txnId), missing: "applicantId: missing (filed under its transaction)" };
  const caseId = firstString(body, "kytCaseId", "caseId");
  if (caseId !== undefined)
    return { id: correlationIdOf("idngo", "kytcase", caseId), missing: "applicantId: missing (filed under its case)" };
  const networkId = firstString(body, "networkId");
  if (networkId !== undefined)
    return { id: correlationIdOf("idngo", "network", networkId), missing: "applicantId: missing (filed under its fraud network)" };
  return { id: unidentifiedCorrelationId("idngo", content), missing: "applicantId: missing" };
}

/**
 * Sumsub's `correlationId` names the operation that triggered the webhook, and several webhooks
 * of one operation may share it; the body digest keeps those apart, while a redelivery (the same
 * bytes) keeps its id.
 */
function eventIdOf(body: JsonObject, content: Bytes): string {
  const operation = firstString(body, "correlationId");
  const digest = sha256Hex(content);
  return operation === undefined ? `idngo:${digest}` : `${correlationIdOf("idngo", operation)}:${digest.slice(0, 32)}`;
}

/**
 * `{answer, rejectType, labels}` only when the review is `completed` (the answer only counts then;
 * applicantReset still carries the previous GREEN). Comments are never copied.
 */
export function decisionOf(body: JsonObject): EventDraft["decision"] {
  const result = asObject(prop(body, "reviewResult"));
  const answer = asString(prop(result, "reviewAnswer"));
  if (prop(body, "reviewStatus") !== "completed" || answer === undefined) return null;
  return { answer, rejectType: asString(prop(result, "reviewRejectType")) ?? null, labels: asStrings(prop(result, "rejectLabels")) ?? [] };
}

function subjectOf(body: JsonObject, isAction: boolean): Record<string, string> {
  const subject: Record<string, string> = {};
  const externalUserId = asString(prop(body, "externalUserId"));
  const externalActionId = asString(prop(body, "externalApplicantActionId"));
  if (externalUserId !== undefined) subject["externalUserId"] = externalUserId;
  if (isAction && externalActionId !== undefined) subject["externalApplicantActionId"] = externalActionId;
  return subject;
}

function normalize(json: unknown, { content, receivedAt }: NormalizeContext): EventDraft {
  const body = asObject(json) ?? {};
  const type = asString(prop(body, "type"));
  const { id: correlationId, missing } = correlationIdFor(type, body, content);
  const isObject = asObject(json) !== undefined;
  const mapping = mappingOf(type, body);
  // Without the verification it belongs to, an event cannot set a status: recorded only. Known
  // no-status types (transaction monitoring filed under its transaction) need no reason.
  const unmapped = !isObject
    ? "the body is not a JSON object"
    : mapping.status === null && mapping.unmapped === null
      ? null
      : (missing ?? mapping.unmapped);
  return {
    eventId: eventIdOf(body, content),
    correlationId,
    provider: "idngo",
    providerEventType: type ?? "unknown",
    status: isObject && missing === null ? mapping.status : null,
    // createdAtMs (`yyyy-MM-dd HH:mm:ss.fff` UTC, sometimes with a `+0000` offset), else createdAt.
    occurredAt: toIsoTime(prop(body, "createdAtMs")) ?? toIsoTime(prop(body, "createdAt")),
    receivedAt,
    subject: subjectOf(body, correlationId.startsWith("idngo:action:")),
    decision: decisionOf(body),
    attemptId: null,
    // Documented as a boolean; the string "true"/"false" is seen too.
    sandbox: asBoolean(prop(body, "sandboxMode")) ?? false,
    unmapped,
  };
}

export const idngo: Provider = { id: "idngo", authenticate, normalize };
