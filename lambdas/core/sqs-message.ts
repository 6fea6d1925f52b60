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

/**
 * Characters SQS refuses in a message body: everything outside `#x9 #xA #xD #x20-#xD7FF
 * #xE000-#xFFFD #x10000-#x10FFFF`. After `JSON.stringify` (which escapes control characters
 * and lone surrogates) only U+FFFE and U+FFFF can remain, always inside a JSON string.
 */
const REFUSED_BY_SQS = /[\uFFFE\uFFFF]/g;

/**
 * The JSON body of an SQS message: `JSON.stringify(value)` with the characters SQS would refuse
 * written as JSON escapes (`\uffff`), so the same value comes back from `JSON.parse` and the send
 * can never fail for the body's characters (the local SQS server does not check them; SQS does).
 */
export function sqsMessageBody(value: unknown): string {
  const json = JSON.stringify(value);
  // Usually neither is there (and in a one-byte string the search ends at once): no second pass.
  if (!json.includes("\uFFFE") && !json.includes("\uFFFF")) return json;
  return json.replace(REFUSED_BY_SQS, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
