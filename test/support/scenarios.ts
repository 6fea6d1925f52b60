/**
 * The transition scenarios of the README and realistic per-provider sequences, as normalized
 * events produced by the real providers from the simulator's signed webhooks. Shared by the
 * in-memory rule tests and the DynamoDB Local tests.
 */
import fc from "fast-check";
import type { NormalizedEvent, ProviderId, Status } from "../../lambdas/core/event.js";
import { type SampleOptions, sampleWebhook } from "../../local/samples.js";
import { receipt, receiveSigned } from "./providers.js";

const SECRET = "scenario-secret";
const T0 = Date.parse("2026-11-01T10:00:00.000Z");

/** A normalized event for `status`, as the pipeline would produce it from the provider's webhook. */
export function providerEvent(
  provider: ProviderId,
  status: Status,
  minute: number,
  options: Partial<SampleOptions> & { sessionId: string },
): NormalizedEvent {
  const request = sampleWebhook(provider, status, SECRET, {
    userKey: "user-42",
    occurredAt: new Date(T0 + minute * 60_000),
    ...options,
  });
  const result = receipt(provider, request.body, request.headers, {
    secrets: [SECRET],
    receivedAt: new Date(T0 + 3_600_000).toISOString(),
  });
  if (result.kind !== "accepted") throw new Error("sample was not accepted");
  return result.event;
}

export interface Scenario {
  readonly name: string;
  /** Delivery orders to try; each must end in `expected`. */
  readonly deliveries: readonly (readonly NormalizedEvent[])[];
  readonly expected: Status;
  /** Events expected in the history (distinct eventIds). */
  readonly distinctEvents: number;
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [items.slice()];
  return items.flatMap((item, i) => permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]));
}

export function scenarios(): Scenario[] {
  const s1 = "5cb744200a975a67ed100001";
  const lifecycle = (["created", "submitted", "in_review", "approved"] as const).map((status, i) =>
    providerEvent("idngo", status, i, { sessionId: s1 }),
  );

  const s2 = "5cb744200a975a67ed100002";
  const once = providerEvent("idngo", "submitted", 1, { sessionId: s2 });

  const s3 = "5cb744200a975a67ed100003";
  const green = providerEvent("idngo", "approved", 1, { sessionId: s3 });
  const red = providerEvent("idngo", "rejected", 2, { sessionId: s3 });

  const s4 = "12df6045-3846-4e45-946a-14fa6136d704";
  const first = { sessionId: s4, attemptId: "a1a1a1a1-0000-4000-8000-000000000001" };
  const second = { sessionId: s4, attemptId: "a2a2a2a2-0000-4000-8000-000000000002" };
  const oldSubmitted = providerEvent("veriff", "submitted", 0, first);
  const veriffSequence = [
    providerEvent("veriff", "started", 0, first),
    oldSubmitted,
    providerEvent("veriff", "resubmission_requested", 5, first),
    providerEvent("veriff", "started", 6, second),
    providerEvent("veriff", "submitted", 7, second),
    providerEvent("veriff", "approved", 10, second),
  ];

  const s5 = "5cb744200a975a67ed100005";
  const approved5 = providerEvent("idngo", "approved", 1, { sessionId: s5 });
  const reset5 = resetEvent(s5, 2);

  const s6 = "5cb744200a975a67ed100006";
  const deleted6 = providerEvent("idngo", "deleted", 5, { sessionId: s6 });
  const lateApproved6 = providerEvent("idngo", "approved", 3, { sessionId: s6 });

  const s7 = "12df6045-3846-4e45-946a-14fa6136d707";
  const decision7 = providerEvent("veriff", "approved", 10, { sessionId: s7 });
  const submitted7 = providerEvent("veriff", "submitted", 0, { sessionId: s7 });

  return [
    {
      name: "1. created → submitted → in_review → approved, in any order ⇒ approved",
      deliveries: permutations(lifecycle),
      expected: "approved",
      distinctEvents: 4,
    },
    {
      name: "2. the same event delivered 3 times ⇒ one transition, history shows it once",
      deliveries: [[once, once, once]],
      expected: "submitted",
      distinctEvents: 1,
    },
    {
      name: "3. IDnGO GREEN at t1 and RED/FINAL at t2, either order ⇒ rejected",
      deliveries: [
        [green, red],
        [red, green],
      ],
      expected: "rejected",
      distinctEvents: 2,
    },
    {
      name: "4. Veriff resubmission, new attempt, approval; a late duplicate of the old submitted does not regress",
      deliveries: [[...veriffSequence, oldSubmitted]],
      expected: "approved",
      distinctEvents: 6,
    },
    {
      name: "5. IDnGO approved (t1) then applicantReset (t2), either order ⇒ created",
      deliveries: [
        [approved5, reset5],
        [reset5, approved5],
      ],
      expected: "created",
      distinctEvents: 2,
    },
    {
      name: "6. deleted is final: a late approved with an earlier time changes nothing",
      deliveries: [[deleted6, lateApproved6]],
      expected: "deleted",
      distinctEvents: 2,
    },
    {
      name: "7. a Veriff submitted (no time) after the decision ⇒ the decision stands",
      deliveries: [[decision7, submitted7]],
      expected: "approved",
      distinctEvents: 2,
    },
  ];
}

/** IDnGO `applicantReset` (the documentation's example shape): a new cycle, status created. */
export function resetEvent(applicantId: string, minute: number): NormalizedEvent {
  const created = providerEvent("idngo", "created", minute, { sessionId: applicantId });
  // Same authenticated path as every other sample: build the reset payload and normalize it.
  const body = JSON.stringify({
    applicantId,
    inspectionId: `${applicantId}-inspection`,
    correlationId: `req-reset-${applicantId}-${minute}`,
    externalUserId: "user-42",
    type: "applicantReset",
    sandboxMode: "false",
    reviewResult: { reviewAnswer: "GREEN" },
    reviewStatus: "init",
    createdAtMs: created.occurredAt?.replace("T", " ").replace("Z", "") ?? "",
    clientId: "sampleClient",
  });
  return receiveSigned("idngo", body, { receivedAt: created.receivedAt });
}

/** A realistic in-order lifecycle of one verification, with the status it must end in. */
export interface Lifecycle {
  readonly name: string;
  readonly events: readonly NormalizedEvent[];
  readonly expected: Status;
}

/** Real lifecycles per provider (the first is the classic one); each must end in `expected` whatever the delivery order. */
export function lifecycles(provider: ProviderId, sessionId: string): Lifecycle[] {
  const e = (status: Status, minute: number, extra: Partial<SampleOptions> = {}) =>
    providerEvent(provider, status, minute, { sessionId, ...extra });
  const a1 = { attemptId: "a1a1a1a1-0000-4000-8000-00000000000a" };
  const a2 = { attemptId: "a2a2a2a2-0000-4000-8000-00000000000b" };
  switch (provider) {
    case "veriff":
      return [
        {
          name: "resubmission, a new attempt, approval",
          events: [
            e("started", 0, a1),
            e("submitted", 1, a1),
            e("in_review", 2, a1),
            e("resubmission_requested", 3, a1),
            e("started", 4, a2),
            e("submitted", 5, a2),
            e("approved", 6, a2),
          ],
          expected: "approved",
        },
        // Veriff sends expired and abandoned without a decision time: they still end the session.
        {
          name: "resubmission, a new attempt, then expired (decisionTime null)",
          events: [
            e("started", 0, a1),
            e("submitted", 1, a1),
            e("resubmission_requested", 3, a1),
            e("started", 4, a2),
            e("expired", 9, a2),
          ],
          expected: "expired",
        },
        {
          name: "started, then abandoned (decisionTime null)",
          events: [e("started", 0, a1), e("resubmission_requested", 2, a1), e("abandoned", 9, a1)],
          expected: "abandoned",
        },
      ];
    case "idngo":
      return [
        {
          name: "review, approval, reset, a second review rejected",
          events: [
            e("created", 0),
            e("submitted", 1),
            e("in_review", 2),
            e("on_hold", 3),
            e("approved", 4),
            resetEvent(sessionId, 5),
            e("submitted", 6),
            e("rejected", 7),
          ],
          expected: "rejected",
        },
      ];
    case "idbeyond":
      return [
        {
          name: "extraction, capture, review, approval",
          events: [e("started", 0), e("submitted", 1), e("in_review", 2), e("approved", 3)],
          expected: "approved",
        },
        // An extraction may be delivered after the decision, with a later timestamp.
        {
          name: "approval, then a late extraction with a later time",
          events: [e("started", 0), e("submitted", 1), e("approved", 3), e("started", 4)],
          expected: "approved",
        },
      ];
    case "neurovision":
      // Every delivery carries the same createdAt (the session's start); responseTime orders them.
      return [
        { name: "wait, suspicious, rejected", events: [e("submitted", 0), e("in_review", 1), e("rejected", 2)], expected: "rejected" },
        { name: "wait, suspicious, success", events: [e("submitted", 0), e("in_review", 1), e("approved", 2)], expected: "approved" },
      ];
  }
}

/** The classic in-order lifecycle of one verification per provider. */
export function realisticSequence(provider: ProviderId, sessionId: string): NormalizedEvent[] {
  return [...(lifecycles(provider, sessionId)[0]?.events ?? [])];
}

/** Any delivery order of `sequence` in which every event arrives 1 to 3 times. */
export function shuffledWithDuplicates<T>(sequence: readonly T[]): fc.Arbitrary<T[]> {
  return fc.array(fc.integer({ min: 1, max: 3 }), { minLength: sequence.length, maxLength: sequence.length }).chain((counts) => {
    const all = sequence.flatMap((item, i) => Array<T>(counts[i] ?? 1).fill(item));
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });
}
