import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { required } from "../core/config.js";
import { createReadHandler } from "./read.js";

// Once per container. The endpoint follows AWS_ENDPOINT_URL_DYNAMODB when set.
export const handler = createReadHandler({
  documents: DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 })),
  tableName: required(process.env, "TABLE_NAME"),
  logger: new Logger({ serviceName: "kyc-read" }),
});
