/**
 * `npm start -- --help`: the local environment variables, from the definitions `npm start` reads
 * (ports, each provider's secret variable, the provider options of OPTION_SETTINGS), so the help
 * cannot drift from what is read. Also the banner `npm start` prints once running, whose routes
 * and `kyc` commands come from ROUTES and the CLI's COMMANDS for the same reason.
 */
import { DEFAULTS, ROUTES, secretEnvOf } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { OPTION_SETTINGS } from "../../lambdas/providers/options.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../../lambdas/providers/types.js";
import { defaultSecretOf, type LocalPipeline } from "../pipeline.js";
import { COMMANDS } from "./main.js";

export function startHelp(): string {
  const rows: [string, string][] = [
    ["PORT", `the HTTP port on 127.0.0.1 (default ${DEFAULTS.localPort}; 0 picks a free one)`],
    ["SQS_PORT", "the local SQS server's port (default PORT + 1; 0 picks a free one)"],
    ...PROVIDER_IDS.map((id): [string, string] => [
      secretEnvOf(id),
      `${id}'s webhook secrets, comma-separated (new,old while rotating); default "${defaultSecretOf(id)}"`,
    ]),
    ...OPTION_SETTINGS.map((o): [string, string] => [
      o.env,
      `${o.values.join(" | ")} (default ${String(DEFAULT_OPTIONS[o.name])}): ${o.describe.replace(/`/g, "")}`,
    ]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length)) + 3;
  return [
    "Usage: npm start [-- --help]",
    "",
    "Runs the whole pipeline locally: DynamoDB Local (Java 17+, in memory), an in-process SQS server with the",
    "stack's queues, the same handlers as Lambda, behind an HTTP server on 127.0.0.1. Ctrl-C stops everything.",
    "",
    "Environment variables:",
    ...rows.map(([name, describe]) => `  ${name.padEnd(width)}${describe}`),
    "",
    "Then, in another terminal: npm run kyc -- --help (send webhooks, read status changes, …).",
    "",
  ].join("\n");
}

/**
 * What `npm start` does with its arguments: `--help` prints the help (exit 0); anything else is a
 * mistake (exit 2); none starts the pipeline (undefined).
 */
export function startArguments(
  args: readonly string[],
): { readonly exitCode: number; readonly stdout?: string; readonly stderr?: string } | undefined {
  if (args.length === 0) return undefined;
  if (args.includes("--help") || args.includes("-h")) return { exitCode: 0, stdout: startHelp() };
  return {
    exitCode: 2,
    stderr: `npm start: unknown argument "${args[0]}": it takes none but --help (configure it with environment variables)\n`,
  };
}

/** What `npm start` prints once the pipeline runs: its routes, endpoints, secrets and options, and how to try it. */
export function startBanner(
  pipeline: Pick<
    LocalPipeline,
    "url" | "statusChangesQueueUrl" | "sqsEndpoint" | "publisherFailuresQueueUrl" | "dynamoEndpoint" | "secrets"
  >,
  options: ProviderOptions,
  port: number,
): string {
  return [
    "",
    `KYC webhook pipeline running on ${pipeline.url}`,
    "",
    `  POST ${ROUTES.webhookPrefix}{provider}         provider webhooks (${PROVIDER_IDS.join(", ")})`,
    `  GET  ${ROUTES.verification.padEnd(30)} one verification with its history`,
    `  GET  ${`${ROUTES.verifications}?subject={key}`.padEnd(30)} every verification of one of your users`,
    `  POST ${ROUTES.reconcile.padEnd(30)} one reconciliation pass (local only: npm run kyc -- reconcile)`,
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
    `Try it:  npm run kyc -- send veriff approved${port === DEFAULTS.localPort ? "" : ` --port ${new URL(pipeline.url).port}`}`,
    `         npm run kyc -- --help        (${COMMANDS.map((c) => c.name).join(", ")})`,
    "Stop:    Ctrl-C",
    "",
  ].join("\n");
}
