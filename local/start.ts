/**
 * `npm start`: runs the whole pipeline locally (see local/pipeline.ts). Ctrl-C stops everything.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { PROVIDER_IDS } from "../lambdas/core/event.js";
import { localSqsPort, SECRET_ENV, startPipeline } from "./pipeline.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

const port = Number(process.env["PORT"] ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`PORT must be a port number, got "${process.env["PORT"]}"`);
  process.exit(2);
}

const logger = new Logger({ serviceName: "kyc-local" });

let pipeline: Awaited<ReturnType<typeof startPipeline>>;
try {
  console.log("Starting DynamoDB Local and the local SQS server…");
  pipeline = await startPipeline({ port, sqsPort: localSqsPort(process.env), env: process.env, logger });
} catch (error) {
  // E.g. Java missing or too old for DynamoDB Local, or the port in use: say it plainly.
  console.error(`\nThe local pipeline could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const lines = [
  "",
  `KYC webhook pipeline running on ${pipeline.url}`,
  "",
  "  POST /webhooks/{provider}         provider webhooks (veriff, idngo, idbeyond, neurovision)",
  "  GET  /verifications/{id}          one verification with its history",
  "  GET  /verifications?subject={key} every verification of one of your users",
  "  GET  /health",
  "",
  `Status changes (SQS FIFO, for your own consumers): ${pipeline.statusChangesQueueUrl}`,
  `  with any SQS client: AWS_ENDPOINT_URL_SQS=${pipeline.sqsEndpoint} (region us-east-1, any credentials)`,
  "  or: npm run changes",
  `Publisher failures (stream records that could not be published; should stay empty): ${pipeline.publisherFailuresQueueUrl}`,
  "",
  "Webhook secrets:",
  ...PROVIDER_IDS.map((id) => {
    const { secrets, fromDefault } = pipeline.secrets[id];
    return fromDefault
      ? `  ${id.padEnd(12)} ${SECRET_ENV[id]} not set: using the local default "${secrets[0]}"`
      : `  ${id.padEnd(12)} from ${SECRET_ENV[id]} (${secrets.length} secret${secrets.length === 1 ? "" : "s"})`;
  }),
  "",
  `Try it:  npm run send -- veriff approved${port === 3000 ? "" : ` --port ${new URL(pipeline.url).port}`}`,
  "Stop:    Ctrl-C",
  "",
];
console.log(lines.join("\n"));

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping the local pipeline…`);
  await pipeline.stop();
  console.log("Stopped.");
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));
