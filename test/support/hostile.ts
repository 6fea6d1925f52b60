/**
 * Hostile inputs shared by the fuzz suites and the provider contract tests: JSON as hostile
 * senders write it, and bodies in each provider's vocabulary whose personal fields carry
 * `PII-…` markers (which must never reach an event, the table or a log line).
 */
import fc from "fast-check";
import type { ProviderId } from "../../lambdas/core/event.js";

export const pii = fc
  .string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"), minLength: 6, maxLength: 12 })
  .map((s) => `PII-${s}`);

/** JSON values as hostile senders write them. */
export const hostile: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(
      null,
      true,
      false,
      0,
      1e20,
      2 ** 53 + 1,
      1.5e300,
      253402300800000,
      -62198755200001,
      "+010000-01-01T00:00:00Z",
      "2025-01-30 11:41:55+0000",
    ),
    fc.string({ unit: "binary", maxLength: 30 }),
    fc.constantFrom("", "\uffff", "\ud800x", "é".repeat(1100), "t".repeat(220_000), "y".repeat(100_000), "x".repeat(10_000)),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("__proto__", "constructor", "id", "type", "status", "code", "value", "a"), tie("value"), { maxKeys: 3 }),
  ),
})).value;

/** A deeply nested array, as a sender could post (parsers must not blow up). */
export const deep = fc.integer({ min: 100, max: 3_000 }).map((n) => JSON.parse(`${"[".repeat(n)}1${"]".repeat(n)}`) as unknown);

/** A body in the provider's vocabulary, with personal fields carrying PII markers and every other field possibly hostile. */
export function shaped(provider: ProviderId): fc.Arbitrary<Record<string, unknown>> {
  const field = fc.oneof(hostile, deep);
  const person = fc.record({ firstName: pii, lastName: pii, idNumber: pii, dateOfBirth: pii, address: pii });
  switch (provider) {
    case "veriff":
      return fc.record(
        {
          status: fc.oneof(fc.constant("success"), field),
          verification: fc.oneof(
            fc.record(
              {
                id: fc.oneof(fc.uuid(), field),
                status: fc.oneof(fc.constantFrom("approved", "declined", "expired", "abandoned"), field),
                code: field,
                reasonCode: field,
                decisionTime: field,
                vendorData: field,
                person,
                document: fc.record({ number: pii }),
                reason: pii,
              },
              { requiredKeys: ["person"] },
            ),
            field,
          ),
          technicalData: fc.record({ ip: pii }),
          action: field,
          eventType: fc.oneof(fc.constant("fullauto"), field),
          data: fc.record({ verification: fc.record({ decision: field, person }) }),
        },
        { requiredKeys: ["technicalData"] },
      );
    case "idngo":
      return fc.record(
        {
          applicantId: fc.oneof(fc.constant("5cb744200a975a67ed1798a4"), field),
          applicantActionId: field,
          correlationId: field,
          type: fc.oneof(
            fc.constantFrom("applicantReviewed", "applicantKytTxnRejected", "applicantActionReviewed", "applicantReset"),
            field,
          ),
          reviewStatus: fc.oneof(fc.constantFrom("completed", "init", "awaitingUser"), field),
          reviewResult: fc.oneof(
            fc.record({
              reviewAnswer: fc.oneof(fc.constantFrom("GREEN", "RED"), field),
              rejectLabels: field,
              clientComment: pii,
              moderationComment: pii,
            }),
            field,
          ),
          createdAtMs: field,
          externalUserId: field,
          sandboxMode: field,
        },
        { requiredKeys: ["reviewResult"] },
      );
    case "idbeyond":
      return fc.record(
        {
          event: fc.oneof(fc.constantFrom("verification.completed", "verification.extraction"), field),
          verificationSessionId: fc.oneof(fc.uuid(), field),
          externalUserId: field,
          decision: field,
          reviewStatus: field,
          rationale: pii,
          metadata: fc.record({ email: pii }),
          extracted: person,
          timestamp: field,
        },
        { requiredKeys: ["rationale", "extracted"] },
      );
    case "neurovision":
      return fc.record({
        sessionId: fc.uuid(),
        status: fc.constantFrom("wait", "success", "failed", "exception", "weird_status"),
        clientKey: fc.oneof(fc.constant("client-1"), fc.constant(null)),
        responseTime: field,
        createdAt: field,
        results: fc.oneof(fc.array(fc.record({ type: field, status: field, ocr: person }), { maxLength: 3 }), field),
      });
  }
}
