/**
 * Validation of the read routes' inputs: pure, bounded work, decided before DynamoDB is called.
 * Every refusal is a fixed message that never repeats the input.
 */
import { DEFAULTS } from "../core/contract.js";
import { PROVIDER_IDS } from "../core/event.js";

/** Longest correlationId the pipeline builds (the SQS MessageGroupId limit). */
export const MAX_CORRELATION_ID_LENGTH = 128;

/**
 * A correlationId as the pipeline builds it: `{provider}:{provider's id}`, 1-128 characters of
 * printable ASCII without spaces (lambdas/providers/types.ts `providerIdSchema`). Nothing else
 * can be in the table, so anything else is a 404 without asking DynamoDB.
 */
const CORRELATION_ID = new RegExp(`^(?:${PROVIDER_IDS.join("|")}):[\\x21-\\x7e]+$`);

export function isCorrelationId(value: string): boolean {
  return value.length <= MAX_CORRELATION_ID_LENGTH && CORRELATION_ID.test(value);
}

/** `decodeURIComponent`, or undefined when `value` is not validly percent-encoded UTF-8. */
export function percentDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export const QUERY_PARAMETERS = ["subject", "limit", "cursor"] as const;
export type QueryParameter = (typeof QUERY_PARAMETERS)[number];

/**
 * The read route's query parameters, decoded strictly (`application/x-www-form-urlencoded`:
 * `+` is a space, `%XX` must form valid UTF-8). Undefined when any name or value is not validly
 * encoded, or when one of ours is repeated (which would be ambiguous). Other names are ignored.
 */
export function parseQuery(raw: string): Partial<Record<QueryParameter, string>> | undefined {
  const params: Partial<Record<QueryParameter, string>> = {};
  if (raw === "") return params;
  for (const pair of raw.split("&")) {
    if (pair === "") continue;
    const at = pair.indexOf("=");
    const name = percentDecode((at === -1 ? pair : pair.slice(0, at)).replaceAll("+", " "));
    const value = percentDecode((at === -1 ? "" : pair.slice(at + 1)).replaceAll("+", " "));
    if (name === undefined || value === undefined) return undefined;
    const known = QUERY_PARAMETERS.find((p) => p === name);
    if (known === undefined) continue;
    if (params[known] !== undefined) return undefined;
    params[known] = value;
  }
  return params;
}

export const DEFAULT_PAGE_SIZE = DEFAULTS.pageSize;
export const MAX_PAGE_SIZE = DEFAULTS.maxPageSize;

/**
 * `limit` as a canonical decimal from 1 to 100 (no sign, leading zero, fraction, exponent, hex or
 * spaces), the default when absent; undefined otherwise. Decided on the text, never via `Number`.
 */
export function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return DEFAULT_PAGE_SIZE;
  if (!/^[1-9][0-9]{0,2}$/.test(value)) return undefined;
  const limit = Number.parseInt(value, 10);
  return limit <= MAX_PAGE_SIZE ? limit : undefined;
}
