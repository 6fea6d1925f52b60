import { randomUUID } from "node:crypto";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { beforeAll, describe, expect, it } from "vitest";
import { dynamoStore } from "../../lambdas/consumer/store.js";
import { createReadHandler } from "../../lambdas/read/read.js";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { READER_INDEX_ACTIONS, READER_TABLE_ACTIONS } from "../../lib/settings.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { dynamoEndpoint, freshTable } from "../support/dynamo.js";
import { providerEvent } from "../support/scenarios.js";

let read: ReturnType<typeof createReadHandler>;
let table: string;
const user = `u-${randomUUID().slice(0, 8)}`;
const sessions = Array.from({ length: 5 }, () => randomUUID());

function get(path: string, query = "", method = "GET"): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: query,
    headers: {},
    isBase64Encoded: false,
    requestContext: { http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" } },
  } as APIGatewayProxyEventV2;
}

beforeAll(async () => {
  const { client, tableName } = await freshTable();
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const store = dynamoStore(documents, { tableName });
  for (const sessionId of sessions) {
    await store.apply(providerEvent("veriff", "submitted", 0, { sessionId, userKey: user }));
    await store.apply(providerEvent("veriff", "approved", 5, { sessionId, userKey: user }));
  }
  read = createReadHandler({ documents, tableName });
  table = tableName;
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

  it("answers 404 for an unknown verification or path, 405 for another method", async () => {
    expect((await read(get("/verifications/veriff:nope"))).statusCode).toBe(404);
    expect((await read(get("/verifications/a/b"))).statusCode).toBe(404);
    expect((await read(get("/verifications", `subject=${user}`, "POST"))).statusCode).toBe(405);
  });

  it("GET /verifications?subject= pages through every verification of the user exactly once", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `subject=${encodeURIComponent(user)}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await read(get("/verifications", query));
      expect(res.statusCode).toBe(200);
      const page = JSON.parse(res.body) as { items: { correlationId: string }[]; next: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((i) => i.correlationId));
      cursor = page.next;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(seen.sort()).toEqual(sessions.map((s) => `veriff:${s}`).sort());
  });

  it("answers 400 without a subject, with a bad limit or a bad cursor", async () => {
    expect((await read(get("/verifications"))).statusCode).toBe(400);
    expect((await read(get("/verifications/veriff%E0%A4%A"))).statusCode).toBe(400);
    for (const limit of ["0", "101", "2.5", "x"]) expect((await read(get("/verifications", `subject=${user}&limit=${limit}`))).statusCode).toBe(400);
    expect((await read(get("/verifications", `subject=${user}&cursor=not-a-cursor`))).statusCode).toBe(400);
    const foreign = Buffer.from(JSON.stringify({ correlationId: "x", sk: "STATE" })).toString("base64url");
    expect((await read(get("/verifications", `subject=${user}&cursor=${foreign}`))).statusCode).toBe(400);
  });

  it("answers an empty list for a user without verifications", async () => {
    const res = await read(get("/verifications", "subject=nobody"));
    expect(JSON.parse(res.body)).toEqual({ subject: "nobody", items: [], next: null });
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
    const recorded = createReadHandler({ documents: DynamoDBDocumentClient.from(recording), tableName: table });
    expect((await recorded(get(`/verifications/veriff:${sessions[0]}`))).statusCode).toBe(200);
    expect((await recorded(get("/verifications", `subject=${user}&limit=2`))).statusCode).toBe(200);
    expect([...onTable].sort()).toEqual([...READER_TABLE_ACTIONS].sort());
    expect([...onIndex].sort()).toEqual([...READER_INDEX_ACTIONS].sort());
  });
});
