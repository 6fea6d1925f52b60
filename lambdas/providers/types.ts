import { type EventDraft, idPart } from "../core/canonical.js";
import { sha256Hex } from "../core/crypto.js";
import type { ProviderId } from "../core/event.js";
import type { Headers } from "../core/http.js";

/**
 * Bytes as ingest holds them: a Buffer, or the text whose UTF-8 encoding they are (API Gateway
 * hands a text body over as a string: the bytes received are exactly its UTF-8 encoding). Digests,
 * HMACs and parsing read either form as those same bytes; the text form spares a copy per request.
 */
export type Bytes = string | Buffer;

/** The request exactly as received: raw bytes (never re-serialised JSON) and headers. */
export interface RawRequest {
  readonly body: Bytes;
  readonly headers: Headers;
}

/** Non-secret switches; each provider reads only its own. Defaults are the safe choice. */
export interface ProviderOptions {
  /** veriff: also accept the legacy `x-signature: sha256(body ‖ secret)` scheme. */
  readonly veriffLegacySignature: boolean;
  /** idngo: also accept the deprecated `HMAC_SHA1_HEX` digest. */
  readonly idngoAllowSha1: boolean;
  /** neurovision: how the AES key is derived from the webhook secret. */
  readonly neurovisionKeyDerivation: NeurovisionKeyDerivation;
}

/**
 * `sha256`: key = SHA-256(secret), 32 raw bytes (NeuroVision's documented recipe).
 * `sha256-hex-prefix`: key = first 32 hex characters of SHA-256(secret), used as ASCII bytes
 * (seen in third-party integration code).
 * `any`: either of them (the default: integrators are seen deriving the key both ways).
 */
export type NeurovisionKeyDerivation = "any" | "sha256" | "sha256-hex-prefix";

export const NEUROVISION_KEY_DERIVATIONS: readonly NeurovisionKeyDerivation[] = ["any", "sha256", "sha256-hex-prefix"];

export const DEFAULT_OPTIONS: ProviderOptions = {
  veriffLegacySignature: false,
  idngoAllowSha1: false,
  neurovisionKeyDerivation: "any",
};

export interface AuthContext {
  /** Every currently accepted secret (rotation: old and new side by side). */
  readonly secrets: readonly string[];
  readonly options: ProviderOptions;
}

/**
 * Why a request was not authenticated. Logged and counted for the operator, never answered:
 * every cause gets the same 401.
 */
export const AUTH_FAILURE_CAUSES = [
  "no-secret-configured",
  "missing-signature",
  "algorithm-not-enabled",
  "unknown-algorithm",
  "signature-mismatch",
  "undecryptable",
  "invalid-plaintext",
] as const;

export type AuthFailureCause = (typeof AUTH_FAILURE_CAUSES)[number];

export type AuthResult =
  | {
      readonly ok: true;
      /** What was authenticated: the raw body for HMAC schemes, the decrypted plaintext for NeuroVision. */
      readonly content: Bytes;
      /** The content already parsed as JSON, when authentication had to parse it (NeuroVision). */
      readonly json?: unknown;
    }
  | { readonly ok: false; readonly cause: AuthFailureCause };

export const authFailure = (cause: AuthFailureCause): AuthResult => ({ ok: false, cause });

export interface NormalizeContext {
  /** ISO 8601 time the pipeline received the request. */
  readonly receivedAt: string;
  /** The authenticated bytes, for content-derived event ids. */
  readonly content: Bytes;
}

/**
 * One KYC provider: authenticate the raw request, then normalize what was authenticated.
 * Both are pure functions of their inputs: no I/O, no clock, no logging, and neither throws
 * for anything a request can contain.
 */
export interface Provider {
  readonly id: ProviderId;
  authenticate(request: RawRequest, auth: AuthContext): AuthResult;
  /**
   * Maps authenticated JSON (any JSON value) to an event draft. Never refuses for shape: what
   * cannot be mapped gets `status: null` and an `unmapped` reason naming what was missing.
   */
  normalize(json: unknown, context: NormalizeContext): EventDraft;
}

/** An event id derived from authenticated content, for providers without their own event id. */
export function contentEventId(provider: ProviderId, content: Bytes): string {
  return `${provider}:${sha256Hex(content)}`;
}

/**
 * The correlationId of an event that names no verification: `{provider}:unidentified:{digest}`,
 * one per distinct event, so that it is recorded (and visible) rather than refused.
 */
export function unidentifiedCorrelationId(provider: ProviderId, content: Bytes): string {
  return `${provider}:unidentified:${sha256Hex(content).slice(0, 32)}`;
}

/** `{provider}:{part}:{part}…`, each part bounded by `idPart` (kept when short printable ASCII, else a digest). */
export function correlationIdOf(provider: ProviderId, ...parts: readonly string[]): string {
  let id: string = provider;
  for (const part of parts) id += `:${idPart(part)}`;
  return id;
}
