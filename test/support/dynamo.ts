import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { inject } from "vitest";
import { createVerificationsTable } from "../../local/dynamodb.js";
import { LOCAL_AWS } from "../../local/sqs.js";

let shared: DynamoDBClient | undefined;

/** The endpoint of the run's DynamoDB Local, for tests that build their own client (e.g. with fault injection). */
export function dynamoEndpoint(): string {
  return inject("dynamoEndpoint");
}

/** One client per test file (worker) against the run's DynamoDB Local (test/global-setup.ts). */
export function dynamoClient(): DynamoDBClient {
  shared ??= new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamoEndpoint() });
  return shared;
}

/**
 * A new, empty `verifications` table (exactly as the stack defines it) under a unique name, so
 * that test files and tests running in parallel against the one DynamoDB Local never share data.
 * Tables are not deleted: DynamoDB Local is in memory and stops with the run.
 */
export async function freshTable(prefix = "verifications"): Promise<{ client: DynamoDBClient; tableName: string }> {
  const client = dynamoClient();
  const tableName = `${prefix}-${randomUUID()}`;
  await createVerificationsTable(client, tableName);
  return { client, tableName };
}
