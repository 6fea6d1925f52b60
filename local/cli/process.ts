/**
 * `kyc` as a process: runs `main()` with this process's streams and environment and sets its exit
 * code. Ctrl-C asks the running command to stop cleanly (`tail --follow` releases what it holds);
 * a second Ctrl-C exits at once.
 */
import { main } from "./main.js";

/** Runs `kyc <args…>` in this process. */
export async function run(args: readonly string[]): Promise<void> {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on("SIGINT", onInterrupt);
  try {
    process.exitCode = await main(args, {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      env: process.env,
      signal: controller.signal,
    });
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}
