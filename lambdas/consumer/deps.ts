import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Env, required } from "../core/config.js";
import { ENV } from "../core/contract.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import type { ConsumerDeps } from "./consumer.js";
import { dynamoStore } from "./store.js";

/** The consumer's dependencies from its environment: the one way Lambda and the local pipeline build them. */
export function buildConsumerDeps(
  env: Env,
  clients: { readonly documents: DynamoDBDocumentClient; readonly logger: AppLogger; readonly metrics: AppMetrics },
): ConsumerDeps {
  return {
    store: dynamoStore(clients.documents, { tableName: required(env, ENV.tableName) }),
    logger: clients.logger,
    metrics: clients.metrics,
  };
}
