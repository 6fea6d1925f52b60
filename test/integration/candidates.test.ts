/**
 * The reconciler's candidates against DynamoDB Local: the consumer's store writes the pending index's
 * attributes, and the index alone (no scan) gives the verifications of one provider that are not in a
 * final status and unchanged within the window, the most recently changed first.
 */
import { randomUUID } from "node:crypto";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { dynamoStore } from "../../lambdas/consumer/store.js";
import type { NormalizedEvent, Status } from "../../lambdas/core/event.js";
import { indexCandidates } from "../../lambdas/reconciler/candidates.js";
import { freshTable } from "../support/dynamo.js";
import { providerEvent } from "../support/scenarios.js";

let documents: DynamoDBDocumentClient;
let tableName: string;

beforeAll(async () => {
  const table = await freshTable();
  documents = DynamoDBDocumentClient.from(table.client, { marshallOptions: { removeUndefinedValues: true } });
  tableName = table.tableName;
});

/** Applies `event` as the consumer would at `at`. */
async function applyAt(event: NormalizedEvent, at: string): Promise<void> {
  await dynamoStore(documents, { tableName, now: () => new Date(at) }).apply(event);
}

const session = () => randomUUID().replaceAll("-", "").slice(0, 24);
const idngo = (status: Status, minute: number, sessionId: string) => providerEvent("idngo", status, minute, { sessionId });

async function collect(provider: "idngo" | "veriff", from: string, before: string): Promise<string[]> {
  const out: string[] = [];
  for await (const id of indexCandidates(documents, tableName)(provider, from, before)) out.push(id);
  return out;
}

describe("indexCandidates (the sparse byPendingSince index)", () => {
  it("lists non-final verifications whose last change is inside the window, newest change first; final ones drop out", async () => {
    const [old, older, recent, done, tooOld, reopened] = [session(), session(), session(), session(), session(), session()];
    await applyAt(idngo("submitted", 1, older), "2026-11-18T08:15:00.000Z");
    await applyAt(idngo("submitted", 1, old), "2026-11-19T09:59:59.999Z");
    await applyAt(idngo("in_review", 2, old), "2026-11-20T10:30:00.000Z"); // its last change: the 20th, 10:xx
    await applyAt(idngo("submitted", 1, recent), "2026-11-22T11:00:00.000Z"); // changed within the age
    await applyAt(idngo("submitted", 1, done), "2026-11-18T08:00:00.000Z");
    await applyAt(idngo("approved", 2, done), "2026-11-19T08:00:00.000Z"); // final: not a candidate
    await applyAt(idngo("submitted", 1, tooOld), "2026-09-01T08:00:00.000Z"); // before the window
    await applyAt(idngo("approved", 2, reopened), "2026-11-18T08:00:00.000Z");
    await applyAt(providerEvent("idngo", "created", 3, { sessionId: reopened }), "2026-11-19T07:00:00.000Z"); // a reset: pending again

    const ids = await collect("idngo", "2026-10-23T12:00:00.000Z", "2026-11-21T12:00:00.000Z");
    const mine = new Set([old, older, recent, done, tooOld, reopened].map((s) => `idngo:${s}`));
    expect(ids.filter((id) => mine.has(id))).toEqual([`idngo:${old}`, `idngo:${reopened}`, `idngo:${older}`]);
    expect(await collect("veriff", "2026-10-23T12:00:00.000Z", "2026-11-21T12:00:00.000Z")).not.toContain(`idngo:${old}`);
  });

  it("a verification enters the window once the whole hour of its last change is before the cut-off", async () => {
    const id = session();
    await applyAt(idngo("submitted", 1, id), "2026-11-21T11:20:00.000Z");
    const listed = async (before: string) => (await collect("idngo", "2026-10-23T00:00:00.000Z", before)).includes(`idngo:${id}`);
    expect(await listed("2026-11-21T11:59:59.999Z")).toBe(false); // the hour 11:00-12:00 is not over
    expect(await listed("2026-11-21T12:00:00.000Z")).toBe(true);
  });
});
