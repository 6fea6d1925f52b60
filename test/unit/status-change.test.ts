import { describe, expect, it } from "vitest";
import type { VerificationState } from "../../lambdas/model/verification.js";
import { statusChangeOf } from "../../lambdas/publisher/change.js";

const state = (overrides: Partial<VerificationState> = {}) => ({
  correlationId: "idngo:5cb744200a975a67ed1798a4",
  sk: "STATE",
  provider: "idngo" as const,
  status: "approved" as const,
  subject: { externalUserId: "12672" },
  subjectKey: "12672",
  appliedEventId: "idngo:req-2",
  occurredAt: "2020-02-21T13:23:19.129Z",
  decision: { answer: "GREEN", rejectType: null, labels: [] },
  createdAt: "2026-11-22T10:00:00.000Z",
  updatedAt: "2026-11-22T10:00:05.000Z",
  statusChangedAt: "2026-11-22T10:00:05.000Z",
  version: 2,
  ...overrides,
});

describe("statusChangeOf", () => {
  it("turns a status change of a state item into a version-1 message, grouped per verification, deduplicated per transition", () => {
    const change = statusChangeOf(state({ status: "submitted", version: 1 }), state());
    expect(change).toEqual({
      change: {
        specVersion: "1",
        correlationId: "idngo:5cb744200a975a67ed1798a4",
        provider: "idngo",
        subject: { externalUserId: "12672" },
        previousStatus: "submitted",
        status: "approved",
        eventId: "idngo:req-2",
        occurredAt: "2020-02-21T13:23:19.129Z",
        changedAt: "2026-11-22T10:00:05.000Z",
        decision: { answer: "GREEN", rejectType: null, labels: [] },
        sandbox: false,
        version: 2,
      },
      groupId: "idngo:5cb744200a975a67ed1798a4",
      deduplicationId: "idngo:5cb744200a975a67ed1798a4#v2",
    });
  });

  it("says whether the verification ran in the provider's sandbox (false for items written before the flag)", () => {
    expect(statusChangeOf(undefined, state({ sandbox: true }))?.change.sandbox).toBe(true);
    expect(statusChangeOf(undefined, state())?.change.sandbox).toBe(false);
  });

  it("reports a verification's first status with previousStatus null", () => {
    expect(statusChangeOf(undefined, state({ version: 1 }))?.change.previousStatus).toBeNull();
  });

  it("produces nothing when the status did not change, for history items, status-less states and deletions", () => {
    expect(statusChangeOf(state({ version: 2 }), state({ version: 3, appliedEventId: "idngo:req-3" }))).toBeNull();
    expect(statusChangeOf(undefined, { ...state(), sk: "EVENT#idngo:req-2" })).toBeNull();
    expect(statusChangeOf(undefined, state({ status: null, appliedEventId: null }))).toBeNull();
    expect(statusChangeOf(state(), undefined)).toBeNull();
  });

  it("carries no personal data: only the state's own non-personal fields", () => {
    const change = statusChangeOf(undefined, { ...state(), extra: "Jane Roe" } as ReturnType<typeof state>);
    expect(JSON.stringify(change)).not.toContain("Jane Roe");
  });
});
