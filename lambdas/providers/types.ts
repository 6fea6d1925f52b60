import * as v from "valibot";
import { sha256Hex } from "../core/crypto.js";
import type { NormalizedEvent, ProviderId } from "../core/event.js";
import type { Headers } from "../core/http.js";

/** The request exactly as received: raw bytes (never re-serialised JSON) and headers. */
export interface RawRequest {
  readonly body: Buffer;
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
 * `sha256`: key = SHA-256(secret), 32 raw bytes (the seed's recipe).
 * `sha256-hex-prefix`: key = first 32 hex characters of SHA-256(secret), used as ASCII bytes
 * (seen in third-party integration code).
 */
export type NeurovisionKeyDerivation = "sha256" | "sha256-hex-prefix";

export const DEFAULT_OPTIONS: ProviderOptions = {
  veriffLegacySignature: false,
  idngoAllowSha1: false,
  neurovisionKeyDerivation: "sha256",
};

export interface AuthContext {
  /** Every currently accepted secret (rotation: old and new side by side). */
  readonly secrets: readonly string[];
  readonly options: ProviderOptions;
}

export interface NormalizeContext {
  /** ISO 8601 time the pipeline received the request. */
  readonly receivedAt: string;
}

/**
 * One KYC provider: authenticate the raw request, then normalize what was authenticated.
 * Both are pure functions of their inputs: no I/O, no clock, no logging.
 */
export interface Provider {
  readonly id: ProviderId;
  /**
   * Returns the authenticated content (the raw body for HMAC schemes, the decrypted
   * plaintext for NeuroVision), or `null` for any authentication failure. Never throws.
   */
  authenticate(request: RawRequest, auth: AuthContext): Buffer | null;
  /** Turns authenticated content into the normalized event; throws `InvalidPayload`. */
  normalize(content: Buffer, context: NormalizeContext): NormalizedEvent;
  /**
   * When true, an `InvalidPayload` is answered like an authentication failure (401):
   * for unauthenticated encryption (AES-CBC without MAC) a distinct answer would be an oracle.
   */
  readonly invalidPayloadIsAuthFailure: boolean;
}

/** The authenticated content is not JSON or not the provider's shape. The message never echoes values. */
export class InvalidPayload extends Error {
  override readonly name = "InvalidPayload";
}

/** Parses JSON and validates it against `schema`; errors name the path and expectation, never the value. */
export function parsePayload<S extends v.GenericSchema>(content: Buffer, schema: S): v.InferOutput<S> {
  let json: unknown;
  try {
    json = JSON.parse(content.toString("utf8"));
  } catch {
    throw new InvalidPayload("body is not valid JSON");
  }
  const result = v.safeParse(schema, json);
  if (result.success) return result.output;
  const problems = result.issues.slice(0, 5).map((issue) => {
    const path = v.getDotPath(issue) ?? "(root)";
    return issue.expected === null ? `${path}: invalid` : `${path}: expected ${issue.expected}`;
  });
  throw new InvalidPayload(problems.join("; "));
}

/**
 * A provider's own identifier as it may appear in a correlationId: printable ASCII without
 * spaces (safe as an SQS MessageGroupId and a DynamoDB key), short enough that
 * `{provider}:{id}` stays within 128 characters.
 */
export const providerIdSchema = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,100}$/, "1-100 printable ASCII characters"));

/** An event id derived from authenticated content, for providers without their own event id. */
export function contentEventId(provider: ProviderId, content: Uint8Array): string {
  return `${provider}:${sha256Hex(content)}`;
}

/** A date-time without a zone designator: providers mean UTC, `Date.parse` would read local time. */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/**
 * Parses an ISO 8601 timestamp (zoneless means UTC) or epoch milliseconds into canonical
 * ISO UTC, or null when absent or unparseable.
 */
export function toIsoTime(value: string | number | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  const ms = typeof value === "number" ? value : Date.parse(ZONELESS.test(value) ? `${value.replace(" ", "T")}Z` : value);
  if (!Number.isFinite(ms)) return null;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}
