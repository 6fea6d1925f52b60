import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hexDigestEquals, hmacHex, matchesAnySecret } from "../../lambdas/core/crypto.js";
import { header } from "../../lambdas/core/http.js";
import { toSqsId } from "../../lambdas/core/sqs-message.js";
import { toIsoTime } from "../../lambdas/core/time.js";

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
    expect(hexDigestEquals(digest, digest)).toBe(true);
    expect(hexDigestEquals(digest.toUpperCase(), digest)).toBe(true);
    expect(hexDigestEquals(digest.slice(1), digest)).toBe(false);
    expect(hexDigestEquals("", digest)).toBe(false);
  });

  it("matches any configured secret but never an empty one", () => {
    const digestFor = (secret: string) => hmacHex("sha256", secret, body);
    expect(matchesAnySecret(digestFor("old"), ["new", "old"], digestFor)).toBe(true);
    expect(matchesAnySecret(digestFor(""), ["", "new"], digestFor)).toBe(false);
    expect(matchesAnySecret(digestFor("new"), [], digestFor)).toBe(false);
  });
});

describe("header lookup", () => {
  it("is case-insensitive", () => {
    expect(header({ "X-Payload-Digest": "abc" }, "x-payload-digest")).toBe("abc");
    expect(header({ "x-payload-digest": "abc" }, "X-PAYLOAD-DIGEST")).toBe("abc");
    expect(header({}, "x-payload-digest")).toBeUndefined();
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
});
