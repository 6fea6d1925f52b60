/** Cold-start floor of the read API: only the DynamoDB client it needs, created once per container. */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({});

export const handler = async (): Promise<{ statusCode: number; region: unknown }> => ({ statusCode: 200, region: client.config.region });
