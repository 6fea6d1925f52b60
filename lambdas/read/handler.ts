import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient } from "../core/document-client.js";
import { withLambdaContext } from "../core/lambda.js";
import { buildReadDeps } from "./deps.js";
import { createReadHandler } from "./read.js";

// Once per container; the service name and log level come from the environment.
const logger = new Logger();
export const handler = withLambdaContext(
  logger,
  createReadHandler(buildReadDeps(process.env, { documents: createDocumentClient(), logger })),
);
