/** Child processes of the bench: TypeScript phases run with tsx, each in a fresh Node process. */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface ChildOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** `pipe`: the caller reads stdout; `ignore`: stdout goes nowhere (a discarded log sink). */
  readonly stdout: "pipe" | "ignore";
  readonly ipc: boolean;
}

/** Starts `node --import tsx <script> ...args` in the repository root; stderr is collected on `stderrText()`. */
export function startTsx(script: string, args: readonly string[], options: ChildOptions): ChildProcess & { stderrText(): string } {
  const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
    cwd: ROOT,
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true", ...options.env },
    stdio: ["ignore", options.stdout, "pipe", ...(options.ipc ? (["ipc"] as const) : [])],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-20_000);
  });
  return Object.assign(child, { stderrText: () => stderr });
}

/** Resolves with the exit code once the child has exited. */
export function exited(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
}

/** The next IPC message of `child` that `accept` takes, or a rejection on exit or timeout. */
export function nextMessage<T>(child: ChildProcess, accept: (message: unknown) => T | undefined, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`no message from the child within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      const value = accept(message);
      if (value !== undefined) finish(undefined, value);
    };
    const onExit = (code: number | null) => finish(new Error(`the child exited (code ${code}) before answering`));
    function finish(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off("message", onMessage);
      child.off("exit", onExit);
      if (error !== undefined) reject(error);
      else resolve(value as T);
    }
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}
