import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../lib/kyc-function.js";
import { sampleWebhook } from "../../local/samples.js";

/** Unset provider secrets, so that npm start falls back to (and prints) its local defaults. */
const NO_SECRETS = { VERIFF_WEBHOOK_SECRET: "", IDNGO_WEBHOOK_SECRET: "", IDBEYOND_WEBHOOK_SECRET: "", NEUROVISION_WEBHOOK_SECRET: "" };

/** Processes still alive in a process group. */
function groupMembers(pgid: number): string[] {
  const out = execFileSync("ps", ["-eo", "pgid=,pid=,args="], { encoding: "utf8" });
  return out
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith(`${pgid} `));
}

function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] ?? match[0]);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
  });
}

describe("npm start", () => {
  it("serves the pipeline, says which secrets it defaulted, and Ctrl-C stops everything it started", async () => {
    // Its own process group, like a terminal's foreground job: Ctrl-C signals the whole group.
    const child = spawn("npm", ["start"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...NO_SECRETS, PORT: "0" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const pgid = child.pid ?? 0;
    try {
      const output = waitForOutput(child, /using the local default "local-neurovision-secret"/, 60_000);
      const url = await waitForOutput(child, /running on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      await output;
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect(groupMembers(pgid).some((p) => p.includes("DynamoDBLocal.jar"))).toBe(true);

      // The same metrics as in Lambda: an EMF line in the log for the accepted webhook.
      const emf = waitForOutput(child, /(\{"_aws":.*"WebhooksAccepted".*\})/, 20_000);
      const request = sampleWebhook("idbeyond", "approved", "local-idbeyond-secret", {
        sessionId: "s-npm-start",
        userKey: "u",
        occurredAt: new Date(),
      });
      const answer = await fetch(`${url}/webhooks/idbeyond`, { method: "POST", headers: request.headers, body: request.body });
      expect(answer.status).toBe(200);
      expect(JSON.parse(await emf)).toMatchObject({
        _aws: { CloudWatchMetrics: [{ Namespace: "KycWebhooks" }] },
        provider: "idbeyond",
        service: "kyc-ingest-idbeyond",
        WebhooksAccepted: 1,
      });

      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on("exit", (code, signal) => resolve({ code, signal })),
      );
      process.kill(-pgid, "SIGINT");
      // npm itself ends by the SIGINT it received, as in a terminal; the pipeline under it exits 0.
      expect(await exited).toEqual({ code: null, signal: "SIGINT" });
      const deadline = Date.now() + 10_000;
      while (groupMembers(pgid).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(groupMembers(pgid)).toEqual([]);
    } finally {
      if (groupMembers(pgid).length > 0) process.kill(-pgid, "SIGKILL");
    }
  }, 90_000);
});
