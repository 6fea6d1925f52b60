import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PUBLISHER_STREAM_FILTERS, TABLE } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { applyEvent, type VerificationState } from "../../lambdas/model/verification.js";
import { outgoingChangeOf } from "../../lambdas/publisher/publisher.js";
import { matchesAnyPattern, matchesPattern } from "../../local/event-filter.js";
import { lifecycles, shuffledWithDuplicates } from "../support/scenarios.js";

const image = (item: object) => marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });

/** The stream record of one write of an item, as DynamoDB Streams (NEW_AND_OLD_IMAGES) carry it. */
function writeRecord(before: Record<string, unknown> | undefined, after: Record<string, unknown>): DynamoDBRecord {
  const keys = { [TABLE.partitionKey]: after[TABLE.partitionKey], [TABLE.sortKey]: after[TABLE.sortKey] };
  return {
    eventName: before === undefined ? "INSERT" : "MODIFY",
    dynamodb: {
      Keys: image(keys) as never,
      NewImage: image(after) as never,
      ...(before === undefined ? {} : { OldImage: image(before) as never }),
      SequenceNumber: "1",
    },
  };
}

describe("event filter patterns (Lambda's syntax, as the local event sources apply them)", () => {
  it("matches exact values, lists, and `exists` on leaves only", () => {
    expect(matchesPattern({ a: { b: ["x", "y"] } }, { a: { b: "y", c: 1 } })).toBe(true);
    expect(matchesPattern({ a: { b: ["x"] } }, { a: { b: "z" } })).toBe(false);
    expect(matchesPattern({ a: { b: ["x"] } }, { a: {} })).toBe(false);
    expect(matchesPattern({ a: [true] }, { a: true })).toBe(true);
    expect(matchesPattern({ a: [true] }, { a: "true" })).toBe(false);
    expect(matchesPattern({ a: [1] }, { a: [3, 1] })).toBe(true);
    expect(matchesPattern({ a: [null] }, { a: null })).toBe(true);
    expect(matchesPattern({ a: { b: [{ exists: false }] } }, {})).toBe(true);
    expect(matchesPattern({ a: { b: [{ exists: false }] } }, { a: { b: false } })).toBe(false);
    expect(matchesPattern({ a: [{ exists: true }] }, { a: 0 })).toBe(true);
    expect(matchesPattern({ a: [{ exists: true }] }, { a: { nested: 1 } })).toBe(false);
    expect(matchesAnyPattern([{ a: ["x"] }, { a: ["y"] }], { a: "y" })).toBe(true);
    expect(matchesAnyPattern([], { a: "y" })).toBe(false);
    expect(() => matchesPattern({ a: [{ prefix: "x" } as never] }, { a: "xy" })).toThrow("unsupported filter rule");
  });

  it("lets through writes of a state item that changed its status, and items written before `statusChanged` existed", () => {
    const base = { correlationId: "veriff:s", sk: "STATE", status: "approved", version: 2 };
    const passes = (record: DynamoDBRecord) => matchesAnyPattern(PUBLISHER_STREAM_FILTERS, record);
    expect(passes(writeRecord({ ...base, status: "submitted" }, { ...base, statusChanged: true }))).toBe(true);
    expect(passes(writeRecord(undefined, { ...base, statusChanged: true }))).toBe(true);
    expect(passes(writeRecord(base, { ...base, statusChanged: false }))).toBe(false);
    expect(passes(writeRecord({ ...base, status: "submitted" }, base))).toBe(true); // no attribute: an earlier version wrote it
    expect(passes(writeRecord(undefined, { correlationId: "veriff:s", sk: "EVENT#veriff:e", statusChanged: true }))).toBe(false);
    const removal: DynamoDBRecord = { eventName: "REMOVE", dynamodb: { Keys: image({ correlationId: "veriff:s", sk: "STATE" }) as never } };
    expect(passes(removal)).toBe(false);
  });

  it("for any delivery order, a state write passes the filter exactly when the publisher would publish it", () => {
    const cases = PROVIDER_IDS.flatMap((provider) =>
      lifecycles(provider, provider === "idngo" ? "5cb744200a975a67ed1798ff" : "0f0e0d0c-0b0a-4909-8807-060504030201").map((l) => l.events),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...cases).chain((events) => shuffledWithDuplicates(events)),
        (deliveries) => {
          let state: VerificationState | undefined;
          const seen = new Set<string>();
          let minute = 0;
          for (const event of deliveries) {
            if (seen.has(event.eventId)) continue; // the store drops redeliveries before the model sees them
            seen.add(event.eventId);
            const now = new Date(Date.UTC(2026, 10, 22, 10, minute++)).toISOString();
            const { next, writeState } = applyEvent(state, event, now);
            if (!writeState) continue;
            const before = state === undefined ? undefined : { ...state, sk: TABLE.stateSortKey };
            const record = writeRecord(before, { ...next, sk: TABLE.stateSortKey });
            expect(matchesAnyPattern(PUBLISHER_STREAM_FILTERS, record)).toBe(outgoingChangeOf(record) !== null);
            state = next;
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
