import * as crypto from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent, Status } from "../../../lambdas/core/event.js";
import { fold } from "../../../lambdas/model/transition.js";
import { envelopeCiphertext, utf8Text } from "../../../lambdas/providers/neurovision.js";
import type { NeurovisionKeyDerivation } from "../../../lambdas/providers/types.js";
import { encryptNeurovision } from "../../../local/samples.js";
import { fixture, fixtureJson, type Json, personalValues, RECEIVED_AT, receipt } from "../../support/providers.js";

const SECRET = "neurovision-webhook-secret";
const PLAINTEXT = fixture("neurovision", "success.json").toString("utf8");
const PAYLOAD = fixtureJson("neurovision", "success.json");

const envelope = (encrypted: unknown): Buffer => Buffer.from(JSON.stringify({ encrypted }));
const encrypted = (plaintext: string, secret = SECRET, derivation: NeurovisionKeyDerivation = "sha256"): Buffer =>
  envelope(encryptNeurovision(plaintext, secret, derivation));

function deliver(body: Buffer, secrets: readonly string[] = [SECRET], derivation: NeurovisionKeyDerivation = "any") {
  return receipt(
    "neurovision",
    body,
    { "content-type": "application/json" },
    { secrets, options: { neurovisionKeyDerivation: derivation } },
  );
}

function accept(body: Buffer, secrets?: readonly string[], derivation?: NeurovisionKeyDerivation): NormalizedEvent {
  const result = deliver(body, secrets, derivation);
  if (result.kind !== "accepted") throw new Error(`not accepted: ${JSON.stringify(result)}`);
  return result.event;
}

const withPayload = (overrides: Json): string => JSON.stringify({ ...PAYLOAD, ...overrides });

/** AES-256-CBC under the recipe's key with a chosen IV, for crafting edge cases byte by byte. */
function encryptRaw(plaintext: Buffer, secret = SECRET, iv = crypto.randomBytes(16)): Buffer {
  const key = crypto.createHash("sha256").update(secret).digest();
  const cipher = crypto.createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
}

const contentId = (plaintext: string): string => `neurovision:${crypto.createHash("sha256").update(plaintext).digest("hex")}`;

describe("neurovision: accepted deliveries", () => {
  it("decrypts a body encrypted by NeuroVision's recipe and normalizes it exactly", () => {
    expect(accept(encrypted(PLAINTEXT))).toEqual({
      specVersion: "1",
      eventId: contentId(PLAINTEXT),
      correlationId: "neurovision:8f3c2a10-5b7e-11ef-9d2a-0242ac120002",
      provider: "neurovision",
      providerEventType: "success",
      status: "approved",
      occurredAt: null, // no responseTime: createdAt is the session's start, not this result's time
      receivedAt: RECEIVED_AT,
      subject: { clientKey: "user_123:loan-42" },
      decision: { status: "success", checks: ["passport_ocr:success", "liveness:success", "sanctions:success"] },
      attemptId: null,
      sandbox: false,
      unmapped: null,
    } satisfies NormalizedEvent);
  });

  it("gives the same JSON encrypted twice different ciphertexts but one eventId", () => {
    const [first, second] = [encrypted(PLAINTEXT), encrypted(PLAINTEXT)];
    expect(first.equals(second)).toBe(false);
    expect(accept(first)).toEqual(accept(second));
  });

  it("accepts either key derivation by default, and only the pinned one when configured", () => {
    const hexPrefixed = encrypted(PLAINTEXT, SECRET, "sha256-hex-prefix");
    const raw = encrypted(PLAINTEXT, SECRET, "sha256");
    expect(accept(hexPrefixed).status).toBe("approved");
    expect(accept(raw).status).toBe("approved");
    expect(accept(hexPrefixed, [SECRET], "sha256-hex-prefix").status).toBe("approved");
    expect(deliver(hexPrefixed, [SECRET], "sha256")).toMatchObject({ kind: "unauthenticated" });
    expect(deliver(raw, [SECRET], "sha256-hex-prefix")).toMatchObject({ kind: "unauthenticated" });
  });

  it("tries every configured secret (rotation)", () => {
    const secrets = ["old-secret", "new-secret"];
    expect(accept(encrypted(PLAINTEXT, "new-secret"), secrets).status).toBe("approved");
    expect(accept(encrypted(PLAINTEXT, "old-secret"), secrets).status).toBe("approved");
    expect(deliver(encrypted(PLAINTEXT, "old-secret"), ["new-secret"])).toEqual({ kind: "unauthenticated", cause: "undecryptable" });
  });

  it("tries the key that decrypted last first, but only while the configuration still allows it", () => {
    // One list object reused across deliveries, as a secret source hands it out between rotations.
    const secrets = ["old-secret", "new-secret"];
    const hexPrefixed = encrypted(PLAINTEXT, "new-secret", "sha256-hex-prefix");
    const raw = encrypted(PLAINTEXT, "new-secret", "sha256");
    expect(accept(hexPrefixed, secrets).status).toBe("approved"); // remembered: new-secret, hex prefix
    expect(deliver(hexPrefixed, secrets, "sha256")).toMatchObject({ kind: "unauthenticated" });
    expect(accept(raw, secrets, "sha256").status).toBe("approved");
    expect(deliver(raw, secrets, "sha256-hex-prefix")).toMatchObject({ kind: "unauthenticated" });
    // Any order of deliveries under either secret and derivation: each one decrypts, none leaks into another list.
    const picks: [string, NeurovisionKeyDerivation][] = [
      ["old-secret", "sha256"],
      ["new-secret", "sha256-hex-prefix"],
      ["new-secret", "sha256-hex-prefix"],
      ["old-secret", "sha256-hex-prefix"],
      ["new-secret", "sha256"],
      ["old-secret", "sha256"],
    ];
    for (const [secret, derivation] of picks) {
      const body = encrypted(PLAINTEXT, secret, derivation);
      expect(accept(body, secrets).eventId).toBe(accept(encrypted(PLAINTEXT)).eventId);
      expect(
        deliver(
          body,
          secrets.filter((s) => s !== secret),
        ),
      ).toMatchObject({ kind: "unauthenticated" });
    }
  });

  it("keeps every OCR value out of the event, in both result shapes", () => {
    for (const name of ["success.json", "doc-success.json", "doc-failed.json"]) {
      const json = fixtureJson("neurovision", name);
      const personal = personalValues(json, ["results"]).filter(
        (v) => !/^(success|failed|document|selfie|liveness|passport_ocr|sanctions|faces|address_proof)$/.test(v),
      );
      expect(personal.length).toBeGreaterThan(0);
      const event = JSON.stringify(accept(encrypted(JSON.stringify(json))));
      for (const value of personal) expect(event).not.toContain(value);
    }
  });

  const rows: readonly [string, Status | null][] = [
    ["idle", "created"],
    ["wait", "submitted"],
    ["processing", "in_review"],
    ["suspicious", "in_review"],
    ["success", "approved"],
    ["failed", "rejected"],
    ["expired", "expired"],
    ["exception", null],
    ["constructor", null],
    ["SUCCESS", null],
    ["in-progress-2", null],
  ];
  it.each(rows)("status %s → %s (unknown statuses are recorded with a reason)", (status, expected) => {
    const event = accept(encrypted(withPayload({ status })));
    expect(event).toMatchObject({ status: expected, providerEventType: status, decision: { status } });
    expect(event.unmapped).toBe(expected === null ? "status: no KYC status mapping" : null);
  });

  it("orders deliveries by responseTime (when the result was produced), never by createdAt (the session's start)", () => {
    const names = ["doc-wait.json", "doc-suspicious.json", "doc-success.json"];
    const events = names.map((name) => accept(encrypted(fixture("neurovision", name).toString("utf8"))));
    const createdAts = new Set(names.map((name) => fixtureJson("neurovision", name)["createdAt"]));
    expect(createdAts.size).toBe(1);
    for (const [i, name] of names.entries())
      expect(events[i]?.occurredAt).toBe(new Date(String(fixtureJson("neurovision", name)["responseTime"])).toISOString());
    expect(fold([...events].reverse())?.status).toBe("approved");
    expect(accept(encrypted(fixture("neurovision", "doc-wait-no-response-time.json").toString("utf8"))).occurredAt).toBeNull();
  });

  it("accepts a payload without results and clientKey, and with extra fields", () => {
    const event = accept(encrypted(withPayload({ results: undefined, clientKey: undefined, newField: { nested: true } })));
    expect(event).toMatchObject({ decision: { status: "success", checks: [] }, subject: {} });
  });
});

describe("neurovision: every failure is the same 401, with its cause for the operator", () => {
  it("names a missing envelope (plaintext JSON: no webhook secret at NeuroVision) and a wrong secret", () => {
    expect(deliver(Buffer.from(PLAINTEXT))).toEqual({ kind: "unauthenticated", cause: "missing-signature" });
    expect(deliver(encrypted(PLAINTEXT, "another-secret"))).toEqual({ kind: "unauthenticated", cause: "undecryptable" });
    expect(deliver(encrypted(PLAINTEXT), [])).toEqual({ kind: "unauthenticated", cause: "no-secret-configured" });
  });

  it("rejects truncated and garbled ciphertexts", () => {
    const data = Buffer.from(encryptNeurovision(PLAINTEXT, SECRET), "base64");
    const lastBlockFlipped = Buffer.from(data);
    lastBlockFlipped[data.length - 3] = (lastBlockFlipped[data.length - 3] ?? 0) ^ 0x01;
    const paddingFlipped = Buffer.from(data);
    paddingFlipped[data.length - 17] = (paddingFlipped[data.length - 17] ?? 0) ^ 0x01;
    for (const bad of [
      data.subarray(0, data.length - 16),
      data.subarray(0, data.length - 5),
      data.subarray(0, 16),
      data.subarray(16),
      lastBlockFlipped,
      paddingFlipped,
    ]) {
      expect(deliver(envelope(bad.toString("base64")))).toMatchObject({ kind: "unauthenticated" });
    }
  });

  it("rejects anything that is not strict base64, and an envelope with a byte order mark (not the bytes sent)", () => {
    const value = encryptNeurovision(PLAINTEXT, SECRET);
    expect(deliver(envelope(value)).kind).toBe("accepted"); // the control
    const urlSafe = value.replace(/\+/g, "-").replace(/\//g, "_");
    for (const bad of [
      urlSafe === value ? `${value}-` : urlSafe,
      value.replace(/=+$/, "") === value ? `${value}=` : value.replace(/=+$/, ""),
      `${value.slice(0, 40)}\n${value.slice(40)}`,
      ` ${value}`,
      value.slice(0, -1),
      "not base64!",
      "",
      "AAAAAAAAAAAAAAAAAAAAAA==",
    ]) {
      expect(deliver(envelope(bad))).toEqual({ kind: "unauthenticated", cause: "undecryptable" });
    }
    expect(deliver(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), envelope(value)]))).toEqual({
      kind: "unauthenticated",
      cause: "undecryptable",
    });
  });

  it("reads the compact envelope without a JSON parse, exactly as a JSON parse would read it (property)", () => {
    /** The reader without the shortcut: JSON.parse, then the same checks. */
    const reference = (text: string): string => {
      let encrypted: unknown;
      try {
        const envelope: unknown = JSON.parse(text);
        encrypted =
          typeof envelope === "object" && envelope !== null && !Array.isArray(envelope)
            ? (envelope as Record<string, unknown>)["encrypted"]
            : undefined;
      } catch {
        return "invalid";
      }
      if (encrypted === undefined) return "missing";
      if (typeof encrypted !== "string") return "invalid";
      const data = Buffer.from(encrypted, "base64");
      if (data.toString("base64") !== encrypted) return "invalid";
      return data.length >= 32 && data.length % 16 === 0 ? data.toString("hex") : "invalid";
    };
    const show = (r: Buffer | string): string => (typeof r === "string" ? r : r.toString("hex"));
    const base64Char = fc.constantFrom(..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=".split(""));
    // Mostly base64, with what JSON or base64 treats specially: quotes, backslashes, escapes, control characters, url-safe and non-ASCII characters.
    const tricky = fc.constantFrom('"', "\\", "\\n", "\\u0041", "\\/", "\n", "\t", "\u0000", "-", "_", " ", "é", "\ud800", "}", '"}');
    // A well-formed ciphertext (IV + whole blocks), as base64, and the same with one character written as a JSON escape.
    const ciphertext = fc
      .integer({ min: 2, max: 6 })
      .chain((blocks) => fc.uint8Array({ minLength: blocks * 16, maxLength: blocks * 16 }))
      .map((bytes) => Buffer.from(bytes).toString("base64"));
    const escaped = fc.tuple(ciphertext, fc.nat(), fc.boolean()).map(([v, at, unicode]) => {
      const i = at % v.length;
      const c = v.charAt(i);
      const written = unicode || c !== "/" ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : "\\/";
      return `${v.slice(0, i)}${written}${v.slice(i + 1)}`;
    });
    // The same with one data character replaced: the last one (unused bits set, still the right length), or any.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const altered = fc.tuple(ciphertext, fc.nat(), fc.nat({ max: 63 }), fc.boolean()).map(([v, at, c, last]) => {
      const dataChars = v.replace(/=+$/, "").length;
      const i = last ? dataChars - 1 : at % dataChars;
      return `${v.slice(0, i)}${alphabet.charAt(c)}${v.slice(i + 1)}`;
    });
    // The same with a whole group of characters the decoder skips (or stops at) inserted between two groups.
    const skipped = fc.constantFrom(" ", "!", "%", "é", "=", ".", "*");
    const garbled = fc.tuple(ciphertext, fc.nat(), fc.array(skipped, { minLength: 4, maxLength: 4 })).map(([v, at, group]) => {
      const i = 4 * (at % (v.length / 4));
      return `${v.slice(0, i)}${group.join("")}${v.slice(i)}`;
    });
    const value = fc.oneof(
      ciphertext,
      escaped,
      altered,
      garbled,
      fc.uint8Array({ minLength: 0, maxLength: 96 }).map((bytes) => Buffer.from(bytes).toString("base64")),
      fc
        .array(fc.oneof({ weight: 8, arbitrary: base64Char }, { weight: 1, arbitrary: tricky }), { maxLength: 80 })
        .map((chars) => chars.join("")),
    );
    const body = fc.oneof(
      value.map((v) => `{"encrypted":"${v}"}`),
      value.map((v) => JSON.stringify({ encrypted: v })),
      value.map((v) => `{ "encrypted": "${v}" }`),
      value.map((v) => `{"encrypted":"${v}","extra":1}`),
      fc.string({ maxLength: 40 }).map((v) => `{"encrypted":"${v}`),
      fc.string({ maxLength: 40 }),
    );
    fc.assert(
      fc.property(body, fc.boolean(), (text, asBuffer) => {
        expect(show(envelopeCiphertext(asBuffer ? Buffer.from(text, "utf8") : text))).toBe(
          reference(asBuffer ? Buffer.from(text, "utf8").toString("utf8") : text),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ["not JSON", Buffer.from("encrypted=abc"), "undecryptable"],
    ["JSON without encrypted", Buffer.from(JSON.stringify({ data: "abc" })), "missing-signature"],
    ["encrypted not a string", Buffer.from(JSON.stringify({ encrypted: 12345 })), "undecryptable"],
    ["a JSON array", Buffer.from("[]"), "missing-signature"],
    ["empty", Buffer.alloc(0), "undecryptable"],
  ])("rejects a body that is %s", (_name, body, cause) => {
    expect(deliver(body)).toEqual({ kind: "unauthenticated", cause });
  });

  const wrongPlaintexts: readonly [string, Buffer][] = [
    ["not JSON", Buffer.from("status=success&sessionId=8f3c2a10-5b7e-11ef-9d2a-0242ac120002")],
    ["not UTF-8", Buffer.concat([Buffer.from(withPayload({}).slice(0, -1)), Buffer.from([0xff, 0xfe]), Buffer.from("}")])],
    ["a JSON array", Buffer.from("[1,2,3]")],
    ["sessionId not a UUID", Buffer.from(withPayload({ sessionId: "8f3c2a10-5b7e-11ef-9d2a" }))],
    ["clientKey over 36 characters", Buffer.from(withPayload({ clientKey: "x".repeat(37) }))],
    ["status missing", Buffer.from(withPayload({ status: undefined }))],
    ["status not a string", Buffer.from(withPayload({ status: 7 }))],
    ["status too long", Buffer.from(withPayload({ status: "a".repeat(65) }))],
    ["status with control characters", Buffer.from(withPayload({ status: "succ\u0000ess" }))],
  ];
  it.each(wrongPlaintexts)("rejects a plaintext that is %s, even under the right key (invalid-plaintext)", (_name, plaintext) => {
    expect(deliver(envelope(encryptRaw(plaintext).toString("base64")))).toEqual({ kind: "unauthenticated", cause: "invalid-plaintext" });
  });

  it("reads a plaintext as text exactly when a fatal UTF-8 decoder would, BOM kept (property)", () => {
    const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    const reference = (bytes: Buffer): string | undefined => {
      try {
        return fatal.decode(bytes);
      } catch {
        return undefined;
      }
    };
    // Random bytes (a wrong key's plaintext), and UTF-8 text with a byte changed, cut or inserted:
    // overlongs, surrogates, truncated sequences, stray continuation bytes.
    const text = fc.string({ unit: "grapheme", maxLength: 40 }).map((t) => Buffer.from(`\ufeff${t}`.slice(t.length % 2), "utf8"));
    const damaged = fc
      .tuple(text, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom("set", "cut", "insert"))
      .map(([bytes, at, byte, how]) => {
        const i = bytes.length === 0 ? 0 : at % bytes.length;
        if (how === "cut") return bytes.subarray(0, i);
        if (how === "insert") return Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
        const copy = Buffer.from(bytes);
        if (copy.length > 0) copy[i] = byte;
        return copy;
      });
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      text,
      damaged,
    );
    fc.assert(
      fc.property(bytes, (b) => {
        expect(utf8Text(b)).toBe(reference(b));
      }),
      { numRuns: 3000 },
    );
  });

  it("skips a wrong key whose decryption happens to have valid padding", () => {
    const wrongKey = crypto.createHash("sha256").update("wrong-secret").digest();
    const plaintext = Buffer.from(PLAINTEXT, "utf8");
    let lucky: Buffer | null = null;
    for (let i = 0; i < 20_000 && lucky === null; i++) {
      const data = encryptRaw(plaintext);
      try {
        const d = crypto.createDecipheriv("aes-256-cbc", wrongKey, data.subarray(0, 16));
        Buffer.concat([d.update(data.subarray(16)), d.final()]);
        lucky = data; // padding valid under the wrong key too
      } catch {
        // the usual case: bad padding under the wrong key
      }
    }
    if (lucky === null) throw new Error("no ciphertext with valid padding under the wrong key found");
    expect(deliver(envelope(lucky.toString("base64")), ["wrong-secret"], "sha256")).toEqual({
      kind: "unauthenticated",
      cause: "invalid-plaintext",
    });
    expect(accept(envelope(lucky.toString("base64")), ["wrong-secret", SECRET]).eventId).toBe(contentId(PLAINTEXT));
  });

  it("documents CBC malleability: an IV bit flip that keeps the shape valid is accepted (README risk)", () => {
    const compact = JSON.stringify(PAYLOAD); // {"sessionId":"8f3c…
    const offset = compact.indexOf("8f3c2a10");
    expect(offset).toBeLessThan(16); // the first character of the sessionId is in the first block
    const data = Buffer.from(encryptNeurovision(compact, SECRET), "base64");
    data[offset] = (data[offset] ?? 0) ^ ("8".charCodeAt(0) ^ "9".charCodeAt(0));
    expect(accept(envelope(data.toString("base64"))).correlationId).toBe("neurovision:9f3c2a10-5b7e-11ef-9d2a-0242ac120002");
  });
});
