import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient } from "../core/document-client.js";
import { appLogger, withLambdaContext } from "../core/lambda.js";
import { powertoolsMetrics } from "../core/metrics.js";
import { createConsumerHandler } from "./consumer.js";
import { buildConsumerDeps } from "./deps.js";

// Once per container; the service name and log level come from the environment.
const logger = new Logger();
export const handler = withLambdaContext(
  logger,
  createConsumerHandler(
    buildConsumerDeps(process.env, { documents: createDocumentClient(), logger: appLogger(logger), metrics: powertoolsMetrics() }),
  ),
);
