/** Cold-start floor of the publisher: only the SQS client it needs, created once per container. */
import { SQSClient } from "@aws-sdk/client-sqs";

const client = new SQSClient({});

export const handler = async (): Promise<{ batchItemFailures: never[]; region: unknown }> => ({
  batchItemFailures: [],
  region: client.config.region,
});
