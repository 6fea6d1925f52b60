import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { dynamoStore, type VerificationStore } from "../../lambdas/consumer/store.js";
import { TABLE } from "../../lambdas/core/contract.js";
import { type NormalizedEvent, PROVIDER_IDS, type ProviderId } from "../../lambdas/core/event.js";
import { fold } from "../../lambdas/model/transition.js";
import { getVerification, listBySubject } from "../../lambdas/read/queries.js";
import { CONSUMER_TABLE_ACTIONS } from "../../lib/settings.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { dynamoEndpoint, freshTable } from "../support/dynamo.js";
import { fixtureJson, receiveFixture, receiveSigned } from "../support/providers.js";
import { lifecycles, providerEvent, realisticSequence, scenarios, shuffledWithDuplicates } from "../support/scenarios.js";

let documents: DynamoDBDocumentClient;
let tableName: string;
let store: VerificationStore;

beforeAll(async () => {
  const table = await freshTable();
  documents = DynamoDBDocumentClient.from(table.client, { marshallOptions: { removeUndefinedValues: true } });
  tableName = table.tableName;
  store = dynamoStore(documents, { tableName });
});

/** A session id no other test uses, in the provider's own format. */
function newSession(provider: ProviderId): string {
  return provider === "idngo" ? randomUUID().replaceAll("-", "").slice(0, 24) : randomUUID();
}

/** Re-keys scenario events onto a fresh verification, so every delivery order starts from nothing. */
function rekey(events: readonly NormalizedEvent[], suffix: string): NormalizedEvent[] {
  return events.map((e) => ({ ...e, correlationId: `${e.correlationId}-${suffix}`, eventId: `${e.eventId}-${suffix}` }));
}

async function applyAll(events: readonly NormalizedEvent[]): Promise<void> {
  for (const event of events) await store.apply(event);
}

describe("the seven scenarios against DynamoDB Local", () => {
  for (const scenario of scenarios()) {
    it(scenario.name, async () => {
      for (const delivery of scenario.deliveries) {
        const events = rekey(delivery, randomUUID().slice(0, 8));
        await applyAll(events);
        const view = await getVerification(documents, tableName, events[0]?.correlationId ?? "");
        expect(view?.status).toBe(scenario.expected);
        expect(view?.history).toHaveLength(scenario.distinctEvents);
        expect(new Set(view?.history.map((h) => h.eventId)).size).toBe(scenario.distinctEvents);
      }
    });
  }

  it("2. in detail: three deliveries, one transition, one history item, version 1", async () => {
    const event = providerEvent("idngo", "submitted", 1, { sessionId: newSession("idngo") });
    const results = [await store.apply(event), await store.apply(event), await store.apply(event)];
    expect(results.map((r) => [r.outcome, r.redelivery])).toEqual([
      ["applied", false],
      ["duplicate", true],
      ["duplicate", true],
    ]);
    const view = await getVerification(documents, tableName, event.correlationId);
    expect(view).toMatchObject({ status: "submitted", version: 1 });
    expect(view?.history.map((h) => h.outcome)).toEqual(["applied"]);
  });

  it("records every distinct event with its outcome and reason", async () => {
    const sessionId = newSession("veriff");
    const decision = providerEvent("veriff", "approved", 10, { sessionId });
    const lateSubmitted = providerEvent("veriff", "submitted", 0, { sessionId });
    await applyAll([decision, lateSubmitted]);
    const view = await getVerification(documents, tableName, decision.correlationId);
    expect(view?.history.map((h) => [h.eventId, h.outcome])).toEqual([
      [decision.eventId, "applied"],
      [lateSubmitted.eventId, "stale"],
    ]);
    expect(view?.history[1]?.reason).toBe("an untimed or progress event does not override approved (a provider-timed event)");
    expect(view).toMatchObject({ status: "approved", subject: { vendorData: "user-42" }, occurredAt: decision.occurredAt });
  });
});

describe("real traffic", () => {
  it("a rejected transaction (KYT) of a verified person is recorded and never rejects the person", async () => {
    const approved = rekey([receiveFixture("idngo", "doc-company-applicantReviewed-green.json")], randomUUID().slice(0, 8))[0];
    if (approved === undefined) throw new Error("no event");
    const applicantId = approved.correlationId.slice("idngo:".length);
    const kyt = receiveSigned("idngo", { ...fixtureJson("idngo", "doc-applicantKytTxnRejected-red.json"), applicantId });
    expect(kyt.correlationId).toBe(approved.correlationId);
    await applyAll([approved, kyt]);
    const view = await getVerification(documents, tableName, approved.correlationId);
    expect(view?.status).toBe("approved");
    expect(view?.history.map((h) => [h.providerEventType, h.outcome])).toEqual([
      ["applicantReviewed", "applied"],
      ["applicantKytTxnRejected", "recorded"],
    ]);
  });

  it("records an unmapped event with the reason that names what was missing, and keeps the sandbox flag on the state", async () => {
    const sessionId = `${randomUUID().slice(0, 8)}aaaaaaaaaaaaaaaa`;
    const unknown = receiveSigned("idngo", {
      applicantId: sessionId,
      type: "applicantSomethingNew",
      sandboxMode: true,
      correlationId: "op-1",
    });
    await applyAll([unknown]);
    const view = await getVerification(documents, tableName, unknown.correlationId);
    expect(view).toMatchObject({ status: null, sandbox: true });
    expect(view?.history[0]).toMatchObject({ outcome: "recorded", reason: "not mapped: type: unknown" });
  });
});

describe("two conditional writes instead of a transaction", () => {
  /** A store whose client fails the first history write, after the state write went through: a crash in between. */
  function interruptedOnce(): VerificationStore {
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
    let armed = true;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const item = (args.input as { Item?: { sk?: { S?: string } } }).Item;
        if (armed && context.commandName === "PutItemCommand" && item?.sk?.S?.startsWith("EVENT#")) {
          armed = false;
          throw Object.assign(new Error("crashed between the two writes"), { name: "Crash" });
        }
        return next(args);
      },
      { step: "serialize", name: "crashBetweenWrites" },
    );
    return dynamoStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), { tableName });
  }

  it("an apply interrupted between the state and the history write completes on its retry: one transition, history 'applied'", async () => {
    const submitted = providerEvent("idngo", "submitted", 1, { sessionId: newSession("idngo") });
    const approved = providerEvent("idngo", "approved", 2, { sessionId: submitted.correlationId.slice(6) });
    await store.apply(submitted);
    const crashing = interruptedOnce();
    await expect(crashing.apply(approved)).rejects.toThrow("crashed between the two writes");
    const half = await getVerification(documents, tableName, approved.correlationId);
    expect(half).toMatchObject({ status: "approved", version: 2 });
    expect(half?.history.map((h) => h.eventId)).toEqual([submitted.eventId]);
    // The retry (the record comes back from SQS): no second state write, the history completed.
    expect(await crashing.apply(approved)).toMatchObject({ outcome: "applied", redelivery: false, status: "approved" });
    expect(await store.apply(approved)).toMatchObject({ outcome: "duplicate", redelivery: true });
    const done = await getVerification(documents, tableName, approved.correlationId);
    expect(done).toMatchObject({ status: "approved", version: 2 });
    expect(done?.history.map((h) => [h.eventId, h.outcome])).toEqual([
      [submitted.eventId, "applied"],
      [approved.eventId, "applied"],
    ]);
  });

  it("a stale (eventually consistent) read costs a round: the state write fails on its version, the event is decided again on a consistent read", async () => {
    const sessionId = newSession("idngo");
    const submitted = providerEvent("idngo", "submitted", 1, { sessionId });
    const approved = providerEvent("idngo", "approved", 2, { sessionId });
    await store.apply(submitted);
    const staleImage = (
      await documents.send(new GetCommand({ TableName: tableName, Key: { correlationId: submitted.correlationId, sk: "STATE" } }))
    ).Item;
    await store.apply(providerEvent("idngo", "in_review", 1.5, { sessionId }));
    // The next read of the state answers what it was two writes ago, as a lagging replica could.
    const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
    const reads: boolean[] = [];
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "GetItemCommand") return next(args);
        const consistent = (args.input as { ConsistentRead?: boolean }).ConsistentRead === true;
        reads.push(consistent);
        const result = await next(args);
        // Outside the document client's marshalling: items are plain objects here.
        if (reads.length === 1) (result.output as { Item?: unknown }).Item = staleImage;
        return result;
      },
      { step: "initialize", name: "staleFirstRead" },
    );
    const lagging = dynamoStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), { tableName });
    expect(await lagging.apply(approved)).toMatchObject({ outcome: "applied", previousStatus: "in_review", status: "approved" });
    expect(reads).toEqual([false, true]);
    expect(await getVerification(documents, tableName, approved.correlationId)).toMatchObject({ status: "approved", version: 3 });
  });

  it("a redelivered event never moves the state again, whatever happened since (property, against DynamoDB Local)", async () => {
    await fc.assert(
      fc.asyncProperty(shuffledWithDuplicates([0, 1, 2, 3, 4, 5, 6, 7]), async (order) => {
        const events = rekey(realisticSequence("idngo", newSession("idngo")), randomUUID().slice(0, 8));
        let versionBefore = 0;
        for (const i of order) {
          const event = events[i];
          if (event === undefined) continue;
          const result = await store.apply(event);
          const view = await getVerification(documents, tableName, event.correlationId);
          if (result.redelivery) expect(view?.version).toBe(versionBefore);
          versionBefore = view?.version ?? 0;
        }
        expect((await getVerification(documents, tableName, events[0]?.correlationId ?? ""))?.status).toBe(fold(events)?.status);
      }),
      { numRuns: 10 },
    );
  });
});

describe("concurrency", () => {
  it("the same event delivered concurrently is applied exactly once", async () => {
    const event = providerEvent("idbeyond", "approved", 1, { sessionId: newSession("idbeyond") });
    const results = await Promise.all(Array.from({ length: 6 }, () => store.apply(event)));
    expect(results.filter((r) => !r.redelivery)).toHaveLength(1);
    const view = await getVerification(documents, tableName, event.correlationId);
    expect(view).toMatchObject({ status: "approved", version: 1 });
    expect(view?.history).toHaveLength(1);
  });

  it("different events of one verification applied concurrently end as in-order delivery", async () => {
    const sequence = realisticSequence("idngo", newSession("idngo"));
    // Generous retries: all events race for the same item at once.
    const racing = dynamoStore(documents, { tableName, maxAttempts: 50 });
    await Promise.all(sequence.map((event) => racing.apply(event)));
    const view = await getVerification(documents, tableName, sequence[0]?.correlationId ?? "");
    expect(view?.status).toBe(fold(sequence)?.status);
    expect(view?.history).toHaveLength(sequence.length);
    expect(view?.history.filter((h) => h.outcome === "applied").length).toBeGreaterThanOrEqual(1);
  });
});

describe("property against DynamoDB Local: any permutation with duplicates ends as in-order delivery", () => {
  for (const [provider, lifecycle] of PROVIDER_IDS.flatMap((p) => lifecycles(p, newSession(p)).map((l) => [p, l] as const))) {
    it(`${provider}: ${lifecycle.name} ⇒ ${lifecycle.expected}`, async () => {
      const template = lifecycle.events;
      const expected = fold(template);
      expect(expected?.status).toBe(lifecycle.expected);
      await fc.assert(
        fc.asyncProperty(shuffledWithDuplicates(template.map((_, i) => i)), async (order) => {
          const events = rekey(template, randomUUID().slice(0, 8));
          for (const i of order) {
            const event = events[i];
            if (event) await store.apply(event);
          }
          const view = await getVerification(documents, tableName, events[0]?.correlationId ?? "");
          expect(view?.status).toBe(expected?.status);
          expect(view?.occurredAt).toBe(expected?.occurredAt);
          expect(view?.history).toHaveLength(template.length);
        }),
        { numRuns: 12 },
      );
    });
  }
});

describe("subject index", () => {
  it("lists every verification of one user across providers, newest first, paginated", async () => {
    const user = `u-${randomUUID().slice(0, 8)}`; // NeuroVision clientKeys are at most 36 characters
    const events = (["veriff", "idngo", "idbeyond", "neurovision"] as const).map((p) => ({
      ...providerEvent(p, p === "veriff" ? "approved" : "submitted", 1, { sessionId: newSession(p), userKey: user }),
    }));
    await applyAll(events);
    const first = await listBySubject(documents, tableName, user, { limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.next).not.toBeNull();
    const second = await listBySubject(documents, tableName, user, { limit: 3, cursor: first.next });
    expect(second.items).toHaveLength(1);
    expect([...first.items, ...second.items].map((v) => v.correlationId).sort()).toEqual(events.map((e) => e.correlationId).sort());
    // History items are not in the index: only state items are listed.
    const raw = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE.subjectIndex.name,
        KeyConditionExpression: "subjectKey = :u",
        ExpressionAttributeValues: { ":u": user },
      }),
    );
    expect(raw.Items?.every((item) => item["sk"] === "STATE")).toBe(true);
  });
});

describe("least privilege", () => {
  it("the store needs no DynamoDB action beyond the consumer role's grant", async () => {
    const { tableName: table } = await freshTable();
    const recording = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
    const actions = new Set<string>();
    recording.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TransactItems?: Record<string, unknown>[] };
        if (context.commandName === "TransactWriteItemsCommand") {
          // Authorized per item: Put → PutItem, ConditionCheck → ConditionCheckItem, Update → UpdateItem, Delete → DeleteItem.
          for (const item of input.TransactItems ?? []) for (const kind of Object.keys(item)) actions.add(`dynamodb:${kind}Item`);
        } else {
          actions.add(`dynamodb:${String(context.commandName).replace(/Command$/, "")}`);
        }
        return next(args);
      },
      { step: "initialize", name: "recordActions" },
    );
    const recorded = dynamoStore(DynamoDBDocumentClient.from(recording), { tableName: table });
    const sequence = realisticSequence("idngo", newSession("idngo"));
    for (const event of [...sequence, ...sequence]) await recorded.apply(event); // applied, stale, recorded and redeliveries
    expect([...actions].sort()).toEqual([...CONSUMER_TABLE_ACTIONS].sort());
  });
});
