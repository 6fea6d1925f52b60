import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { outgoingChangeOf, UndeliverableRecord } from "../../lambdas/publisher/publisher.js";

const MARK = "PAYLOAD-VALUE";

const state = (overrides: Record<string, unknown> = {}) => ({
  correlationId: "idngo:5cb744200a975a67ed1798a4",
  sk: "STATE",
  provider: "idngo",
  status: "approved",
  subject: { externalUserId: "12672" },
  subjectKey: "12672",
  appliedEventId: "idngo:req-2",
  occurredAt: "2020-02-21T13:23:19.129Z",
  decision: { answer: "GREEN", labels: [] },
  createdAt: "2026-11-22T10:00:00.000Z",
  updatedAt: "2026-11-22T10:00:05.000Z",
  statusChangedAt: "2026-11-22T10:00:05.000Z",
  version: 2,
  ...overrides,
});

const record = (newImage: unknown, oldImage?: unknown): DynamoDBRecord =>
  ({ dynamodb: { SequenceNumber: "100", NewImage: newImage, OldImage: oldImage } }) as DynamoDBRecord;

const image = (item: Record<string, unknown>) => marshall(item, { removeUndefinedValues: true });

describe("outgoingChangeOf", () => {
  it("builds the change from a state item's images, DynamoDB Local's `{}` subject included", () => {
    const newImage = { ...image(state({ subject: {} })), subject: {} };
    const change = outgoingChangeOf(record(newImage, image(state({ status: "in_review", version: 1 }))));
    expect(change?.change).toMatchObject({ subject: {}, previousStatus: "in_review", status: "approved", eventId: "idngo:req-2" });
    expect(change?.deduplicationId).toBe("idngo:5cb744200a975a67ed1798a4#v2");
  });

  it("carries the verification's sandbox flag into the message (false for items written before it)", () => {
    expect(outgoingChangeOf(record(image(state({ sandbox: true }))))?.change.sandbox).toBe(true);
    expect(outgoingChangeOf(record(image(state())))?.change.sandbox).toBe(false);
  });

  it("keeps a version a double can't hold exactly as its digits in the deduplication id", () => {
    const newImage = { ...image(state()), version: { N: "90071992547409930" } };
    expect(outgoingChangeOf(record(newImage))?.deduplicationId).toBe("idngo:5cb744200a975a67ed1798a4#v90071992547409930");
  });

  it("is null for what stands for no change: a removal, a history item, the same status", () => {
    expect(outgoingChangeOf(record(undefined, image(state())))).toBeNull();
    expect(outgoingChangeOf(record(image(state({ sk: "EVENT#x" }))))).toBeNull();
    expect(outgoingChangeOf(record(image(state({ version: 3 })), image(state())))).toBeNull();
  });

  it("refuses a state item without what a change needs, naming the attribute and never its value", () => {
    const cases: [unknown, RegExp][] = [
      [image(state({ provider: MARK })), /^NewImage is not a verification state item \(provider: expected /],
      [image(state({ status: MARK })), /status: expected /],
      [{ ...image(state()), subject: { S: MARK } }, /subject: expected Object/],
      [{ ...image(state()), subject: { M: { externalUserId: { N: MARK } } } }, /^NewImage cannot be decoded \(subject: bad-number\)$/],
      [{ ...image(state()), correlationId: { X: MARK } }, /correlationId: unknown-type/],
      [image(state({ version: 1.5 })), /version: expected /],
      [MARK, /^NewImage is not an attribute map$/],
    ];
    for (const [newImage, message] of cases) {
      let thrown: unknown;
      try {
        outgoingChangeOf(record(newImage));
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(UndeliverableRecord);
      expect((thrown as Error).message).toMatch(message);
      expect((thrown as Error).message).not.toContain(MARK);
    }
  });

  it("ignores a malformed attribute it does not need (e.g. a future one) instead of refusing the change", () => {
    const newImage = { ...image(state()), somethingNew: { Z: MARK } };
    expect(outgoingChangeOf(record(newImage))?.change.status).toBe("approved");
  });

  it("for any images: a change, null, or UndeliverableRecord, whose message never carries a value (fast-check)", () => {
    // Well-formed state images with one attribute replaced by anything (marked strings included).
    const marked = fc.string().map((s) => `${MARK}${s}`);
    const anyValue = fc.oneof(
      fc.anything(),
      marked.map((s) => ({ S: s })),
      marked.map((s) => ({ N: s })),
      marked.map((s) => ({ M: { [s]: { S: s } } })),
      marked.map((s) => ({ L: [{ S: s }, { BOOL: s }] })),
      fc.constant({}),
    );
    const attribute = fc.constantFrom(...Object.keys(state()), "extra");
    fc.assert(
      fc.property(attribute, anyValue, fc.boolean(), (name, value, inOld) => {
        const broken = { ...image(state()), [name]: value };
        const images = inOld
          ? record(image(state({ status: "submitted", version: 3 })), broken)
          : record(broken, image(state({ status: "submitted", version: 1 })));
        try {
          const change = outgoingChangeOf(images);
          expect(change === null || typeof change.change.correlationId === "string").toBe(true);
          // An attribute the message is not built from never reaches it.
          if (change !== null && (name === "extra" || name === "subjectKey")) expect(JSON.stringify(change)).not.toContain(MARK);
        } catch (error) {
          expect(error).toBeInstanceOf(UndeliverableRecord);
          expect((error as Error).message).not.toContain(MARK);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
