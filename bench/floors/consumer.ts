/** Cold-start floor of the consumer: only the DynamoDB client it needs, created once per container. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({});

export const handler = async (): Promise<{ batchItemFailures: never[]; region: unknown }> => ({
  batchItemFailures: [],
  region: client.config.region,
});
