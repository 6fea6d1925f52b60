/**
 * Veriff (providers.md "veriff"). Two webhook shapes share one endpoint:
 * - event webhooks `{id, attemptId, feature, code: 7001|7002, action, vendorData, endUserId}`
 *   (the session started / was submitted; no time, no decision);
 * - decision webhooks `{status: "success", verification: {...}, technicalData}`.
 * No event id and no timestamp header: the eventId is a digest of the authenticated bytes.
 */
import * as v from "valibot";
import { hmacHex, matchesAnySecret, sha256Hex } from "../core/crypto.js";
import { SPEC_VERSION, type NormalizedEvent, type Status, type Subject } from "../core/event.js";
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

// ---------------------------------------------------------------------------------------------
// Authentication

interface Scheme {
  readonly header: string;
  readonly digest: (body: Buffer, secret: string) => string;
}

/** Today's scheme: `x-hmac-signature: hex(HMAC-SHA256(rawBody, secret))`. */
const HMAC: Scheme = { header: "x-hmac-signature", digest: (body, secret) => hmacHex("sha256", secret, body) };

/** Legacy (seed 002): `x-signature: hex(SHA-256(rawBody ‖ secret))`; only when configured. */
const LEGACY: Scheme = { header: "x-signature", digest: (body, secret) => sha256Hex(body, secret) };

/** Authentic when any enabled scheme's header verifies with any configured secret. */
function authenticate({ body, headers }: RawRequest, { secrets, options }: AuthContext): Buffer | null {
  try {
    const schemes = options.veriffLegacySignature ? [HMAC, LEGACY] : [HMAC];
    const ok = schemes.some((scheme) => {
      const received = header(headers, scheme.header);
      return received !== undefined && matchesAnySecret(received, secrets, (secret) => scheme.digest(body, secret));
    });
    return ok ? body : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Payloads (loose: unknown fields are tolerated and never read)

const text = v.nullish(v.string());
const code = v.nullish(v.number());

const eventWebhookSchema = v.looseObject({
  id: providerIdSchema,
  attemptId: text,
  code,
  action: v.string(),
  vendorData: text,
  endUserId: text,
});

// `reason`, `person`, `document`, `riskLabels`, `technicalData`: personal or free text, never read.
const decisionWebhookSchema = v.looseObject({
  verification: v.looseObject({
    id: providerIdSchema,
    attemptId: text,
    code,
    status: text,
    reasonCode: code,
    vendorData: text,
    endUserId: text,
    decisionTime: text,
  }),
});

/** Tells the two shapes apart: decision webhooks are the ones with a `verification` object. */
const envelopeSchema = v.looseObject({ verification: v.optional(v.unknown()) });

type EventWebhook = v.InferOutput<typeof eventWebhookSchema>;
type DecisionWebhook = v.InferOutput<typeof decisionWebhookSchema>;

// ---------------------------------------------------------------------------------------------
// Status mapping (providers.md table). A signal first, a code second; unknown → null (recorded).

const ACTION_STATUS: ReadonlyMap<string, Status> = new Map([
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

// Veriff's own tables disagree on 9121 ("review" in one, "abandoned" in the API reference), which
// is why `verification.status` decides first; the code only decides when the status does not.
const DECISION_CODE_STATUS: ReadonlyMap<number, Status> = new Map([
  [9001, "approved"],
  [9102, "rejected"],
  [9103, "resubmission_requested"],
  [9104, "expired"],
  [9121, "in_review"],
]);

function lookup<K>(map: ReadonlyMap<K, Status>, key: K | null | undefined): Status | null {
  return key === null || key === undefined ? null : (map.get(key) ?? null);
}

function eventWebhookStatus(action: string, eventCode?: number | null): Status | null {
  return lookup(ACTION_STATUS, action) ?? lookup(EVENT_CODE_STATUS, eventCode);
}

function decisionStatus(status?: string | null, decisionCode?: number | null): Status | null {
  return lookup(DECISION_STATUS, status) ?? lookup(DECISION_CODE_STATUS, decisionCode);
}

// ---------------------------------------------------------------------------------------------
// Normalization

/** The integrator's own keys, each only when a non-empty string. */
function subjectOf(fields: { vendorData?: string | null; endUserId?: string | null }): Subject {
  const subject: Record<string, string> = {};
  if (fields.vendorData) subject.vendorData = fields.vendorData;
  if (fields.endUserId) subject.endUserId = fields.endUserId;
  return subject;
}

type Specific = Pick<
  NormalizedEvent,
  "correlationId" | "providerEventType" | "status" | "occurredAt" | "subject" | "decision" | "attemptId"
>;

function fromEventWebhook(payload: EventWebhook): Specific {
  return {
    correlationId: `veriff:${payload.id}`,
    // `event.{action}` (e.g. `event.submitted`) keeps event webhooks apart from `decision`.
    providerEventType: `event.${payload.action}`,
    status: eventWebhookStatus(payload.action, payload.code),
    occurredAt: null, // event webhooks carry no time
    subject: subjectOf(payload),
    decision: null,
    attemptId: payload.attemptId || null,
  };
}

function fromDecisionWebhook({ verification }: DecisionWebhook): Specific {
  return {
    correlationId: `veriff:${verification.id}`,
    providerEventType: "decision",
    status: decisionStatus(verification.status, verification.code),
    occurredAt: toIsoTime(verification.decisionTime),
    subject: subjectOf(verification),
    // Codes only: `reason` is free text, and `person`, `document`, `riskLabels` (with links to
    // other sessions) and `technicalData` are personal data.
    decision: {
      status: verification.status ?? null,
      code: verification.code ?? null,
      reasonCode: verification.reasonCode ?? null,
    },
    attemptId: verification.attemptId || null,
  };
}

function normalize(content: Buffer, context: NormalizeContext): NormalizedEvent {
  const { verification } = parsePayload(content, envelopeSchema);
  const specific =
    verification === undefined
      ? fromEventWebhook(parsePayload(content, eventWebhookSchema))
      : fromDecisionWebhook(parsePayload(content, decisionWebhookSchema));
  return {
    specVersion: SPEC_VERSION,
    eventId: contentEventId("veriff", content),
    provider: "veriff",
    receivedAt: context.receivedAt,
    sandbox: false, // Veriff payloads carry no sandbox flag
    ...specific,
  };
}

export const veriff: Provider = {
  id: "veriff",
  authenticate,
  normalize,
  invalidPayloadIsAuthFailure: false,
};
