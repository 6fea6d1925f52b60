import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";

/**
 * The one DynamoDB document client setup (consumer, read API, local pipeline): over `client`
 * (the local pipeline's DynamoDB Local client), or a new one for Lambda whose endpoint follows
 * AWS_ENDPOINT_URL_DYNAMODB when set. Undefined attributes are dropped, never sent. A module of
 * its own, so that a bundle that needs no DynamoDB client does not load one.
 */
export function createDocumentClient(client?: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client ?? new DynamoDBClient({ maxAttempts: 3 }), {
    marshallOptions: { removeUndefinedValues: true },
  });
}
