import * as crypto from "node:crypto";
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import type { NormalizedEvent, Status } from "../../../lambdas/core/event.js";
import type { Headers } from "../../../lambdas/core/http.js";
import { idngo, parseSumsubTime } from "../../../lambdas/providers/idngo.js";
import {
  DEFAULT_OPTIONS,
  InvalidPayload,
  contentEventId,
  type AuthContext,
  type ProviderOptions,
  type RawRequest,
} from "../../../lambdas/providers/types.js";

const SECRET = "cyberity-webhook-secret-1";
const RECEIVED_AT = "2026-11-22T10:00:00.000Z";
const FIXTURES = new URL("../../fixtures/idngo/", import.meta.url);

function fixture(name: string): Buffer {
  return readFileSync(new URL(name, FIXTURES));
}

function auth(secrets: readonly string[] = [SECRET], options: Partial<ProviderOptions> = {}): AuthContext {
  return { secrets, options: { ...DEFAULT_OPTIONS, ...options } };
}

/** Exactly the seed's JS sample: crypto.createHmac(algo, key).update(rawBody).digest('hex'). */
function digest(rawBody: Buffer, algo: "sha1" | "sha256" | "sha512", key = SECRET): string {
  return crypto.createHmac(algo, key).update(rawBody).digest("hex");
}

const ALG_NAMES = { sha1: "HMAC_SHA1_HEX", sha256: "HMAC_SHA256_HEX", sha512: "HMAC_SHA512_HEX" } as const;

/** A request as the seed's sample reads it: `X-Payload-Digest-Alg` and `x-payload-digest`. */
function signed(rawBody: Buffer, algo: "sha1" | "sha256" | "sha512" = "sha256", key = SECRET): RawRequest {
  return { body: rawBody, headers: { "X-Payload-Digest-Alg": ALG_NAMES[algo], "x-payload-digest": digest(rawBody, algo, key) } };
}

function accept(request: RawRequest, context: AuthContext = auth()): NormalizedEvent {
  const content = idngo.authenticate(request, context);
  if (content === null) throw new Error("authentication failed");
  return idngo.normalize(content, { receivedAt: RECEIVED_AT });
}

function normalizeJson(payload: Record<string, unknown>): NormalizedEvent {
  return idngo.normalize(Buffer.from(JSON.stringify(payload)), { receivedAt: RECEIVED_AT });
}

function invalidPayloadMessage(payload: Record<string, unknown> | Buffer): string {
  const content = Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload));
  try {
    idngo.normalize(content, { receivedAt: RECEIVED_AT });
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPayload);
    return (error as InvalidPayload).message;
  }
  throw new Error("expected InvalidPayload");
}

describe("idngo.authenticate", () => {
  it.each(["sha256", "sha512"] as const)("accepts a body signed as the seed's JS sample does with %s", (algo) => {
    const body = fixture("seed-applicantReviewed-red.json");
    expect(idngo.authenticate(signed(body, algo), auth())).toEqual(body);
  });

  it("accepts SHA-1 only when idngoAllowSha1 is configured", () => {
    const request = signed(fixture("seed-applicantCreated.json"), "sha1");
    expect(idngo.authenticate(request, auth())).toBeNull();
    expect(idngo.authenticate(request, auth([SECRET], { idngoAllowSha1: true }))).toEqual(request.body);
  });

  it("treats a missing algorithm header as SHA-256, and only SHA-256", () => {
    const body = fixture("seed-applicantPending.json");
    expect(idngo.authenticate({ body, headers: { "x-payload-digest": digest(body, "sha256") } }, auth())).toEqual(body);
    expect(idngo.authenticate({ body, headers: { "x-payload-digest": digest(body, "sha512") } }, auth())).toBeNull();
  });

  it("finds the headers in any case, and accepts an upper-case hex digest", () => {
    const body = fixture("seed-applicantOnHold.json");
    const headers = { "X-PAYLOAD-DIGEST": digest(body, "sha512").toUpperCase(), "x-payload-digest-alg": "HMAC_SHA512_HEX" };
    expect(idngo.authenticate({ body, headers }, auth())).toEqual(body);
  });

  it.each(["HMAC_MD5_HEX", "HMAC_SHA384_HEX", "hmac_sha256_hex", "sha256", ""])("rejects the unknown algorithm %j", (alg) => {
    const body = fixture("seed-applicantCreated.json");
    const headers = { "x-payload-digest-alg": alg, "x-payload-digest": digest(body, "sha256") };
    expect(idngo.authenticate({ body, headers }, auth([SECRET], { idngoAllowSha1: true }))).toBeNull();
  });

  it("rejects a tampered body, a wrong secret, a missing digest and an empty secret list", () => {
    const body = fixture("seed-applicantReviewed-green.json");
    const request = signed(body);
    const tampered = Buffer.from(body.toString("utf8").replace("GREEN", "RED"));
    expect(idngo.authenticate(request, auth())).toEqual(body); // the control
    expect(idngo.authenticate({ ...request, body: tampered }, auth())).toBeNull();
    expect(idngo.authenticate(request, auth(["another-secret"]))).toBeNull();
    expect(idngo.authenticate({ body, headers: { "x-payload-digest-alg": "HMAC_SHA256_HEX" } }, auth())).toBeNull();
    expect(idngo.authenticate(request, auth([]))).toBeNull();
    expect(idngo.authenticate(signed(body, "sha256", ""), auth([""]))).toBeNull();
  });

  it("accepts any configured secret (rotation) and stops accepting a removed one", () => {
    const body = fixture("seed-applicantPrechecked.json");
    expect(idngo.authenticate(signed(body, "sha256", "new-secret"), auth(["old-secret", "new-secret"]))).toEqual(body);
    expect(idngo.authenticate(signed(body, "sha256", "old-secret"), auth(["old-secret", "new-secret"]))).toEqual(body);
    expect(idngo.authenticate(signed(body, "sha256", "old-secret"), auth(["new-secret"]))).toBeNull();
  });

  it("never throws and returns null for arbitrary bodies and headers", () => {
    const headerName = fc.oneof(
      fc.constantFrom("x-payload-digest", "X-Payload-Digest", "x-payload-digest-alg", "X-Payload-Digest-Alg", "content-type"),
      fc.string(),
    );
    const headerValue = fc.oneof(
      fc.constantFrom("HMAC_SHA1_HEX", "HMAC_SHA256_HEX", "HMAC_SHA512_HEX"),
      fc.string(),
      fc.stringMatching(/^[0-9a-f]{64}$/),
    );
    const headers = fc.dictionary(headerName, fc.option(headerValue, { nil: undefined }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), headers, fc.boolean(), (bytes, hs: Headers, allowSha1) => {
        expect(idngo.authenticate({ body: Buffer.from(bytes), headers: hs }, auth([SECRET], { idngoAllowSha1: allowSha1 }))).toBeNull();
      }),
    );
  });

  it("rejects any single flipped byte of a signed body", () => {
    const signedBodies = fc.oneof(fc.constant(fixture("seed-applicantReviewed-red.json")), fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)));
    fc.assert(
      fc.property(signedBodies, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.constantFrom("sha256", "sha512"), (body, at, mask, algo) => {
        const request = signed(body, algo);
        expect(idngo.authenticate(request, auth())).toEqual(body);
        const flipped = Buffer.from(body);
        const index = at % flipped.length;
        flipped[index] = (flipped[index] ?? 0) ^ mask;
        expect(idngo.authenticate({ ...request, body: flipped }, auth())).toBeNull();
      }),
    );
  });
});

describe("idngo.normalize", () => {
  it("turns the seed's RED/FINAL applicantReviewed into the design's normalized event", () => {
    expect(accept(signed(fixture("seed-applicantReviewed-red.json")))).toEqual({
      specVersion: "1",
      eventId: "idngo:req-fa94263f-0b23-42d7-9393-ab10b28ef42d",
      correlationId: "idngo:5cb744200a975a67ed1798a4",
      provider: "idngo",
      providerEventType: "applicantReviewed",
      status: "rejected",
      occurredAt: "2020-02-21T13:23:19.129Z",
      receivedAt: RECEIVED_AT,
      subject: { externalUserId: "externalUserId" },
      decision: { answer: "RED", rejectType: "FINAL", labels: ["UNSATISFACTORY_PHOTOS", "GRAPHIC_EDITOR", "FORGERY"] },
      attemptId: null,
      sandbox: false,
    });
  });

  it.each([
    ["seed-applicantReviewed-green.json", "approved", "idngo:5cb56e8e0a975a35f333cb83", "idngo:req-a260b669-4f14-4bb5-a4c5-ac0218acb9a4", "2020-02-21T13:23:19.091Z", false, "externalUserId"],
    ["seed-applicantCreated.json", "created", "idngo:5c9e177b0a975a6eeccf5960", "idngo:req-63f92830-4d68-4eee-98d5-875d53a12258", "2020-02-21T13:23:19.001Z", false, "12672"],
    ["seed-applicantPending.json", "submitted", "idngo:5c7791f80a975a1df426b9e9", "idngo:req-4af54c06-6a50-4cb9-a7dc-b94b2f5b07eb", "2020-02-21T13:23:19.001Z", false, "12672"],
    ["seed-applicantOnHold.json", "on_hold", "idngo:5d10ca4e0a975a1c4cc30bba", "idngo:req-a98abc30-a5d9-4e1d-bab4-2f1af64bd5a5", "2020-02-21T13:23:19.001Z", true, "12672"],
    ["seed-applicantPersonalInfoChanged.json", "approved", "idngo:5ede51230a975a19a19ba5c1", "idngo:req-60103dee-79f1-43f4-bdcc-eb2554556afa", "2020-06-08T19:39:29.001Z", false, "12672"],
    ["seed-applicantPrechecked.json", "in_review", "idngo:5d1f2914c2d75a1c14130bd2", "idngo:req-e9d77142-59e6-4713-9b07-9b342cc51dda", "2020-02-21T13:23:19.001Z", false, "12672"],
    ["seed-applicantDeleted.json", "deleted", "idngo:5f194e74040c3f316bda271c", "idngo:req-d34c974c-5935-41b8-a0a9-cedd2407eada", "2020-07-23T11:18:33.001Z", false, "12672"],
    ["seed-applicantLevelChanged.json", "created", "idngo:5f194e74040c3f316bda271c", "idngo:req-d34c974c-5935-41b8-a0a9-cedd2407eadd", "2020-07-23T11:19:33.002Z", false, "12672"],
    ["seed-applicantReset.json", "created", "idngo:5f194e74040c3f316bda271c", "idngo:req-57fed49a-07b8-4413-bdaa-a1be903769e9", "2021-03-01T11:34:51.001Z", false, "12672"],
    ["seed-curl-applicantReviewed.json", "approved", "idngo:5cb56e8e0a975a35f333cb83", "idngo:req-ec508a2a-fa33-4dd2-b93d-fcade2967e03", "2020-02-21T13:23:19.111Z", false, "12672"],
    ["ours-applicantReviewed-retry-sandbox-boolean.json", "resubmission_requested", "idngo:63f1c2d40a975a5e1b2c3d4e", "idngo:req-0b6c1f9e-2d7a-4e55-9c31-7f1a2b3c4d5e", "2023-02-19T08:05:07.042Z", true, "user-8841"],
    ["ours-applicantPending-sandbox-boolean.json", "submitted", "idngo:63f1c2d40a975a5e1b2c3d4e", "idngo:req-5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170", "2023-02-19T08:01:00.500Z", false, "user-8841"],
  ] as const)("%s → %s", (file, status, correlationId, eventId, occurredAt, sandbox, externalUserId) => {
    const event = accept(signed(fixture(file)));
    expect(event).toMatchObject({ status, correlationId, eventId, occurredAt, sandbox, provider: "idngo", attemptId: null });
    expect(event.subject).toEqual({ externalUserId });
  });

  it("keeps a stale reviewResult of applicantReset out of the decision (the answer counts only when completed)", () => {
    const event = accept(signed(fixture("seed-applicantReset.json")));
    expect(event.status).toBe("created");
    expect(event.decision).toBeNull();
  });

  it("correlates an action webhook by applicantActionId and adds its external id to the subject", () => {
    const event = accept(signed(fixture("ours-applicantActionReviewed.json"), "sha512"));
    expect(event).toMatchObject({
      correlationId: "idngo:action:63f2a1b20a975a7c8d9e0f11",
      eventId: "idngo:req-9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
      status: "approved",
      occurredAt: "2023-02-20T17:45:12.300Z",
      subject: { externalUserId: "user-8841", externalApplicantActionId: "payout-2023-0042" },
      decision: { answer: "GREEN", rejectType: null, labels: [] },
    });
  });

  it("accepts and records unknown types and no-outcome types with a null status", () => {
    const unknown = accept(signed(fixture("ours-unknown-type.json")));
    expect(unknown).toMatchObject({ providerEventType: "applicantTravelRuleCheckInvented", status: null, correlationId: "idngo:63f1c2d40a975a5e1b2c3d4e" });
    const tags = accept(signed(fixture("ours-applicantTagsChanged.json")));
    expect(tags).toMatchObject({ providerEventType: "applicantTagsChanged", status: null, eventId: "idngo:req-2b3c4d5e-6f70-4812-9a3b-4c5d6e7f8091" });
  });

  it("never copies clientComment or moderationComment into the event", () => {
    for (const file of ["seed-applicantReviewed-red.json", "ours-applicantReviewed-retry-sandbox-boolean.json"]) {
      const body = fixture(file);
      const comments = JSON.parse(body.toString("utf8")) as { reviewResult: { clientComment: string; moderationComment: string } };
      const json = JSON.stringify(accept(signed(body)));
      for (const comment of [comments.reviewResult.clientComment, comments.reviewResult.moderationComment]) {
        expect(comment.length).toBeGreaterThan(10);
        expect(json).not.toContain(comment.trim());
      }
      expect(json).not.toMatch(/fraudulent|support@|\+7 900|blurry/i);
    }
  });

  describe("status mapping (providers.md table)", () => {
    const base = { applicantId: "5cb744200a975a67ed1798a4", correlationId: "req-1", type: "applicantReviewed", createdAtMs: "2020-02-21 13:23:19.129" };
    const rows: readonly [string, Record<string, unknown>, Status | null][] = [
      ["init → created", { type: "applicantCreated", reviewStatus: "init" }, "created"],
      ["pending → submitted", { type: "applicantPending", reviewStatus: "pending" }, "submitted"],
      ["prechecked → in_review", { type: "applicantPrechecked", reviewStatus: "prechecked" }, "in_review"],
      ["queued → in_review", { type: "applicantPrechecked", reviewStatus: "queued" }, "in_review"],
      ["onHold → on_hold", { type: "applicantOnHold", reviewStatus: "onHold" }, "on_hold"],
      ["completed + GREEN → approved", { reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, "approved"],
      ["completed + RED/FINAL → rejected", { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } }, "rejected"],
      ["completed + RED/RETRY → resubmission_requested", { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "RETRY" } }, "resubmission_requested"],
      ["completed + RED without reject type → rejected", { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED" } }, "rejected"],
      ["completed without an answer → null", { reviewStatus: "completed" }, null],
      ["completed + unknown answer → null", { reviewStatus: "completed", reviewResult: { reviewAnswer: "YELLOW" } }, null],
      ["applicantReset → created (a new cycle)", { type: "applicantReset", reviewStatus: "init", reviewResult: { reviewAnswer: "GREEN" } }, "created"],
      ["applicantDeleted → deleted", { type: "applicantDeleted", reviewStatus: "init" }, "deleted"],
      ["applicantDeleted without reviewStatus → deleted", { type: "applicantDeleted" }, "deleted"],
      ["action pending → submitted", { type: "applicantActionPending", applicantActionId: "a1", reviewStatus: "pending" }, "submitted"],
      ["action onHold → on_hold", { type: "applicantActionOnHold", applicantActionId: "a1", reviewStatus: "onHold" }, "on_hold"],
      ["workflow completed + RED/RETRY → resubmission_requested", { type: "applicantWorkflowCompleted", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "RETRY" } }, "resubmission_requested"],
      ["awaitingUser → null", { type: "applicantPending", reviewStatus: "awaitingUser" }, null],
      ["awaitingService → null", { type: "applicantPending", reviewStatus: "awaitingService" }, null],
      ["no reviewStatus → null", { type: "applicantPending" }, null],
      ["applicantTagsChanged → null", { type: "applicantTagsChanged", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, null],
      ["applicantActivated → null", { type: "applicantActivated", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, null],
      ["applicantDeactivated → null", { type: "applicantDeactivated", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } }, null],
      ["unknown type → null", { type: "applicantSomethingNew", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, null],
    ];
    it.each(rows)("%s", (_name, overrides, status) => {
      expect(normalizeJson({ ...base, ...overrides }).status).toBe(status);
    });
  });

  it.each([
    [true, true],
    ["true", true],
    [false, false],
    ["false", false],
    [undefined, false],
  ] as const)("sandboxMode %j → sandbox %j", (sandboxMode, sandbox) => {
    expect(normalizeJson({ applicantId: "a1", correlationId: "req-1", type: "applicantCreated", reviewStatus: "init", sandboxMode }).sandbox).toBe(sandbox);
  });

  describe("createdAtMs is a UTC string, not epoch and not local time", () => {
    const originalTz = process.env["TZ"];
    afterEach(() => {
      if (originalTz === undefined) delete process.env["TZ"];
      else process.env["TZ"] = originalTz;
    });

    it("parses as UTC even when the process runs in a non-UTC zone", () => {
      process.env["TZ"] = "Asia/Kathmandu"; // UTC+05:45
      expect(new Date(2020, 1, 21).getTimezoneOffset()).toBe(-345); // the zone really applies
      expect(accept(signed(fixture("seed-applicantReviewed-red.json"))).occurredAt).toBe("2020-02-21T13:23:19.129Z");
    });

    it.each([
      ["2020-02-21 13:23:19.129", "2020-02-21T13:23:19.129Z"],
      ["2020-02-21 13:23:19", "2020-02-21T13:23:19.000Z"],
      ["2020-02-21 13:23:19.1", "2020-02-21T13:23:19.100Z"],
      ["2020-02-21 13:23:19.123456", "2020-02-21T13:23:19.123Z"],
      ["2024-02-29 23:59:59.999", "2024-02-29T23:59:59.999Z"],
      ["2020-02-30 13:23:19.129", null],
      ["2020-02-21 24:00:00.000", null],
      ["1582291399129", null],
      ["21.02.2020 13:23:19", null],
    ] as const)("%j → %j", (input, expected) => {
      expect(parseSumsubTime(input)).toBe(expected);
    });

    it("leaves occurredAt null when createdAtMs is absent and refuses a malformed one", () => {
      expect(normalizeJson({ applicantId: "a1", correlationId: "req-1", type: "applicantCreated" }).occurredAt).toBeNull();
      const message = invalidPayloadMessage({ applicantId: "a1", type: "applicantCreated", createdAtMs: "1582291399129" });
      expect(message).toContain("createdAtMs");
      expect(message).not.toContain("1582291399129");
    });
  });

  it("falls back to a digest of the body when the payload has no correlationId", () => {
    const body = Buffer.from(JSON.stringify({ applicantId: "a1", type: "applicantCreated", reviewStatus: "init" }));
    const event = idngo.normalize(body, { receivedAt: RECEIVED_AT });
    expect(event.eventId).toBe(contentEventId("idngo", body));
    expect(event.eventId).toMatch(/^idngo:[0-9a-f]{64}$/);
    expect(event.correlationId).toBe("idngo:a1");
  });

  it.each([
    ["applicantId with spaces", { applicantId: "PII Ivan Petrov 1984", type: "applicantCreated" }, "PII Ivan Petrov 1984", "applicantId"],
    ["type not a string", { applicantId: "a1", type: 4242424242 }, "4242424242", "type"],
    ["sandboxMode of another kind", { applicantId: "a1", type: "applicantCreated", sandboxMode: "maybe-secret-value" }, "maybe-secret-value", "sandboxMode"],
    ["rejectLabels not a list", { applicantId: "a1", type: "applicantReviewed", reviewResult: { rejectLabels: "Ivanov Ivan" } }, "Ivanov Ivan", "reviewResult.rejectLabels"],
    ["action without applicantActionId", { applicantId: "a1", type: "applicantActionPending", externalApplicantActionId: "ext-secret-77" }, "ext-secret-77", "applicantActionId"],
    ["no applicantId", { type: "applicantCreated", externalUserId: "user-secret-55" }, "user-secret-55", "applicantId"],
  ] as const)("refuses %s with InvalidPayload that names the field, not the value", (_name, payload, value, field) => {
    const message = invalidPayloadMessage(payload);
    expect(message).toContain(field);
    expect(message).not.toContain(value);
  });

  it("refuses a body that is not JSON", () => {
    expect(invalidPayloadMessage(Buffer.from("applicantId=5cb744200a975a67ed1798a4"))).toBe("body is not valid JSON");
    expect(idngo.invalidPayloadIsAuthFailure).toBe(false);
  });
});
