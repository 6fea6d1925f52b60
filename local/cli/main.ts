/**
 * `kyc`: one command line for the pipeline, locally (`npm start`) or against a deployed stack.
 * `main(argv, io)` runs one command and returns its exit code; it never throws and never exits
 * the process (run.ts does), so tests run commands in-process with their own output and
 * environment. Every error is one line on stderr: 2 for a usage or configuration mistake, 1 for
 * anything else.
 */
import { secretEnvOf } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { OPTION_SETTINGS } from "../../lambdas/providers/options.js";
import type { Command, Context } from "./command.js";
import { dlq } from "./commands/dlq.js";
import { list, status } from "./commands/read.js";
import { reconcile } from "./commands/reconcile.js";
import { replayPublisherFailures } from "./commands/replay.js";
import { tail } from "./commands/tail.js";
import { send, sign } from "./commands/webhooks.js";
import { type CliIo, describeFailure, Output, usageError } from "./io.js";
import { describeOptions, parseFlags } from "./options.js";
import { resolveTarget, type Target } from "./target.js";

export type { CliIo } from "./io.js";

export const COMMANDS: readonly Command[] = [send, sign, tail, dlq, replayPublisherFailures, status, list, reconcile];

const TOP_HELP = `Usage: kyc <command> [options]        (from a clone: npm run kyc -- <command> [options])

The KYC webhook pipeline from the command line: play a provider, read the status changes, inspect
and redrive dead letters, replay what the publisher could not publish, read verifications, look
stuck verifications up in the providers' status APIs.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(27)} ${c.summary}`).join("\n")}

Where it runs:
  local (default)   the pipeline of \`npm start\` on 127.0.0.1: --port / --sqs-port, else PORT and
                    SQS_PORT as npm start reads them (3000 and PORT + 1)
  AWS               --stack <name> or --stage <name> (stack KycWebhookPipeline-<name>), --region:
                    queues, table and URLs from the stack's outputs (CloudFormation DescribeStacks),
                    the SDK's default credential chain; read API calls are SigV4-signed

Environment: PORT, SQS_PORT, ${PROVIDER_IDS.map(secretEnvOf).join(", ")} (signing secrets,
comma-separated: the first is used), ${OPTION_SETTINGS.map((o) => o.env).join(", ")} (the provider
options: send checks them as npm start does), AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local, for replay-publisher-failures).

Every command has --help. Exit codes: 0 done, 1 failed, 2 usage or configuration error.
`;

function helpOf(command: Command): string {
  const [first, ...more] = command.usage;
  return [
    `Usage: kyc ${first ?? command.name}`,
    ...more.map((line) => `       kyc ${line}`),
    "",
    command.description,
    "",
    "Options:",
    describeOptions(command.options),
    "",
  ].join("\n");
}

/** Runs `kyc <argv…>`: returns the exit code; output goes to `io`. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const out = new Output(io);
  let target: Target | undefined;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
      const topic = name === "help" ? COMMANDS.find((c) => c.name === rest[0]) : undefined;
      io.stdout(topic === undefined ? TOP_HELP : helpOf(topic));
      if (name === "help" && rest[0] !== undefined && topic === undefined) throw usageError(`kyc: unknown command "${rest[0]}"`);
      return name === undefined ? 2 : 0;
    }
    const command = COMMANDS.find((c) => c.name === name);
    if (command === undefined) {
      throw usageError(
        `kyc: unknown ${name.startsWith("-") ? "option" : "command"} "${name}"; commands: ${COMMANDS.map((c) => c.name).join(", ")} (see kyc --help)`,
      );
    }
    const flags = parseFlags(`kyc ${command.name}`, rest, command.options);
    if (flags.boolean("help")) {
      io.stdout(helpOf(command));
      return 0;
    }
    const context: Context = {
      io,
      out,
      target: () => {
        target ??= resolveTarget(flags, io);
        return target;
      },
    };
    return await command.run(flags, context);
  } catch (error) {
    const { message, exitCode } = describeFailure(error);
    io.stderr(`${message.startsWith("kyc") ? "" : "kyc: "}${message}\n`);
    if (io.env["KYC_DEBUG"] && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return exitCode;
  } finally {
    target?.close();
  }
}
