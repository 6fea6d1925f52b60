import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { required } from "../core/config.js";
import { createConsumerHandler } from "./consumer.js";
import { dynamoStore } from "./store.js";

// Once per container: clients, configuration. The endpoint follows AWS_ENDPOINT_URL_DYNAMODB when set.
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({ maxAttempts: 3 }), {
  marshallOptions: { removeUndefinedValues: true },
});

export const handler = createConsumerHandler({
  store: dynamoStore(documents, { tableName: required(process.env, "TABLE_NAME") }),
  logger: new Logger({ serviceName: "kyc-consumer" }),
});
