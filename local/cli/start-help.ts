/**
 * `npm start -- --help`: the local environment variables, from the definitions `npm start` reads
 * (ports, each provider's secret variable, the provider options of OPTION_SETTINGS), so the help
 * cannot drift from what is read.
 */
import { DEFAULTS, secretEnvOf } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { OPTION_SETTINGS } from "../../lambdas/providers/options.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";
import { defaultSecretOf } from "../pipeline.js";

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
