/**
 * What a `kyc` command talks to: its output streams, its environment, a stop signal (Ctrl-C),
 * and the AWS seams tests replace. `main()` gets one; the process entry (run.ts) builds it from
 * `process`. Errors a user can act on are `CliError`s: one line on stderr and an exit code.
 */
import type { SignatureV4 } from "@smithy/signature-v4";
import { ConfigError, type Env } from "../../lambdas/core/config.js";

/** The AWS credentials the read API's SigV4 signing uses (a value or a provider, as the SDK takes them). */
export type AwsCredentials = ConstructorParameters<typeof SignatureV4>[0]["credentials"];

export interface CliIo {
  /** Writes `text` as is (commands add the newlines). */
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** PORT, SQS_PORT, `<PROVIDER>_WEBHOOK_SECRET`, …: read from here, never from `process.env` (the AWS SDK reads its own). */
  readonly env: Env;
  /** Aborted on Ctrl-C: long-running commands (`tail --follow`, `dlq redrive`) stop cleanly. */
  readonly signal?: AbortSignal;
  /** Seams for tests; in a real run the SDK's default credential chain is used. */
  readonly aws?: { readonly credentials?: AwsCredentials };
}

/** A failure the user can act on: printed as one line, exits with `exitCode` (2: usage or configuration, 1: anything else). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, 2);

/** The codes of a socket error anywhere in an error's cause chain (fetch and the SDK wrap them differently). */
function networkCode(error: unknown): { code: string; address?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    const { code, address, port } = current as Error & { code?: unknown; address?: unknown; port?: unknown };
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) {
      const where = typeof address === "string" ? `${address}${typeof port === "number" ? `:${port}` : ""}` : undefined;
      return where === undefined ? { code } : { code, address: where };
    }
    if (current instanceof AggregateError && current.errors[0] !== undefined) current = current.errors[0];
    else current = current.cause;
  }
  return undefined;
}

/** One line for any error, and the exit code: what `main()` prints instead of a stack trace. */
export function describeFailure(error: unknown): { readonly message: string; readonly exitCode: number } {
  const oneLine = (text: string) => text.replace(/\s*\n\s*/g, " ").trim();
  if (error instanceof CliError) return { message: oneLine(error.message), exitCode: error.exitCode };
  if (error instanceof ConfigError) return { message: oneLine(error.message), exitCode: 2 };
  const network = networkCode(error);
  if (network?.code === "ECONNREFUSED") {
    return {
      message: `nothing answers on ${network.address ?? "the local address"}: start the local pipeline first with \`npm start\` (or pass --port / --sqs-port)`,
      exitCode: 1,
    };
  }
  if (network !== undefined)
    return { message: `network error ${network.code}${network.address ? ` (${network.address})` : ""}`, exitCode: 1 };
  if (error instanceof Error) {
    if (error instanceof TypeError && error.message === "fetch failed" && error.cause instanceof Error) {
      return { message: oneLine(`HTTP request failed: ${error.cause.message}`), exitCode: 1 };
    }
    if (error.name === "CredentialsProviderError") {
      return {
        message: `no AWS credentials found by the default credential chain (environment, profile, SSO, instance role): ${oneLine(error.message)}`,
        exitCode: 1,
      };
    }
    if (/region is missing/i.test(error.message)) return { message: "no AWS region: pass --region or set AWS_REGION", exitCode: 2 };
    return { message: oneLine(`${error.name}: ${error.message}`), exitCode: 1 };
  }
  return { message: oneLine(String(error)), exitCode: 1 };
}

/** The output of one command run: lines to stdout (data) and stderr (diagnostics and progress). */
export class Output {
  private lastProgress = 0;
  private readonly startedAt = Date.now();

  constructor(private readonly io: CliIo) {}

  line(text = ""): void {
    this.io.stdout(`${text}\n`);
  }

  /** One JSON value on one line (`--json`). */
  json(value: unknown): void {
    this.io.stdout(`${JSON.stringify(value)}\n`);
  }

  note(text: string): void {
    this.io.stderr(`${text}\n`);
  }

  /** A progress line on stderr, only once a run has lasted `afterMs` and at most once per `everyMs`. */
  progress(text: string, { afterMs = 2_000, everyMs = 1_000 }: { afterMs?: number; everyMs?: number } = {}): void {
    const now = Date.now();
    if (now - this.startedAt < afterMs || now - this.lastProgress < everyMs) return;
    this.lastProgress = now;
    this.note(text);
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
