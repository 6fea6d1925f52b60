/**
 * A total decoder of DynamoDB stream images (pure): turns `NewImage` / `OldImage` (attribute
 * values as Lambda's event JSON or the SDK's streams client deliver them) into plain values, and
 * reports what it cannot decode instead of throwing. `unmarshall` from @aws-sdk/util-dynamodb
 * throws on the first surprise, and a stream record that throws in the publisher is retried for
 * ever; this decoder cannot throw, so the publisher decides what an undecodable record means.
 *
 * - `{}` (no type) decodes to an empty map: DynamoDB Local's streams encode an empty map that
 *   way (real streams send `{"M":{}}`).
 * - Numbers keep their exact value: a number becomes a JS number only when that number prints
 *   back as the same decimal value; otherwise (e.g. an integer beyond 2^53, or more digits than
 *   a double holds: DynamoDB numbers have up to 38) it stays the decimal string that was stored.
 * - String, number and binary sets decode to arrays; binaries (base64 in Lambda's JSON,
 *   `Uint8Array` from the SDK) to `Uint8Array`.
 * - Anything else (not an object, several or unknown type keys, a payload of the wrong type, a
 *   malformed number, nesting deeper than DynamoDB allows) is left out of the result and
 *   reported with its path. Problems name the kind of problem, never the value.
 */

export type ImageValue = null | boolean | number | string | Uint8Array | readonly ImageValue[] | ImageMap;

export interface ImageMap {
  readonly [name: string]: ImageValue;
}

export type ImageProblemKind =
  | "not-an-object" // the image itself, or an attribute value, is not an object
  | "several-types" // more than one type key, e.g. {"S": "a", "N": "1"}
  | "unknown-type" // a type key DynamoDB does not have
  | "bad-payload" // the payload does not fit its type, e.g. {"S": 1}, {"NULL": false}
  | "bad-number" // not a DynamoDB number literal
  | "too-deep" // nested deeper than DynamoDB allows
  | "unreadable"; // reading the input threw (e.g. a getter): never from JSON

export interface ImageProblem {
  /** Attribute names and list indexes from the image's top, down to the bad value. */
  readonly path: readonly (string | number)[];
  readonly kind: ImageProblemKind;
}

export interface DecodedImage {
  /** The image's attributes, without the ones that could not be decoded; undefined when there is no image. */
  readonly item: ImageMap | undefined;
  readonly problems: readonly ImageProblem[];
}

/** DynamoDB allows 32 levels of nesting; a little slack, then stop (also guards against cycles). */
const MAX_DEPTH = 40;

const TYPES = new Set(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]);

const NUMBER_LITERAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);

/** Decodes one image; `undefined` (no image, e.g. OldImage of an INSERT) decodes to no item. */
export function decodeImage(raw: unknown): DecodedImage {
  if (raw === undefined || raw === null) return { item: undefined, problems: [] };
  const problems: ImageProblem[] = [];
  try {
    if (!isRecord(raw)) return { item: undefined, problems: [{ path: [], kind: "not-an-object" }] };
    return { item: decodeMap(raw, [], 0, problems), problems };
  } catch {
    // Only a hostile object (a throwing getter, a proxy) gets here: JSON never does.
    return { item: undefined, problems: [...problems, { path: [], kind: "unreadable" }] };
  }
}

function decodeMap(raw: Record<string, unknown>, path: readonly (string | number)[], depth: number, problems: ImageProblem[]): ImageMap {
  const out: Record<string, ImageValue> = {};
  for (const name of Object.keys(raw)) {
    const value = decodeValue(raw[name], [...path, name], depth + 1, problems);
    // defineProperty: a "__proto__" attribute stays an ordinary own property.
    if (value !== undefined) Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** One attribute value, or undefined (reported) when it cannot be decoded. */
function decodeValue(raw: unknown, path: readonly (string | number)[], depth: number, problems: ImageProblem[]): ImageValue | undefined {
  const fail = (kind: ImageProblemKind): undefined => {
    problems.push({ path, kind });
    return undefined;
  };
  if (depth > MAX_DEPTH) return fail("too-deep");
  if (!isRecord(raw)) return fail("not-an-object");
  const keys = Object.keys(raw).filter((key) => raw[key] !== undefined);
  if (keys.length === 0) return {}; // DynamoDB Local's empty map
  if (keys.length > 1) return fail("several-types");
  const type = keys[0] ?? "";
  if (!TYPES.has(type)) return fail("unknown-type");
  const payload = raw[type];
  switch (type) {
    case "S":
      return typeof payload === "string" ? payload : fail("bad-payload");
    case "N":
      return typeof payload === "string" ? (decodeNumber(payload) ?? fail("bad-number")) : fail("bad-payload");
    case "B":
      return decodeBinary(payload) ?? fail("bad-payload");
    case "BOOL":
      return typeof payload === "boolean" ? payload : fail("bad-payload");
    case "NULL":
      return payload === true ? null : fail("bad-payload");
    case "M":
      return isRecord(payload) ? decodeMap(payload, path, depth, problems) : fail("bad-payload");
    case "L": {
      if (!Array.isArray(payload)) return fail("bad-payload");
      const out: ImageValue[] = [];
      payload.forEach((element: unknown, index) => {
        const value = decodeValue(element, [...path, index], depth + 1, problems);
        if (value !== undefined) out.push(value);
      });
      return out;
    }
    case "SS":
      return Array.isArray(payload) && payload.every((s) => typeof s === "string") ? [...(payload as string[])] : fail("bad-payload");
    case "NS": {
      if (!Array.isArray(payload) || !payload.every((s) => typeof s === "string")) return fail("bad-payload");
      const numbers = (payload as string[]).map(decodeNumber);
      return numbers.every((n) => n !== undefined) ? (numbers as (number | string)[]) : fail("bad-number");
    }
    default: {
      // BS
      if (!Array.isArray(payload)) return fail("bad-payload");
      const binaries = payload.map(decodeBinary);
      return binaries.every((b) => b !== undefined) ? (binaries as Uint8Array[]) : fail("bad-payload");
    }
  }
}

function decodeBinary(payload: unknown): Uint8Array | undefined {
  if (payload instanceof Uint8Array) return payload;
  if (typeof payload === "string" && BASE64.test(payload)) return new Uint8Array(Buffer.from(payload, "base64"));
  return undefined;
}

/**
 * A DynamoDB number literal as a JS number when the number prints back as the same decimal value
 * (so the JSON we write denotes exactly what was stored), else as the literal itself; undefined
 * when it is not a number literal at all.
 */
export function decodeNumber(text: string): number | string | undefined {
  if (!NUMBER_LITERAL.test(text)) return undefined;
  const canonical = canonicalDecimal(text);
  if (canonical === "0") return 0; // any spelling of zero (never -0)
  const value = Number(text);
  if (!Number.isFinite(value) || value === 0) return text; // beyond a double's range
  return canonicalDecimal(String(value)) === canonical ? value : text;
}

/** A number literal's exact decimal value as `[-]digits e exponent` with no leading or trailing zeros ("0" for zero). */
function canonicalDecimal(literal: string): string {
  const negative = literal.startsWith("-");
  const [mantissa = "", exponentText = "0"] = literal.replace(/^[+-]/, "").split(/[eE]/);
  const [intPart = "", fracPart = ""] = mantissa.split(".");
  let digits = (intPart + fracPart).replace(/^0+/, "");
  if (digits.length === 0) return "0";
  // The exponent of the last digit; exponents of literals that fit a double are small.
  let exponent = Number(exponentText) - fracPart.length;
  const trailing = /0+$/.exec(digits)?.[0].length ?? 0;
  digits = digits.slice(0, digits.length - trailing);
  exponent += trailing;
  return `${negative ? "-" : ""}${digits}e${exponent}`;
}

/** `subject`, `decision[2]`: a path for messages (attribute names and indexes only). */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((segment, i) => (typeof segment === "number" ? `[${segment}]` : i === 0 ? segment : `.${segment}`)).join("") || "(image)";
}
