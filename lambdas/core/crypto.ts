import nodeCrypto, { createHash, createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

export type HmacAlgorithm = "sha1" | "sha256" | "sha512";

/** Key objects per secret, kept for the container's life: a handful of webhook secrets. */
const hmacKeys = new Map<string, KeyObject>();

function hmacKey(secret: string): KeyObject {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    if (hmacKeys.size >= 64) hmacKeys.clear();
    key = createSecretKey(Buffer.from(secret, "utf8"));
    hmacKeys.set(secret, key);
  }
  return key;
}

/** HMAC of `data` (a string: its UTF-8 bytes) with `secret` (its UTF-8 bytes), as raw bytes. */
export function hmacDigest(algorithm: HmacAlgorithm, secret: string, data: Uint8Array | string): Buffer {
  return createHmac(algorithm, hmacKey(secret)).update(data).digest();
}

export function hmacHex(algorithm: HmacAlgorithm, secret: string, data: Uint8Array | string): string {
  return hmacDigest(algorithm, secret, data).toString("hex");
}

/** SHA-256 of the parts, concatenated, as raw bytes (strings as UTF-8). */
export function sha256Digest(...parts: readonly (Uint8Array | string)[]): Buffer {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/** Node's one-shot `crypto.hash` (Node 20.12 and later), when this Node has it. */
const oneShot: typeof nodeCrypto.hash | undefined = typeof nodeCrypto.hash === "function" ? nodeCrypto.hash : undefined;

export function sha256Hex(...parts: readonly (Uint8Array | string)[]): string {
  // One part (the common case: a body's digest): the one-shot hash, without a Hash object.
  const [only] = parts;
  if (oneShot !== undefined && parts.length === 1 && only !== undefined) return oneShot("sha256", only, "hex");
  return sha256Digest(...parts).toString("hex");
}

const HEX = /^[0-9a-f]+$/i;

/**
 * Constant-time comparison of a received hex digest (either case, surrounding spaces ignored)
 * with the expected raw digest. The length check leaks only the length, which is public (it is
 * fixed by the algorithm).
 */
export function hexDigestEquals(received: string, expected: Uint8Array): boolean {
  const hex = received.trim();
  if (hex.length !== expected.length * 2 || !HEX.test(hex)) return false;
  return timingSafeEqual(Buffer.from(hex, "hex"), expected);
}

/**
 * The secret that last verified a request, per list of accepted secrets (the list object a secret
 * source hands out, the same one until the stored value changes). It is tried first: during a
 * rotation the provider signs with one of the listed secrets at a time, so a request costs one
 * digest whichever position that secret has in the list.
 */
const lastMatch = new WeakMap<readonly string[], string>();

/**
 * True when `received` matches the digest computed with one of `secrets`. A request that matches
 * none has been checked against every secret, so a failure takes the same time whichever secret
 * it came close to; a match stops the search (its timing says which secret signed only to a sender
 * who already holds a valid signature). The last matching secret is tried first (`lastMatch`).
 */
export function matchesAnySecret(received: string, secrets: readonly string[], digestFor: (secret: string) => Uint8Array): boolean {
  const preferred = lastMatch.get(secrets);
  if (preferred !== undefined && hexDigestEquals(received, digestFor(preferred))) return true;
  for (const secret of secrets) {
    // An empty secret would let anyone sign: never accept it, whatever the configuration says.
    if (secret.length === 0 || secret === preferred) continue;
    if (hexDigestEquals(received, digestFor(secret))) {
      lastMatch.set(secrets, secret);
      return true;
    }
  }
  return false;
}
