/**
 * Configuration parsing shared by every Lambda entry point, the local pipeline and the CDK app:
 * one reader per kind of value, each failing with a message that names the setting. Invalid
 * values throw, so a typo fails loudly at start (cold start, `npm start`, `cdk synth`) instead
 * of running with a default.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration mistake: thrown at start, so a broken deployment fails loudly, not per request. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

/** The trimmed text of a setting, or undefined when it is unset or blank. */
export function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const trimmed = String(value).trim();
  return trimmed === "" ? undefined : trimmed;
}

export function required(env: Env, name: string): string {
  const value = text(env[name]);
  if (value === undefined) throw new ConfigError(`${name} is not set`);
  return value;
}

/** `true` or `false` (any case); unset means `fallback`. */
export function parseBoolean(name: string, raw: unknown, fallback: boolean): boolean {
  const value = text(raw)?.toLowerCase();
  if (value === undefined) return fallback;
  if (value === "true" || value === "false") return value === "true";
  throw new ConfigError(`${name} must be true or false, got "${value}"`);
}

/** A whole number within [min, max]; unset means `fallback`. */
export function parseWholeNumber(name: string, raw: unknown, fallback: number, range: { min?: number; max?: number } = {}): number {
  const value = text(raw);
  if (value === undefined) return fallback;
  const min = range.min ?? 0;
  const max = range.max ?? Number.MAX_SAFE_INTEGER;
  const n = /^-?\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

/** One of `values`; unset means `fallback`. */
export function parseOneOf<T extends string>(name: string, raw: unknown, values: readonly T[], fallback: T): T {
  const value = text(raw);
  if (value === undefined) return fallback;
  const known = values.find((v) => v === value);
  if (known === undefined) throw new ConfigError(`${name} must be one of ${values.join(", ")}, got "${value}"`);
  return known;
}
