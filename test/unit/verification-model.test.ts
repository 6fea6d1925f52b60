import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import { applyEvent, hourOf, mergeSubjects, pendingKeyOf, subjectKeyOf, type VerificationState } from "../../lambdas/model/verification.js";
import { providerEvent } from "../support/scenarios.js";

const T1 = "2026-11-22T10:00:00.000Z";
const T2 = "2026-11-22T10:05:00.000Z";
const sessionId = "5cb744200a975a67ed1700aa";

function chain(events: readonly NormalizedEvent[]): { state: VerificationState | undefined; writes: boolean[] } {
  let state: VerificationState | undefined;
  const writes: boolean[] = [];
  for (const [i, event] of events.entries()) {
    const application = applyEvent(state, event, new Date(Date.parse(T1) + i * 1000).toISOString());
    writes.push(application.writeState);
    if (application.writeState) state = application.next;
  }
  return { state, writes };
}

describe("the verification model (pure, no DynamoDB)", () => {
  it("creates the state on the first event, with the subject key, the event that set it and version 1", () => {
    const submitted = providerEvent("idngo", "submitted", 1, { sessionId });
    const { transition, next, history, writeState } = applyEvent(undefined, submitted, T1);
    expect(transition.outcome).toBe("applied");
    expect(writeState).toBe(true);
    expect(next).toMatchObject({
      correlationId: submitted.correlationId,
      provider: "idngo",
      status: "submitted",
      subject: { externalUserId: "user-42" },
      subjectKey: "user-42",
      appliedEventId: submitted.eventId,
      occurredAt: submitted.occurredAt,
      createdAt: T1,
      updatedAt: T1,
      statusChangedAt: T1,
      version: 1,
    });
    expect(history).toEqual({
      eventId: submitted.eventId,
      providerEventType: "applicantPending",
      status: "submitted",
      occurredAt: submitted.occurredAt,
      receivedAt: submitted.receivedAt,
      processedAt: T1,
      outcome: "applied",
      reason: "first status of this verification",
      attemptId: null,
      sandbox: true,
    });
  });

  it("does not write the state for a stale or status-less event, and keeps statusChangedAt for newer evidence of the same status", () => {
    const approved = providerEvent("idngo", "approved", 5, { sessionId });
    const { next: state } = applyEvent(undefined, approved, T1);
    const stale = applyEvent(state, providerEvent("idngo", "submitted", 1, { sessionId }), T2);
    expect(stale).toMatchObject({ writeState: false, transition: { outcome: "stale" } });
    const again = applyEvent(state, providerEvent("idngo", "approved", 9, { sessionId, deliveryId: "req-again" }), T2);
    expect(again).toMatchObject({
      writeState: true,
      transition: { outcome: "duplicate" },
      next: { status: "approved", statusChangedAt: T1, updatedAt: T2, version: 2 },
    });
  });

  it("keeps the subject when a later event has none, and marks the verification sandbox once any event is", () => {
    const first = { ...providerEvent("veriff", "started", 0, { sessionId: "0f0e0d0c-0b0a-4909-8807-060504030201" }), sandbox: false };
    const later: NormalizedEvent = {
      ...providerEvent("veriff", "approved", 3, { sessionId: "0f0e0d0c-0b0a-4909-8807-060504030201" }),
      subject: {},
      sandbox: true,
    };
    const { state, writes } = chain([first, later]);
    expect(writes).toEqual([true, true]);
    expect(state).toMatchObject({ subject: { vendorData: "user-42" }, sandbox: true, status: "approved", version: 2 });
  });

  it("merges the subjects its events name: keys are added, a known key keeps the smaller value, stale events count too", () => {
    const id = { sessionId };
    const approved = providerEvent("idngo", "approved", 5, id);
    // A stale event naming another key (and flipping sandbox): both are learned, the status stays.
    const stale: NormalizedEvent = {
      ...providerEvent("idngo", "submitted", 1, id),
      subject: { externalUserId: "user-42", vendorData: "v-1" },
      sandbox: true,
    };
    const afterStale = chain([{ ...approved, sandbox: false }, stale]);
    expect(afterStale.writes).toEqual([true, true]);
    expect(afterStale.state).toMatchObject({
      status: "approved",
      subject: { externalUserId: "user-42", vendorData: "v-1" },
      subjectKey: "user-42",
      sandbox: true,
    });
    // A stale event that adds nothing writes nothing.
    expect(applyEvent(afterStale.state, { ...stale, eventId: "idngo:other" }, T2).writeState).toBe(false);
    // Conflicting values (no provider sends them): the smaller one, whichever came first.
    const other: NormalizedEvent = { ...providerEvent("idngo", "rejected", 9, id), subject: { externalUserId: "user-1" } };
    expect(chain([approved, other]).state).toMatchObject({ status: "rejected", subjectKey: "user-1" });
    expect(chain([other, approved]).state).toMatchObject({ status: "rejected", subjectKey: "user-1" });
    // A subject-less first event: the first event that names one sets it.
    const bare: NormalizedEvent = { ...providerEvent("idngo", "submitted", 1, id), subject: {} };
    expect(chain([bare, approved]).state).toMatchObject({ subjectKey: "user-42" });
    expect(chain([bare]).state?.subjectKey).toBeUndefined();
  });

  it("merges subjects as data: empty values are ignored, `__proto__` is a key like any other, at most 8 keys", () => {
    expect(mergeSubjects({ vendorData: "v" }, { vendorData: "", endUserId: "" })).toEqual({ vendorData: "v" });
    const current = { vendorData: "v" };
    expect(mergeSubjects(current, { vendorData: "w" })).toBe(current);
    const hostile = JSON.parse('{"__proto__":"p","constructor":"c"}') as Record<string, string>;
    const merged = mergeSubjects({}, hostile);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged).sort()).toEqual(["__proto__", "constructor"]);
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${String(i).padStart(2, "0")}`, "x"]));
    expect(Object.keys(mergeSubjects({}, many))).toEqual(Object.keys(many).slice(0, 8));
    expect(subjectKeyOf({ externalUserId: "", vendorData: "v" })).toBe("v");
    expect(subjectKeyOf({ externalUserId: "" })).toBeUndefined();
  });

  const arbSubject = fc.dictionary(
    fc.constantFrom("vendorData", "endUserId", "externalUserId", "clientKey", "__proto__", "k1", "k2", "k3", "k4", "k5", "k6"),
    fc.constantFrom("", "u-1", "u-2", "U-1", "é"),
    { maxKeys: 8 },
  );

  it("ends in the same status, subject, subject key and sandbox flag in any delivery order (fast-check)", () => {
    const statuses = ["created", "submitted", "in_review", "on_hold", "approved", "rejected", "resubmission_requested"] as const;
    const arbEvent = fc.record({
      status: fc.constantFrom(...statuses),
      minute: fc.integer({ min: 0, max: 30 }),
      subject: arbSubject,
      sandbox: fc.boolean(),
    });
    const arbCase = fc
      .uniqueArray(arbEvent, { minLength: 1, maxLength: 6, selector: (e) => `${e.status}@${e.minute}` })
      .chain((specs) => fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs, { minLength: specs.length, maxLength: specs.length })));
    const eventOf = (spec: { status: (typeof statuses)[number]; minute: number; subject: Record<string, string>; sandbox: boolean }) => ({
      ...providerEvent("idngo", spec.status, spec.minute, { sessionId }),
      subject: spec.subject,
      sandbox: spec.sandbox,
    });
    const view = (state: VerificationState | undefined) => ({
      status: state?.status,
      subject: state?.subject,
      subjectKey: state?.subjectKey,
      sandbox: state?.sandbox,
    });
    fc.assert(
      fc.property(arbCase, ([specs, shuffled]) => {
        expect(view(chain(shuffled.map(eventOf)).state)).toEqual(view(chain(specs.map(eventOf)).state));
      }),
      { numRuns: 300 },
    );
  });

  it("keeps, for every key, the smallest value any event gave it (fast-check against a fold over all subjects)", () => {
    fc.assert(
      fc.property(fc.array(arbSubject, { minLength: 1, maxLength: 8 }), (subjects) => {
        const expected = new Map<string, string>();
        for (const subject of subjects)
          for (const [key, value] of Object.entries(subject)) {
            const known = expected.get(key);
            if (value !== "" && (known === undefined || value < known)) expected.set(key, value);
          }
        const keys = [...expected.keys()].sort().slice(0, 8);
        const merged = subjects.reduce<Record<string, string>>((acc, subject) => ({ ...mergeSubjects(acc, subject) }), {});
        expect(new Map(Object.entries(merged))).toEqual(new Map(keys.map((key) => [key, expected.get(key)])));
      }),
      { numRuns: 300 },
    );
  });

  it("indexes one user key per subject, bounded as the read API looks it up", () => {
    expect(subjectKeyOf({ vendorData: "v", endUserId: "e" })).toBe("v");
    expect(subjectKeyOf({ endUserId: "e" })).toBe("e");
    expect(subjectKeyOf({})).toBeUndefined();
    expect(subjectKeyOf({ externalUserId: "é".repeat(300) })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});

describe("the reconciler's index attributes (pendingKey, pendingSince)", () => {
  it("are present exactly while the status is set and not final, keyed by provider and a stable shard, at the hour of the last change", () => {
    const submitted = providerEvent("idngo", "submitted", 1, { sessionId });
    const first = applyEvent(undefined, submitted, "2026-11-22T10:37:12.345Z").next;
    expect(first.pendingKey).toBe(pendingKeyOf("idngo", submitted.correlationId));
    expect(first.pendingKey).toMatch(/^idngo#[0-3]$/);
    expect(first.pendingSince).toBe("2026-11-22T10:00:00.000Z");
    // A later write that does not change the status keeps the hour of the last change.
    const sandbox = applyEvent(
      first,
      { ...providerEvent("idngo", "submitted", 2, { sessionId }), sandbox: true },
      "2026-11-22T13:00:00.000Z",
    );
    expect(sandbox.next.pendingSince).toBe("2026-11-22T10:00:00.000Z");
    const reviewing = applyEvent(first, providerEvent("idngo", "in_review", 3, { sessionId }), "2026-11-22T14:10:00.000Z").next;
    expect(reviewing).toMatchObject({ pendingKey: first.pendingKey, pendingSince: "2026-11-22T14:00:00.000Z" });
    const approved = applyEvent(reviewing, providerEvent("idngo", "approved", 4, { sessionId }), "2026-11-22T15:00:00.000Z").next;
    expect(approved.pendingKey).toBeUndefined();
    expect(approved.pendingSince).toBeUndefined();
    // No status at all (only recorded events): not a candidate either.
    const recorded = applyEvent(undefined, { ...submitted, status: null, unmapped: "type: unknown" }, T2).next;
    expect(recorded.pendingKey).toBeUndefined();
  });

  it("spread a provider's verifications over its shards", () => {
    const shards = new Set(Array.from({ length: 200 }, (_, i) => pendingKeyOf("veriff", `veriff:session-${i}`)));
    expect(shards).toEqual(new Set(["veriff#0", "veriff#1", "veriff#2", "veriff#3"]));
    expect(hourOf("2026-01-01T00:59:59.999Z")).toBe("2026-01-01T00:00:00.000Z");
  });
});
