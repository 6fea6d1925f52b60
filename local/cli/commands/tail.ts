/**
 * `kyc tail`: a downstream consumer of the status-changes queue for a terminal. It prints each
 * change (or forwards it to a local service, like `stripe listen --forward-to`) and then deletes
 * it, as a consumer does; `--keep` leaves every message where it was.
 */
import { DeleteMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { QUEUES } from "../../../lambdas/core/contract.js";
import type { StatusChange } from "../../../lambdas/publisher/change.js";
import type { Command } from "../command.js";
import { usageError } from "../io.js";
import { HELP_OPTION, isHttpUrl, JSON_OPTION, TARGET_OPTIONS } from "../options.js";
import { bodyOf, receiveBatch, release } from "../sqs.js";

/** How long a message read stays invisible to other readers while this one handles it. */
const HOLD_SECONDS = 30;
const FORWARD_TIMEOUT_MS = 10_000;

function summary(body: unknown): string {
  const change = body as Partial<StatusChange> | undefined;
  if (typeof change !== "object" || change === null || typeof change.correlationId !== "string") return "(not a status change)";
  return `${change.changedAt ?? "?"}  ${change.correlationId}  ${change.previousStatus ?? "(new)"} → ${change.status ?? "?"}   (event ${change.eventId ?? "?"})`;
}

/** POSTs one message's body to `url`: the HTTP status, or the network error. */
async function forward(url: string, message: Message, signal: AbortSignal | undefined): Promise<{ ok: boolean; said: string }> {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-sqs-message-id": message.MessageId ?? "",
        ...(message.Attributes?.["MessageGroupId"] === undefined ? {} : { "x-sqs-message-group-id": message.Attributes["MessageGroupId"] }),
      },
      body: message.Body ?? "",
      signal:
        signal === undefined ? AbortSignal.timeout(FORWARD_TIMEOUT_MS) : AbortSignal.any([signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
    });
    await response.arrayBuffer().catch(() => undefined);
    return { ok: response.status >= 200 && response.status < 300, said: String(response.status) };
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    return { ok: false, said: typeof cause === "string" ? cause : error instanceof Error ? error.name : "error" };
  }
}

export const tail: Command = {
  name: "tail",
  summary: "read the status-changes queue (reading DELETES each message unless --keep), or forward it to a local URL",
  usage: ["tail [--follow] [--json] [--keep] [--forward-to <url>] [--max <n>] [options]"],
  description: [
    "Reads the status-changes queue and prints each status change.",
    "",
    "Reading DELETES each message once it is printed (or forwarded with a 2xx), as a consumer does: your",
    "own consumer of the same queue will not get it. --keep leaves every message on the queue (messages",
    `are held, invisible to other readers, while tail runs, and released when it ends; each read counts as`,
    `a receive: after ${QUEUES.statusChanges.maxReceiveCount} receives SQS moves a message to the status-changes DLQ).`,
    "",
    "--forward-to POSTs each message's body (JSON) to a URL, in order per verification: a 2xx deletes it",
    "(unless --keep); any other answer, or no answer, leaves it on the queue (and the later changes of",
    `the same verification in that batch); with --follow it is tried again once SQS makes it visible (${HOLD_SECONDS} s).`,
  ].join("\n"),
  options: {
    follow: { type: "boolean", short: "f", describe: "keep waiting for new changes (Ctrl-C to stop)" },
    ...JSON_OPTION,
    keep: { type: "boolean", describe: "leave the messages on the queue (default: delete each one read)" },
    "forward-to": { type: "string", value: "url", describe: "POST each message to this URL; a non-2xx answer leaves it on the queue" },
    max: { type: "string", value: "n", describe: "stop after this many messages" },
    ...TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    if (flags.positionals.length > 0) throw usageError(`kyc tail: unexpected argument "${flags.positionals[0]}"`);
    const follow = flags.boolean("follow");
    const keep = flags.boolean("keep");
    const json = flags.boolean("json");
    const max = flags.wholeNumber("max", Number.MAX_SAFE_INTEGER, { min: 1 });
    const forwardTo = flags.string("forward-to");
    if (forwardTo !== undefined && !isHttpUrl(forwardTo))
      throw usageError(`kyc tail: --forward-to needs an http(s) URL, got "${forwardTo}"`);
    const { out, io } = context;
    const target = context.target();
    const sqs = target.sqs();
    const queueUrl = await target.queueUrl("statusChanges");
    if (follow && !json) out.note(`Waiting for status changes on ${target.label} (Ctrl-C to stop)…`);

    /** Messages read and not deleted, by id: released (made visible again) when tail ends. */
    const held = new Map<string, string>();
    const printed = new Set<string>();
    /** Messages not forwarded yet (their forward failed, or an earlier change of their verification's did): they stay on the queue. */
    const pending = new Set<string>();
    const report = (line: string) => (json ? out.note(line.trim()) : out.line(line));
    let handled = 0;
    let forwarded = 0;
    let failed = 0;
    try {
      while (handled < max && !io.signal?.aborted) {
        let batch: Message[];
        try {
          batch = await receiveBatch(sqs, queueUrl, {
            max: max - handled,
            waitSeconds: follow ? 10 : 1,
            visibilitySeconds: HOLD_SECONDS,
            ...(io.signal === undefined ? {} : { signal: io.signal }),
          });
        } catch (error) {
          if (io.signal?.aborted) break;
          throw error;
        }
        // A message seen before came back (its hold expired): only one not forwarded yet is tried again.
        const retry = new Set<string>();
        for (const m of batch) {
          const id = m.MessageId ?? "";
          if (held.has(id)) held.set(id, m.ReceiptHandle ?? "");
          if (printed.has(id) && pending.has(id)) retry.add(id);
        }
        const fresh = batch.filter((m) => !printed.has(m.MessageId ?? "") || retry.has(m.MessageId ?? ""));
        if (fresh.length === 0) {
          if (follow) continue;
          break; // nothing left, or only messages this run already handled
        }
        const failedGroups = new Set<string>();
        for (const message of fresh) {
          const id = message.MessageId ?? "";
          const handle = message.ReceiptHandle ?? "";
          const body = bodyOf(message);
          if (!printed.has(id)) {
            printed.add(id);
            handled += 1;
            if (json) out.json(body);
            else {
              out.line(summary(body));
              out.line(`  ${JSON.stringify(body)}`);
            }
          }
          let done = !keep;
          if (forwardTo !== undefined) {
            const group = message.Attributes?.["MessageGroupId"] ?? id;
            if (failedGroups.has(group)) {
              done = false;
              pending.add(id);
              report(`  → not forwarded: an earlier change of ${group} was not; left on the queue`);
            } else {
              const result = await forward(forwardTo, message, io.signal);
              if (result.ok) {
                forwarded += 1;
                pending.delete(id);
                report(`  → ${result.said} ${forwardTo}`);
              } else {
                failed += 1;
                pending.add(id);
                failedGroups.add(group);
                done = false;
                report(`  → ${result.said} ${forwardTo}: left on the queue`);
              }
            }
          }
          if (done) {
            await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
            held.delete(id);
          } else held.set(id, handle);
        }
      }
    } finally {
      await release(sqs, queueUrl, [...held.values()]);
    }

    if (printed.size === 0 && !json) out.note("No status change waiting. Send a webhook first: npm run kyc -- send veriff approved");
    if (forwardTo !== undefined && !json) {
      out.note(`forwarded ${forwarded}, failed ${failed}${pending.size > 0 ? `; ${pending.size} left on the queue` : ""}`);
    }
    return pending.size > 0 && !follow ? 1 : 0;
  },
};
