/**
 * A process that starts DynamoDB Local and then only waits: test/e2e/dynamodb-watchdog.test.ts
 * kills it with SIGKILL (no handler can run) and checks that the JVM does not stay behind.
 */
import { startDynamoDbLocal } from "../../local/dynamodb.js";

const dynamo = await startDynamoDbLocal();
process.stdout.write(`jvm=${dynamo.pid} endpoint=${dynamo.endpoint}\n`);
setInterval(() => undefined, 60_000); // stay alive until killed
