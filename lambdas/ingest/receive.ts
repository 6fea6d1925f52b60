/**
 * What ingest does with one request, as a pure function: authenticate the raw bytes, parse the
 * authenticated content as JSON, normalize it and bound it. The handler (ingest.ts) only adds
 * I/O around it (secrets, the queue, logs) and maps the receipt to an HTTP answer.
 */
import { canonicalEvent, type EventDraft } from "../core/canonical.js";
import { describeError } from "../core/errors.js";
import type { NormalizedEvent } from "../core/event.js";
import {
  type AuthContext,
  type AuthFailureCause,
  authFailure,
  type Bytes,
  contentEventId,
  type Provider,
  type RawRequest,
  unidentifiedCorrelationId,
} from "../providers/types.js";

export type Receipt =
  | {
      readonly kind: "accepted";
      readonly event: NormalizedEvent;
      /** Set when normalization threw (a bug): the event was recorded as unmapped instead. */
      readonly normalizationError?: ReturnType<typeof describeError>;
    }
  | { readonly kind: "unauthenticated"; readonly cause: AuthFailureCause }
  | { readonly kind: "not-json" };

const BOM = "\uFEFF";

/**
 * Authenticated bytes as JSON, or undefined when they are not JSON at all. A leading byte order
 * mark is ignored here, after authentication (RFC 8259 allows parsers to), never before it.
 */
function parseJson(content: Bytes): { readonly json: unknown } | undefined {
  const text = typeof content === "string" ? content : content.toString("utf8");
  try {
    return { json: JSON.parse(text.startsWith(BOM) ? text.slice(1) : text) };
  } catch {
    return undefined;
  }
}

/** The draft of an event whose normalization failed unexpectedly: recorded, never lost. */
function unmappedDraft(provider: Provider, content: Bytes, receivedAt: string, reason: string): EventDraft {
  return {
    eventId: contentEventId(provider.id, content),
    correlationId: unidentifiedCorrelationId(provider.id, content),
    provider: provider.id,
    providerEventType: "unknown",
    status: null,
    occurredAt: null,
    receivedAt,
    subject: {},
    decision: null,
    attemptId: null,
    sandbox: false,
    unmapped: reason,
  };
}

/**
 * Once authenticated, an event is never refused for its shape: only a body that is not JSON at
 * all is (`not-json`); whatever cannot be mapped becomes an event with an `unmapped` reason.
 */
export function receive(provider: Provider, request: RawRequest, auth: AuthContext, receivedAt: string): Receipt {
  const authenticated = auth.secrets.length === 0 ? authFailure("no-secret-configured") : provider.authenticate(request, auth);
  if (!authenticated.ok) return { kind: "unauthenticated", cause: authenticated.cause };
  const parsed = authenticated.json === undefined ? parseJson(authenticated.content) : { json: authenticated.json };
  if (parsed === undefined) return { kind: "not-json" };
  try {
    const draft = provider.normalize(parsed.json, { receivedAt, content: authenticated.content });
    return { kind: "accepted", event: canonicalEvent(draft) };
  } catch (error) {
    const described = describeError(error);
    const draft = unmappedDraft(provider, authenticated.content, receivedAt, `normalization failed (${described.error})`);
    return { kind: "accepted", event: canonicalEvent(draft), normalizationError: described };
  }
}
