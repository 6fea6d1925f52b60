/**
 * Lambda's event filtering, for the local event sources: whether a record matches one of the
 * filter patterns the stack gives its event source mapping (lambdas/core/contract.ts). Covers the
 * subset of the pattern syntax the pipeline uses: nested objects, lists of exact values (strings,
 * numbers, booleans, null) and `{ exists: true | false }`. Anything else in a pattern is refused
 * loudly rather than matched differently from Lambda.
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html
 */
import type { EventPattern, EventPatternValue } from "../lambdas/core/contract.js";

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

function matchesLeaf(rules: readonly EventPatternValue[], present: boolean, value: unknown): boolean {
  return rules.some((rule) => {
    if (isObject(rule)) {
      const keys = Object.keys(rule);
      if (keys.length !== 1 || typeof rule.exists !== "boolean") {
        throw new Error(`unsupported filter rule ${JSON.stringify(rule)}`);
      }
      // `exists` matches leaves only: a present object is not "existing" for it.
      return rule.exists === (present && !isObject(value));
    }
    if (!present) return false;
    // A list value matches when one of its elements does, as in EventBridge patterns.
    const candidates = Array.isArray(value) ? (value as unknown[]) : [value];
    return candidates.some((candidate) => candidate === rule);
  });
}

/** Whether `value` matches `pattern`: every field of the pattern matches. */
export function matchesPattern(pattern: EventPattern, value: unknown): boolean {
  return Object.entries(pattern).every(([field, rule]) => {
    const present = isObject(value) && Object.hasOwn(value, field) && value[field] !== undefined;
    const inner = present ? (value as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(rule)) return matchesLeaf(rule as readonly EventPatternValue[], present, inner);
    return matchesPattern(rule as EventPattern, inner);
  });
}

/** Whether `value` matches at least one of `patterns` (Lambda ORs the filters of one event source). */
export const matchesAnyPattern = (patterns: readonly EventPattern[], value: unknown): boolean =>
  patterns.some((pattern) => matchesPattern(pattern, value));
