import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type HmacAlgorithm = "sha1" | "sha256" | "sha512";

export function hmacHex(algorithm: HmacAlgorithm, secret: string, data: Uint8Array): string {
  return createHmac(algorithm, secret).update(data).digest("hex");
}

export function sha256Hex(...parts: readonly (Uint8Array | string)[]): string {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest("hex");
}

/**
 * Constant-time comparison of a received hex digest with an expected one.
 * Case-insensitive on the received side (hex digits); the length check leaks only the
 * length, which is public (it is fixed by the algorithm).
 */
export function hexDigestEquals(received: string, expectedHex: string): boolean {
  const a = Buffer.from(received.trim().toLowerCase(), "utf8");
  const b = Buffer.from(expectedHex, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * True when `received` matches the digest computed with any of `secrets`. Every secret is
 * tried (no early exit), so the time taken does not reveal which secret matched.
 */
export function matchesAnySecret(received: string, secrets: readonly string[], digestFor: (secret: string) => string): boolean {
  let matched = false;
  for (const secret of secrets) {
    // An empty secret would let anyone sign: never accept it, whatever the configuration says.
    if (secret.length === 0) continue;
    if (hexDigestEquals(received, digestFor(secret))) matched = true;
  }
  return matched;
}
