import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient } from "../core/clients.js";
import { createConsumerHandler } from "./consumer.js";
import { buildConsumerDeps } from "./deps.js";

// Once per container; the service name and log level come from the environment.
export const handler = createConsumerHandler(buildConsumerDeps(process.env, { documents: createDocumentClient(), logger: new Logger() }));
