/**
 * A local stand-in for Lambda's SQS event source mapping: receives batches from the events
 * queue, invokes the consumer handler with an `SQSEvent`, deletes what succeeded and leaves
 * each `batchItemFailures` record to reappear after the visibility timeout; SQS's redrive policy
 * moves a record to the DLQ after `maxReceiveCount` receives.
 *
 * One emulation on top of the local server: real SQS FIFO never hands out a message group's
 * later messages while an earlier one is in flight; local-aws-sqs does. So after a failure the
 * poller blocks that group until the failed records are visible again, and leaves any message
 * of a blocked group untouched (it reappears after its own visibility timeout).
 *
 * `status()` tells /health whether the loop makes progress and which message has been failing
 * longest, if any.
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { ConsumerHandler } from "../lambdas/consumer/consumer.js";

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: ConsumerHandler;
  /** The function name the handler sees in its Lambda context. */
  readonly functionName: string;
  readonly visibilityTimeoutSeconds: number;
  readonly batchSize?: number;
  /** Long-poll wait per receive; stop() takes at most this long. */
  readonly waitTimeSeconds?: number;
  readonly onError?: (error: unknown) => void;
}

export interface PollerStatus {
  /** Epoch ms of the loop's last progress: a receive that answered (an idle long poll too), a batch handled. */
  readonly heartbeatAt: number;
  /** The message failing for the longest time without success yet, if any. */
  readonly retrying: {
    readonly messageId: string;
    /** Receives of the message so far (SQS's ApproximateReceiveCount). */
    readonly attempts: number;
    /** Epoch ms of its first failure. */
    readonly since: number;
  } | null;
}

export interface Poller {
  status(): PollerStatus;
  stop(): Promise<void>;
}

function toRecord(message: Message, queueArn: string): SQSRecord {
  const a = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body: message.Body ?? "",
    attributes: {
      ApproximateReceiveCount: a["ApproximateReceiveCount"] ?? "1",
      SentTimestamp: a["SentTimestamp"] ?? "",
      SenderId: a["SenderId"] ?? "",
      ApproximateFirstReceiveTimestamp: a["ApproximateFirstReceiveTimestamp"] ?? "",
      MessageGroupId: a["MessageGroupId"],
      MessageDeduplicationId: a["MessageDeduplicationId"],
      SequenceNumber: a["SequenceNumber"],
    } as SQSRecordAttributes,
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(":")[3] ?? "us-east-1",
  };
}

const context = (name: string): Context =>
  ({
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${name}`,
    memoryLimitInMB: "256",
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/local/${name}`,
    logStreamName: "local",
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => 30_000,
  }) as Context;

export function startPoller(options: PollerOptions): Poller {
  const { sqs, queueUrl, queueArn, handler } = options;
  const blockedUntil = new Map<string, number>();
  /** Messages that failed and have not succeeded since, by message id. */
  const failing = new Map<string, { attempts: number; since: number; lastAt: number }>();
  let heartbeatAt = Date.now();
  let running = true;

  const groupOf = (m: Message) => m.Attributes?.["MessageGroupId"] ?? "";
  const isBlocked = (m: Message) => (blockedUntil.get(groupOf(m)) ?? 0) > Date.now();

  async function pollOnce(): Promise<void> {
    // A failed message that has not come back for two visibility timeouts went to the DLQ (or was deleted).
    const forgetBefore = Date.now() - 2 * options.visibilityTimeoutSeconds * 1000 - 5_000;
    for (const [id, f] of failing) if (f.lastAt < forgetBefore) failing.delete(id);
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        AttributeNames: ["All"],
      }),
    );
    // A receive that answered, even with nothing, is the loop working (an idle long poll beats too).
    // Failed records reappear one visibility timeout after this receive (less the loopback
    // latency): their group stays blocked until then, and not a moment longer.
    heartbeatAt = Date.now();
    const visibleAgainAt = Date.now() - 50 + options.visibilityTimeoutSeconds * 1000;
    const messages = (received.Messages ?? []).filter((m) => !isBlocked(m));
    if (messages.length === 0) return;

    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn)) };
    let failed: Set<string>;
    try {
      const response = await handler(event, context(options.functionName));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      options.onError?.(error);
      failed = new Set(messages.map((m) => m.MessageId ?? "")); // an invocation error fails the whole batch
    }

    const now = Date.now();
    for (const m of messages) {
      const id = m.MessageId ?? "";
      if (!failed.has(id)) {
        failing.delete(id);
        continue;
      }
      blockedUntil.set(groupOf(m), visibleAgainAt);
      const attempts = Number(m.Attributes?.["ApproximateReceiveCount"] ?? "1");
      failing.set(id, { attempts, since: failing.get(id)?.since ?? now, lastAt: now });
    }
    heartbeatAt = Date.now();
    const done = messages.filter((m) => !failed.has(m.MessageId ?? ""));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
        }),
      );
    }
  }

  const loop = (async () => {
    while (running) {
      try {
        await pollOnce();
      } catch (error) {
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500)); // no heartbeat: a failing receive is no progress
      }
    }
  })();

  return {
    status() {
      const oldest = [...failing.entries()].sort(([, a], [, b]) => a.since - b.since)[0];
      return {
        heartbeatAt,
        retrying: oldest === undefined ? null : { messageId: oldest[0], attempts: oldest[1].attempts, since: oldest[1].since },
      };
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
