import { execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/kyc-function.js";
import { startDynamoDbLocal, WATCHDOG_MARKER } from "../../local/dynamodb.js";

/** Whether a process exists and is not a zombie (a zombie has exited: it only waits to be reaped). */
function running(pid: number): boolean {
  try {
    const state = execFileSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).trim();
    return state !== "" && !state.startsWith("Z");
  } catch {
    return false; // ps exits 1 when there is no such process
  }
}

/** Watchdogs (see local/dynamodb.ts) still running for a JVM pid. */
function watchdogsOf(jvmPid: number): string[] {
  const out = execFileSync("ps", ["-eww", "-o", "pid=,stat=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .filter((line) => line.includes(WATCHDOG_MARKER) && line.trimEnd().endsWith(` ${jvmPid}`) && !/^\s*\d+\s+Z/.test(line));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

describe("DynamoDB Local never outlives the process that started it", () => {
  it("SIGKILL of that process (no handler runs): the watchdog kills the JVM within seconds, and then exits", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "test/support/dynamo-child.ts"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let jvmPid = 0;
    try {
      jvmPid = await new Promise<number>((resolve, reject) => {
        let output = "";
        const timer = setTimeout(() => reject(new Error(`no JVM pid within 45 s:\n${output}`)), 45_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /jvm=(\d+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.once("exit", (code) => reject(new Error(`child exited (${code}) before printing the JVM pid:\n${output}`)));
      });
      expect(running(jvmPid)).toBe(true);
      expect(watchdogsOf(jvmPid)).toHaveLength(1);

      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(child.pid ?? 0, "SIGKILL");
      await exited;
      expect(await until(() => !running(jvmPid), 5_000)).toBe(true);
      expect(await until(() => watchdogsOf(jvmPid).length === 0, 3_000)).toBe(true);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      if (jvmPid > 0 && running(jvmPid)) process.kill(jvmPid, "SIGKILL");
    }
  }, 60_000);

  it("a normal stop() disarms the watchdog: it exits without anything left to kill", async () => {
    const dynamo = await startDynamoDbLocal();
    try {
      expect(dynamo.pid).toBeGreaterThan(0);
      expect(watchdogsOf(dynamo.pid)).toHaveLength(1);
    } finally {
      await dynamo.stop();
    }
    expect(running(dynamo.pid)).toBe(false);
    expect(await until(() => watchdogsOf(dynamo.pid).length === 0, 3_000)).toBe(true);
  }, 60_000);
});
