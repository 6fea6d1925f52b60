/**
 * IDnGO's status API (IDnGO is a white label of the Sumsub API): the reconciler's lookup of one
 * applicant whose webhooks stopped arriving.
 *
 * - Endpoint: `GET /resources/applicants/{applicantId}/status`, the applicant's review status and
 *   nothing else (no name, no document: the endpoint with the least personal data),
 *   https://docs.sumsub.com/reference/get-applicant-review-status.
 * - Actions (`idngo:action:{applicantActionId}`): `GET /resources/applicantActions/{actionId}/one`,
 *   https://docs.sumsub.com/reference/get-action-information, the only documented read of an
 *   action's review. Its answer is the whole action (it may hold payment details and document
 *   references): only its `review` object's status fields are read, nothing else is kept.
 * - Signing: https://docs.sumsub.com/reference/authentication. `X-App-Access-Sig` is the lowercase
 *   hex HMAC-SHA256, with the app token's secret key, of the timestamp (`X-App-Access-Ts`, Unix
 *   seconds, as a string) + the HTTP method in upper case + the "URI of the request without a host
 *   name, starting with a slash and including all query parameters" + the body (none for a GET).
 *   The timestamp must be within one minute of Sumsub's clock.
 * - Errors: `{description, code, correlationId, errorCode?, errorName?}`,
 *   https://docs.sumsub.com/reference/error-codes-description.
 *
 * A base URL with a path prefix (a proxy in front of the API) is signed with that prefix: the docs
 * sign the request URI without the host, i.e. exactly the path the request is sent to, so the
 * signed path is always the sent URL's pathname + search (computed from the URL that is sent, never
 * assembled twice). A proxy that strips a prefix before forwarding would have to re-sign.
 *
 * Mapping: the answer's `reviewStatus` and `reviewResult` are the fields the applicant webhooks
 * carry, mapped by the webhook's own functions (lambdas/providers/idngo.ts), so a lookup and a
 * webhook can never disagree on a status.
 */
import { type EventDraft, isPlainIdPart } from "../core/canonical.js";
import { hmacHex, sha256Hex } from "../core/crypto.js";
import { FINAL_STATUSES } from "../core/event.js";
import { rfc3986 } from "../core/http.js";
import { toIsoTime } from "../core/time.js";
import { decisionOf, reviewStatusToStatus } from "../providers/idngo.js";
import { asObject, asString, asStrings, type JsonObject, prop } from "../providers/json.js";
import type { ApiRequest, ApiResponse, LookupResult, StatusApi } from "./types.js";

export interface IdngoApiCredentials {
  /** The API's origin, optionally with a path prefix (e.g. `https://api.idngo.example` or `…/sumsub/`). */
  readonly baseUrl: string;
  /** The app token (`X-App-Token`). */
  readonly appToken: string;
  /** The app token's secret key: signs every request, never sent. */
  readonly appSecret: string;
}

/** What the draft's `providerEventType` says: the status endpoint, not a webhook type. */
export const IDNGO_API_EVENT_TYPE = "status-api";
/** The same for an action's answer (the action endpoint). */
export const IDNGO_ACTION_API_EVENT_TYPE = "action-api";

/**
 * What `verificationIdOf` answers for an action: `action:{applicantActionId}`. `:` never occurs in a
 * lookup id (`lookupIdOf`), so this cannot be mistaken for an applicant id.
 */
const ACTION_LOOKUP = "action:";

const PREFIX = "idngo:";

/**
 * The id a `{provider}:{id}` correlationId names when it is a plain lookup id, else undefined
 * (shared with the Veriff API): what `idPart` keeps as is (1-100 printable ASCII, no space, `:` or
 * `/`, so never one of the prefixed forms), and not a dot segment (which a URL would resolve away).
 */
export function lookupIdOf(prefix: string, correlationId: string): string | undefined {
  if (!correlationId.startsWith(prefix)) return undefined;
  const id = correlationId.slice(prefix.length);
  return id !== "" && isPlainIdPart(id) && id !== "." && id !== ".." ? id : undefined;
}

/**
 * One path segment, every character outside RFC 3986's unreserved set percent-encoded (`%` too, so
 * an encoded dot cannot arise). A dot segment (`.`, `..`) would be resolved away by the URL:
 * refused, never sent.
 */
export function pathSegment(value: string): string {
  if (value === "" || value === "." || value === "..") throw new TypeError("not a lookup id (empty or a dot segment)");
  return rfc3986(value);
}

/** `baseUrl` + `path` (relative), keeping any path prefix of the base; query and fragment of the base dropped. */
export function apiUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  base.search = "";
  base.hash = "";
  if (!base.pathname.endsWith("/")) base.pathname = `${base.pathname}/`;
  return new URL(path, base);
}

/**
 * `X-App-Access-Sig` exactly as Sumsub documents it: hex HMAC-SHA256 with the secret key over
 * `ts + METHOD + pathWithQuery + body`.
 */
export function idngoSignature(appSecret: string, ts: string, method: string, pathWithQuery: string, body = ""): string {
  return hmacHex("sha256", appSecret, Buffer.from(`${ts}${method.toUpperCase()}${pathWithQuery}${body}`, "utf8"));
}

/** The path of the lookup named by a `verificationIdOf` answer: an applicant's status, or an action. */
function lookupPath(lookupId: string): string {
  return lookupId.startsWith(ACTION_LOOKUP)
    ? `resources/applicantActions/${pathSegment(lookupId.slice(ACTION_LOOKUP.length))}/one`
    : `resources/applicants/${pathSegment(lookupId)}/status`;
}

/** The signed GET of one applicant's review status (or, for `action:{id}`, of one action) at `now`. */
export function idngoStatusRequest(credentials: IdngoApiCredentials, lookupId: string, now: Date): ApiRequest {
  const url = apiUrl(credentials.baseUrl, lookupPath(lookupId));
  const ts = String(Math.floor(now.getTime() / 1000));
  return {
    method: "GET",
    url: url.href,
    headers: {
      Accept: "application/json",
      "X-App-Token": credentials.appToken,
      "X-App-Access-Ts": ts,
      "X-App-Access-Sig": idngoSignature(credentials.appSecret, ts, "GET", `${url.pathname}${url.search}`),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** An answer's body as a JSON object, or undefined when it is not one (shared with the Veriff API). */
export function jsonObjectOf(body: string): JsonObject | undefined {
  try {
    return asObject(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/**
 * A fixed error identifier as Sumsub's error table spells them (`app-token-signature-mismatch`,
 * `duplicate-document`): lower-case words joined by hyphens. Anything else (spaces, capitals) could
 * be free text and is left out.
 */
const ERROR_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+){1,7}$/;

/**
 * `HTTP 401 (app-token-signature-mismatch, 4003)`: the status, and Sumsub's `errorName` and
 * `errorCode` when they are the fixed identifiers its error table lists. Never `description`
 * (free text that may quote a value).
 */
export function idngoErrorReason(status: number, body: string): string {
  const json = jsonObjectOf(body);
  const name = asString(prop(json, "errorName"));
  const code = prop(json, "errorCode");
  const parts = [
    ...(name !== undefined && ERROR_NAME.test(name) ? [name] : []),
    ...(typeof code === "number" && Number.isSafeInteger(code) && code >= 0 ? [String(code)] : []),
  ];
  return parts.length === 0 ? `HTTP ${status}` : `HTTP ${status} (${parts.join(", ")})`;
}

/**
 * The status fields the event keeps, and only them: the eventId is their digest, so asking twice
 * (the answer's counters such as `elapsedSincePendingMs` have moved on) gives the same id, and a
 * changed status a new one. Sumsub's review `attemptId` is part of it (an id, not personal data):
 * a new review cycle that reaches the same status again is a new event, not a duplicate of the
 * previous cycle's.
 */
interface StatusFields {
  readonly reviewStatus: string | null;
  readonly answer: string | null;
  readonly rejectType: string | null;
  readonly labels: readonly string[];
  readonly reviewDate: string | null;
  readonly createDate: string | null;
  readonly reviewAttemptId: string | null;
}

function statusFieldsOf(body: JsonObject): StatusFields {
  const result = asObject(prop(body, "reviewResult"));
  return {
    reviewStatus: asString(prop(body, "reviewStatus")) ?? null,
    answer: asString(prop(result, "reviewAnswer")) ?? null,
    rejectType: asString(prop(result, "reviewRejectType")) ?? null,
    labels: [...(asStrings(prop(result, "rejectLabels")) ?? [])].sort(),
    reviewDate: asString(prop(body, "reviewDate")) ?? null,
    createDate: asString(prop(body, "createDate")) ?? null,
    reviewAttemptId: asString(prop(body, "attemptId")) ?? null,
  };
}

/**
 * The API's own time of the status it reports. Sumsub documents `createDate` as the time "the
 * applicant check was initiated" and `reviewDate` as the time it "was completed". A completed
 * review is timed by `reviewDate`; any other status arose at or after the check's initiation, so
 * `createDate` is a lower bound of its time: with it, the answer overrides only what the table
 * knows to be older, never a status that may be newer. Without either, the answer is untimed (it
 * never overrides a timed status).
 */
function occurredAtOf(fields: StatusFields): string | null {
  const time = fields.reviewStatus === "completed" ? (fields.reviewDate ?? fields.createDate) : fields.createDate;
  return toIsoTime(time);
}

export function idngoReconcileEventId(lookupId: string, fields: StatusFields): string {
  const digest = sha256Hex(
    JSON.stringify([
      lookupId,
      fields.reviewStatus,
      fields.answer,
      fields.rejectType,
      fields.labels,
      fields.reviewDate,
      fields.createDate,
      fields.reviewAttemptId,
    ]),
  );
  return `idngo:reconcile:${digest.slice(0, 32)}`;
}

/**
 * The event for a 200 answer: mapped exactly as an applicant (or action) webhook with the same
 * status fields. `lookupId` is what `verificationIdOf` answered; for an action the status fields
 * are those of the answer's `review` object (the action endpoint nests them there).
 */
export function idngoStatusDraft(correlationId: string, lookupId: string, answer: JsonObject, receivedAt: string): EventDraft {
  const isAction = lookupId.startsWith(ACTION_LOOKUP);
  const body = isAction ? (asObject(prop(answer, "review")) ?? {}) : answer;
  const fields = statusFieldsOf(body);
  const status = reviewStatusToStatus(fields.reviewStatus ?? undefined, asObject(prop(body, "reviewResult"))) ?? null;
  return {
    eventId: idngoReconcileEventId(lookupId, fields),
    correlationId,
    provider: "idngo",
    providerEventType: isAction ? IDNGO_ACTION_API_EVENT_TYPE : IDNGO_API_EVENT_TYPE,
    status,
    occurredAt: occurredAtOf(fields),
    receivedAt,
    // The endpoint names no subject; the verification's stored subject stays.
    subject: {},
    // {answer, rejectType, labels} for a completed review, as the webhook keeps them (no comments).
    decision: decisionOf(body),
    attemptId: null, // the webhook mapping keeps none
    sandbox: false,
    unmapped:
      status !== null
        ? null
        : isAction && prop(answer, "review") === undefined
          ? "review: missing"
          : "reviewStatus (with reviewResult.reviewAnswer): no known status",
    origin: "reconciliation",
  };
}

function parse(correlationId: string, lookupId: string, response: ApiResponse, receivedAt: string): LookupResult {
  if (response.status === 404) return { kind: "not-found" };
  if (response.status < 200 || response.status > 299) return { kind: "rejected", reason: idngoErrorReason(response.status, response.body) };
  const body = jsonObjectOf(response.body);
  if (body === undefined) return { kind: "rejected", reason: `HTTP ${response.status}: the body is not a JSON object` };
  const draft = idngoStatusDraft(correlationId, lookupId, body, receivedAt);
  return { kind: "event", draft, final: draft.status !== null && FINAL_STATUSES.includes(draft.status) };
}

/**
 * The lookup a correlationId names: `idngo:{applicantId}` → the applicant id;
 * `idngo:action:{applicantActionId}` → `action:{applicantActionId}` (the action endpoint).
 * Transaction monitoring (`idngo:kyt:…`, `idngo:kytcase:…`), fraud networks (`idngo:network:…`), unidentified events and ids replaced
 * by a digest (`idngo:sha256:…`) name nothing the API can look up: undefined.
 */
export function idngoLookupIdOf(correlationId: string): string | undefined {
  const actionId = lookupIdOf(`${PREFIX}action:`, correlationId);
  if (actionId !== undefined) return `${ACTION_LOOKUP}${actionId}`;
  return lookupIdOf(PREFIX, correlationId);
}

/** The IDnGO status API with its credentials: applicants and actions (idngoLookupIdOf). */
export function idngoStatusApi(credentials: IdngoApiCredentials): StatusApi {
  apiUrl(credentials.baseUrl, ""); // a malformed base URL fails at configuration, not per lookup
  return {
    provider: "idngo",
    verificationIdOf: idngoLookupIdOf,
    request: (lookupId, now) => idngoStatusRequest(credentials, lookupId, now),
    parse,
  };
}
