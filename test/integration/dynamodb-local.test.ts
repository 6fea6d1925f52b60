import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
} from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, it } from "vitest";
import { TABLE } from "../../lambdas/core/contract.js";
import { parseJavaMajorVersion } from "../../local/dynamodb.js";
import { freshTable } from "../support/dynamo.js";

let client: DynamoDBClient;
let tableName: string;

beforeAll(async () => {
  ({ client, tableName } = await freshTable());
});

const state = (correlationId: string) => ({ correlationId: { S: correlationId }, sk: { S: TABLE.stateSortKey } });
const getState = async (correlationId: string) =>
  (await client.send(new GetItemCommand({ TableName: tableName, Key: state(correlationId), ConsistentRead: true }))).Item;

describe("DynamoDB Local (one per run, from test/global-setup.ts)", () => {
  it("creates the verifications table as the stack defines it: keys, on-demand, the keys-only subject and pending indexes", async () => {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.TableStatus).toBe("ACTIVE");
    expect(Table?.KeySchema).toEqual([
      { AttributeName: "correlationId", KeyType: "HASH" },
      { AttributeName: "sk", KeyType: "RANGE" },
    ]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe("PAY_PER_REQUEST");
    expect(Table?.AttributeDefinitions?.map((d) => `${d.AttributeName}:${d.AttributeType}`).sort()).toEqual([
      "correlationId:S",
      "createdAt:S",
      "pendingKey:S",
      "pendingSince:S",
      "sk:S",
      "subjectKey:S",
    ]);
    // DescribeTable lists the indexes in no particular order.
    const indexes = [...(Table?.GlobalSecondaryIndexes ?? [])].sort((a, b) => String(b.IndexName).localeCompare(String(a.IndexName)));
    expect(indexes).toHaveLength(2);
    expect(indexes[0]).toMatchObject({
      IndexName: "bySubjectCreated",
      IndexStatus: "ACTIVE",
      KeySchema: [
        { AttributeName: "subjectKey", KeyType: "HASH" },
        { AttributeName: "createdAt", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "KEYS_ONLY" },
    });
    expect(indexes[1]).toMatchObject({
      IndexName: "byPendingSince",
      IndexStatus: "ACTIVE",
      KeySchema: [
        { AttributeName: "pendingKey", KeyType: "HASH" },
        { AttributeName: "pendingSince", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "KEYS_ONLY" },
    });
    expect(Table?.LocalSecondaryIndexes).toBeUndefined();
  });

  it("gives every caller its own table: a second freshTable() is another, empty table", async () => {
    const other = await freshTable();
    expect(other.tableName).not.toBe(tableName);
    await client.send(new PutItemCommand({ TableName: tableName, Item: { ...state("isolation"), status: { S: "created" } } }));
    const seen = await other.client.send(new GetItemCommand({ TableName: other.tableName, Key: state("isolation") }));
    expect(seen.Item).toBeUndefined();
  });

  it("lists state items of a subject through the subject index, oldest first", async () => {
    for (const [id, createdAt] of [
      ["gsi:b", "2026-11-22T10:00:02.000Z"],
      ["gsi:a", "2026-11-22T10:00:01.000Z"],
    ] as const) {
      await client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...state(id), subjectKey: { S: "subject-gsi" }, createdAt: { S: createdAt } },
        }),
      );
    }
    const { Items } = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE.subjectIndex.name,
        KeyConditionExpression: "subjectKey = :s",
        ExpressionAttributeValues: { ":s": { S: "subject-gsi" } },
      }),
    );
    expect(Items?.map((i) => i["correlationId"]?.S)).toEqual(["gsi:a", "gsi:b"]);
  });

  it("rejects a second conditional put (attribute_not_exists) with ConditionalCheckFailedException", async () => {
    const put = (status: string) =>
      client.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { ...state("cond:1"), status: { S: status } },
          ConditionExpression: "attribute_not_exists(correlationId)",
        }),
      );
    await put("created");
    await expect(put("approved")).rejects.toBeInstanceOf(ConditionalCheckFailedException);
    expect((await getState("cond:1"))?.["status"]).toEqual({ S: "created" });
  });

  it("writes nothing from a TransactWriteItems whose condition fails", async () => {
    await client.send(
      new PutItemCommand({ TableName: tableName, Item: { ...state("tx:1"), status: { S: "created" }, version: { N: "1" } } }),
    );
    const transaction = new TransactWriteItemsCommand({
      TransactItems: [
        {
          // The history item would be new, but its sibling's optimistic lock is stale.
          Put: {
            TableName: tableName,
            Item: { correlationId: { S: "tx:1" }, sk: { S: `${TABLE.eventSortKeyPrefix}e-2` }, outcome: { S: "applied" } },
            ConditionExpression: "attribute_not_exists(sk)",
          },
        },
        {
          Update: {
            TableName: tableName,
            Key: state("tx:1"),
            UpdateExpression: "SET #status = :s, version = :next",
            ConditionExpression: "version = :expected",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: { ":s": { S: "approved" }, ":next": { N: "3" }, ":expected": { N: "2" } },
          },
        },
      ],
    });
    const error: unknown = await client.send(transaction).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TransactionCanceledException);
    expect((error as TransactionCanceledException).CancellationReasons?.map((r) => r.Code)).toEqual(["None", "ConditionalCheckFailed"]);
    expect(await getState("tx:1")).toEqual({ ...state("tx:1"), status: { S: "created" }, version: { N: "1" } });
    const history = await client.send(
      new GetItemCommand({ TableName: tableName, Key: { correlationId: { S: "tx:1" }, sk: { S: `${TABLE.eventSortKeyPrefix}e-2` } } }),
    );
    expect(history.Item).toBeUndefined();
  });
});

describe("Java check", () => {
  it.each([
    ['openjdk version "17.0.15" 2025-04-15', 17],
    ['openjdk version "21" 2023-09-19', 21],
    ['java version "1.8.0_292"', 8],
    ['openjdk version "11.0.2" 2019-01-15', 11],
    ["bash: java: command not found", undefined],
  ])("reads the major version of %j", (output, major) => {
    expect(parseJavaMajorVersion(output)).toBe(major);
  });
});
