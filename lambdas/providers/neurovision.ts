/**
 * NeuroVision KYC widget, docs/providers/neurovision.md: the body is
 * `{"encrypted": base64(IV ‖ AES-256-CBC(json))}` under a key derived from the webhook secret.
 *
 * CBC has no MAC, so a successful decryption proves little: a wrong key yields valid padding
 * about once in 256 tries, and whoever holds a delivery can flip bits of the first plaintext
 * block through the IV. A key is therefore accepted only when its plaintext is UTF-8 JSON with
 * a UUID `sessionId` and a status token, and every failure is the same 401. The failure path
 * does the same work whether the padding was valid or not (every candidate key decrypts the
 * whole ciphertext and its plaintext is checked, UTF-8 then JSON, either way), so timing is no
 * padding oracle.
 */
import { isUtf8 } from "node:buffer";
import { createDecipheriv } from "node:crypto";
import type { EventDraft } from "../core/canonical.js";
import { sha256Hex } from "../core/crypto.js";
import type { Status } from "../core/event.js";
import { toIsoTime } from "../core/time.js";
import { asObject, asString, firstString, type JsonObject, prop } from "./json.js";
import {
  type AuthContext,
  type AuthResult,
  authFailure,
  type Bytes,
  contentEventId,
  correlationIdOf,
  type NeurovisionKeyDerivation,
  type NormalizeContext,
  type Provider,
  type RawRequest,
} from "./types.js";

// ---------------------------------------------------------------------------------------------
// Keys

type Derivation = Exclude<NeurovisionKeyDerivation, "any">;

/** The derivations tried, in order: the documented recipe first. */
const DERIVATIONS: Readonly<Record<NeurovisionKeyDerivation, readonly Derivation[]>> = {
  any: ["sha256", "sha256-hex-prefix"],
  sha256: ["sha256"],
  "sha256-hex-prefix": ["sha256-hex-prefix"],
};

function deriveKey(secret: string, derivation: Derivation): Buffer {
  const hex = sha256Hex(secret);
  switch (derivation) {
    case "sha256": // NeuroVision's recipe: SHA-256(secret), 32 raw bytes
      return Buffer.from(hex, "hex");
    case "sha256-hex-prefix": // third-party code: first 32 hex characters as ASCII bytes
      return Buffer.from(hex.slice(0, 32), "ascii");
  }
}

/** Derived keys per derivation and secret, kept for the container's life (a handful of secrets). */
const keyCache: Readonly<Record<Derivation, Map<string, Buffer>>> = { sha256: new Map(), "sha256-hex-prefix": new Map() };

function keyFor(secret: string, derivation: Derivation): Buffer {
  const keys = keyCache[derivation];
  let key = keys.get(secret);
  if (key === undefined) {
    if (keys.size >= 64) keys.clear();
    key = deriveKey(secret, derivation);
    keys.set(secret, key);
  }
  return key;
}

// ---------------------------------------------------------------------------------------------
// Decryption

const BLOCK = 16;

const COMPACT_HEAD = '{"encrypted":"';
const COMPACT_TAIL = '"}';

/**
 * The `encrypted` string of the compact envelope `{"encrypted":"…"}` (how NeuroVision sends it),
 * read without a JSON parse; undefined for any other text. Without a quote or a backslash inside,
 * the JSON string is exactly these characters, or not JSON at all when it holds a control
 * character, which the canonical base64 check refuses the same way.
 */
function compactEncrypted(text: string): string | undefined {
  if (text.length < COMPACT_HEAD.length + COMPACT_TAIL.length || !text.startsWith(COMPACT_HEAD) || !text.endsWith(COMPACT_TAIL)) {
    return undefined;
  }
  const value = text.slice(COMPACT_HEAD.length, text.length - COMPACT_TAIL.length);
  return value.includes('"') || value.includes("\\") ? undefined : value;
}

/** The `encrypted` field of the envelope, or why there is none. */
export function envelopeCiphertext(body: Bytes): Buffer | "missing" | "invalid" {
  const text = typeof body === "string" ? body : body.toString("utf8");
  let encrypted = compactEncrypted(text) as unknown;
  if (encrypted === undefined) {
    let envelope: unknown;
    try {
      // Strict JSON (no BOM tolerance): the envelope is not authenticated by anything else.
      envelope = JSON.parse(text);
    } catch {
      return "invalid";
    }
    encrypted = prop(asObject(envelope), "encrypted");
  }
  if (encrypted === undefined) return "missing"; // e.g. plaintext JSON: no webhook secret at NeuroVision
  if (typeof encrypted !== "string") return "invalid";
  const data = Buffer.from(encrypted, "base64");
  // Canonical base64 only (re-encoding is exact), and IV + at least one whole block.
  if (!isCanonicalBase64(encrypted, data)) return "invalid";
  return data.length >= 2 * BLOCK && data.length % BLOCK === 0 ? data : "invalid";
}

/**
 * Whether `encrypted` is exactly the standard, padded base64 of `data`, what Node decoded it to:
 * `data.toString("base64") === encrypted`, without re-encoding all of it. The decoder skips any
 * character outside its alphabets (and stops or skips at an inner `=`), so such a text decodes to
 * fewer bytes than its length promises; it also takes the url-safe `-` and `_`, refused here; and
 * the last group's unused bits must be zero, which re-encoding that group alone checks.
 */
function isCanonicalBase64(encrypted: string, data: Buffer): boolean {
  const length = encrypted.length;
  if (length % 4 !== 0 || encrypted.includes("-") || encrypted.includes("_")) return false;
  const padding = encrypted.endsWith("==") ? 2 : encrypted.endsWith("=") ? 1 : 0;
  if (data.length !== (length / 4) * 3 - padding) return false;
  const lastGroupBytes = length === 0 ? 0 : 3 - padding;
  return data.toString("base64", data.length - lastGroupBytes) === encrypted.slice(length - 4);
}

/** CBC decryption without padding removal; the padding is checked by `unpad`. */
function decryptRaw(key: Buffer, data: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-cbc", key, data.subarray(0, BLOCK)).setAutoPadding(false);
  const head = decipher.update(data.subarray(BLOCK));
  const tail = decipher.final(); // empty: whole blocks, no padding removal
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

/** The plaintext without its PKCS#7 padding, and whether the padding was valid (no early exit). */
function unpad(raw: Buffer): { readonly plaintext: Buffer; readonly validPadding: boolean } {
  const n = raw[raw.length - 1] ?? 0;
  let bad = Number(n < 1 || n > BLOCK);
  for (let i = 1; i <= BLOCK; i += 1) {
    const byte = raw[raw.length - i] ?? 0;
    bad |= Number(i <= n && byte !== n);
  }
  return bad === 0 ? { plaintext: raw.subarray(0, raw.length - n), validPadding: true } : { plaintext: raw, validPadding: false };
}

/**
 * The plaintext as text when it is well-formed UTF-8 (a byte order mark kept, as JSON.parse then
 * refuses it), else undefined: a wrong key's plaintext is refused without throwing, whose stack
 * trace would cost more than the decryption.
 */
export function utf8Text(plaintext: Buffer): string | undefined {
  return isUtf8(plaintext) ? plaintext.toString("utf8") : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A status of any spelling (unknown ones are recorded, not refused), bounded. */
const STATUS_TOKEN = /^[\x20-\x7e]{1,64}$/;

/**
 * The plaintext as the delivery JSON, or undefined: UTF-8, a JSON object, a UUID sessionId, a status string, and a clientKey (if any)
 * within NeuroVision's 36 characters. This is what tells a right key from a wrong one whose
 * padding happened to be valid, not a check of the format: unknown statuses and any other field
 * are accepted and recorded.
 */
function parsePlaintext(plaintext: Buffer): JsonObject | undefined {
  const text = utf8Text(plaintext);
  if (text === undefined) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const body = asObject(json);
  const sessionId = prop(body, "sessionId");
  const status = prop(body, "status");
  const clientKey = prop(body, "clientKey");
  const valid =
    typeof sessionId === "string" &&
    UUID.test(sessionId) &&
    typeof status === "string" &&
    STATUS_TOKEN.test(status) &&
    (clientKey === undefined || clientKey === null || (typeof clientKey === "string" && clientKey.length <= 36));
  return valid ? body : undefined;
}

interface KeyChoice {
  readonly secret: string;
  readonly derivation: Derivation;
}

/**
 * The secret and derivation that last decrypted a delivery, per list of accepted secrets (the list
 * object a secret source hands out, the same one until the stored value changes): tried first, so
 * that during a rotation (or with `any`) a delivery costs one decryption whichever key it uses.
 */
const lastKey = new WeakMap<readonly string[], KeyChoice>();

type Attempt = { readonly ok: true; readonly result: AuthResult } | { readonly ok: false; readonly validPadding: boolean };

function attempt(data: Buffer, choice: KeyChoice): Attempt {
  const { plaintext, validPadding } = unpad(decryptRaw(keyFor(choice.secret, choice.derivation), data));
  // Parsed whether or not the padding was valid: the same work either way.
  const json = parsePlaintext(plaintext);
  return validPadding && json !== undefined ? { ok: true, result: { ok: true, content: plaintext, json } } : { ok: false, validPadding };
}

function authenticate(request: RawRequest, auth: AuthContext): AuthResult {
  const data = envelopeCiphertext(request.body);
  if (data === "missing") return authFailure("missing-signature");
  if (data === "invalid") return authFailure("undecryptable");
  const derivations = DERIVATIONS[auth.options.neurovisionKeyDerivation];
  const preferred = lastKey.get(auth.secrets);
  // Only while the configuration still tries that key (the option may have changed since).
  const first = preferred !== undefined && derivations.includes(preferred.derivation) ? preferred : undefined;
  let anyValidPadding = false;
  if (first !== undefined) {
    const tried = attempt(data, first);
    if (tried.ok) return tried.result;
    anyValidPadding = tried.validPadding;
  }
  for (const secret of auth.secrets) {
    if (secret.length === 0) continue;
    for (const derivation of derivations) {
      if (first !== undefined && secret === first.secret && derivation === first.derivation) continue;
      const tried = attempt(data, { secret, derivation });
      if (tried.ok) {
        lastKey.set(auth.secrets, { secret, derivation });
        return tried.result;
      }
      anyValidPadding ||= tried.validPadding;
    }
  }
  return authFailure(anyValidPadding ? "invalid-plaintext" : "undecryptable");
}

// ---------------------------------------------------------------------------------------------
// Normalization

const STATUS: ReadonlyMap<string, Status> = new Map([
  ["idle", "created"], // the session exists, nothing captured yet
  ["wait", "submitted"],
  ["processing", "in_review"],
  ["suspicious", "in_review"],
  ["success", "approved"], // only when every check passed
  ["failed", "rejected"],
  ["expired", "expired"],
]);

/** `type:status` per check; OCR results and anything else in a result are personal data. */
function checksOf(results: unknown): string[] {
  if (!Array.isArray(results)) return [];
  return results.slice(0, 50).map((result) => {
    const r = asObject(result);
    return `${asString(prop(r, "type")) ?? "unknown"}:${asString(prop(r, "status")) ?? "unknown"}`;
  });
}

function normalize(json: unknown, { content, receivedAt }: NormalizeContext): EventDraft {
  // Authentication only succeeds for an object with a UUID sessionId and a status token.
  const body = asObject(json) ?? {};
  const sessionId = firstString(body, "sessionId") ?? "";
  const status = asString(prop(body, "status")) ?? "";
  const mapped = STATUS.get(status);
  const clientKey = asString(prop(body, "clientKey"));
  return {
    // The ciphertext differs on every delivery (random IV): the digest of the plaintext does not.
    eventId: contentEventId("neurovision", content),
    correlationId: correlationIdOf("neurovision", sessionId),
    provider: "neurovision",
    providerEventType: status, // no event type in the payload: the session status is the signal
    status: mapped ?? null,
    // When the result was produced. `createdAt` is the session's start, the same on every delivery.
    occurredAt: toIsoTime(prop(body, "responseTime")),
    receivedAt,
    subject: clientKey === undefined ? {} : { clientKey },
    decision: { status, checks: checksOf(prop(body, "results")) },
    attemptId: null,
    sandbox: false,
    unmapped: mapped === undefined ? "status: no KYC status mapping" : null,
  };
}

export const neurovision: Provider = { id: "neurovision", authenticate, normalize };
