import { LIMITS } from "../core/canonical.js";

/**
 * The `bySubject` index key of a user key: the one rule ingest applies when it bounds a subject
 * (lambdas/core/canonical.ts), applied by the read API to its `subject` parameter, so that a
 * lookup by the original key finds the verification whatever its length.
 */
export { subjectIndexKey } from "../core/canonical.js";

/** Longest `subjectKey` (the `bySubject` index's partition key) written to the table, in UTF-8 bytes. */
export const MAX_SUBJECT_KEY_BYTES = LIMITS.subjectValueBytes;

/** True when `value` has no lone surrogate (it round-trips through UTF-8 unchanged). */
export function isWellFormedText(value: string): boolean {
  return value.isWellFormed();
}
