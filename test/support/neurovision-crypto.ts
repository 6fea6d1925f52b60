/**
 * Encrypts a NeuroVision webhook body exactly as seed 000's Node.js recipe does: key =
 * SHA-256(secret) (or, for `sha256-hex-prefix`, its first 32 hex characters as ASCII), a random
 * 16-byte IV, AES-256-CBC with PKCS#7, IV ‖ ciphertext base64-encoded. Returns the value of the
 * body's `encrypted` field.
 */
import * as crypto from "node:crypto";

export function encryptNeurovision(
  plaintext: string,
  secret: string,
  derivation: "sha256" | "sha256-hex-prefix" = "sha256",
): string {
  const key =
    derivation === "sha256"
      ? crypto.createHash("sha256").update(secret).digest().subarray(0, 32)
      : Buffer.from(crypto.createHash("sha256").update(secret).digest("hex").slice(0, 32), "ascii");
  const iv = crypto.randomBytes(16);
  const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
  const encrypted = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return Buffer.concat([iv, encrypted]).toString("base64");
}

/** The whole request body NeuroVision posts: `{"encrypted": "<base64>"}`. */
export function neurovisionBody(
  plaintext: string,
  secret: string,
  derivation: "sha256" | "sha256-hex-prefix" = "sha256",
): Buffer {
  return Buffer.from(JSON.stringify({ encrypted: encryptNeurovision(plaintext, secret, derivation) }), "utf8");
}
