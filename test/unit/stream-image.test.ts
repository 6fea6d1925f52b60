import { marshall } from "@aws-sdk/util-dynamodb";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeImage, decodeNumber, type ImageMap } from "../../lambdas/publisher/stream-image.js";

/** A state item's NewImage as DynamoDB Local's stream delivers it when the subject is empty. */
const localStateImage = {
  correlationId: { S: "veriff:5e0c2f1a-0000-4000-8000-000000000001" },
  sk: { S: "STATE" },
  subject: {},
  status: { S: "approved" },
  version: { N: "3" },
  decision: { M: { code: { N: "9001" }, labels: { L: [] }, reason: { NULL: true } } },
};

describe("decodeImage", () => {
  it('decodes DynamoDB Local\'s `{}` as an empty map, at the top and nested, like {"M":{}}', () => {
    expect(decodeImage(localStateImage)).toEqual({
      item: {
        correlationId: "veriff:5e0c2f1a-0000-4000-8000-000000000001",
        sk: "STATE",
        subject: {},
        status: "approved",
        version: 3,
        decision: { code: 9001, labels: [], reason: null },
      },
      problems: [],
    });
    expect(decodeImage({ a: { M: { b: {}, c: { M: {} } } } })).toEqual({ item: { a: { b: {}, c: {} } }, problems: [] });
  });

  it("decodes every DynamoDB type: sets as arrays, binaries from base64 (Lambda) or bytes (SDK)", () => {
    const { item, problems } = decodeImage({
      s: { S: "x" },
      b64: { B: "AAEC" },
      bytes: { B: new Uint8Array([3, 4]) },
      yes: { BOOL: true },
      ss: { SS: ["a", "b"] },
      ns: { NS: ["1", "2.5", "123456789012345678901234567890"] },
      bs: { BS: ["AQ==", new Uint8Array([2])] },
      l: { L: [{ S: "a" }, { N: "-1" }, { M: {} }] },
    });
    expect(problems).toEqual([]);
    expect(item).toEqual({
      s: "x",
      b64: new Uint8Array([0, 1, 2]),
      bytes: new Uint8Array([3, 4]),
      yes: true,
      ss: ["a", "b"],
      ns: [1, 2.5, "123456789012345678901234567890"],
      bs: [new Uint8Array([1]), new Uint8Array([2])],
      l: ["a", -1, {}],
    });
  });

  it("reports malformed values with their path and kind, leaves them out, and decodes the rest", () => {
    const { item, problems } = decodeImage({
      ok: { S: "fine" },
      wrongPayload: { S: 42 },
      unknownType: { X: "?" },
      twoTypes: { S: "a", N: "1" },
      badNumber: { N: "12abc" },
      notNull: { NULL: false },
      notAnObject: "plain",
      nested: { M: { inner: { L: [{ S: "kept" }, { BOOL: "yes" }] } } },
      badBase64: { B: "not base64!" },
    });
    expect(item).toEqual({ ok: "fine", nested: { inner: ["kept"] } });
    expect(problems).toEqual([
      { path: ["wrongPayload"], kind: "bad-payload" },
      { path: ["unknownType"], kind: "unknown-type" },
      { path: ["twoTypes"], kind: "several-types" },
      { path: ["badNumber"], kind: "bad-number" },
      { path: ["notNull"], kind: "bad-payload" },
      { path: ["notAnObject"], kind: "not-an-object" },
      { path: ["nested", "inner", 1], kind: "bad-payload" },
      { path: ["badBase64"], kind: "bad-payload" },
    ]);
  });

  it("has no image for undefined and reports an image that is not a map", () => {
    expect(decodeImage(undefined)).toEqual({ item: undefined, problems: [] });
    for (const raw of ["x", 1, [], true, new Uint8Array(1)]) {
      expect(decodeImage(raw)).toEqual({ item: undefined, problems: [{ path: [], kind: "not-an-object" }] });
    }
  });

  it("stops at nesting deeper than DynamoDB allows instead of overflowing the stack", () => {
    let deep: unknown = { S: "bottom" };
    for (let i = 0; i < 100_000; i++) deep = { L: [deep] };
    const { item, problems } = decodeImage({ deep });
    expect(problems).toHaveLength(1);
    expect(problems[0]?.kind).toBe("too-deep");
    expect(item).toHaveProperty("deep");
  });

  it("keeps a `__proto__` attribute as an ordinary attribute (no prototype pollution)", () => {
    const raw = JSON.parse('{"__proto__":{"M":{"polluted":{"BOOL":true}}},"a":{"S":"b"}}') as unknown;
    const { item } = decodeImage(raw);
    expect(Object.keys(item ?? {})).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(item)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("never throws, whatever it is given, and reports rather than invents (fast-check)", () => {
    // Attribute-value trees mixing well-formed values with malformed ones at every level.
    const { value } = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.record({ S: fc.string() }),
        fc.record({ N: fc.oneof(fc.double().map(String), fc.bigInt().map(String), fc.string()) }),
        fc.record({ B: fc.oneof(fc.base64String(), fc.uint8Array(), fc.string()) }),
        fc.record({ BOOL: fc.oneof(fc.boolean(), fc.anything()) }),
        fc.record({ NULL: fc.oneof(fc.constant(true), fc.anything()) }),
        fc.record({ M: fc.oneof(fc.dictionary(fc.string(), tie("value"), { maxKeys: 4 }), fc.anything()) }),
        fc.record({ L: fc.oneof(fc.array(tie("value"), { maxLength: 4 }), fc.anything()) }),
        fc.record({ SS: fc.oneof(fc.array(fc.string()), fc.anything()) }),
        fc.record({ NS: fc.oneof(fc.array(fc.double().map(String)), fc.array(fc.string())) }),
        fc.record({ BS: fc.oneof(fc.array(fc.base64String()), fc.anything()) }),
        fc.constant({}),
        fc.dictionary(fc.string(), fc.anything(), { maxKeys: 3 }),
        fc.anything(),
      ),
    }));
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.string(), value, { maxKeys: 6 }), fc.anything()), (raw) => {
        const decoded = decodeImage(raw);
        expect(decoded.item === undefined || typeof decoded.item === "object").toBe(true);
        // Every problem names a place inside the input (or the image itself): never more places than there are.
        for (const problem of decoded.problems) expect(Array.isArray(problem.path)).toBe(true);
        // A well-formed image decodes without problems only when nothing was left out.
        if (decoded.problems.length === 0 && decoded.item !== undefined && typeof raw === "object" && raw !== null) {
          expect(Object.keys(decoded.item)).toEqual(Object.keys(raw).filter((k) => (raw as Record<string, unknown>)[k] !== undefined));
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it("decodes what the SDK's marshall writes back to the same values (fast-check)", () => {
    // Plain values a state item can hold; numbers that a double represents, as the SDK writes them.
    // Keys: not `__proto__`, which the SDK's marshall itself cannot write (it assigns it); the
    // decoder's own handling of that key is tested above.
    const key = fc.string().filter((k) => k !== "__proto__");
    const { plain } = fc.letrec<{ plain: unknown }>((tie) => ({
      plain: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc
          .double({ noNaN: true, noDefaultInfinity: true })
          .filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d)) // marshall refuses unsafe integers
          .map((d) => (Object.is(d, -0) ? 0 : d)),
        fc.array(tie("plain"), { maxLength: 4 }),
        fc.dictionary(key, tie("plain"), { maxKeys: 4 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(key, plain, { maxKeys: 6 }), fc.boolean(), (item, asLocal) => {
        let raw: unknown = marshall(item, { convertEmptyValues: false });
        // DynamoDB Local's streams write every empty map as `{}`.
        if (asLocal) raw = JSON.parse(JSON.stringify(raw).replaceAll('{"M":{}}', "{}"));
        const decoded = decodeImage(raw);
        expect(decoded.problems).toEqual([]);
        expect(decoded.item).toEqual(item as ImageMap);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("decodeNumber", () => {
  it("keeps numbers a double cannot hold exactly as the stored decimal string", () => {
    expect(decodeNumber("9007199254740991")).toBe(9_007_199_254_740_991);
    expect(decodeNumber("9007199254740993")).toBe("9007199254740993");
    expect(decodeNumber("12345678901234567890123456789012345678")).toBe("12345678901234567890123456789012345678");
    expect(decodeNumber("0.1")).toBe(0.1);
    expect(decodeNumber("0.30000000000000004")).toBe(0.1 + 0.2);
    expect(decodeNumber("1.00000000000000001")).toBe("1.00000000000000001");
    expect(decodeNumber("1E+125")).toBe(1e125);
    expect(decodeNumber("1e400")).toBe("1e400");
    expect(decodeNumber("1e-400")).toBe("1e-400");
    expect(decodeNumber("-0")).toBe(0);
    expect(decodeNumber("000.000e5")).toBe(0);
    expect(decodeNumber("+12.50")).toBe(12.5);
  });

  it("rejects what is not a number literal", () => {
    for (const text of ["", "abc", "1e", "--1", "0x10", "Infinity", "NaN", "1 ", " 1", "1,5", "1e1.5"])
      expect(decodeNumber(text)).toBeUndefined();
  });

  it("a decoded number always prints back as the stored decimal value; otherwise the literal is kept (fast-check)", () => {
    const literal = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
      fc.stringMatching(/^[+-]?\d{1,40}(\.\d{0,40})?([eE][+-]?\d{1,3})?$/),
    );
    fc.assert(
      fc.property(literal, (text) => {
        const decoded = decodeNumber(text);
        expect(decoded).toBeDefined();
        if (typeof decoded === "string") {
          expect(decoded).toBe(text);
        } else if (decoded !== 0) {
          // Same decimal value: compare exactly with big integers scaled by a common power of ten.
          expect(exactDecimal(String(decoded))).toBe(exactDecimal(text));
        }
      }),
      { numRuns: 5_000 },
    );
    // Every double round-trips as a number.
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (d) => {
        expect(decodeNumber(String(d))).toBe(Object.is(d, -0) ? 0 : d);
      }),
    );
  });
});

/** A decimal literal's exact value as a reduced "numerator/10^k" string, computed with BigInt. */
function exactDecimal(literal: string): string {
  const match = /^([+-]?)(\d*)\.?(\d*)(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!match) throw new Error(`not a literal: ${literal}`);
  const [, sign = "", int = "", frac = "", exp = "0"] = match;
  let numerator = BigInt(`${int}${frac}` || "0");
  let scale = Number(exp) - frac.length;
  while (numerator !== 0n && numerator % 10n === 0n) {
    numerator /= 10n;
    scale += 1;
  }
  return `${sign === "-" && numerator !== 0n ? "-" : ""}${numerator}e${numerator === 0n ? 0 : scale}`;
}
