import { Logger } from "@aws-lambda-powertools/logger";
import { appLogger, withLambdaContext } from "../core/lambda.js";
import { powertoolsMetrics } from "../core/metrics.js";
import { createSqsClient } from "../core/sqs-client.js";
import { buildPublisherDeps } from "./deps.js";
import { createPublisherHandler } from "./publisher.js";

// Once per container; the service name and log level come from the environment.
const logger = new Logger();
export const handler = withLambdaContext(
  logger,
  createPublisherHandler(
    buildPublisherDeps(process.env, { sqs: createSqsClient(), logger: appLogger(logger), metrics: powertoolsMetrics() }),
  ),
);
