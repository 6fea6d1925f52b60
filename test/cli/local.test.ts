/**
 * `kyc send`, `sign`, `tail`, `status` and `list` in-process against a real local pipeline (the
 * local defaults' secrets, free ports).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { kyc, pipelineEnv, recordingServer } from "../support/cli.js";
import { queueDepth, readVerification, useLocalPipeline } from "../support/pipeline.js";

const t = useLocalPipeline({});
const env = () => pipelineEnv(t.pipeline);
const dir = mkdtempSync(join(tmpdir(), "kyc-cli-"));

/** Waits until the status-changes queue holds `count` messages (the publisher runs after the consumer). */
async function changesWaiting(count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)) < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)).toBe(count);
}

/** Messages in flight on the status-changes queue (held by a reader), once none are (a released message becomes visible on the local server's next timer tick). */
async function inFlight(): Promise<number> {
  const deadline = Date.now() + 2_000;
  let count = await inFlightNow();
  while (count > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    count = await inFlightNow();
  }
  return count;
}

async function inFlightNow(): Promise<number> {
  const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: t.pipeline.sqsEndpoint });
  try {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: t.pipeline.statusChangesQueueUrl,
        AttributeNames: ["ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return Number(Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? 0);
  } finally {
    sqs.destroy();
  }
}

interface SendJson {
  readonly response: { readonly status: number };
  readonly correlationId: string;
  readonly verification: { readonly status: string; readonly history: readonly { eventId: string; outcome: string }[] } | null;
}

describe("kyc send and kyc sign", () => {
  it("send: a sample webhook, signed as the provider does, applied; the verification printed", async () => {
    const run = await kyc(["send", "idngo", "created", "--session", "5cb744200a975a67ed000001", "--json"], env());
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const [answer] = run.json<SendJson>();
    expect(answer).toMatchObject({
      response: { status: 200 },
      correlationId: "idngo:5cb744200a975a67ed000001",
      verification: { status: "created" },
    });

    const text = await kyc(["send", "idngo", "approved", "--session", "5cb744200a975a67ed000001"], env());
    expect(text.code).toBe(0);
    expect(text.lines[0]).toMatch(/^POST \/webhooks\/idngo \(approved\) → 200 \{"accepted":true/);
    expect(text.stdout).toContain("idngo:5cb744200a975a67ed000001  approved");
    expect(text.stderr).toContain("signed with the local default");
  });

  it("send --forge: 401, nothing changes, exit 0; a status the provider cannot send is a usage error", async () => {
    const forged = await kyc(["send", "idngo", "rejected", "--session", "5cb744200a975a67ed000001", "--forge"], env());
    expect(forged.code).toBe(0);
    expect(forged.lines[0]).toBe('POST /webhooks/idngo (rejected, forged) → 401 {"error":"unauthorized"}');
    expect((await readVerification(t.pipeline, "idngo:5cb744200a975a67ed000001"))?.status).toBe("approved");

    const wrong = await kyc(["send", "veriff", "created"], env());
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^kyc send: veriff sends no webhook for status "created"; it sends: started, /);
  });

  it("send --body: any payload of yours, signed (or encrypted) as the provider would, is accepted and applied", async () => {
    const idbeyond = join(dir, "idbeyond.json");
    const session = "8a2c3f5e-1111-4222-8333-444455556666";
    writeFileSync(
      idbeyond,
      `${JSON.stringify({ event: "verification.completed", verificationSessionId: session, externalUserId: "cli-body", decision: "approved", reviewStatus: "approved", timestamp: "2026-01-02T03:04:05.000Z" })}\n`,
    );
    const run = await kyc(["send", "idbeyond", "--body", idbeyond, "--json"], env());
    expect(run.code).toBe(0);
    expect(run.json<SendJson>()[0]).toMatchObject({ correlationId: `idbeyond:${session}`, verification: { status: "approved" } });

    const neurovision = join(dir, "neurovision.json");
    const nvSession = "0b7e1a52-2222-4333-8444-555566667777";
    writeFileSync(
      neurovision,
      JSON.stringify({
        sessionId: nvSession,
        clientKey: "cli-body",
        status: "success",
        createdAt: "2026-01-02T00:00:00.000Z",
        responseTime: "2026-01-02T03:04:05.000Z",
      }),
    );
    const encrypted = await kyc(["send", "neurovision", "--body", neurovision, "--json"], env());
    expect(encrypted.code).toBe(0);
    expect(encrypted.json<SendJson>()[0]).toMatchObject({
      correlationId: `neurovision:${nvSession}`,
      verification: { status: "approved" },
    });

    const missing = await kyc(["send", "veriff", "--body", join(dir, "nope.json")], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`kyc: --body ${join(dir, "nope.json")}: cannot read it (ENOENT)\n`);
  });

  it("sign: the exact headers and body the provider would send; the pipeline accepts them as they are, and the --curl command too", async () => {
    const file = join(dir, "veriff.json");
    const session = "5d0e4a61-3333-4444-8555-666677778888";
    const payload = `{ "status": "success", "verification": { "id": "${session}", "code": 9001, "status": "approved", "vendorData": "it's-me", "decisionTime": "2026-01-02T03:04:05.000Z" } }`;
    writeFileSync(file, payload);

    const json = await kyc(["sign", "veriff", "--file", file, "--json"], env());
    expect(json.code).toBe(0);
    const [request] = json.json<{ method: string; url: string; headers: Record<string, string>; body: string }>();
    expect(request?.url).toBe(`${t.pipeline.url}/webhooks/veriff`);
    expect(request?.body).toBe(payload);
    expect(Object.keys(request?.headers ?? {})).toEqual(["content-type", "x-hmac-signature"]);
    const answer = await fetch(request?.url ?? "", { method: "POST", headers: request?.headers ?? {}, body: request?.body ?? "" });
    expect(answer.status).toBe(200);

    const text = await kyc(["sign", "veriff", "--file", file], env());
    expect(text.stdout).toBe(
      `POST ${t.pipeline.url}/webhooks/veriff\ncontent-type: application/json\nx-hmac-signature: ${request?.headers["x-hmac-signature"]}\n\n${payload}\n`,
    );

    const curl = await kyc(["sign", "veriff", "--file", file, "--curl"], env());
    expect(curl.lines).toHaveLength(1);
    const { stdout } = await promisify(execFile)("sh", ["-c", curl.stdout]);
    expect(JSON.parse(stdout)).toMatchObject({ accepted: true });
    // The same event twice: recorded once. The state item is written before the history item:
    // wait (bounded) for the history too.
    const deadline = Date.now() + 10_000;
    while (((await readVerification(t.pipeline, `veriff:${session}`))?.history.length ?? 0) === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const view = await readVerification(t.pipeline, `veriff:${session}`);
    expect(view?.status).toBe("approved");
    expect(view?.history).toHaveLength(1);

    const wrongSecret = await kyc(["sign", "veriff", "--file", file, "--secret", "other", "--json"], env());
    const forged = wrongSecret.json<{ headers: Record<string, string>; body: string }>()[0];
    expect(
      (await fetch(`${t.pipeline.url}/webhooks/veriff`, { method: "POST", headers: forged?.headers ?? {}, body: forged?.body ?? "" }))
        .status,
    ).toBe(401);
  });
});

describe("kyc tail", () => {
  const session = "9f1e2d3c-4b5a-4697-8877-665544332211";
  let service: Awaited<ReturnType<typeof recordingServer>>;
  beforeAll(async () => {
    service = await recordingServer((request) => ({ status: request.url === "/ok" ? 204 : 500 }));
  });
  afterAll(() => service.close());

  it("--json prints one JSON message per line and, by default, deletes what it read", async () => {
    await changesWaiting(5); // from the sends above
    const drained = await kyc(["tail", "--json"], env());
    expect(drained.code).toBe(0);
    const changes = drained.json<StatusChange>();
    expect(changes).toHaveLength(5);
    expect(changes.map((c) => `${c.correlationId} ${c.previousStatus} ${c.status}`)).toContain(
      "idngo:5cb744200a975a67ed000001 created approved",
    );
    expect(await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)).toBe(0);

    const empty = await kyc(["tail"], env());
    expect(empty.code).toBe(0);
    expect(empty.stdout).toBe("");
    expect(empty.stderr).toContain("No status change waiting");
  });

  it("--keep leaves every message on the queue, visible at once to the next reader", async () => {
    await kyc(["send", "veriff", "started", "--session", session], env());
    await kyc(["send", "veriff", "approved", "--session", session], env());
    await changesWaiting(2);
    const kept = await kyc(["tail", "--json", "--keep"], env());
    expect(kept.code).toBe(0);
    expect(kept.json<StatusChange>().map((c) => `${c.previousStatus} → ${c.status}`)).toEqual(["null → started", "started → approved"]);
    expect(await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)).toBe(2);
    expect(await inFlight()).toBe(0);
  });

  it("--forward-to: a failing service leaves the message (and the later change of its verification) on the queue", async () => {
    const run = await kyc(["tail", "--forward-to", `${service.url}/fail`], env());
    expect(run.code).toBe(1);
    expect(service.requests).toHaveLength(1); // the second change of the same verification waits for the first
    expect(run.stdout).toContain(`  → 500 ${service.url}/fail: left on the queue`);
    expect(run.stdout).toContain("not forwarded: an earlier change of");
    expect(run.stderr).toContain("forwarded 0, failed 1; 2 left on the queue");
    expect(await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)).toBe(2);
    expect(await inFlight()).toBe(0);
  });

  it("--forward-to: a 2xx deletes each message once posted, in order, with its body as is", async () => {
    service.requests.length = 0;
    const run = await kyc(["tail", "--forward-to", `${service.url}/ok`, "--json"], env());
    expect(run.code).toBe(0);
    expect(service.requests.map((r) => (JSON.parse(r.body) as StatusChange).status)).toEqual(["started", "approved"]);
    expect(service.requests[0]?.headers["content-type"]).toBe("application/json");
    expect(run.json<StatusChange>().map((c) => c.status)).toEqual(["started", "approved"]);
    expect(await queueDepth(t.pipeline, t.pipeline.statusChangesQueueUrl)).toBe(0);
  });

  it("--follow waits for new changes; --max ends it, and so does Ctrl-C (the signal)", async () => {
    const following = kyc(["tail", "--follow", "--max", "1", "--json"], env());
    await new Promise((resolve) => setTimeout(resolve, 300));
    await kyc(["send", "veriff", "submitted", "--session", "0c1d2e3f-5555-4666-8777-888899990000"], env());
    const run = await following;
    expect(run.code).toBe(0);
    expect(run.json<StatusChange>().map((c) => c.status)).toEqual(["submitted"]);

    // Ctrl-C: the follow ends, with exit code 0, once the signal aborts (a follow that ignored it would hang to the test's timeout).
    const controller = new AbortController();
    const stopping = kyc(["tail", "--follow"], env(), { signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    const stopped = await stopping;
    expect(controller.signal.aborted).toBe(true); // it ended after the abort, not on its own before it
    expect(stopped.code).toBe(0);
  });
});

describe("kyc status and kyc list", () => {
  it("status: one verification (text and --json); an unknown one is one line, exit 1", async () => {
    const json = await kyc(["status", "idngo:5cb744200a975a67ed000001", "--json"], env());
    expect(json.code).toBe(0);
    expect(json.json()[0]).toEqual(await readVerification(t.pipeline, "idngo:5cb744200a975a67ed000001"));

    const text = await kyc(["status", "idngo:5cb744200a975a67ed000001"], env());
    expect(text.lines).toEqual([
      "idngo:5cb744200a975a67ed000001  approved  [sandbox]  (externalUserId=user-42)",
      expect.stringMatching(/^ {2}created +applied /),
      expect.stringMatching(/^ {2}approved +applied /),
    ]);

    const unknown = await kyc(["status", "idngo:nope"], env());
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^kyc: no verification idngo:nope \(the local pipeline \(http:\/\/127\.0\.0\.1:\d+\)\)\n$/);
  });

  it("list: a page at a time, with the command for the next page; bad input is a usage error", async () => {
    const first = await kyc(["list", "--subject", "cli-body", "--limit", "1"], env());
    expect(first.code).toBe(0);
    expect(first.lines[0]).toMatch(/ (idbeyond|neurovision):/);
    const cursor = /--cursor (\S+)$/.exec(first.lines[1] ?? "")?.[1] ?? "";
    const second = await kyc(["list", "--subject", "cli-body", "--limit", "1", "--cursor", cursor, "--json"], env());
    const page = second.json<{ items: { correlationId: string }[]; next: string | null }>()[0];
    expect(page?.items).toHaveLength(1);
    expect(first.lines[0]).not.toContain(page?.items[0]?.correlationId);

    const badLimit = await kyc(["list", "--subject", "x", "--limit", "0"], env());
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toBe('kyc: --limit must be a whole number from 1 to 100, got "0"\n');
    const badCursor = await kyc(["list", "--subject", "x", "--cursor", "garbage"], env());
    expect(badCursor.code).toBe(2);
    expect(badCursor.stderr).toBe("kyc: the read API answered 400: invalid cursor\n");
  });

  it("send: the commands printed to continue and look up a verification quote an id the shell would not pass as is", async () => {
    const run = await kyc(["send", "veriff", "started", "--session", "it's-$HOME", "--user", "cli-quote"], env());
    expect(run.code).toBe(0);
    expect(run.lines).toContain(`Continue it:  npm run kyc -- send veriff <status> --session 'it'\\''s-$HOME'`);
    expect(run.lines).toContain(`Look it up:   npm run kyc -- status 'veriff:it'\\''s-$HOME'`);
    // The shell gives the command the id back as it was.
    const quoted = /--session (.+)$/.exec(run.lines.find((line) => line.startsWith("Continue it:")) ?? "")?.[1] ?? "";
    expect((await promisify(execFile)("sh", ["-c", `printf %s ${quoted}`])).stdout).toBe("it's-$HOME");
  });
});
