import { Logger } from "@aws-lambda-powertools/logger";
import { appLogger, withLambdaContext } from "../core/lambda.js";
import { powertoolsMetrics } from "../core/metrics.js";
import { createSqsClient } from "../core/sqs-client.js";
import { buildIngestDeps } from "./deps.js";
import { createIngestHandler } from "./ingest.js";

// Once per container (cold start); the service name and log level come from the environment.
const logger = new Logger();
export const handler = withLambdaContext(
  logger,
  createIngestHandler(buildIngestDeps(process.env, { sqs: createSqsClient(), logger: appLogger(logger), metrics: powertoolsMetrics() })),
);
