import { createHash, randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { dynamoStore } from "../../lambdas/consumer/store.js";
import { TABLE } from "../../lambdas/core/contract.js";
import type { NormalizedEvent, Status } from "../../lambdas/core/event.js";
import { decodeCursor, encodeCursor, InvalidCursor, MAX_CURSOR_LENGTH } from "../../lambdas/read/cursor.js";
import { createReadHandler, READ_ERRORS } from "../../lambdas/read/read.js";
import { MAX_SUBJECT_KEY_BYTES, subjectIndexKey } from "../../lambdas/read/subject-key.js";
import { READER_INDEX_ACTIONS, READER_TABLE_ACTIONS } from "../../lib/settings.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { recordingLogger } from "../support/apigw.js";
import { dynamoEndpoint, freshTable } from "../support/dynamo.js";

type Read = ReturnType<typeof createReadHandler>;
type Logger = ReturnType<typeof recordingLogger>;

let read: Read;
let logger: Logger;
let documents: DynamoDBDocumentClient;
let table: string;
/** DynamoDB requests sent by `read` so far. */
let calls = 0;
const user = `u-${randomUUID().slice(0, 8)}`;
const sessions = Array.from({ length: 5 }, () => randomUUID());

/** What API Gateway hands over for a request path: percent-decoded (left as sent when it cannot be decoded). */
function decodedPath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The event API Gateway builds for a request to `path?query`, as a client sends them. */
function get(path: string, query = "", method = "GET"): APIGatewayProxyEventV2 {
  const rawPath = decodedPath(path);
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath,
    rawQueryString: query,
    headers: {},
    isBase64Encoded: false,
    requestContext: { http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" } },
  } as APIGatewayProxyEventV2;
}

const list = (query: string) => read(get("/verifications", query));
const b64 = (text: string | Buffer) => Buffer.from(text).toString("base64url");
const errorBodies = new Set(Object.values(READ_ERRORS).map((e) => JSON.stringify(e.body)));

/** A client of the run's DynamoDB Local with `middleware` in front of every request. */
function clientWith(middleware: (input: Record<string, unknown>) => void): DynamoDBDocumentClient {
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
  client.middlewareStack.add(
    (next) => async (args) => {
      middleware(args.input as Record<string, unknown>);
      return next(args);
    },
    { step: "initialize", name: "testMiddleware" },
  );
  return DynamoDBDocumentClient.from(client);
}

/** A state item written directly, as the consumer writes it (with `subjectKey = subjectIndexKey(user key)`). */
async function putState(correlationId: string, userKey: string, updatedAt: string, extra: Record<string, unknown> = {}): Promise<void> {
  await documents.send(
    new PutCommand({
      TableName: table,
      Item: {
        [TABLE.partitionKey]: correlationId,
        [TABLE.sortKey]: TABLE.stateSortKey,
        provider: correlationId.slice(0, correlationId.indexOf(":")),
        status: "approved",
        subject: { vendorData: subjectIndexKey(userKey) },
        subjectKey: subjectIndexKey(userKey),
        appliedEventId: null,
        occurredAt: null,
        decision: null,
        createdAt: updatedAt,
        updatedAt,
        statusChangedAt: updatedAt,
        version: 1,
        ...extra,
      },
    }),
  );
}

/** A Veriff event of `sessionId` for `user` (built directly: these tests are about reading, not providers). */
function veriffEvent(sessionId: string, status: Status, minute: number): NormalizedEvent {
  return {
    specVersion: "1",
    eventId: `veriff:${sessionId}:${status}`,
    correlationId: `veriff:${sessionId}`,
    provider: "veriff",
    providerEventType: `decision:${status}`,
    status,
    occurredAt: new Date(Date.UTC(2026, 10, 1, 10, minute)).toISOString(),
    receivedAt: "2026-11-01T11:00:00.000Z",
    subject: { vendorData: user },
    decision: null,
    attemptId: null,
    sandbox: false,
  };
}

/** Every page of `subject` with `limit`, following `next`. */
async function pageThrough(subject: string, limit: number): Promise<{ ids: string[]; cursors: string[] }> {
  const ids: string[] = [];
  const cursors: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = `subject=${encodeURIComponent(subject)}&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const res = await list(query);
    expect(res.statusCode).toBe(200);
    const page = JSON.parse(res.body) as { subject: string; items: { correlationId: string }[]; next: string | null };
    expect(page.subject).toBe(subject);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.items.map((i) => i.correlationId));
    cursor = page.next;
    if (cursor !== null) cursors.push(cursor);
  } while (cursor !== null && cursors.length < 20);
  return { ids, cursors };
}

beforeAll(async () => {
  const { client, tableName } = await freshTable();
  documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const store = dynamoStore(documents, { tableName });
  for (const sessionId of sessions) {
    await store.apply(veriffEvent(sessionId, "submitted", 0));
    await store.apply(veriffEvent(sessionId, "approved", 5));
  }
  table = tableName;
  logger = recordingLogger();
  read = createReadHandler({ documents: clientWith(() => (calls += 1)), tableName, logger });
});

describe("read routes", () => {
  it("GET /verifications/{correlationId} answers the verification with its history (id URL-encoded or not)", async () => {
    for (const path of [`/verifications/veriff:${sessions[0]}`, `/verifications/veriff%3A${sessions[0]}`]) {
      const res = await read(get(path));
      expect(res.statusCode).toBe(200);
      const body = JSON.parse(res.body) as { status: string; history: { outcome: string }[]; subject: Record<string, string> };
      expect(body).toMatchObject({ correlationId: `veriff:${sessions[0]}`, status: "approved", subject: { vendorData: user } });
      expect(body.history.map((h) => h.outcome)).toEqual(["applied", "applied"]);
    }
  });

  it("reads the id from rawPath as API Gateway decoded it, never decoding it again (an id may hold a `%`)", async () => {
    const withPercent = `veriff:${sessions[1]}%41`;
    const decodedTwice = `veriff:${sessions[1]}A`;
    await putState(withPercent, "percent-user", "2026-11-22T10:00:00.000Z", { status: "approved" });
    await putState(decodedTwice, "percent-user", "2026-11-22T10:00:00.000Z", { status: "rejected" });
    for (const path of [`/verifications/${encodeURIComponent(withPercent)}`, `/verifications/veriff:${sessions[1]}%2541`]) {
      const res = await read(get(path));
      expect(res.statusCode).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ correlationId: withPercent, status: "approved" });
    }
  });

  it("answers 404 for an unknown verification or path, 405 for another method", async () => {
    expect((await read(get("/verifications/veriff:nope"))).statusCode).toBe(404);
    expect((await read(get("/verifications/a/b"))).statusCode).toBe(404);
    expect((await read(get("/verifications", `subject=${user}`, "POST"))).statusCode).toBe(405);
  });

  it("GET /verifications?subject= pages through every verification of the user exactly once", async () => {
    for (const limit of [1, 2, 100]) {
      const { ids, cursors } = await pageThrough(user, limit);
      expect(ids.sort()).toEqual(sessions.map((s) => `veriff:${s}`).sort());
      // DynamoDB returns a next key whenever a page is full: 5 items by 1 → 5 cursors, by 2 → 2.
      expect(cursors.length).toBe({ 1: 5, 2: 2, 100: 0 }[limit]);
      // A cursor is exactly the index's key attributes, strings only.
      for (const cursor of cursors) {
        const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
        expect(Object.keys(key).sort()).toEqual(["correlationId", "createdAt", "sk", "subjectKey"]);
        expect(key).toMatchObject({ sk: "STATE", subjectKey: user });
      }
    }
  });

  it("answers 400 without a subject, with a bad limit or a bad cursor", async () => {
    expect((await read(get("/verifications"))).statusCode).toBe(400);
    expect((await read(get("/verifications/veriff%E0%A4%A"))).statusCode).toBe(404); // no id (undecodable: the local server answers 400)
    for (const limit of ["0", "101", "2.5", "x"]) expect((await list(`subject=${user}&limit=${limit}`)).statusCode).toBe(400);
    expect((await list(`subject=${user}&cursor=not-a-cursor`)).statusCode).toBe(400);
    const foreign = b64(JSON.stringify({ correlationId: "x", sk: "STATE" }));
    expect((await list(`subject=${user}&cursor=${foreign}`)).statusCode).toBe(400);
  });

  it("answers an empty list for a user without verifications", async () => {
    const res = await list("subject=nobody");
    expect(JSON.parse(res.body)).toEqual({ subject: "nobody", items: [], next: null });
  });

  it("carries sandbox in the view and the summaries: false when the item lacks it", async () => {
    const sandboxUser = `sandbox-${randomUUID()}`;
    await putState(`veriff:sandbox-${randomUUID()}`, sandboxUser, "2026-11-01T10:00:00.000Z", { sandbox: true });
    await putState(`veriff:legacy-${randomUUID()}`, sandboxUser, "2026-11-01T09:00:00.000Z");
    const page = JSON.parse((await list(`subject=${sandboxUser}`)).body) as { items: { correlationId: string; sandbox: boolean }[] };
    expect(page.items.map((i) => [i.correlationId.split("-")[0], i.sandbox])).toEqual([
      ["veriff:sandbox", true],
      ["veriff:legacy", false],
    ]);
    for (const item of page.items) {
      const view = JSON.parse((await read(get(`/verifications/${encodeURIComponent(item.correlationId)}`))).body) as { sandbox: boolean };
      expect(view.sandbox).toBe(item.sandbox);
    }
    const fromConsumer = JSON.parse((await read(get(`/verifications/veriff:${sessions[0]}`))).body) as { sandbox: unknown };
    expect(fromConsumer.sandbox).toBe(false);
  });
});

describe("bad input is a 4xx decided before DynamoDB is called, never a 500", () => {
  async function expectRefused(event: APIGatewayProxyEventV2, expected: (typeof READ_ERRORS)[keyof typeof READ_ERRORS]) {
    const before = calls;
    const res = await read(event);
    expect({ status: res.statusCode, body: JSON.parse(res.body) as unknown }).toEqual({ status: expected.statusCode, body: expected.body });
    expect(calls).toBe(before);
  }

  it("an id that can't be a correlationId is 404 (over 2,048 bytes, over 128 characters, not printable ASCII, unknown provider, undecodable)", async () => {
    for (const id of [
      "a".repeat(3000), // was a 500: DynamoDB refuses a partition key over 2,048 bytes
      `veriff:${"%C3%A9".repeat(400)}`,
      `veriff:${"x".repeat(122)}`, // 129 characters
      "veriff:%C3%A9",
      "veriff:a%20b",
      "veriff:a%00",
      "veriff:a%7F",
      "unknown:abc",
      "veriff:",
      "veriff",
      "%20",
    ]) {
      await expectRefused(get(`/verifications/${id}`), READ_ERRORS.verificationNotFound);
    }
    // Should API Gateway ever hand one over undecoded, it is no id either (the local server answers 400).
    for (const id of ["veriff%E0%A4%A", "%ED%A0%80", "%", "%C0%AF"]) {
      await expectRefused(get(`/verifications/${id}`), READ_ERRORS.verificationNotFound);
    }
    // 128 characters is still an id: DynamoDB is asked.
    const before = calls;
    expect((await read(get(`/verifications/veriff:${"x".repeat(121)}`))).statusCode).toBe(404);
    expect(calls).toBeGreaterThan(before);
  });

  it("a subject that is missing, empty, not validly encoded or with a lone surrogate is 400; so is a repeated parameter", async () => {
    await expectRefused(get("/verifications", ""), READ_ERRORS.subjectRequired);
    await expectRefused(get("/verifications", "subject="), READ_ERRORS.subjectRequired);
    await expectRefused(get("/verifications", "limit=5"), READ_ERRORS.subjectRequired);
    await expectRefused(get("/verifications", "subject=a\ud800"), READ_ERRORS.badSubject);
    await expectRefused(get("/verifications", "subject=\udc00"), READ_ERRORS.badSubject);
    for (const query of [
      "subject=%ED%A0%80",
      "subject=%zz",
      "subject=%",
      "subject=%FF",
      "x=%E0&subject=a",
      `subject=${user}&subject=other`,
      `subject=${user}&limit=1&limit=2`,
      `subject=${user}&cursor=a&cursor=b`,
    ]) {
      await expectRefused(get("/verifications", query), READ_ERRORS.badQuery);
    }
  });

  it("limit is a canonical whole number 1..100: 1e400, -0, 5.0, 0x10, huge values are 400", async () => {
    for (const limit of [
      "0",
      "101",
      "2.5",
      "x",
      "1e400",
      "1e2",
      "-0",
      "-1",
      "5.0",
      "0x10",
      "+5",
      "05",
      "%205",
      "5%20",
      "",
      "Infinity",
      "NaN",
      "1".repeat(400),
      "9007199254740993",
    ]) {
      await expectRefused(get("/verifications", `subject=${user}&limit=${limit}`), READ_ERRORS.badLimit);
    }
    for (const limit of ["1", "100"]) expect((await list(`subject=${user}&limit=${limit}`)).statusCode).toBe(200);
  });

  it("a cursor that is not exactly one listBySubject produced for this subject is 400 invalid cursor", async () => {
    const { cursors } = await pageThrough(user, 2);
    const valid = cursors[0] ?? "";
    const key = decodeCursor(valid, user);
    const json = (text: string) => b64(text);
    const keyJson = (fields: Record<string, unknown>) => json(JSON.stringify(fields));
    const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);
    const bad: Record<string, string> = {
      "not base64url": "!!!",
      spaces: "not a cursor",
      padded: `${valid}==`,
      "garbage bytes": "not-a-cursor",
      "invalid UTF-8": b64(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])),
      "not JSON": json("hello"),
      "a JSON array": json("[]"),
      "a JSON string": json('"x"'),
      "a JSON number": json("1e400"),
      "JSON null": json("null"),
      "an empty object": json("{}"),
      "a missing key": keyJson({ correlationId: key.correlationId, sk: key.sk, subjectKey: key.subjectKey }),
      "an extra key": keyJson({ ...key, extra: "x" }),
      "a __proto__ key": json(
        `{"correlationId":"${key.correlationId}","sk":"STATE","subjectKey":"${user}","createdAt":"${key.createdAt}","__proto__":{}}`,
      ),
      "1e400 (was a 500)": json(`{"correlationId":1e400,"sk":"STATE","subjectKey":"${user}","createdAt":"${key.createdAt}"}`),
      "an integer above 2^53 (was a 500)": json(
        `{"correlationId":"${key.correlationId}","sk":"STATE","subjectKey":"${user}","createdAt":9007199254740993}`,
      ),
      "a null value": keyJson({ ...key, createdAt: null }),
      "an object value": keyJson({ ...key, correlationId: { S: key.correlationId } }),
      "nested 3,000 deep (was a 500)": json(
        `{"correlationId":${nested(3000)},"sk":"STATE","subjectKey":"${user}","createdAt":"${key.createdAt}"}`,
      ),
      "nested 1,000 deep": json(`{"correlationId":${nested(1000)},"sk":"STATE","subjectKey":"${user}","createdAt":"${key.createdAt}"}`),
      "too long": "A".repeat(MAX_CURSOR_LENGTH + 1),
      whitespace: json(JSON.stringify(key, null, 1)),
      "another key order": keyJson({ sk: key.sk, correlationId: key.correlationId, subjectKey: key.subjectKey, createdAt: key.createdAt }),
      "a duplicate key": json(
        `{"correlationId":"x","correlationId":"${key.correlationId}","sk":"STATE","subjectKey":"${user}","createdAt":"${key.createdAt}"}`,
      ),
      "escaped characters": json(JSON.stringify(key).replace("STATE", "\\u0053TATE")),
      "another subject's cursor": encodeCursor({ ...key, subjectKey: "someone-else" }),
      "a history sort key": encodeCursor({ ...key, sk: "EVENT#x" }),
      "a correlationId that can't be one": encodeCursor({ ...key, correlationId: "nope" }),
      "an createdAt that is not an instant": encodeCursor({ ...key, createdAt: "yesterday" }),
    };
    for (const [name, cursor] of Object.entries(bad)) {
      const before = calls;
      const res = await list(`subject=${user}&cursor=${cursor}`);
      expect({ name, status: res.statusCode, body: res.body }).toEqual({
        name,
        status: 400,
        body: JSON.stringify(READ_ERRORS.badCursor.body),
      });
      expect(calls, name).toBe(before);
    }
    // The valid cursor is used with another subject: refused, it is bound to its subject.
    await expectRefused(get("/verifications", `subject=other&cursor=${valid}`), READ_ERRORS.badCursor);
    // An empty cursor is no cursor: the first page.
    expect((await list(`subject=${user}&limit=2&cursor=`)).statusCode).toBe(200);
  });

  it("decodeCursor accepts only the canonical base64url of a key (no alternative trailing bits)", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let checked = 0;
    for (let n = 1; n <= 3; n += 1) {
      const key = { correlationId: `veriff:${"x".repeat(n)}`, sk: "STATE", subjectKey: user, createdAt: "2026-11-01T10:00:00.000Z" };
      const cursor = encodeCursor(key);
      expect(decodeCursor(cursor, user)).toEqual(key);
      const bytes = Buffer.from(cursor, "base64url");
      for (const c of alphabet) {
        const variant = cursor.slice(0, -1) + c;
        if (variant === cursor || !Buffer.from(variant, "base64url").equals(bytes)) continue;
        expect(() => decodeCursor(variant, user)).toThrow(InvalidCursor);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });
});

describe("long subjects are looked up by their index key", () => {
  it("subjectIndexKey keeps 512 UTF-8 bytes, digests longer values, and is idempotent", () => {
    expect(subjectIndexKey("a".repeat(MAX_SUBJECT_KEY_BYTES))).toBe("a".repeat(MAX_SUBJECT_KEY_BYTES));
    expect(subjectIndexKey("é".repeat(256))).toBe("é".repeat(256)); // 512 bytes
    expect(subjectIndexKey("€".repeat(171))).toMatch(/^sha256:[0-9a-f]{64}$/); // 513 bytes
    expect(subjectIndexKey("a".repeat(513))).toBe(`sha256:${createHash("sha256").update("a".repeat(513)).digest("hex")}`);
    expect(subjectIndexKey("a\ud800")).toBe("a\ufffd");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 300 }),
          fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 600 }),
          fc.nat(1200).map((n) => "é".repeat(n)),
        ),
        (value) => {
          const key = subjectIndexKey(value);
          expect(Buffer.byteLength(key, "utf8")).toBeLessThanOrEqual(MAX_SUBJECT_KEY_BYTES);
          // Idempotent: a key already bounded (as the consumer stores it) maps to itself.
          expect(subjectIndexKey(key)).toBe(key);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a subject over 512 bytes finds the verification stored under its digest, and pages through it", async () => {
    const long = `user-${"é".repeat(600)}-${randomUUID()}`; // about 1,240 UTF-8 bytes
    const ids = [`idngo:long-1-${randomUUID()}`, `idngo:long-2-${randomUUID()}`, `idngo:long-3-${randomUUID()}`];
    for (const [i, id] of ids.entries()) await putState(id, long, `2026-11-01T10:0${i}:00.000Z`);
    const res = JSON.parse((await list(`subject=${encodeURIComponent(long)}`)).body) as {
      subject: string;
      items: { correlationId: string }[];
    };
    expect(res.subject).toBe(long);
    expect(res.items.map((i) => i.correlationId)).toEqual([...ids].reverse());
    const paged = await pageThrough(long, 1);
    expect(paged.ids).toEqual([...ids].reverse());
    for (const cursor of paged.cursors) {
      expect(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))).toMatchObject({ subjectKey: subjectIndexKey(long) });
    }
    // 4,000 bytes (was a 500: over DynamoDB's 2,048-byte key limit): an empty list.
    const huge = "z".repeat(4000);
    expect(JSON.parse((await list(`subject=${huge}`)).body)).toEqual({ subject: huge, items: [], next: null });
  });

  it("the longest cursor (128-character id of escaped characters, 512 bytes of control characters) round-trips within the bound", async () => {
    const subject = "\u0001".repeat(MAX_SUBJECT_KEY_BYTES);
    const ids = [`veriff:${'"\\'.repeat(60)}a`, `veriff:${'"\\'.repeat(60)}b`];
    for (const id of ids) expect(id).toHaveLength(128);
    for (const [i, id] of ids.entries()) await putState(id, subject, `2026-11-01T10:0${i}:00.000Z`);
    const { ids: seen, cursors } = await pageThrough(subject, 1);
    expect(seen).toEqual([...ids].reverse());
    expect(cursors.length).toBeGreaterThan(0);
    for (const cursor of cursors) {
      expect(cursor.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
      expect(cursor.length).toBeGreaterThan(MAX_CURSOR_LENGTH - 16);
    }
    const view = await read(get(`/verifications/${encodeURIComponent(ids[0] ?? "")}`));
    expect(view.statusCode).toBe(200);
  });
});

describe("any input: 200, 400 or 404, never a 500, never echoed", () => {
  const anyText = fc.oneof(
    fc.string({ unit: "binary" }),
    fc.string({ unit: "grapheme-ascii" }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), // lone surrogates too
    fc.nat(5000).map((n) => "a".repeat(n)),
    fc.constantFrom(
      "1e400",
      "-0",
      "5.0",
      "0x10",
      "9".repeat(400),
      "9007199254740993",
      "veriff:abc",
      "%",
      "%ED%A0%80",
      "+",
      "&",
      "=",
      "STATE",
    ),
  );
  /** The text as it could reach us in a URL: percent-encoded, raw, or arbitrary %XX bytes. */
  const inUrl = fc.oneof(
    anyText.map((s) => (/\p{Cs}/u.test(s) ? s : encodeURIComponent(s))),
    anyText,
    fc.uint8Array({ maxLength: 40 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("")),
  );
  const nested = fc.nat(4000).map((n) => "[".repeat(n) + "]".repeat(n));
  const cursor = fc.oneof(
    inUrl,
    fc.json().map(b64),
    nested.map(b64),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => b64(Buffer.from(bytes))),
    fc
      .record(
        { correlationId: fc.jsonValue(), sk: fc.jsonValue(), subjectKey: fc.jsonValue(), createdAt: fc.jsonValue() },
        { requiredKeys: [] },
      )
      .map((key) => b64(JSON.stringify(key))),
    fc
      .record({ correlationId: anyText, createdAt: anyText })
      .map((k) => encodeCursor({ correlationId: k.correlationId, sk: "STATE", subjectKey: user, createdAt: k.createdAt })),
  );
  const listQuery = fc
    .record(
      {
        subject: fc.oneof(inUrl, fc.constant(user)),
        limit: fc.oneof(inUrl, fc.integer().map(String), fc.double().map(String)),
        cursor,
      },
      { requiredKeys: [] },
    )
    .map((q) =>
      Object.entries(q)
        .map(([name, value]) => `${name}=${value}`)
        .join("&"),
    );
  const request = fc.oneof(
    // A well-formed listing too, so that every run reaches DynamoDB and a 200, whatever else it draws.
    fc.constant({ path: "/verifications", query: `subject=${user}` }),
    inUrl.map((id) => ({ path: `/verifications/${id}`, query: "" })),
    inUrl.map((id) => ({ path: `/verifications/veriff:${id}`, query: "" })),
    listQuery.map((query) => ({ path: "/verifications", query })),
    fc.tuple(anyText, anyText).map(([path, query]) => ({ path, query })),
  );

  it("answers every request with 200, 400 or 404; error bodies are fixed texts; nothing is logged as an error", async () => {
    const lines = logger.lines.length;
    const before = calls;
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(request, async ({ path, query }) => {
        const res = await read(get(path, query));
        statuses.add(res.statusCode);
        expect([200, 400, 404]).toContain(res.statusCode);
        const body = JSON.parse(res.body) as Record<string, unknown>;
        if (res.statusCode === 200) {
          // The only request value a 200 carries is the subject the caller listed, by contract.
          if ("items" in body) expect(Object.keys(body).sort()).toEqual(["items", "next", "subject"]);
          else expect(typeof body["correlationId"]).toBe("string");
        } else {
          expect(errorBodies).toContain(res.body);
          for (const value of [path, query]) if (value.length >= 12) expect(res.body).not.toContain(value);
        }
      }),
      { numRuns: 400 },
    );
    // The inputs reached every outcome, DynamoDB included (not only the early refusals).
    expect([...statuses].sort()).toEqual([200, 400, 404]);
    expect(calls).toBeGreaterThan(before);
    expect(logger.lines.slice(lines).filter((line) => (JSON.parse(line) as { level: string }).level === "error")).toEqual([]);
  });
});

describe("unexpected failures", () => {
  it("an unexpected DynamoDB failure is logged by error name, without the request's values, and answered 500", async () => {
    const failing = recordingLogger();
    const documents = clientWith((input) => {
      // An SDK-style message quoting what it was sent: the log must not carry it.
      throw Object.assign(new Error(`cannot serve ${JSON.stringify(input)}`), { name: "InternalServerError" });
    });
    const handler = createReadHandler({ documents, tableName: table, logger: failing });
    const secretId = `veriff:${randomUUID()}`;
    const secretSubject = `subject-${randomUUID()}`;
    const cursor = encodeCursor({ correlationId: secretId, sk: "STATE", subjectKey: secretSubject, createdAt: "2026-11-01T10:00:00.000Z" });
    for (const event of [get(`/verifications/${secretId}`), get("/verifications", `subject=${secretSubject}&cursor=${cursor}`)]) {
      const res = await handler(event);
      expect(res).toMatchObject({ statusCode: 500, body: JSON.stringify({ error: "internal error" }) });
    }
    expect(failing.lines).toHaveLength(2);
    for (const line of failing.lines) {
      expect(JSON.parse(line)).toMatchObject({ level: "error", message: "read failed", error: "InternalServerError" });
      expect((JSON.parse(line) as { errorMessage: string }).errorMessage).toContain("[redacted]");
      for (const value of [secretId, secretSubject, cursor, secretId.slice("veriff:".length)]) expect(line).not.toContain(value);
    }
  });

  it("DynamoDB refusing a key (ValidationException) is a 400, logged as a warning without values", async () => {
    const warned = recordingLogger();
    const documents = clientWith(() => {
      throw Object.assign(new Error("The provided key element does not match the schema"), { name: "ValidationException" });
    });
    const handler = createReadHandler({ documents, tableName: table, logger: warned });
    const cursor = encodeCursor({ correlationId: "veriff:x", sk: "STATE", subjectKey: user, createdAt: "2026-11-01T10:00:00.000Z" });
    expect(await handler(get("/verifications/veriff:x"))).toMatchObject({ statusCode: 400, body: JSON.stringify(READ_ERRORS.badKey.body) });
    expect(await handler(get("/verifications", `subject=${user}`))).toMatchObject({
      statusCode: 400,
      body: JSON.stringify(READ_ERRORS.badKey.body),
    });
    expect(await handler(get("/verifications", `subject=${user}&cursor=${cursor}`))).toMatchObject({
      statusCode: 400,
      body: JSON.stringify(READ_ERRORS.badCursor.body),
    });
    expect(warned.lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { level: "warn", message: "read refused by DynamoDB", error: "ValidationException" },
      { level: "warn", message: "read refused by DynamoDB", error: "ValidationException" },
    ]);
  });
});

describe("least privilege", () => {
  it("the read routes need no DynamoDB action beyond the read role's grant", async () => {
    const recording = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
    const onTable = new Set<string>();
    const onIndex = new Set<string>();
    recording.middlewareStack.add(
      (next, context) => async (args) => {
        const action = `dynamodb:${String(context.commandName).replace(/Command$/, "")}`;
        ((args.input as { IndexName?: string }).IndexName ? onIndex : onTable).add(action);
        return next(args);
      },
      { step: "initialize", name: "recordActions" },
    );
    const recorded = createReadHandler({ documents: DynamoDBDocumentClient.from(recording), tableName: table, logger: recordingLogger() });
    expect((await recorded(get(`/verifications/veriff:${sessions[0]}`))).statusCode).toBe(200);
    expect((await recorded(get("/verifications", `subject=${user}&limit=2`))).statusCode).toBe(200);
    expect([...onTable].sort()).toEqual([...READER_TABLE_ACTIONS].sort());
    expect([...onIndex].sort()).toEqual([...READER_INDEX_ACTIONS].sort());
  });
});
