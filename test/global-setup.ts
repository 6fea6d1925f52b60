import type { TestProject } from "vitest/node";
import { startDynamoDbLocal } from "../local/dynamodb.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** Endpoint of the one DynamoDB Local (in memory) shared by the whole run; see test/support/dynamo.ts. */
    dynamoEndpoint: string;
  }
}

/**
 * Starts ONE DynamoDB Local for the whole test run (a JVM takes seconds to start; tables are
 * cheap) and hands its endpoint to the test files through `inject("dynamoEndpoint")`. Test files
 * isolate themselves by creating tables with unique names (`freshTable()`), never by sharing one.
 * Fails the run with an explicit message when Java 17+ is missing.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // vitest.config.ts's `env` reaches the test workers only; this setup runs in the main process.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const dynamo = await startDynamoDbLocal();
  project.provide("dynamoEndpoint", dynamo.endpoint);
  return () => dynamo.stop();
}
