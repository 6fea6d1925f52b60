import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * SQS client for Lambda: created once per container by the entry point that imports this.
 * Short timeouts with a few retries keep the webhook answer well inside providers' limits
 * (IDnGO gives up after 5 s); the endpoint follows AWS_ENDPOINT_URL_SQS when set.
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
}

/**
 * The one DynamoDB document client setup (consumer, read API, local pipeline): over `client`
 * (the local pipeline's DynamoDB Local client), or a new one for Lambda whose endpoint follows
 * AWS_ENDPOINT_URL_DYNAMODB when set. Undefined attributes are dropped, never sent.
 */
export function createDocumentClient(client?: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client ?? new DynamoDBClient({ maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
