/**
 * A provider simulator: builds sample webhooks for any provider and status, signed or
 * encrypted exactly as each provider's documentation does (docs/providers/). Used by
 * `npm run send` and by the tests. Personal fields are filled with obviously fake values so
 * that one can see them being dropped.
 */
import { createCipheriv, createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import type { ProviderId, Status } from "../lambdas/core/event.js";
import type { NeurovisionKeyDerivation } from "../lambdas/providers/types.js";

export interface SampleRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SampleOptions {
  /** The provider's verification id (session / applicant id). */
  readonly sessionId: string;
  /** The integrator's user key (vendorData, externalUserId, clientKey). */
  readonly userKey: string;
  /** Provider time of the event, where the provider sends one. */
  readonly occurredAt: Date;
  /** Veriff only: the attempt within the session. */
  readonly attemptId?: string;
  /** IDnGO only: Sumsub's per-event id (`correlationId` in their payload). */
  readonly deliveryId?: string;
  /** NeuroVision only. */
  readonly keyDerivation?: NeurovisionKeyDerivation;
}

const FAKE_PERSON = { firstName: "SAMPLE", lastName: "PERSON", dateOfBirth: "1900-01-01", idNumber: "SAMPLE-0000" };

/** Statuses each provider can express (the inverse of the mapping in docs/providers/). */
export const SAMPLE_STATUSES: Readonly<Record<ProviderId, readonly Status[]>> = {
  veriff: ["started", "submitted", "in_review", "resubmission_requested", "approved", "rejected", "expired", "abandoned"],
  idngo: ["created", "submitted", "in_review", "on_hold", "approved", "rejected", "resubmission_requested", "deleted"],
  idbeyond: ["started", "submitted", "in_review", "approved", "rejected"],
  neurovision: ["submitted", "in_review", "approved", "rejected", "expired"],
};

const hmacHex = (algorithm: string, secret: string, body: string) => createHmac(algorithm, secret).update(body, "utf8").digest("hex");

/** NeuroVision's recipe: key = SHA-256(secret) (or its first 32 hex chars as ASCII), random IV ‖ AES-256-CBC, base64. */
export function encryptNeurovision(plaintext: string, secret: string, derivation: NeurovisionKeyDerivation = "sha256"): string {
  const digest = createHash("sha256").update(secret).digest();
  const key = derivation === "sha256-hex-prefix" ? Buffer.from(digest.toString("hex").slice(0, 32), "ascii") : digest;
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(plaintext, "utf8"), cipher.final()]).toString("base64");
}

/** Sumsub's `createdAtMs`: `yyyy-MM-dd HH:mm:ss.fff` in UTC. */
function sumsubTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

function veriff(status: Status, o: SampleOptions): object {
  const attemptId = o.attemptId ?? randomUUID();
  if (status === "started" || status === "submitted") {
    return {
      id: o.sessionId,
      attemptId,
      feature: "selfid",
      code: status === "started" ? 7001 : 7002,
      action: status,
      vendorData: o.userKey,
      endUserId: null,
    };
  }
  const decision: Partial<Record<Status, [string, number, number | null]>> = {
    approved: ["approved", 9001, null],
    rejected: ["declined", 9102, 102],
    resubmission_requested: ["resubmission_requested", 9103, 201],
    expired: ["expired", 9104, null],
    abandoned: ["abandoned", 9121, null],
    in_review: ["review", 9121, null],
  };
  const [veriffStatus, code, reasonCode] = decision[status] ?? unsupported("veriff", status);
  return {
    status: "success",
    verification: {
      id: o.sessionId,
      attemptId,
      code,
      status: veriffStatus,
      reason: reasonCode === null ? null : "Sample reason",
      reasonCode,
      vendorData: o.userKey,
      endUserId: null,
      // Veriff sends expired and abandoned decisions without a decision time.
      decisionTime: status === "expired" || status === "abandoned" ? null : o.occurredAt.toISOString(),
      acceptanceTime: o.occurredAt.toISOString(),
      person: { firstName: FAKE_PERSON.firstName, lastName: FAKE_PERSON.lastName, dateOfBirth: FAKE_PERSON.dateOfBirth },
      document: { number: FAKE_PERSON.idNumber, type: "PASSPORT", country: "EE" },
    },
    technicalData: { ip: "192.0.2.1" },
  };
}

function idngo(status: Status, o: SampleOptions): object {
  const kinds: Partial<Record<Status, [string, string, object | undefined]>> = {
    created: ["applicantCreated", "init", undefined],
    submitted: ["applicantPending", "pending", undefined],
    in_review: ["applicantPrechecked", "queued", undefined],
    on_hold: ["applicantOnHold", "onHold", undefined],
    approved: ["applicantReviewed", "completed", { reviewAnswer: "GREEN" }],
    rejected: [
      "applicantReviewed",
      "completed",
      { reviewAnswer: "RED", reviewRejectType: "FINAL", rejectLabels: ["FORGERY"], clientComment: "Sample private comment" },
    ],
    resubmission_requested: [
      "applicantReviewed",
      "completed",
      { reviewAnswer: "RED", reviewRejectType: "RETRY", rejectLabels: ["BAD_SELFIE"], moderationComment: "Sample comment" },
    ],
    deleted: ["applicantDeleted", "init", undefined],
  };
  const [type, reviewStatus, reviewResult] = kinds[status] ?? unsupported("idngo", status);
  return {
    applicantId: o.sessionId,
    inspectionId: `${o.sessionId}-inspection`,
    correlationId: o.deliveryId ?? `req-${randomUUID()}`,
    levelName: "basic-kyc-level",
    externalUserId: o.userKey,
    type,
    sandboxMode: "true",
    reviewStatus,
    ...(reviewResult === undefined ? {} : { reviewResult }),
    createdAtMs: sumsubTime(o.occurredAt),
    clientId: "sampleClient",
  };
}

function idbeyond(status: Status, o: SampleOptions): object {
  if (status === "started") {
    return {
      event: "verification.extraction",
      verificationSessionId: o.sessionId,
      externalUserId: o.userKey,
      decision: null,
      reviewStatus: "none",
      extracted: { ...FAKE_PERSON, documentType: "ID_CARD" },
      timestamp: o.occurredAt.toISOString(),
    };
  }
  const review: Partial<Record<Status, [string, string | null]>> = {
    submitted: ["none", null],
    in_review: ["pending_review", null],
    approved: ["approved", "approved"],
    rejected: ["rejected", "rejected"],
  };
  const [reviewStatus, decision] = review[status] ?? unsupported("idbeyond", status);
  return {
    event: "verification.completed",
    verificationSessionId: o.sessionId,
    externalUserId: o.userKey,
    decision,
    reviewStatus,
    rationale: "Sample rationale",
    metadata: { source: "npm run send" },
    timestamp: o.occurredAt.toISOString(),
  };
}

function neurovision(status: Status, o: SampleOptions): object {
  const states: Partial<Record<Status, string>> = {
    submitted: "wait",
    in_review: "suspicious",
    approved: "success",
    rejected: "failed",
    expired: "expired",
  };
  const nvStatus = states[status] ?? unsupported("neurovision", status);
  return {
    sessionId: o.sessionId,
    clientKey: o.userKey,
    clientId: "sample-client",
    schemaId: "sample-schema",
    status: nvStatus,
    // createdAt is the session's start (the same on every delivery); responseTime is when this result was produced.
    createdAt: `${o.occurredAt.toISOString().slice(0, 10)}T00:00:00.000Z`,
    responseTime: o.occurredAt.toISOString(),
    spent: 1,
    results: [{ type: "passport", status: nvStatus === "success" ? "success" : "failed", ocr: { ...FAKE_PERSON } }],
  };
}

function unsupported(provider: ProviderId, status: Status): never {
  throw new Error(`${provider} has no webhook for status "${status}"; it sends: ${SAMPLE_STATUSES[provider].join(", ")}`);
}

const PAYLOADS: Readonly<Record<ProviderId, (status: Status, o: SampleOptions) => object>> = {
  veriff,
  idngo,
  idbeyond,
  neurovision,
};

/**
 * `body` (any text: a payload of yours, a documentation example) as `provider` would send it:
 * signed with `secret` by the provider's scheme, or for NeuroVision encrypted into its envelope.
 */
export function signWebhook(
  provider: ProviderId,
  body: string,
  secret: string,
  options: { readonly keyDerivation?: NeurovisionKeyDerivation; readonly idngoAlgorithm?: "sha1" | "sha256" | "sha512" } = {},
): SampleRequest {
  switch (provider) {
    case "veriff":
      return { body, headers: { "x-hmac-signature": hmacHex("sha256", secret, body) } };
    case "idngo": {
      const algorithm = options.idngoAlgorithm ?? "sha256";
      return {
        body,
        headers: { "x-payload-digest": hmacHex(algorithm, secret, body), "x-payload-digest-alg": `HMAC_${algorithm.toUpperCase()}_HEX` },
      };
    }
    case "idbeyond":
      return { body, headers: { "x-verification-signature": hmacHex("sha256", secret, body) } };
    case "neurovision":
      return { body: JSON.stringify({ encrypted: encryptNeurovision(body, secret, options.keyDerivation) }), headers: {} };
  }
}

/** The provider's webhook for `status`, signed (or encrypted) with `secret` as the provider does. */
export function sampleWebhook(provider: ProviderId, status: Status, secret: string, options: SampleOptions): SampleRequest {
  return signWebhook(provider, JSON.stringify(PAYLOADS[provider](status, options)), secret, options);
}

/** The verification id format each provider uses (UUIDs; Sumsub uses 24 hex characters). */
export function sampleSessionId(provider: ProviderId): string {
  return provider === "idngo" ? randomBytes(12).toString("hex") : randomUUID();
}
