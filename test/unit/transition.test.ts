import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type NormalizedEvent, PROVIDER_IDS } from "../../lambdas/core/event.js";
import { type AppliedEvent, comparePrecedence, decide, fold } from "../../lambdas/model/transition.js";
import { lifecycles, providerEvent, scenarios, shuffledWithDuplicates } from "../support/scenarios.js";

const applied = (event: NormalizedEvent): AppliedEvent => {
  if (event.status === null) throw new Error("no status");
  return { eventId: event.eventId, status: event.status, occurredAt: event.occurredAt };
};

describe("transition rule: the seven scenarios (in memory)", () => {
  for (const scenario of scenarios()) {
    it(scenario.name, () => {
      for (const delivery of scenario.deliveries) expect(fold(delivery)?.status).toBe(scenario.expected);
    });
  }
});

describe("decide", () => {
  const sid = "5cb744200a975a67ed1798a4";
  const submitted = providerEvent("idngo", "submitted", 1, { sessionId: sid });
  const approved = providerEvent("idngo", "approved", 2, { sessionId: sid });

  it("applies the first status, then later ones; older ones are stale with the reason", () => {
    expect(decide(null, submitted)).toMatchObject({ outcome: "applied", next: applied(submitted) });
    expect(decide(applied(submitted), approved)).toMatchObject({ outcome: "applied", next: applied(approved) });
    const stale = decide(applied(approved), submitted);
    expect(stale.outcome).toBe("stale");
    expect(stale.next).toBeUndefined();
    expect(stale.reason).toContain("older");
  });

  it("keeps deleted final, even against an event with a later provider time", () => {
    const deleted = providerEvent("idngo", "deleted", 3, { sessionId: sid });
    const later = providerEvent("idngo", "approved", 30, { sessionId: sid });
    const d = decide(applied(deleted), later);
    expect(d).toEqual({ outcome: "stale", reason: "the verification was deleted: deletion is final" });
    expect(fold([later, deleted])?.status).toBe("deleted");
  });

  it("calls a redelivery of the current event a duplicate and changes nothing", () => {
    expect(decide(applied(approved), approved)).toEqual({ outcome: "duplicate", reason: expect.any(String) });
  });

  it("records events without a status and never changes the state with them", () => {
    const tags: NormalizedEvent = { ...approved, eventId: "idngo:req-tags", status: null, providerEventType: "applicantTagsChanged" };
    expect(decide(applied(approved), tags)).toEqual({ outcome: "recorded", reason: "this event carries no KYC status" });
    expect(decide(null, tags).next).toBeUndefined();
    const unmapped: NormalizedEvent = { ...tags, unmapped: "type: unknown" };
    expect(decide(applied(approved), unmapped)).toEqual({ outcome: "recorded", reason: "not mapped: type: unknown" });
  });

  it("lets an untimed expired or abandoned end a session after a timed resubmission request (Veriff sends them without a time)", () => {
    const sessionId = "12df6045-3846-4e45-946a-14fa6136d799";
    const resubmission = providerEvent("veriff", "resubmission_requested", 5, { sessionId });
    for (const end of ["expired", "abandoned"] as const) {
      const ended = providerEvent("veriff", end, 9, { sessionId });
      expect(ended.occurredAt).toBeNull();
      expect(decide(applied(resubmission), ended)).toMatchObject({ outcome: "applied", next: applied(ended) });
      expect(decide(applied(ended), resubmission).outcome).toBe("stale");
      // ...while an untimed submitted still never overrides a timed status.
      expect(decide(applied(resubmission), providerEvent("veriff", "submitted", 6, { sessionId })).outcome).toBe("stale");
    }
  });

  it("never lets a started event (a progress signal) override a later stage, whatever its time", () => {
    const sessionId = "0d5f7a2e-6b1c-4e8a-9f3d-2c4b6a8e1f99";
    const approved = providerEvent("idbeyond", "approved", 3, { sessionId });
    const lateExtraction = providerEvent("idbeyond", "started", 30, { sessionId });
    expect(decide(applied(approved), lateExtraction)).toMatchObject({ outcome: "stale" });
    expect(decide(applied(lateExtraction), approved)).toMatchObject({ outcome: "applied" });
  });

  it("treats newer evidence of the same status as a duplicate that moves the reference forward", () => {
    const again = providerEvent("idngo", "approved", 9, { sessionId: sid });
    const d = decide(applied(approved), again);
    expect(d.outcome).toBe("duplicate");
    expect(d.next).toEqual(applied(again));
  });
});

describe("precedence is a strict total order", () => {
  const statuses = [
    "created",
    "started",
    "submitted",
    "in_review",
    "on_hold",
    "resubmission_requested",
    "approved",
    "rejected",
    "expired",
    "abandoned",
    "deleted",
  ] as const;
  const appliedEvent = fc.record({
    eventId: fc.string({ minLength: 1, maxLength: 4 }),
    status: fc.constantFrom(...statuses),
    occurredAt: fc.option(
      fc.integer({ min: 0, max: 5 }).map((m) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString()),
      { nil: null },
    ),
  });

  it("is antisymmetric and transitive, and 0 only for the same eventId", () => {
    fc.assert(
      fc.property(appliedEvent, appliedEvent, appliedEvent, (a, b, c) => {
        // `+ 0` folds -0 into 0: for two identical events both comparisons are 0.
        expect(Math.sign(comparePrecedence(a, b)) + 0).toBe(-Math.sign(comparePrecedence(b, a)) + 0);
        if (comparePrecedence(a, b) === 0) expect(a.eventId).toBe(b.eventId);
        if (comparePrecedence(a, b) > 0 && comparePrecedence(b, c) > 0) expect(comparePrecedence(a, c)).toBeGreaterThan(0);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("property: any permutation with any duplicates ends as in-order delivery (in memory)", () => {
  for (const provider of PROVIDER_IDS) {
    for (const lifecycle of lifecycles(
      provider,
      provider === "idngo" ? "5cb744200a975a67ed1798ff" : "0f0e0d0c-0b0a-4909-8807-060504030201",
    )) {
      it(`${provider}: ${lifecycle.name} ⇒ ${lifecycle.expected}`, () => {
        const inOrder = fold(lifecycle.events);
        expect(inOrder?.status).toBe(lifecycle.expected);
        fc.assert(
          fc.property(shuffledWithDuplicates(lifecycle.events), (delivery) => {
            expect(fold(delivery)).toEqual(inOrder);
          }),
          { numRuns: 1000 },
        );
      });
    }
  }
});
