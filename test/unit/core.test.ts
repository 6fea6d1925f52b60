import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hexDigestEquals, hmacDigest, hmacHex, matchesAnySecret } from "../../lambdas/core/crypto.js";
import { header } from "../../lambdas/core/http.js";
import { toSqsId } from "../../lambdas/core/sqs-message.js";
import { isCanonicalTime, isoOfClock, toIsoTime } from "../../lambdas/core/time.js";

const SQS_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

describe("toSqsId", () => {
  it("keeps ids SQS accepts unchanged", () => {
    expect(toSqsId("idngo:req-fa94263f-0b23-42d7-9393-ab10b28ef42d")).toBe("idngo:req-fa94263f-0b23-42d7-9393-ab10b28ef42d");
    expect(toSqsId("x".repeat(128))).toBe("x".repeat(128));
  });

  it("replaces too long or non-ASCII ids by a digest", () => {
    expect(toSqsId("x".repeat(129))).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(toSqsId("veriff:séance")).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(toSqsId("")).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("always yields a valid, deterministic SQS id, distinct for distinct inputs", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "binary", maxLength: 300 }), (a, b) => {
        expect(toSqsId(a)).toMatch(SQS_ID);
        expect(toSqsId(a)).toBe(toSqsId(a));
        if (a !== b) expect(toSqsId(a)).not.toBe(toSqsId(b));
      }),
      { numRuns: 500 },
    );
  });
});

describe("digest comparison", () => {
  const body = Buffer.from('{"a":1}');
  it("accepts the right digest in either hex case and rejects others", () => {
    const digest = hmacHex("sha256", "s", body);
    const raw = hmacDigest("sha256", "s", body);
    expect(raw.toString("hex")).toBe(createHmac("sha256", "s").update(body).digest("hex"));
    expect(hexDigestEquals(digest, raw)).toBe(true);
    expect(hexDigestEquals(digest.toUpperCase(), raw)).toBe(true);
    expect(hexDigestEquals(` ${digest}\n`, raw)).toBe(true);
    expect(hexDigestEquals(digest.slice(1), raw)).toBe(false);
    expect(hexDigestEquals(`${digest.slice(0, -1)}g`, raw)).toBe(false); // right length, not hex
    expect(hexDigestEquals("", raw)).toBe(false);
  });

  it("matches any configured secret but never an empty one; a failure is checked against every secret", () => {
    const tried: string[] = [];
    const digestFor = (secret: string) => {
      tried.push(secret);
      return hmacDigest("sha256", secret, body);
    };
    const hex = (secret: string) => hmacHex("sha256", secret, body);
    expect(matchesAnySecret(hex("old"), ["new", "old"], digestFor)).toBe(true);
    expect(matchesAnySecret(hex(""), ["", "new"], digestFor)).toBe(false);
    expect(matchesAnySecret(hex("new"), [], digestFor)).toBe(false);
    tried.length = 0;
    expect(matchesAnySecret(hex("forged"), ["new", "old", "older"], digestFor)).toBe(false);
    expect(tried).toEqual(["new", "old", "older"]);
    tried.length = 0;
    expect(matchesAnySecret(hex("new"), ["new", "old"], digestFor)).toBe(true);
    expect(tried).toEqual(["new"]); // a match ends the search
  });

  it("tries the secret that matched last first, per list, and still checks a failure against every secret once", () => {
    // Any list of distinct secrets (empty ones included) and any series of requests, each signed by one
    // of them or forged: the answer is the same as checking every secret, a failure computes one digest
    // per non-empty secret, and a request signed like the previous match costs a single digest.
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 8 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.option(fc.nat(), { nil: undefined }), { minLength: 1, maxLength: 12 }),
        (listed, requests) => {
          const secrets: readonly string[] = [...listed];
          const usable = secrets.filter((s) => s.length > 0);
          let previous: string | undefined;
          for (const pick of requests) {
            const signer = pick === undefined || usable.length === 0 ? undefined : usable[pick % usable.length];
            const tried: string[] = [];
            const digestFor = (secret: string) => {
              tried.push(secret);
              return hmacDigest("sha256", secret, body);
            };
            const ok = matchesAnySecret(hmacHex("sha256", signer ?? "forged: longer than any listed secret", body), secrets, digestFor);
            expect(ok).toBe(signer !== undefined);
            expect(tried).not.toContain("");
            if (signer === undefined) {
              expect([...tried].sort()).toEqual([...usable].sort());
            } else {
              expect(tried.at(-1)).toBe(signer);
              if (signer === previous) expect(tried).toEqual([signer]);
              previous = signer;
            }
          }
        },
      ),
    );
  });

  it("never carries a match over to another list: a secret removed by a rotation no longer verifies", () => {
    const both = ["new", "old"];
    const digestFor = (secret: string) => hmacDigest("sha256", secret, body);
    expect(matchesAnySecret(hmacHex("sha256", "old", body), both, digestFor)).toBe(true);
    expect(matchesAnySecret(hmacHex("sha256", "old", body), ["new"], digestFor)).toBe(false);
    expect(matchesAnySecret(hmacHex("sha256", "old", body), both, digestFor)).toBe(true);
  });

  it("digests a text exactly as its UTF-8 bytes", () => {
    const text = '{"name":"Zoë Łukasz 山田","emoji":"🙂"}';
    expect(hmacHex("sha256", "s", text)).toBe(hmacHex("sha256", "s", Buffer.from(text, "utf8")));
  });
});

describe("header lookup", () => {
  it("is case-insensitive", () => {
    expect(header({ "X-Payload-Digest": "abc" }, "x-payload-digest")).toBe("abc");
    expect(header({ "x-payload-digest": "abc" }, "X-PAYLOAD-DIGEST")).toBe("abc");
    expect(header({}, "x-payload-digest")).toBeUndefined();
  });
});

describe("isoOfClock", () => {
  it("is toISOString for any sequence of clock readings, in the same second or not (property)", () => {
    const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    const EARLIEST = Date.parse("0000-01-01T00:00:00.000Z");
    // Readings near one another (what a clock gives: many in one second) and anywhere, past the years 0000-9999 too.
    const reading = fc.oneof(
      fc.integer({ min: 1_700_000_000_000, max: 1_700_000_003_000 }),
      fc.integer({ min: EARLIEST - 5_000, max: EARLIEST + 5_000 }),
      fc.integer({ min: LATEST - 5_000, max: LATEST + 5_000 }),
      fc.integer({ min: -8.64e15, max: 8.64e15 }),
    );
    fc.assert(
      fc.property(fc.array(reading, { minLength: 1, maxLength: 30 }), (readings) => {
        for (const ms of readings) expect(isoOfClock(new Date(ms))).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
    expect(() => isoOfClock(new Date(Number.NaN))).toThrow(RangeError);
  });
});

describe("toIsoTime", () => {
  it("reads zoneless date-times as UTC, whatever the local zone", () => {
    expect(toIsoTime("2024-08-19 10:15:30")).toBe("2024-08-19T10:15:30.000Z");
    expect(toIsoTime("2024-08-19T10:15:30.5")).toBe("2024-08-19T10:15:30.500Z");
    expect(toIsoTime("2024-08-19T10:15:30+02:00")).toBe("2024-08-19T08:15:30.000Z");
    expect(toIsoTime(1_724_062_530_000)).toBe("2024-08-19T10:15:30.000Z");
    expect(toIsoTime("yesterday")).toBeNull();
    expect(toIsoTime(null)).toBeNull();
  });

  it("reads ISO 8601 UTC and Sumsub's zoneless form (their fast paths) exactly as any other zone, rolled-over fields included", () => {
    const pad = (n: number, width: number) => String(n).padStart(width, "0");
    fc.assert(
      fc.property(
        fc.record({
          // Leap-year rules and month ends drawn often: the fast paths check each field themselves.
          year: fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.constantFrom(0, 4, 100, 400, 1900, 2000, 2023, 2024, 2100, 9996, 9999)),
          month: fc.oneof(fc.integer({ min: 0, max: 13 }), fc.constantFrom(2, 4, 6, 9, 11, 12)),
          day: fc.oneof(fc.integer({ min: 0, max: 32 }), fc.integer({ min: 28, max: 31 })),
          hour: fc.integer({ min: 0, max: 25 }),
          minute: fc.integer({ min: 0, max: 61 }),
          second: fc.integer({ min: 0, max: 61 }),
          fraction: fc.stringMatching(/^(?:\.\d{1,3})?$/),
        }),
        ({ year, month, day, hour, minute, second, fraction }) => {
          const base = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}`;
          const utc = toIsoTime(`${base}Z`);
          expect(utc).toBe(toIsoTime(`${base}+00:00`)); // the general parser
          expect(toIsoTime(base.replace("T", " "))).toBe(utc); // Sumsub's zoneless form (its own fast path)
          expect(toIsoTime(`${base.replace("T", " ")} +0000`)).toBe(utc); // with an offset: the general parser
          if (utc !== null) expect(isCanonicalTime(utc)).toBe(true);
          expect(isCanonicalTime(`${base}Z`)).toBe(utc === `${base}Z`);
        },
      ),
      { numRuns: 2000 },
    );
    expect(toIsoTime("2025-02-30T00:00:00Z")).toBeNull();
    expect(toIsoTime("2024-02-29T23:59:59.1Z")).toBe("2024-02-29T23:59:59.100Z");
    expect(isCanonicalTime("2024-02-29T24:00:00.000Z")).toBe(false);
  });
});
