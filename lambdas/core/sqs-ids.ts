import { sha256Hex } from "./crypto.js";

/** SQS MessageGroupId / MessageDeduplicationId: 1-128 characters, alphanumerics and ASCII punctuation. */
const SQS_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

/**
 * Returns `value` when SQS accepts it as a group or deduplication id, else a digest of it
 * (`sha256:` + 64 hex characters). Deterministic, so redeliveries map to the same id.
 */
export function toSqsId(value: string): string {
  return SQS_ID.test(value) ? value : `sha256:${sha256Hex(value)}`;
}
