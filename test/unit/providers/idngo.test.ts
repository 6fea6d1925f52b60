import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent, Status } from "../../../lambdas/core/event.js";
import { fixture, fixtureJson, type Json, RECEIVED_AT, receipt, receiveFixture, receiveSigned } from "../../support/providers.js";

const SECRET = "idngo-webhook-secret-9d1e";
const digest = (algorithm: string, body: Buffer, secret = SECRET): string => createHmac(algorithm, secret).update(body).digest("hex");
const bodyDigest = (body: Buffer): string => createHash("sha256").update(body).digest("hex");

function authenticate(headers: Record<string, string>, allowSha1 = false, body = fixture("idngo", "seed-applicantReviewed-red.json")) {
  return receipt("idngo", body, headers, { secrets: [SECRET], options: { idngoAllowSha1: allowSha1 } });
}

/** The event for a payload built from a base and overrides, signed as IDnGO does. */
const normalizeJson = (json: Json): NormalizedEvent => receiveSigned("idngo", json);

/** eventId: Sumsub's operation id plus the first 32 hex characters of the body's SHA-256. */
const eventIdOf = (file: string, operation: string): string => `idngo:${operation}:${bodyDigest(fixture("idngo", file)).slice(0, 32)}`;

describe("idngo: authentication", () => {
  const body = fixture("idngo", "seed-applicantReviewed-red.json");

  it("accepts x-payload-digest with the algorithm of x-payload-digest-alg (SHA-256, SHA-512), in any header and hex case", () => {
    expect(authenticate({ "x-payload-digest": digest("sha256", body), "x-payload-digest-alg": "HMAC_SHA256_HEX" }).kind).toBe("accepted");
    expect(authenticate({ "X-Payload-Digest": digest("sha512", body).toUpperCase(), "X-PAYLOAD-DIGEST-ALG": "HMAC_SHA512_HEX" }).kind).toBe(
      "accepted",
    );
  });

  it("treats a missing algorithm header as SHA-256, and only SHA-256", () => {
    expect(authenticate({ "x-payload-digest": digest("sha256", body) }).kind).toBe("accepted");
    expect(authenticate({ "x-payload-digest": digest("sha512", body) })).toEqual({ kind: "unauthenticated", cause: "signature-mismatch" });
  });

  it("accepts SHA-1 only when idngoAllowSha1 is configured, and names the cause otherwise", () => {
    const headers = { "x-payload-digest": digest("sha1", body), "x-payload-digest-alg": "HMAC_SHA1_HEX" };
    expect(authenticate(headers, true).kind).toBe("accepted");
    expect(authenticate(headers, false)).toEqual({ kind: "unauthenticated", cause: "algorithm-not-enabled" });
  });

  it("names every other cause: unknown algorithm, missing digest, mismatch", () => {
    expect(authenticate({ "x-payload-digest": digest("md5", body), "x-payload-digest-alg": "HMAC_MD5_HEX" })).toEqual({
      kind: "unauthenticated",
      cause: "unknown-algorithm",
    });
    expect(authenticate({ "x-payload-digest-alg": "HMAC_SHA256_HEX" })).toEqual({ kind: "unauthenticated", cause: "missing-signature" });
    expect(authenticate({ "x-payload-digest": digest("sha256", body, "other") })).toEqual({
      kind: "unauthenticated",
      cause: "signature-mismatch",
    });
  });
});

describe("idngo: normalization", () => {
  it("turns the RED/FINAL applicantReviewed into the normalized event, exactly", () => {
    expect(receiveFixture("idngo", "seed-applicantReviewed-red.json")).toEqual({
      specVersion: "1",
      eventId: eventIdOf("seed-applicantReviewed-red.json", "req-fa94263f-0b23-42d7-9393-ab10b28ef42d"),
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
      unmapped: null,
    } satisfies NormalizedEvent);
  });

  it.each([
    [
      "seed-applicantReviewed-green.json",
      "approved",
      "idngo:5cb56e8e0a975a35f333cb83",
      "req-a260b669-4f14-4bb5-a4c5-ac0218acb9a4",
      "2020-02-21T13:23:19.091Z",
      false,
      "externalUserId",
    ],
    [
      "seed-applicantCreated.json",
      "created",
      "idngo:5c9e177b0a975a6eeccf5960",
      "req-63f92830-4d68-4eee-98d5-875d53a12258",
      "2020-02-21T13:23:19.001Z",
      false,
      "12672",
    ],
    [
      "seed-applicantPending.json",
      "submitted",
      "idngo:5c7791f80a975a1df426b9e9",
      "req-4af54c06-6a50-4cb9-a7dc-b94b2f5b07eb",
      "2020-02-21T13:23:19.001Z",
      false,
      "12672",
    ],
    [
      "seed-applicantOnHold.json",
      "on_hold",
      "idngo:5d10ca4e0a975a1c4cc30bba",
      "req-a98abc30-a5d9-4e1d-bab4-2f1af64bd5a5",
      "2020-02-21T13:23:19.001Z",
      true,
      "12672",
    ],
    [
      "seed-applicantPersonalInfoChanged.json",
      "approved",
      "idngo:5ede51230a975a19a19ba5c1",
      "req-60103dee-79f1-43f4-bdcc-eb2554556afa",
      "2020-06-08T19:39:29.001Z",
      false,
      "12672",
    ],
    [
      "seed-applicantPrechecked.json",
      "in_review",
      "idngo:5d1f2914c2d75a1c14130bd2",
      "req-e9d77142-59e6-4713-9b07-9b342cc51dda",
      "2020-02-21T13:23:19.001Z",
      false,
      "12672",
    ],
    [
      "seed-applicantDeleted.json",
      "deleted",
      "idngo:5f194e74040c3f316bda271c",
      "req-d34c974c-5935-41b8-a0a9-cedd2407eada",
      "2020-07-23T11:18:33.001Z",
      false,
      "12672",
    ],
    [
      "seed-applicantLevelChanged.json",
      "created",
      "idngo:5f194e74040c3f316bda271c",
      "req-d34c974c-5935-41b8-a0a9-cedd2407eadd",
      "2020-07-23T11:19:33.002Z",
      false,
      "12672",
    ],
    [
      "seed-applicantReset.json",
      "created",
      "idngo:5f194e74040c3f316bda271c",
      "req-57fed49a-07b8-4413-bdaa-a1be903769e9",
      "2021-03-01T11:34:51.001Z",
      false,
      "12672",
    ],
    [
      "seed-curl-applicantReviewed.json",
      "approved",
      "idngo:5cb56e8e0a975a35f333cb83",
      "req-ec508a2a-fa33-4dd2-b93d-fcade2967e03",
      "2020-02-21T13:23:19.111Z",
      false,
      "12672",
    ],
    [
      "ours-applicantReviewed-retry-sandbox-boolean.json",
      "resubmission_requested",
      "idngo:63f1c2d40a975a5e1b2c3d4e",
      "req-0b6c1f9e-2d7a-4e55-9c31-7f1a2b3c4d5e",
      "2023-02-19T08:05:07.042Z",
      true,
      "user-8841",
    ],
    [
      "ours-applicantPending-sandbox-boolean.json",
      "submitted",
      "idngo:63f1c2d40a975a5e1b2c3d4e",
      "req-5e4d3c2b-1a09-4f8e-b7d6-c5b4a3928170",
      "2023-02-19T08:01:00.500Z",
      false,
      "user-8841",
    ],
  ] as const)("%s → %s", (file, status, correlationId, operation, occurredAt, sandbox, externalUserId) => {
    const event = receiveFixture("idngo", file);
    expect(event).toMatchObject({
      status,
      correlationId,
      eventId: eventIdOf(file, operation),
      occurredAt,
      sandbox,
      provider: "idngo",
      attemptId: null,
      unmapped: null,
    });
    expect(event.subject).toEqual({ externalUserId });
  });

  it("keeps a stale reviewResult of applicantReset out of the decision (the answer counts only when completed)", () => {
    expect(receiveFixture("idngo", "seed-applicantReset.json")).toMatchObject({ status: "created", decision: null });
  });

  it("correlates an action webhook by applicantActionId and adds its external id to the subject", () => {
    expect(receiveFixture("idngo", "ours-applicantActionReviewed.json")).toMatchObject({
      correlationId: "idngo:action:63f2a1b20a975a7c8d9e0f11",
      status: "approved",
      occurredAt: "2023-02-20T17:45:12.300Z",
      subject: { externalUserId: "user-8841", externalApplicantActionId: "payout-2023-0042" },
      decision: { answer: "GREEN", rejectType: null, labels: [] },
    });
  });

  it("never copies clientComment or moderationComment into the event", () => {
    for (const file of [
      "seed-applicantReviewed-red.json",
      "ours-applicantReviewed-retry-sandbox-boolean.json",
      "doc-beneficiary-applicantReviewed-red-retry.json",
    ]) {
      const result = fixtureJson("idngo", file)["reviewResult"] as Json;
      const json = JSON.stringify(receiveFixture("idngo", file));
      for (const comment of [result["clientComment"], result["moderationComment"]]) {
        expect(String(comment).trim().length).toBeGreaterThan(10);
        expect(json).not.toContain(String(comment).trim());
      }
    }
  });

  describe("status mapping", () => {
    const base = {
      applicantId: "5cb744200a975a67ed1798a4",
      correlationId: "req-1",
      type: "applicantReviewed",
      createdAtMs: "2020-02-21 13:23:19.129",
    };
    const rows: readonly [string, Json, Status | null][] = [
      ["init → created", { type: "applicantCreated", reviewStatus: "init" }, "created"],
      ["pending → submitted", { type: "applicantPending", reviewStatus: "pending" }, "submitted"],
      ["prechecked → in_review", { type: "applicantPrechecked", reviewStatus: "prechecked" }, "in_review"],
      ["queued → in_review", { type: "applicantPrechecked", reviewStatus: "queued" }, "in_review"],
      ["onHold → on_hold", { type: "applicantOnHold", reviewStatus: "onHold" }, "on_hold"],
      ["completed + GREEN → approved", { reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, "approved"],
      [
        "completed + RED/FINAL → rejected",
        { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } },
        "rejected",
      ],
      [
        "completed + RED/RETRY → resubmission_requested",
        { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "RETRY" } },
        "resubmission_requested",
      ],
      ["completed + RED without reject type → rejected", { reviewStatus: "completed", reviewResult: { reviewAnswer: "RED" } }, "rejected"],
      ["completed without an answer → null", { reviewStatus: "completed" }, null],
      ["completed with reviewResult null → null", { reviewStatus: "completed", reviewResult: null }, null],
      ["completed + unknown answer → null", { reviewStatus: "completed", reviewResult: { reviewAnswer: "YELLOW" } }, null],
      [
        "applicantReset → created (a new cycle)",
        { type: "applicantReset", reviewStatus: "init", reviewResult: { reviewAnswer: "GREEN" } },
        "created",
      ],
      ["applicantDeleted → deleted", { type: "applicantDeleted", reviewStatus: "init" }, "deleted"],
      ["applicantDeleted without reviewStatus → deleted", { type: "applicantDeleted" }, "deleted"],
      [
        "applicantPersonalDataDeleted → null (the data is erased; the applicant and its review remain)",
        { type: "applicantPersonalDataDeleted", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } },
        null,
      ],
      ["action pending → submitted", { type: "applicantActionPending", applicantActionId: "a1", reviewStatus: "pending" }, "submitted"],
      ["action onHold → on_hold", { type: "applicantActionOnHold", applicantActionId: "a1", reviewStatus: "onHold" }, "on_hold"],
      [
        "workflow completed + RED/RETRY → resubmission_requested",
        { type: "applicantWorkflowCompleted", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "RETRY" } },
        "resubmission_requested",
      ],
      [
        "workflow failed + RED/FINAL → rejected",
        { type: "applicantWorkflowFailed", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } },
        "rejected",
      ],
      ["awaitingUser → on_hold", { type: "applicantAwaitingUser", reviewStatus: "awaitingUser" }, "on_hold"],
      [
        "awaitingService (with a GREEN answer) → in_review",
        { type: "applicantAwaitingService", reviewStatus: "awaitingService", reviewResult: { reviewAnswer: "GREEN" } },
        "in_review",
      ],
      ["no reviewStatus → null", { type: "applicantPending" }, null],
      [
        "applicantTagsChanged → null",
        { type: "applicantTagsChanged", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } },
        null,
      ],
      [
        "applicantActivated → null",
        { type: "applicantActivated", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } },
        null,
      ],
      [
        "applicantDeactivated → null",
        { type: "applicantDeactivated", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } },
        null,
      ],
      [
        "applicantTravelRuleStatusChanged → null",
        { type: "applicantTravelRuleStatusChanged", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED" } },
        null,
      ],
      [
        "videoIdentStatusChanged → null",
        { type: "videoIdentStatusChanged", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } },
        null,
      ],
      [
        "transaction approved → null (not the applicant's status)",
        { type: "applicantKytTxnApproved", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } },
        null,
      ],
      [
        "transaction rejected → null (not the applicant's status)",
        { type: "applicantKytTxnRejected", reviewStatus: "completed", reviewResult: { reviewAnswer: "RED", reviewRejectType: "FINAL" } },
        null,
      ],
      ["unknown type → null", { type: "applicantSomethingNew", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }, null],
    ];
    it.each(rows)("%s", (_name, overrides, status) => {
      expect(normalizeJson({ ...base, ...overrides }).status).toBe(status);
    });

    it("names what it could not map, and records known no-status types without a reason", () => {
      expect(normalizeJson({ ...base, type: "applicantSomethingNew" }).unmapped).toBe("type: unknown");
      expect(normalizeJson({ ...base, type: undefined }).unmapped).toBe("type: missing");
      expect(normalizeJson({ ...base, reviewStatus: "completed", reviewResult: null }).unmapped).toBe(
        "reviewStatus (with reviewResult.reviewAnswer): no known status",
      );
      expect(normalizeJson({ ...base, type: "applicantTagsChanged" }).unmapped).toBeNull();
    });
  });

  it.each([
    [true, true],
    ["true", true],
    [false, false],
    ["false", false],
    [undefined, false],
    [null, false],
    [1, false],
  ] as const)("sandboxMode %j → sandbox %j", (sandboxMode, sandbox) => {
    expect(
      normalizeJson({ applicantId: "a1", correlationId: "req-1", type: "applicantCreated", reviewStatus: "init", sandboxMode }).sandbox,
    ).toBe(sandbox);
  });

  describe("times: createdAtMs is a UTC string, not epoch and not local time", () => {
    it.each([
      ["2020-02-21 13:23:19.129", "2020-02-21T13:23:19.129Z"],
      ["2020-02-21 13:23:19", "2020-02-21T13:23:19.000Z"],
      ["2025-01-30 11:41:55+0000", "2025-01-30T11:41:55.000Z"],
      ["2025-01-30 13:41:55+0200", "2025-01-30T11:41:55.000Z"],
      ["2025-01-30 11:41:55.5+00:00", "2025-01-30T11:41:55.500Z"],
      ["2020-02-30 13:23:19.129", null],
      ["yesterday", null],
      ["", null],
    ] as const)("%j → %j (never rejects the event)", (createdAtMs, occurredAt) => {
      expect(
        normalizeJson({ applicantId: "a1", correlationId: "req-1", type: "applicantPending", reviewStatus: "pending", createdAtMs })
          .occurredAt,
      ).toBe(occurredAt);
    });

    it("falls back to createdAt (`yyyy-MM-dd HH:mm:ss+0000`) and reads the offset form of the documentation", () => {
      expect(
        normalizeJson({ applicantId: "a1", type: "applicantPending", reviewStatus: "pending", createdAt: "2025-02-07 14:02:10+0000" })
          .occurredAt,
      ).toBe("2025-02-07T14:02:10.000Z");
      expect(receiveFixture("idngo", "doc-applicantReviewed-green-createdAtMs-offset.json").occurredAt).toMatch(
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/,
      );
    });
  });
});

describe("idngo: real formats of the documentation", () => {
  it.each([
    ["doc-applicantReviewed-green-createdAtMs-offset.json", "approved"],
    ["doc-applicantReviewed-explicit-nulls.json", "approved"],
    ["doc-applicantWorkflowCompleted-green.json", "approved"],
    ["doc-applicantWorkflowFailed.json", "rejected"],
    ["doc-applicantAwaitingUser-company.json", "on_hold"],
    ["doc-applicantAwaitingService.json", "in_review"],
    ["doc-applicantPersonalDataDeleted.json", null],
    ["doc-company-applicantReviewed-green.json", "approved"],
    ["doc-beneficiary-applicantReviewed-red-retry.json", "resubmission_requested"],
    ["doc-applicantTravelRuleStatusChanged.json", null],
    ["doc-videoIdentStatusChanged.json", null],
    ["doc-applicantActivated.json", null],
    ["doc-applicantDeactivated.json", null],
    ["doc-applicantKytTxnRejected-red.json", null],
    ["doc-kytCaseCreated.json", null],
    ["doc-kytCaseV2Created.json", null],
    ["doc-applicantFraudNetworkModified.json", null],
  ] as const)("%s → %s, accepted and filed under its applicant", (file, status) => {
    const event = receiveFixture("idngo", file);
    expect(event.status).toBe(status);
    expect(event.unmapped).toBeNull();
    expect(event.correlationId).toBe(`idngo:${String(fixtureJson("idngo", file)["applicantId"])}`);
  });

  it("tolerates explicit nulls: reviewResult null, applicantActionId null, applicantMemberOf null", () => {
    const event = receiveFixture("idngo", "doc-applicantReviewed-reviewResult-null.json");
    expect(event.correlationId).toMatch(/^idngo:[0-9a-f]{24}$/);
    expect(event.decision).toBeNull();
  });

  it("files transaction monitoring without an applicant under its transaction, and never gives it a status", () => {
    const event = receiveFixture("idngo", "doc-applicantKytTxnCreated-no-applicantId.json");
    expect(event).toMatchObject({
      correlationId: "idngo:kyt:691f00aa11bb22cc33dd44e1",
      status: null,
      unmapped: null,
      subject: { externalUserId: "fixture-user-0401" },
    });
    expect(normalizeJson({ type: "kytCaseV2Created", kytCaseId: "c1", correlationId: "x" }).correlationId).toBe("idngo:kytcase:c1");
    // Fraud network detection without an applicant: filed under its network, no status, not unmapped.
    expect(receiveFixture("idngo", "doc-applicantFraudNetworkCreated.json")).toMatchObject({
      correlationId: "idngo:network:691f00aa11bb22cc33dd4501",
      status: null,
      unmapped: null,
      occurredAt: "2025-03-04T10:52:24.273Z",
    });
    const nothing = normalizeJson({ type: "applicantKytTxnCreated", correlationId: "x" });
    expect(nothing).toMatchObject({ status: null, unmapped: null });
    expect(nothing.correlationId).toMatch(/^idngo:unidentified:[0-9a-f]{32}$/);
    // A status-bearing type without its applicant is filed elsewhere and cannot set a status.
    expect(
      normalizeJson({ type: "applicantReviewed", kytTxnId: "t1", reviewStatus: "completed", reviewResult: { reviewAnswer: "GREEN" } }),
    ).toMatchObject({
      correlationId: "idngo:kyt:t1",
      status: null,
      unmapped: "applicantId: missing (filed under its transaction)",
    });
    expect(normalizeJson({ type: "applicantSomethingNew" }).unmapped).toBe("applicantId: missing");
    expect(normalizeJson(["not", "an", "object"] as unknown as Json).unmapped).toBe("the body is not a JSON object");
  });

  it("keeps distinct webhooks that share one Sumsub correlationId apart, and a redelivery on the same id", () => {
    const files = ["doc-kyt-shared-correlation-1.json", "doc-kyt-shared-correlation-2.json", "doc-kyt-shared-correlation-3.json"];
    const operations = new Set(files.map((f) => fixtureJson("idngo", f)["correlationId"]));
    expect(operations.size).toBe(1);
    const ids = files.map((f) => receiveFixture("idngo", f).eventId);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) expect(id.startsWith(`idngo:${String([...operations][0])}:`)).toBe(true);
    expect(files.map((f) => receiveFixture("idngo", f).eventId)).toEqual(ids);
  });

  it("records an action webhook without its action id under the applicant, without a status", () => {
    const event = normalizeJson({
      type: "applicantActionReviewed",
      applicantId: "a1",
      applicantActionId: null,
      reviewStatus: "completed",
      reviewResult: { reviewAnswer: "GREEN" },
    });
    expect(event).toMatchObject({ correlationId: "idngo:a1", status: null, unmapped: "applicantActionId: missing" });
  });

  it("falls back to a digest of the body when the payload has no correlationId", () => {
    const json = { applicantId: "a1", type: "applicantCreated", reviewStatus: "init" };
    expect(normalizeJson(json).eventId).toBe(`idngo:${bodyDigest(Buffer.from(JSON.stringify(json)))}`);
  });
});
