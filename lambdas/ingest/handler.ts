import { Logger } from "@aws-lambda-powertools/logger";
import { createSqsClient } from "../core/clients.js";
import { PROVIDERS } from "../providers/index.js";
import { required } from "../core/config.js";
import { optionsFromEnv, providerIdFromEnv, secretsMaxAge } from "./config.js";
import { sqsEnqueuer } from "./enqueue.js";
import { createIngestHandler } from "./ingest.js";
import { parseSecretCsv, secretsManagerSource, staticSource } from "./secrets.js";

// Everything here runs once per container (cold start); the handler below is per request.
const env = process.env;
const provider = PROVIDERS[providerIdFromEnv(env)];
const secretArn = env["WEBHOOK_SECRETS_ARN"];

export const handler = createIngestHandler({
  provider,
  options: optionsFromEnv(env),
  secrets: secretArn
    ? secretsManagerSource(secretArn, secretsMaxAge(env))
    : staticSource(parseSecretCsv(required(env, "WEBHOOK_SECRETS"))),
  enqueue: sqsEnqueuer(createSqsClient(), required(env, "EVENTS_QUEUE_URL")),
  logger: new Logger({ serviceName: `kyc-ingest-${provider.id}` }),
});
