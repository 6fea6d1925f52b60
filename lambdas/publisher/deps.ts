import type { SQSClient } from "@aws-sdk/client-sqs";
import { type Env, required } from "../core/config.js";
import { ENV } from "../core/contract.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import type { PublisherDeps } from "./publisher.js";

/** The publisher's dependencies from its environment: the one way Lambda and the local pipeline build them. */
export function buildPublisherDeps(
  env: Env,
  clients: { readonly sqs: SQSClient; readonly logger: AppLogger; readonly metrics: AppMetrics },
): PublisherDeps {
  return {
    sqs: clients.sqs,
    queueUrl: required(env, ENV.statusChangesQueueUrl),
    failuresQueueUrl: required(env, ENV.publisherFailuresQueueUrl),
    logger: clients.logger,
    metrics: clients.metrics,
  };
}
