import type { SQSClient } from "@aws-sdk/client-sqs";
import { type Env, required } from "../core/config.js";
import { ENV, secretEnvOf } from "../core/contract.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import { PROVIDERS } from "../providers/index.js";
import { optionsFromEnv } from "../providers/options.js";
import { providerIdFromEnv, secretsMaxAge } from "./config.js";
import { sqsEnqueuer } from "./enqueue.js";
import type { IngestDeps } from "./ingest.js";
import { parseSecretCsv, secretsManagerSource, staticSource } from "./secrets.js";

/**
 * The ingest function's dependencies from its environment, the one way both Lambda (handler.ts)
 * and the local pipeline build them. Secrets: from Secrets Manager when `WEBHOOK_SECRETS_ARN`
 * is set (AWS), else the comma-separated `{PROVIDER}_WEBHOOK_SECRET` (local mode).
 */
export function buildIngestDeps(
  env: Env,
  clients: { readonly sqs: SQSClient; readonly logger: AppLogger; readonly metrics: AppMetrics },
): IngestDeps {
  const provider = PROVIDERS[providerIdFromEnv(env)];
  const secretArn = env[ENV.webhookSecretsArn];
  return {
    provider,
    options: optionsFromEnv(env),
    secrets: secretArn
      ? secretsManagerSource(secretArn, secretsMaxAge(env))
      : staticSource(parseSecretCsv(env[secretEnvOf(provider.id)] ?? "")),
    enqueue: sqsEnqueuer(clients.sqs, required(env, ENV.eventsQueueUrl)),
    logger: clients.logger,
    metrics: clients.metrics,
  };
}
