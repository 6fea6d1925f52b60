import { Logger } from "@aws-lambda-powertools/logger";
import { createSqsClient } from "../core/clients.js";
import { buildPublisherDeps } from "./deps.js";
import { createPublisherHandler } from "./publisher.js";

// Once per container; the service name and log level come from the environment.
export const handler = createPublisherHandler(buildPublisherDeps(process.env, { sqs: createSqsClient(), logger: new Logger() }));
