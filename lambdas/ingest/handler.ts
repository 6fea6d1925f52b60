import { Logger } from "@aws-lambda-powertools/logger";
import { createSqsClient } from "../core/clients.js";
import { buildIngestDeps } from "./deps.js";
import { createIngestHandler } from "./ingest.js";

// Once per container (cold start); the service name and log level come from the environment.
export const handler = createIngestHandler(buildIngestDeps(process.env, { sqs: createSqsClient(), logger: new Logger() }));
