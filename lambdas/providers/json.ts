/**
 * Reading untrusted JSON without refusing it: each accessor returns the value when it has the
 * expected type and `undefined` otherwise (absent, `null`, or another type), so a provider's
 * normalization can map what is there and name what is not. Validation that rejects (valibot)
 * is for our own messages; provider payloads are read leniently by design (an authenticated
 * event is never refused for its shape).
 */

export type JsonObject = Readonly<Record<string, unknown>>;

/** A JSON object (not an array, not null). */
export function asObject(value: unknown): JsonObject | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : undefined;
}

/** A non-empty string. */
export function asString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

/** A finite number, or a string holding a whole number (`"9001"`). */
export function asNumber(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d{1,15}$/.test(value)) return Number(value);
  return undefined;
}

/** A boolean, or the strings "true"/"false" (Sumsub sends both). */
export function asBoolean(value: unknown): boolean | undefined {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  return undefined;
}

/** The strings of an array (other items skipped), or undefined when it is not an array. */
export function asStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : undefined;
}

/** An own property of an object (never one inherited from Object.prototype, e.g. `__proto__`). */
export function prop(object: JsonObject | undefined, key: string): unknown {
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

/** The first of `keys` that holds a non-empty string. */
export function firstString(object: JsonObject | undefined, ...keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const value = asString(prop(object, key));
    if (value !== undefined) return value;
  }
  return undefined;
}
