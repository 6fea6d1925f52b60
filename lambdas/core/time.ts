/**
 * Provider times → canonical ISO 8601 UTC, or null. Never throws: a time that cannot be read
 * makes `occurredAt` null, it never rejects an event.
 */

/** Earliest and latest instants the pipeline keeps (years 0000-9999, what ISO 8601 basic years and the consumer accept). */
const EARLIEST = (() => {
  const d = new Date(0);
  d.setUTCFullYear(0, 0, 1);
  d.setUTCHours(0, 0, 0, 0);
  return d.getTime();
})();
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * `yyyy-MM-dd`, optionally followed by `T` or a space and `HH:mm[:ss[.fraction]]`, optionally a
 * zone: `Z`, `±HH`, `±HHmm` or `±HH:mm` (Sumsub's `2025-01-30 11:41:55+0000`, Veriff's
 * microseconds `…55.123456Z`, ISO offsets). No zone means UTC: providers send UTC.
 */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,12}))?)?)? ?(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/i;

/** `yyyy-MM-ddTHH:mm:ss[.f{1,3}]Z`: what the engine's `Date.parse` reads exactly as `parseDateTime` would. */
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;
/** `yyyy-MM-dd HH:mm:ss[.f{1,3}]`, zoneless (Sumsub's `createdAtMs`): the same instant as with `T` and `Z`. */
const SPACED_UTC = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})?$/;
/** The canonical form: `Date.prototype.toISOString` of a year 0000-9999. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Milliseconds since the epoch of a calendar date-time string, or null when it is not a real one. */
function parseDateTime(value: string): number | null {
  const m = DATE_TIME.exec(value.trim());
  if (m === null) return null;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hour, minute, second] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const millis = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return null; // e.g. 2025-02-30
  let ms = date.getTime();
  if (m[9] !== undefined) {
    const offsetHours = Number(m[10]);
    const offsetMinutes = Number(m[11] ?? 0);
    if (offsetHours > 23 || offsetMinutes > 59) return null;
    const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
    ms += m[9] === "+" ? -offset : offset;
  }
  return ms;
}

/** The second `isoOfClock` last formatted, and its text up to the milliseconds (`yyyy-MM-ddTHH:mm:ss.`). */
let clockSecond = Number.NaN;
let clockPrefix = "";

/**
 * `date.toISOString()` for a clock reading (ingest stamps every request with one): the text up to
 * the second is kept while the second lasts, so most calls only append the milliseconds (the engine
 * takes about 0.4 µs to format a date). A date outside years 0000-9999 is formatted by the engine.
 */
export function isoOfClock(date: Date): string {
  const ms = date.getTime();
  if (!(ms >= EARLIEST && ms <= LATEST)) return date.toISOString(); // also an invalid date: the engine's RangeError
  const second = Math.floor(ms / 1000);
  if (second !== clockSecond) {
    clockPrefix = date.toISOString().slice(0, 20);
    clockSecond = second;
  }
  const millis = ms - second * 1000;
  return `${clockPrefix}${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

/** The last time `isoOfEpochMillis` or `toIsoTime` produced: canonical by construction (`isCanonicalTime` checks it for nothing). */
let lastProduced: string | undefined;

/** ISO 8601 UTC of `ms`, or null outside years 0000-9999. */
export function isoOfEpochMillis(ms: number): string | null {
  if (!Number.isFinite(ms) || ms < EARLIEST || ms > LATEST) return null;
  lastProduced = new Date(ms).toISOString();
  return lastProduced;
}

/** Days in `month` (1-12) of `year` (proleptic Gregorian, as the engine's dates). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** The number written by the ASCII digits `value[at..at+count)` (the caller's regex checked they are digits). */
function digitsAt(value: string, at: number, count: number): number {
  let n = 0;
  for (let i = at; i < at + count; i += 1) n = n * 10 + value.charCodeAt(i) - 48;
  return n;
}

/**
 * The common cases, ISO 8601 UTC (`ISO_UTC`, as most providers send) and Sumsub's zoneless form
 * (`SPACED_UTC`), read field by field: the canonical form when every field is in range, else null
 * (what the general parser says of a rolled-over field such as 2025-02-30). No date is built or
 * formatted: an already canonical time comes back as the same string.
 */
function fromUtcFields(value: string): string | null {
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(digitsAt(value, 0, 4), month)) return null;
  if (digitsAt(value, 11, 2) > 23 || digitsAt(value, 14, 2) > 59 || digitsAt(value, 17, 2) > 59) return null;
  const zulu = value.endsWith("Z");
  // Three fraction digits and a Z: canonical already.
  if (zulu && value.length === 24) return value;
  const fraction = value.length > 20 ? value.slice(20, zulu ? -1 : undefined) : "";
  return `${value.slice(0, 10)}T${value.slice(11, 19)}.${fraction.padEnd(3, "0")}Z`;
}

/**
 * A provider time: an ISO 8601 / Sumsub-style date-time string (zoneless = UTC), or epoch
 * milliseconds as a number or a string of digits. Anything else (or out of range) is null.
 */
export function toIsoTime(value: unknown): string | null {
  if (typeof value === "number") return isoOfEpochMillis(value);
  if (typeof value !== "string" || value.length === 0 || value.length > 64) return null;
  if (/^\d{1,16}$/.test(value)) return isoOfEpochMillis(Number(value));
  if (ISO_UTC.test(value) || SPACED_UTC.test(value)) {
    lastProduced = fromUtcFields(value) ?? undefined;
    return lastProduced ?? null;
  }
  const ms = parseDateTime(value);
  return ms === null ? null : isoOfEpochMillis(ms);
}

/** True for a canonical time as `toIsoTime` produces it (what the consumer accepts). */
export function isCanonicalTime(value: string): boolean {
  // A provider's normalization has usually just produced `value` (then canonicalEvent checks it).
  return value === lastProduced || (CANONICAL.test(value) && fromUtcFields(value) === value);
}
