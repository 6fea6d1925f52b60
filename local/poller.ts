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
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { ConsumerHandler } from "../lambdas/consumer/consumer.js";

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: ConsumerHandler;
  readonly visibilityTimeoutSeconds: number;
  readonly batchSize?: number;
  /** Long-poll wait per receive; stop() takes at most this long. */
  readonly waitTimeSeconds?: number;
  readonly onError?: (error: unknown) => void;
}

export interface Poller {
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
  let running = true;

  const groupOf = (m: Message) => m.Attributes?.["MessageGroupId"] ?? "";
  const isBlocked = (m: Message) => (blockedUntil.get(groupOf(m)) ?? 0) > Date.now();

  async function pollOnce(): Promise<void> {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        AttributeNames: ["All"],
      }),
    );
    // Failed records reappear one visibility timeout after this receive (less the loopback
    // latency): their group stays blocked until then, and not a moment longer.
    const visibleAgainAt = Date.now() - 50 + options.visibilityTimeoutSeconds * 1000;
    const messages = (received.Messages ?? []).filter((m) => !isBlocked(m));
    if (messages.length === 0) return;

    const event: SQSEvent = { Records: messages.map((m) => toRecord(m, queueArn)) };
    let failed: Set<string>;
    try {
      const response = await handler(event, context("kyc-consumer"));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      options.onError?.(error);
      failed = new Set(messages.map((m) => m.MessageId ?? "")); // an invocation error fails the whole batch
    }

    for (const m of messages) if (failed.has(m.MessageId ?? "")) blockedUntil.set(groupOf(m), visibleAgainAt);
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
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
