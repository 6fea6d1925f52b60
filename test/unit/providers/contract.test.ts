/**
 * What every provider guarantees, whatever the request: authentication never throws and never
 * passes without the secret; once authenticated, any JSON is accepted as a bounded, canonical
 * event that the consumer's schema takes (never refused for its shape).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../../lambdas/core/canonical.js";
import { PROVIDER_IDS, type ProviderId } from "../../../lambdas/core/event.js";
import { parseNormalizedEvent } from "../../../lambdas/core/event-schema.js";
import { sqsMessageBody } from "../../../lambdas/core/sqs-message.js";
import { AUTH_FAILURE_CAUSES, correlationIdOf } from "../../../lambdas/providers/types.js";
import { signWebhook } from "../../../local/samples.js";
import { hostile, shaped } from "../../support/hostile.js";
import { receipt, receiveSigned } from "../../support/providers.js";

const SECRET = "contract-secret-0123";
const OTHER = "contract-other-4567";

const headersArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom(
      "x-hmac-signature",
      "x-signature",
      "x-payload-digest",
      "x-payload-digest-alg",
      "x-verification-signature",
      "X-HMAC-SIGNATURE",
    ),
    fc.string({ maxLength: 20 }),
  ),
  fc.oneof(
    fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), maxLength: 128 }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom("HMAC_SHA1_HEX", "HMAC_MD5_HEX", ""),
  ),
  { maxKeys: 5 },
);

describe.each(PROVIDER_IDS)("%s: the provider contract", (provider: ProviderId) => {
  it("accepts any signed JSON as a bounded, canonical event the consumer can read (never refused for its shape)", () => {
    fc.assert(
      fc.property(fc.oneof(hostile, shaped(provider)), (value) => {
        // NeuroVision authenticates by decrypting to its own shape; other JSON is an auth failure (tested below).
        const json =
          provider === "neurovision"
            ? { sessionId: "8f3c2a10-5b7e-11ef-9d2a-0242ac120002", status: "wait", extra: value, results: value }
            : value;
        const request = signWebhook(provider, JSON.stringify(json), SECRET);
        const result = receipt(provider, request.body, request.headers, { secrets: [SECRET] });
        expect(result.kind).toBe("accepted");
        if (result.kind !== "accepted") return;
        expect(result.normalizationError).toBeUndefined();
        const event = result.event;
        expect(parseNormalizedEvent(sqsMessageBody(event))).toEqual({ ...event, unmapped: event.unmapped ?? null });
        expect(event.correlationId.startsWith(`${provider}:`)).toBe(true);
        expect(event.correlationId.length).toBeLessThanOrEqual(LIMITS.idChars);
        expect(event.eventId.length).toBeLessThanOrEqual(LIMITS.idChars);
        // An event that names what it could not map never changes a status.
        if (event.unmapped) expect(event.status).toBeNull();
        expect(sqsMessageBody(event)).not.toMatch(/[\uFFFE\uFFFF]/);
        expect(JSON.stringify(event)).not.toMatch(/PII-/);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws and never authenticates arbitrary headers and bodies (every failure has a cause)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
          fc.string().map((s) => Buffer.from(s)),
        ),
        headersArb,
        (body, headers) => {
          const result = receipt(provider, body, headers, { secrets: [SECRET] });
          expect(result.kind).toBe("unauthenticated");
          if (result.kind === "unauthenticated") expect(AUTH_FAILURE_CAUSES).toContain(result.cause);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("rejects a request signed with another secret, and any flipped byte of a signed one", () => {
    const body = JSON.stringify(
      provider === "neurovision"
        ? { sessionId: "8f3c2a10-5b7e-11ef-9d2a-0242ac120002", status: "success", clientKey: "c" }
        : { id: "x", type: "t", event: "e" },
    );
    const signed = signWebhook(provider, body, SECRET);
    expect(receipt(provider, signed.body, signed.headers, { secrets: [SECRET] }).kind).toBe("accepted");
    expect(receipt(provider, signed.body, signed.headers, { secrets: [OTHER] })).toMatchObject({ kind: "unauthenticated" });
    const bytes = Buffer.from(signed.body, "utf8");
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (index, mask) => {
        const flipped = Buffer.from(bytes);
        flipped[index] = (flipped[index] ?? 0) ^ mask;
        const result = receipt(provider, flipped, signed.headers, { secrets: [SECRET] });
        // A NeuroVision IV flip that keeps the plaintext's shape is accepted (CBC is malleable; README).
        if (provider !== "neurovision") expect(result.kind).toBe("unauthenticated");
        else if (result.kind === "accepted") expect(result.event.correlationId).toMatch(/^neurovision:/);
      }),
      { numRuns: 200 },
    );
  });

  it("accepts any configured secret (rotation) and says no-secret-configured with none", () => {
    const signed = signWebhook(provider, JSON.stringify({ sessionId: "8f3c2a10-5b7e-11ef-9d2a-0242ac120002", status: "wait" }), SECRET);
    expect(receipt(provider, signed.body, signed.headers, { secrets: [OTHER, SECRET] }).kind).toBe("accepted");
    expect(receipt(provider, signed.body, signed.headers, { secrets: [] })).toEqual({
      kind: "unauthenticated",
      cause: "no-secret-configured",
    });
    // An empty secret is never a key, whatever the configuration says.
    const unsigned = signWebhook(provider, JSON.stringify({ sessionId: "8f3c2a10-5b7e-11ef-9d2a-0242ac120002", status: "wait" }), "");
    expect(receipt(provider, unsigned.body, unsigned.headers, { secrets: [""] }).kind).toBe("unauthenticated");
  });
});

describe("correlationIds: one per verification, whatever the provider's ids look like", () => {
  // Parts made of the pipeline's own words and separators, where collisions would hide.
  const partArb = fc.oneof(
    fc.constantFrom("action", "attempt", "kyt", "kytcase", "unidentified", "user", "sha256", "X1", ":", "a:b", "action:X1", "a/b"),
    fc.string({ unit: fc.constantFrom("a", "1", ":", "-", "x", "%", "/"), minLength: 1, maxLength: 8 }),
    fc.string({ minLength: 1, maxLength: 110 }),
  );

  it("never gives two different lists of id parts the same correlationId (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(partArb, { minLength: 1, maxLength: 3 }), fc.array(partArb, { minLength: 1, maxLength: 3 }), (a, b) => {
        if (a.length === b.length && a.every((part, i) => part === b[i])) return;
        expect(correlationIdOf("idngo", ...a)).not.toBe(correlationIdOf("idngo", ...b));
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps an id with a `:` apart from the pipeline's own prefixed forms", () => {
    const action = receiveSigned("idngo", { type: "applicantActionReviewed", applicantActionId: "X1", reviewStatus: "completed" });
    const applicant = receiveSigned("idngo", { type: "applicantReviewed", applicantId: "action:X1", reviewStatus: "completed" });
    expect(action.correlationId).toBe("idngo:action:X1");
    expect(applicant.correlationId).toMatch(/^idngo:sha256:[0-9a-f]{64}$/);
    const attemptOnly = receiveSigned("veriff", { verification: { attemptId: "AT1", status: "approved" } });
    const session = receiveSigned("veriff", { verification: { id: "attempt:AT1", status: "approved" } });
    expect(attemptOnly.correlationId).toBe("veriff:attempt:AT1");
    expect(session.correlationId).not.toBe(attemptOnly.correlationId);
    // A provider id that looks like a digest is digested too: never taken for one.
    const digestLike = `sha256:${"0".repeat(64)}`;
    expect(receiveSigned("idngo", { type: "applicantReviewed", applicantId: digestLike }).correlationId).not.toBe(`idngo:${digestLike}`);
    // A `/` would split the read API's path: digested too, so every correlationId is one path segment.
    expect(receiveSigned("idngo", { type: "applicantPending", applicantId: "a/b" }).correlationId).toMatch(/^idngo:sha256:[0-9a-f]{64}$/);
    // Real provider ids (UUIDs, 24 hex digits) are kept as they are.
    expect(receiveSigned("idngo", { type: "applicantPending", applicantId: "5cb744200a975a67ed1700aa" }).correlationId).toBe(
      "idngo:5cb744200a975a67ed1700aa",
    );
  });
});
