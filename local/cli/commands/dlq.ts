/**
 * `kyc dlq list|redrive`: the dead-letter queues of the events and status-changes queues. `list`
 * shows what is parked without consuming it (messages are read, then made visible again at once);
 * `redrive` moves them back with SQS's own StartMessageMoveTask and follows the task
 * (ListMessageMoveTasks) until it ends. Re-applying a redriven event is safe: the consumer's history
 * item makes a second apply of the same eventId a no-op.
 */
import { ListMessageMoveTasksCommand, type ListMessageMoveTasksResultEntry, StartMessageMoveTaskCommand } from "@aws-sdk/client-sqs";
import { QUEUES } from "../../../lambdas/core/contract.js";
import type { Command, Context } from "../command.js";
import { CliError, sleep, usageError } from "../io.js";
import { type Flags, HELP_OPTION, JSON_OPTION, TARGET_OPTIONS } from "../options.js";
import { bodyOf, depthOf, drainWaitSeconds, queueNameOf, receiveBatch, release } from "../sqs.js";
import type { QueueKey } from "../target.js";

const QUEUE_CHOICES = ["events", "status-changes"] as const;
type QueueChoice = (typeof QUEUE_CHOICES)[number];

const PAIRS: Readonly<Record<QueueChoice, { readonly queue: QueueKey; readonly dlq: QueueKey; readonly maxReceiveCount: number }>> = {
  events: { queue: "events", dlq: "eventsDlq", maxReceiveCount: QUEUES.events.maxReceiveCount },
  "status-changes": { queue: "statusChanges", dlq: "statusChangesDlq", maxReceiveCount: QUEUES.statusChanges.maxReceiveCount },
};

/** How often a running move task is asked for its progress. */
const POLL_MS = 500;

function queueOf(flags: Flags): QueueChoice {
  const raw = flags.string("queue");
  if (raw === undefined) throw usageError(`kyc dlq: --queue is required: ${QUEUE_CHOICES.join(" or ")}`);
  return flags.oneOf("queue", QUEUE_CHOICES, "events");
}

/** One parked message as a line: what it is about (an event or a status change), its group, its receives. */
function describeParked(queue: QueueChoice, body: unknown): string {
  const value = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const s = (name: string) => (typeof value[name] === "string" ? (value[name] as string) : "?");
  if (queue === "events") {
    return `event ${s("eventId")}  ${s("correlationId")}  ${String(value["status"] ?? "(no status)")}  received ${s("receivedAt")}`;
  }
  return `change ${s("correlationId")}  ${String(value["previousStatus"] ?? "(new)")} → ${s("status")}  (event ${s("eventId")})`;
}

async function list(flags: Flags, context: Context, queue: QueueChoice): Promise<number> {
  const { out } = context;
  const max = flags.wholeNumber("max", 100, { min: 1, max: 10_000 });
  const target = context.target();
  const sqs = target.sqs();
  const dlqUrl = await target.queueUrl(PAIRS[queue].dlq);
  const json = flags.boolean("json");
  const depth = await depthOf(sqs, dlqUrl);
  if (depth.visible + depth.inFlight === 0) {
    if (!json) out.line(`The ${queue} DLQ (${queueNameOf(dlqUrl)}) is empty.`);
    return 0;
  }
  // Read without consuming: every message read is held (so the next read gets the next ones) and all are released at the end.
  const held: string[] = [];
  const seen = new Set<string>();
  try {
    while (seen.size < max) {
      const batch = await receiveBatch(sqs, dlqUrl, {
        max: max - seen.size,
        waitSeconds: drainWaitSeconds(target.kind),
        visibilitySeconds: 60,
      });
      const fresh = batch.filter((m) => !seen.has(m.MessageId ?? ""));
      held.push(...batch.map((m) => m.ReceiptHandle ?? ""));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        seen.add(message.MessageId ?? "");
        const body = bodyOf(message);
        const attributes = message.Attributes ?? {};
        const sentAt = attributes["SentTimestamp"] === undefined ? null : new Date(Number(attributes["SentTimestamp"])).toISOString();
        if (json) {
          out.json({
            messageId: message.MessageId ?? null,
            groupId: attributes["MessageGroupId"] ?? null,
            deduplicationId: attributes["MessageDeduplicationId"] ?? null,
            sentAt,
            receiveCount: Number(attributes["ApproximateReceiveCount"] ?? 0),
            body,
          });
        } else out.line(`${sentAt ?? "?"}  ${describeParked(queue, body)}`);
      }
      out.progress(`read ${seen.size} messages…`);
    }
  } finally {
    await release(sqs, dlqUrl, held);
  }
  if (!json) {
    const total = depth.visible + depth.inFlight;
    out.line(
      `${seen.size} message${seen.size === 1 ? "" : "s"} listed (about ${total} in ${queueNameOf(dlqUrl)}); left where they were. Move them back: npm run kyc -- dlq redrive --queue ${queue}`,
    );
  }
  return 0;
}

/** The newest move task of `sourceArn` (only one can run at a time per source queue). */
async function latestTask(context: Context, sourceArn: string): Promise<ListMessageMoveTasksResultEntry | undefined> {
  const { Results = [] } = await context
    .target()
    .sqs()
    .send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 1 }));
  return Results[0];
}

async function redrive(flags: Flags, context: Context, queue: QueueChoice): Promise<number> {
  const { out, io } = context;
  const json = flags.boolean("json");
  const target = context.target();
  const sqs = target.sqs();
  const [dlqUrl, queueUrl] = await Promise.all([target.queueUrl(PAIRS[queue].dlq), target.queueUrl(PAIRS[queue].queue)]);
  const [dlq, destination] = await Promise.all([depthOf(sqs, dlqUrl), depthOf(sqs, queueUrl)]);
  const from = queueNameOf(dlqUrl);
  const to = queueNameOf(queueUrl);
  const waiting = dlq.visible;
  const running = await latestTask(context, dlq.arn);
  if (running?.Status === "RUNNING") {
    throw new CliError(
      `a move task is already running on ${from} (moved ${running.ApproximateNumberOfMessagesMoved ?? 0} of ${running.ApproximateNumberOfMessagesToMove ?? "?"}); wait for it to end`,
    );
  }
  if (flags.boolean("dry-run") || waiting === 0) {
    const verb = waiting === 0 ? "nothing to move" : `would move about ${waiting} message${waiting === 1 ? "" : "s"}`;
    if (json) out.json({ queue, from, to, dryRun: flags.boolean("dry-run"), toMove: waiting, moved: 0, status: "NOT_STARTED" });
    else out.line(`${from} → ${to}: ${verb}${waiting > 0 ? " (dry run: nothing changed)" : ""}`);
    return 0;
  }

  await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: destination.arn }));
  if (!json) out.note(`Moving the messages of ${from} back to ${to} (StartMessageMoveTask)…`);
  let task: ListMessageMoveTasksResultEntry | undefined;
  let reported = -1;
  for (;;) {
    await sleep(POLL_MS, io.signal);
    task = await latestTask(context, dlq.arn);
    const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
    const total = task?.ApproximateNumberOfMessagesToMove ?? waiting;
    if (task?.Status !== "RUNNING") break;
    if (io.signal?.aborted) {
      out.note(
        `Stopped following: the task goes on in SQS (moved ${moved} of ${total} so far); see the SQS console or ListMessageMoveTasks.`,
      );
      return 1;
    }
    if (moved !== reported) {
      reported = moved;
      out.progress(`moved ${moved} of ${total}`, { afterMs: 0, everyMs: 0 });
    }
  }
  const moved = task?.ApproximateNumberOfMessagesMoved ?? 0;
  const total = task?.ApproximateNumberOfMessagesToMove ?? waiting;
  const status = task?.Status ?? "UNKNOWN";
  if (json) out.json({ queue, from, to, dryRun: false, toMove: total, moved, status, failureReason: task?.FailureReason ?? null });
  else
    out.line(
      `${from} → ${to}: moved ${moved} of ${total} (${status.toLowerCase()})${task?.FailureReason ? `: ${task.FailureReason}` : ""}`,
    );
  return status === "COMPLETED" ? 0 : 1;
}

export const dlq: Command = {
  name: "dlq",
  summary: "list the dead letters of the events or status-changes queue, or move them back (StartMessageMoveTask)",
  usage: [
    "dlq list --queue events|status-changes [--max <n>] [--json] [options]",
    "dlq redrive --queue events|status-changes [--dry-run] [--json] [options]",
  ],
  description: [
    `list     shows the messages parked in the DLQ without consuming them (they are read, then released at once).`,
    `redrive  moves them back to their queue with SQS's StartMessageMoveTask, printing "moved n of m" while it runs.`,
    "",
    `events          events the consumer failed ${QUEUES.events.maxReceiveCount} times. Redriving them is safe: an event already`,
    "                applied is recorded once in the history and changes nothing the second time.",
    `status-changes  changes your consumer failed ${QUEUES.statusChanges.maxReceiveCount} times (it must be idempotent on correlationId + eventId).`,
  ].join("\n"),
  options: {
    queue: { type: "string", value: "name", describe: "events or status-changes (required)" },
    "dry-run": { type: "boolean", describe: "redrive: say what would move, change nothing" },
    max: { type: "string", value: "n", describe: "list: show at most this many messages (default 100)" },
    ...JSON_OPTION,
    ...TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    const [action, extra] = flags.positionals;
    if (extra !== undefined) throw usageError(`kyc dlq: unexpected argument "${extra}"`);
    if (action === "list") {
      if (flags.boolean("dry-run")) throw usageError("kyc dlq list: --dry-run is for redrive (list changes nothing)");
      return list(flags, context, queueOf(flags));
    }
    if (action === "redrive") {
      if (flags.string("max") !== undefined) throw usageError("kyc dlq redrive: --max is for list (redrive moves every message)");
      return redrive(flags, context, queueOf(flags));
    }
    throw usageError(
      `kyc dlq: ${action === undefined ? "list or redrive?" : `unknown action "${action}": list or redrive`} (see kyc dlq --help)`,
    );
  },
};
