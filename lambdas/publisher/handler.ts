import { Logger } from "@aws-lambda-powertools/logger";
import { createSqsClient } from "../core/clients.js";
import { required } from "../core/config.js";
import { createPublisherHandler } from "./publisher.js";

// Once per container.
export const handler = createPublisherHandler({
  sqs: createSqsClient(),
  queueUrl: required(process.env, "STATUS_CHANGES_QUEUE_URL"),
  failuresQueueUrl: required(process.env, "PUBLISHER_FAILURES_QUEUE_URL"),
  logger: new Logger({ serviceName: "kyc-publisher" }),
});
