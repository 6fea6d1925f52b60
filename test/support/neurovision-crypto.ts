/**
 * NeuroVision encryption exactly as its Node.js recipe does it (docs/providers/neurovision.md); the implementation is the
 * provider simulator's (local/samples.ts), which follows that recipe line by line.
 */
import type { NeurovisionKeyDerivation } from "../../lambdas/providers/types.js";
import { encryptNeurovision } from "../../local/samples.js";

export { encryptNeurovision };

/** The whole request body NeuroVision posts: `{"encrypted": "<base64>"}`. */
export function neurovisionBody(plaintext: string, secret: string, derivation: NeurovisionKeyDerivation = "sha256"): Buffer {
  return Buffer.from(JSON.stringify({ encrypted: encryptNeurovision(plaintext, secret, derivation) }), "utf8");
}
