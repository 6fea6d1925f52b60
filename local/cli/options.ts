/**
 * Command-line options: one description per option (its type, its value's name, its help line),
 * from which both `node:util` parseArgs' configuration and `--help` are built. A parse error
 * (unknown option, missing value, stray argument) becomes one usage line, never a stack trace.
 */
import { parseArgs } from "node:util";
import { parseOneOf, parseWholeNumber } from "../../lambdas/core/config.js";
import { usageError } from "./io.js";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly short?: string;
  /** The value's name in the help (`--port <n>`). */
  readonly value?: string;
  readonly describe: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export const HELP_OPTION: OptionSpecs = { help: { type: "boolean", short: "h", describe: "this help" } };
export const JSON_OPTION: OptionSpecs = { json: { type: "boolean", describe: "machine-readable output: one JSON value per line" } };

/** Where a command runs: the local pipeline (default) or a deployed stack. */
const PORT_OPTION: OptionSpecs = {
  port: { type: "string", value: "n", describe: "the local pipeline's HTTP port (default: $PORT, else 3000)" },
};
export const LOCAL_OPTIONS: OptionSpecs = {
  ...PORT_OPTION,
  "sqs-port": { type: "string", value: "n", describe: "the local SQS server's port (default: $SQS_PORT, else the HTTP port + 1)" },
};
export const AWS_OPTIONS: OptionSpecs = {
  stack: { type: "string", value: "name", describe: "run against this deployed stack (its outputs name the queues and URLs)" },
  stage: { type: "string", value: "name", describe: "run against the stack of this stage: KycWebhookPipeline-<name>" },
  region: { type: "string", value: "region", describe: "the stack's AWS region (default: the SDK's: AWS_REGION, the profile)" },
};
/** For the commands that use queues (the SQS port follows the HTTP port unless given). */
export const TARGET_OPTIONS: OptionSpecs = { ...LOCAL_OPTIONS, ...AWS_OPTIONS };
/** For the commands that only use HTTP (webhooks, read API). */
export const HTTP_TARGET_OPTIONS: OptionSpecs = { ...PORT_OPTION, ...AWS_OPTIONS };

/** Parsed options and positionals of one command, with typed accessors whose errors name the option. */
export class Flags {
  constructor(
    private readonly values: Readonly<Record<string, string | boolean | undefined>>,
    readonly positionals: readonly string[],
  ) {}

  string(name: string): string | undefined {
    const value = this.values[name];
    return typeof value === "string" ? value : undefined;
  }

  boolean(name: string): boolean {
    return this.values[name] === true;
  }

  wholeNumber(name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
    return parseWholeNumber(`--${name}`, this.string(name), fallback, range);
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    return parseOneOf(`--${name}`, this.string(name), values, fallback);
  }
}

/** An absolute http(s) URL that fetch and the SDK accept (`localhost:8080`, `http://a b` are not). */
export function isHttpUrl(value: string): boolean {
  if (!/^https?:\/\/[^/]/i.test(value)) return false;
  try {
    return new URL(value).host !== "";
  } catch {
    return false;
  }
}

/** Parses `args` against `specs`; `command` names the command in errors (`kyc send`). */
export function parseFlags(command: string, args: readonly string[], specs: OptionSpecs): Flags {
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      spec.short === undefined ? { type: spec.type } : { type: spec.type, short: spec.short },
    ]),
  );
  let parsed: { readonly values: Readonly<Record<string, unknown>>; readonly positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    const hint = `see ${command} --help`;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      const option = /'([^']+)'/.exec(message)?.[1] ?? "";
      throw usageError(`${command}: unknown option ${option} (${hint})`);
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const option = /'(--?[\w-]+)/.exec(message)?.[1] ?? "";
      const spec = specs[option.replace(/^-+/, "")];
      throw usageError(
        spec?.type === "boolean"
          ? `${command}: ${option} takes no value (${hint})`
          : `${command}: ${option} needs a value${spec?.value ? ` <${spec.value}>` : ""} (${hint})`,
      );
    }
    throw usageError(`${command}: ${message.split("\n")[0] ?? message} (${hint})`);
  }
  // An empty value is never meant (`--session ""`, `--queue " "`): it would fall back to the default,
  // or change which request is made, instead of saying the value is missing.
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === "string" && value.trim() === "") {
      const spec = specs[name];
      throw usageError(
        `${command}: --${name} needs a value${spec?.value ? ` <${spec.value}>` : ""}, got ${JSON.stringify(value)} (see ${command} --help)`,
      );
    }
  }
  return new Flags(parsed.values as Record<string, string | boolean | undefined>, parsed.positionals);
}

/** The options part of a help text. */
export function describeOptions(specs: OptionSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` <${spec.value}>` : ""}`;
    return [flag, spec.describe] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 3;
  return rows.map(([flag, describe]) => `  ${flag.padEnd(width)}${describe}`).join("\n");
}
