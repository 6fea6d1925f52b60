/**
 * `npm start`: runs the whole pipeline locally (see local/pipeline.ts). Ctrl-C stops everything.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { ENV, ROUTES, SERVICES, secretEnvOf } from "../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../lambdas/core/event.js";
import { OPTION_SETTINGS, optionsFromEnv } from "../lambdas/providers/options.js";
import { startArguments } from "./cli/start-help.js";
import { localPort, localSqsPort, startPipeline } from "./pipeline.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

// `npm start -- --help` lists the environment variables and exits; any other argument is a mistake.
const usage = startArguments(process.argv.slice(2));
if (usage !== undefined) {
  if (usage.stdout) process.stdout.write(usage.stdout);
  if (usage.stderr) process.stderr.write(usage.stderr);
  process.exit(usage.exitCode);
}

let port: number;
let sqsPort: number;
let options: ReturnType<typeof optionsFromEnv>;
try {
  port = localPort(process.env);
  sqsPort = localSqsPort(process.env);
  options = optionsFromEnv(process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

// DEBUG unless POWERTOOLS_LOG_LEVEL says otherwise: trying the pipeline out, you see a line per
// webhook accepted, event processed and status change published (a deployed stage logs them at DEBUG only).
const logger = new Logger({ serviceName: SERVICES.local, ...(process.env[ENV.logLevel] ? {} : { logLevel: "DEBUG" as const }) });

let pipeline: Awaited<ReturnType<typeof startPipeline>>;
try {
  console.log("Starting DynamoDB Local and the local SQS server…");
  pipeline = await startPipeline({ port, sqsPort, env: process.env, logger });
} catch (error) {
  // E.g. Java missing or too old for DynamoDB Local, or the port in use: say it plainly.
  console.error(`\nThe local pipeline could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}

const lines = [
  "",
  `KYC webhook pipeline running on ${pipeline.url}`,
  "",
  `  POST ${ROUTES.webhookPrefix}{provider}         provider webhooks (${PROVIDER_IDS.join(", ")})`,
  `  GET  ${ROUTES.verification.padEnd(30)} one verification with its history`,
  `  GET  ${`${ROUTES.verifications}?subject={key}`.padEnd(30)} every verification of one of your users`,
  `  GET  ${ROUTES.health}`,
  "",
  `Status changes (SQS FIFO, for your own consumers): ${pipeline.statusChangesQueueUrl}`,
  `  with any SQS client: AWS_ENDPOINT_URL_SQS=${pipeline.sqsEndpoint} (region us-east-1, any credentials)`,
  "  or: npm run kyc -- tail --follow",
  `Publisher failures (stream records that could not be published; should stay empty): ${pipeline.publisherFailuresQueueUrl}`,
  `DynamoDB Local (in memory): AWS_ENDPOINT_URL_DYNAMODB=${pipeline.dynamoEndpoint} (for npm run kyc -- replay-publisher-failures, or any DynamoDB tool)`,
  "",
  "Webhook secrets:",
  ...PROVIDER_IDS.map((id) => {
    const { secrets, fromDefault } = pipeline.secrets[id];
    return fromDefault
      ? `  ${id.padEnd(12)} ${secretEnvOf(id)} not set: using the local default "${secrets[0]}"`
      : `  ${id.padEnd(12)} from ${secretEnvOf(id)} (${secrets.length} secret${secrets.length === 1 ? "" : "s"})`;
  }),
  "",
  "Provider options in force:",
  ...OPTION_SETTINGS.map((o) => `  ${o.env.padEnd(28)} ${String(options[o.name]).padEnd(18)} ${o.describe.replace(/`/g, "")}`),
  "",
  `Try it:  npm run kyc -- send veriff approved${port === 3000 ? "" : ` --port ${new URL(pipeline.url).port}`}`,
  "         npm run kyc -- --help        (send, sign, tail, dlq, replay-publisher-failures, status, list)",
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
