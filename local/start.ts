/**
 * `npm start`: runs the whole pipeline locally (see local/pipeline.ts). Ctrl-C stops everything.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { ENV, SERVICES } from "../lambdas/core/contract.js";
import { optionsFromEnv } from "../lambdas/providers/options.js";
import { startArguments, startBanner } from "./cli/start-help.js";
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

console.log(startBanner(pipeline, options, port));

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
