import { SQSClient } from "@aws-sdk/client-sqs";

/**
 * SQS client for Lambda: created once per container by the entry point that imports this.
 * Short timeouts with a few retries keep the webhook answer well inside providers' limits
 * (IDnGO gives up after 5 s); the endpoint follows AWS_ENDPOINT_URL_SQS when set. A module of
 * its own, so that a bundle that needs no DynamoDB client does not load one.
 */
export function createSqsClient(): SQSClient {
  return new SQSClient({
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
}
