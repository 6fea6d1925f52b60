/**
 * `kyc` and `npm start` as real processes: help, and mistakes answered with one line and an exit
 * code, never a stack trace.
 */
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { OPTION_SETTINGS } from "../../lambdas/providers/options.js";
import { kycProcess, runScript } from "../support/cli.js";

const STACK_FRAME = /^\s+at /m;

/** A port nothing listens on (just freed by the OS). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === "object" && address !== null ? address.port : 0;
}

describe("kyc as a process", () => {
  it("kyc --help lists every command and exits 0", async () => {
    const run = await kycProcess(["--help"]);
    expect(run.code).toBe(0);
    for (const command of ["send", "sign", "tail", "dlq", "replay-publisher-failures", "status", "list"]) {
      expect(run.stdout).toContain(`  ${command} `);
    }
    expect(run.stderr).toBe("");
  });

  it("a bad flag: one line on stderr naming it, exit 2, no stack trace", async () => {
    const run = await kycProcess(["tail", "--bogus"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("kyc tail: unknown option --bogus (see kyc tail --help)\n");
    expect(run.stdout).toBe("");
  });

  it("a bad environment variable: one line naming it and the value, exit 2, no stack trace", async () => {
    const run = await kycProcess(["tail"], { SQS_PORT: "abc" });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('kyc: SQS_PORT must be a whole number from 0 to 65535, got "abc"\n');
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it("nothing listening: one line saying to start the pipeline, exit 1", async () => {
    const run = await kycProcess(["status", "veriff:x", "--port", String(await closedPort())]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("npm start");
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });

  it("bin/kyc.js runs the same CLI (the package's bin entry)", async () => {
    const run = await runScript("bin/kyc.js", ["dlq", "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("kyc dlq redrive --queue events|status-changes [--dry-run]");
  });

  it("npm start -- --help prints the local environment variables and exits without starting anything", async () => {
    const run = await runScript("local/start.ts", ["--help"]);
    expect(run.code).toBe(0);
    for (const name of ["PORT", "SQS_PORT", "VERIFF_WEBHOOK_SECRET", "NEUROVISION_WEBHOOK_SECRET", ...OPTION_SETTINGS.map((o) => o.env)]) {
      expect(run.stdout).toMatch(new RegExp(`^  ${name} `, "m"));
    }
    expect(run.stdout).not.toContain("Starting DynamoDB Local");

    const bad = await runScript("local/start.ts", ["--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
    expect(bad.stderr).toContain('"--bogus"');
  });

  it("npm start with PORT=65535 and no SQS_PORT: one line saying to set SQS_PORT, exit 2, nothing started", async () => {
    const run = await runScript("local/start.ts", [], { PORT: "65535", SQS_PORT: "" });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("SQS_PORT is not set and its default, the HTTP port + 1, would be 65536: set SQS_PORT\n");
    expect(run.stdout).not.toContain("Starting DynamoDB Local");
  });

  it("npm start with SQS_PORT in use: one line naming SQS_PORT and the port, exit 1, no stack trace", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    try {
      const address = taken.address();
      const sqsPort = typeof address === "object" && address !== null ? address.port : 0;
      const run = await runScript("local/start.ts", [], { PORT: String(await closedPort()), SQS_PORT: String(sqsPort) });
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n")).toHaveLength(1);
      expect(run.stderr).toContain(`The local pipeline could not start: the local SQS server could not listen on SQS_PORT ${sqsPort}: `);
      expect(run.stderr).toContain("EADDRINUSE");
      expect(run.stderr).not.toMatch(STACK_FRAME);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  }, 60_000);
});
