import { describe, expect, it } from "vitest";
import type { NormalizedEvent } from "../../lambdas/core/event.js";
import { applyEvent, subjectKeyOf, type VerificationState } from "../../lambdas/model/verification.js";
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

  it("indexes one user key per subject, bounded as the read API looks it up", () => {
    expect(subjectKeyOf({ vendorData: "v", endUserId: "e" })).toBe("v");
    expect(subjectKeyOf({ endUserId: "e" })).toBe("e");
    expect(subjectKeyOf({})).toBeUndefined();
    expect(subjectKeyOf({ externalUserId: "é".repeat(300) })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
