/**
 * NeuroVision KYC widget: the body is `{"encrypted": base64(IV ‖ AES-256-CBC(json))}` under a key
 * derived from the webhook secret (seed 000's clientKey recipe, providers.md "neurovision").
 *
 * CBC has no MAC, so a successful decryption proves little: a wrong key yields valid padding
 * about once in 256 tries, and whoever holds a delivery can flip bits of the first plaintext
 * block through the IV. A key is therefore accepted only when its plaintext is UTF-8 JSON of
 * the strict shape below, and every failure returns the same `null` (no padding oracle).
 */
import { createDecipheriv } from "node:crypto";
import * as v from "valibot";
import { sha256Hex } from "../core/crypto.js";
import { SPEC_VERSION, type NormalizedEvent, type Status } from "../core/event.js";
import {
  InvalidPayload,
  contentEventId,
  parsePayload,
  providerIdSchema,
  toIsoTime,
  type AuthContext,
  type NeurovisionKeyDerivation,
  type NormalizeContext,
  type Provider,
  type RawRequest,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Decrypted payload

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const resultSchema = v.looseObject({
  type: providerIdSchema,
  status: providerIdSchema,
  // `ocr` and anything else in a result is personal data: accepted, never read.
});

const payloadSchema = v.looseObject({
  sessionId: v.pipe(v.string(), v.regex(UUID, "a UUID")),
  clientKey: v.pipe(v.string(), v.minLength(1), v.maxLength(36)),
  status: v.pipe(v.string(), v.regex(/^[a-z_]{1,32}$/, "1-32 lowercase letters or underscores")),
  createdAt: v.optional(v.union([v.string(), v.number()])),
  results: v.optional(v.array(resultSchema)),
});

type Payload = v.InferOutput<typeof payloadSchema>;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Strict parse of decrypted content; throws `InvalidPayload` (never echoing values). */
function parsePlaintext(content: Buffer): Payload {
  try {
    utf8.decode(content);
  } catch {
    throw new InvalidPayload("body is not valid UTF-8");
  }
  return parsePayload(content, payloadSchema);
}

function isValidPlaintext(content: Buffer): boolean {
  try {
    parsePlaintext(content);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Decryption

const BLOCK = 16;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function deriveKey(secret: string, derivation: NeurovisionKeyDerivation): Buffer {
  const hex = sha256Hex(secret);
  switch (derivation) {
    case "sha256": // seed 000: SHA-256(secret), 32 raw bytes
      return Buffer.from(hex, "hex");
    case "sha256-hex-prefix": // third-party code: first 32 hex characters as ASCII bytes
      return Buffer.from(hex.slice(0, 32), "ascii");
  }
}

/** IV ‖ ciphertext from the body, or null: strict base64, at least one block after the IV. */
function ciphertextOf(body: Buffer): Buffer | null {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
  if (typeof json !== "object" || json === null || !("encrypted" in json)) return null;
  const encrypted = json.encrypted;
  if (typeof encrypted !== "string" || !BASE64.test(encrypted)) return null;
  const data = Buffer.from(encrypted, "base64");
  return data.length >= 2 * BLOCK && (data.length - BLOCK) % BLOCK === 0 ? data : null;
}

function decrypt(key: Buffer, data: Buffer): Buffer | null {
  try {
    const decipher = createDecipheriv("aes-256-cbc", key, data.subarray(0, BLOCK));
    return Buffer.concat([decipher.update(data.subarray(BLOCK)), decipher.final()]);
  } catch {
    return null; // bad padding (wrong key or tampered ciphertext)
  }
}

function authenticate(request: RawRequest, auth: AuthContext): Buffer | null {
  try {
    const data = ciphertextOf(request.body);
    if (data === null) return null;
    let accepted: Buffer | null = null;
    // Every secret is tried (no early exit); the first whose plaintext has the strict shape wins.
    for (const secret of auth.secrets) {
      if (secret.length === 0) continue;
      const plaintext = decrypt(deriveKey(secret, auth.options.neurovisionKeyDerivation), data);
      if (plaintext !== null && accepted === null && isValidPlaintext(plaintext)) accepted = plaintext;
    }
    return accepted;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Normalization

const STATUS: ReadonlyMap<string, Status> = new Map([
  ["wait", "submitted"],
  ["suspicious", "in_review"],
  ["success", "approved"], // only when every check passed
  ["failed", "rejected"],
  ["expired", "expired"],
]);

/** Unknown (well-formed) status strings: null, the event is recorded without a status change. */
function statusOf(status: string): Status | null {
  return STATUS.get(status) ?? null;
}

function normalize(content: Buffer, context: NormalizeContext): NormalizedEvent {
  const payload = parsePlaintext(content);
  return {
    specVersion: SPEC_VERSION,
    // The ciphertext differs on every delivery (random IV): the digest of the plaintext does not.
    eventId: contentEventId("neurovision", content),
    correlationId: `neurovision:${payload.sessionId}`,
    provider: "neurovision",
    providerEventType: payload.status, // no event type in the payload: the session status is the signal
    status: statusOf(payload.status),
    occurredAt: toIsoTime(payload.createdAt),
    receivedAt: context.receivedAt,
    subject: { clientKey: payload.clientKey },
    // `type:status` per check only; OCR results are personal data and never copied.
    decision: { status: payload.status, checks: (payload.results ?? []).map((r) => `${r.type}:${r.status}`) },
    attemptId: null,
    sandbox: false,
  };
}

export const neurovision: Provider = {
  id: "neurovision",
  authenticate,
  normalize,
  invalidPayloadIsAuthFailure: true,
};
