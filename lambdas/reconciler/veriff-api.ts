/**
 * Veriff's decision API: the reconciler's lookup of one session whose decision webhook never came.
 *
 * - Endpoint: `GET {baseUrl}/v1/sessions/{sessionId}/decision`,
 *   https://devdocs.veriff.com/apidocs/v1sessionsiddecision-1 ("for polling when webhook delivery
 *   fails"); `verification: null` means that no decision is available yet (and an empty object, on
 *   older integrations: https://devdocs.veriff.com/docs/general-faq).
 * - Signing: `X-AUTH-CLIENT` = the integration's API key, `X-HMAC-SIGNATURE` = hex HMAC-SHA256 of
 *   the session id with the integration's shared secret key (GET requests sign the session id,
 *   https://devdocs.veriff.com/docs/hmac-authentication-and-endpoint-security), `Content-Type:
 *   application/json` as Veriff's examples send it.
 * - The answer is signed the same way: `x-hmac-signature` = hex HMAC-SHA256 of the response body
 *   ("Veriff will also always return X-HMAC-signature" to a signed request, general FAQ). A 2xx
 *   answer without it, or any answer whose signature does not match (constant time), is never mapped.
 * - The base URL is the integration's `baseURL` without `/v1` (https://devdocs.veriff.com/docs/general-faq:
 *   "API URL + v1 + path"); a base URL configured with a trailing `/v1` is read without it, so the
 *   path never becomes `/v1/v1/…` (every lookup would silently be `not-found`).
 *
 * The answer holds `person`, `document`, `technicalData` (IP address) and more: only the decision
 * webhook's status fields are kept, mapped by the webhook's own function (lambdas/providers/veriff.ts).
 */
import type { EventDraft } from "../core/canonical.js";
import { hexDigestEquals, hmacDigest, hmacHex, sha256Hex } from "../core/crypto.js";
import { FINAL_STATUSES } from "../core/event.js";
import { asObject, asString, type JsonObject, prop } from "../providers/json.js";
import { fromDecision } from "../providers/veriff.js";
import { apiUrl, jsonObjectOf, lookupIdOf, pathSegment } from "./idngo-api.js";
import type { ApiRequest, ApiResponse, LookupResult, StatusApi } from "./types.js";

export interface VeriffApiCredentials {
  /** The integration's base URL, e.g. `https://stationapi.veriff.com` (a trailing `/v1` is ignored). */
  readonly baseUrl: string;
  /** The integration's API key (`X-AUTH-CLIENT`). */
  readonly apiKey: string;
  /** The integration's shared secret key: signs requests, verifies answers, never sent. */
  readonly apiSecret: string;
}

/** What the draft's `providerEventType` says: the decision endpoint, not a webhook. */
export const VERIFF_API_EVENT_TYPE = "decision-api";

const PREFIX = "veriff:";

/** `X-HMAC-SIGNATURE` of a GET: hex HMAC-SHA256 of the session id with the shared secret key. */
export function veriffSignature(apiSecret: string, payload: string | Uint8Array): string {
  return hmacHex("sha256", apiSecret, typeof payload === "string" ? Buffer.from(payload, "utf8") : payload);
}

/** The base URL without a trailing `/v1` (Veriff's `baseURL`), so that `v1/…` is appended once. */
function integrationBase(baseUrl: string): string {
  const url = apiUrl(baseUrl, "");
  url.pathname = url.pathname.replace(/\/v1\/$/i, "/");
  return url.href;
}

/** The signed GET of one session's decision. `now` is unused: Veriff's GET signature has no time. */
export function veriffDecisionRequest(credentials: VeriffApiCredentials, sessionId: string): ApiRequest {
  const url = apiUrl(integrationBase(credentials.baseUrl), `v1/sessions/${pathSegment(sessionId)}/decision`);
  return {
    method: "GET",
    url: url.href,
    headers: {
      "Content-Type": "application/json",
      "X-AUTH-CLIENT": credentials.apiKey,
      "X-HMAC-SIGNATURE": veriffSignature(credentials.apiSecret, sessionId),
    },
  };
}

/** True when the answer carries no `x-hmac-signature`, or one that matches its body. */
export function veriffResponseVerifies(apiSecret: string, response: ApiResponse): boolean {
  const signature = response.headers["x-hmac-signature"];
  if (signature === undefined) return true;
  return hexDigestEquals(signature, hmacDigest("sha256", apiSecret, Buffer.from(response.body, "utf8")));
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** A JSON scalar as is, anything else as null: what a digest input may hold. */
function scalar(value: unknown): string | number | boolean | null {
  return typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : null;
}

/**
 * `veriff:reconcile:` + a digest of the decision's status fields only (session, status, code,
 * reasonCode, decisionTime, attemptId): asking twice gives the same id whatever else the answer
 * holds (personal data, risk labels, media), and a new attempt's decision a new one.
 */
export function veriffReconcileEventId(sessionId: string, verification: JsonObject): string {
  const fields = ["status", "code", "reasonCode", "decisionTime", "attemptId"].map((key) => scalar(prop(verification, key)));
  return `veriff:reconcile:${sha256Hex(JSON.stringify([sessionId, ...fields])).slice(0, 32)}`;
}

/**
 * The event for a decision: the decision webhook's mapping (status, decisionTime, `{status, code,
 * reasonCode}`, attemptId) applied to the status fields alone, under the session asked for. Nothing
 * else of the answer reaches the draft, not even through the mapping.
 */
export function veriffDecisionDraft(correlationId: string, sessionId: string, verification: JsonObject, receivedAt: string): EventDraft {
  const statusFields: JsonObject = {
    id: sessionId,
    attemptId: prop(verification, "attemptId"),
    status: prop(verification, "status"),
    code: prop(verification, "code"),
    reasonCode: prop(verification, "reasonCode"),
    decisionTime: prop(verification, "decisionTime"),
  };
  const mapped = fromDecision({ verification: statusFields }, Buffer.alloc(0));
  return {
    eventId: veriffReconcileEventId(sessionId, verification),
    correlationId,
    provider: "veriff",
    providerEventType: VERIFF_API_EVENT_TYPE,
    status: mapped.status,
    occurredAt: mapped.occurredAt,
    receivedAt,
    // vendorData and endUserId are in the answer, but the verification's stored subject stays.
    subject: {},
    decision: mapped.decision,
    attemptId: mapped.attemptId,
    sandbox: false, // the answer carries no sandbox flag (test integrations have their own keys)
    unmapped: mapped.unmapped,
    origin: "reconciliation",
  };
}

function parseWith(apiSecret: string) {
  return (correlationId: string, sessionId: string, response: ApiResponse, receivedAt: string): LookupResult => {
    // Before anything else: an answer that does not verify says nothing, whatever its status.
    if (!veriffResponseVerifies(apiSecret, response)) return { kind: "rejected", reason: "response signature mismatch" };
    // The answers the pipeline acts on must be signed: an unsigned decision could be anyone's.
    if (response.status >= 200 && response.status <= 299 && response.headers["x-hmac-signature"] === undefined) {
      return { kind: "rejected", reason: "response signature missing" };
    }
    if (response.status === 404) return { kind: "not-found" };
    if (response.status < 200 || response.status > 299) return { kind: "rejected", reason: `HTTP ${response.status}` };
    const body = jsonObjectOf(response.body);
    if (body === undefined) return { kind: "rejected", reason: `HTTP ${response.status}: the body is not a JSON object` };
    if (!Object.hasOwn(body, "verification")) return { kind: "rejected", reason: "verification: missing" };
    const raw = prop(body, "verification");
    const verification = asObject(raw);
    // null: "decision not yet available"; an empty object is documented too (general FAQ, older
    // integrations): neither is a decision.
    if (raw === null || (verification !== undefined && Object.keys(verification).length === 0)) return { kind: "no-decision" };
    if (verification === undefined) return { kind: "rejected", reason: "verification: not an object" };
    const answeredId = asString(prop(verification, "id"));
    if (answeredId !== undefined && answeredId !== sessionId)
      return { kind: "rejected", reason: "verification.id: not the session asked for" };
    const draft = veriffDecisionDraft(correlationId, sessionId, verification, receivedAt);
    return { kind: "event", draft, final: draft.status !== null && FINAL_STATUSES.includes(draft.status) };
  };
}

/**
 * The Veriff decision API with an integration's credentials. Only `veriff:{sessionId}` can be
 * looked up: `veriff:attempt:…` (an attempt without its session), unidentified events and ids
 * replaced by a digest (`veriff:sha256:…`) name no session the endpoint knows.
 */
export function veriffStatusApi(credentials: VeriffApiCredentials): StatusApi {
  integrationBase(credentials.baseUrl); // a malformed base URL fails at configuration, not per lookup
  return {
    provider: "veriff",
    verificationIdOf: (correlationId) => lookupIdOf(PREFIX, correlationId),
    request: (sessionId) => veriffDecisionRequest(credentials, sessionId),
    parse: parseWith(credentials.apiSecret),
  };
}
