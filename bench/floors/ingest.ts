/**
 * Cold-start floor of an ingest function: only the SDK clients it needs (SQS to enqueue, Secrets
 * Manager for its webhook secrets), created once per container as a real function would.
 */
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";

const clients = [new SQSClient({}), new SecretsManagerClient({})];

export const handler = async (): Promise<{ statusCode: number; clients: number }> => ({ statusCode: 200, clients: clients.length });
