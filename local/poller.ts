/**
 * A local stand-in for Lambda's SQS event source mapping on a FIFO queue: runs up to
 * `maxConcurrency` consumer invocations at once, each with a batch of up to `batchSize` messages
 * (several message groups mixed), never two batches holding messages of the same group at the
 * same time, each group's messages in order. It deletes what succeeded (DeleteMessageBatch) and
 * leaves each `batchItemFailures` record to reappear after the visibility timeout; SQS's redrive
 * policy moves a record to the DLQ after `maxReceiveCount` receives.
 *
 * Two parts:
 * - a receiver: one loop (one receive at a time, so each group's messages arrive in queue order)
 *   that keeps a bounded buffer of received messages per group. It receives only while the
 *   buffer has room and the invocations make progress, without waiting while there is work
 *   (long polls only when idle);
 * - a dispatcher: whenever a slot frees or messages arrive, it starts a batch from the groups
 *   that have none in flight, oldest first, spreading what is buffered over the free slots.
 *
 * The emulation on top of the local server: real SQS FIFO never hands out a message group's
 * later messages while an earlier one is in flight; local-aws-sqs does. So:
 * - a group with a batch in flight keeps its newly received messages buffered behind it;
 * - when a record fails, the group's records after it and its buffered messages are dropped (not
 *   deleted: they reappear after their visibility timeout), and the group then accepts only the
 *   message it lost first, then the next, and so on: any other message of the group received
 *   meanwhile is dropped too (it reappears). A lost message that does not come back within its
 *   visibility timeout and a margin went to the DLQ (or was deleted): the group stops waiting for
 *   it. So a message is never handled before one that precedes it in its group, not even when
 *   a later one happens to be visible first;
 * - a buffered message is handed to the consumer only within a third of the visibility timeout
 *   of its receive: older, it is dropped the same way (with the rest of its group), so that it is
 *   never processed while another copy of it may be delivered. While every slot has been busy
 *   for a while (a stalled consumer), the receiver pauses rather than receive what would go stale.
 *
 * `stop()` receives no more, waits for the batches in flight (handled and deleted), then makes
 * what is still buffered visible again at once. `status()` tells /health whether the poller makes
 * progress and which message has been failing longest, if any.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Context, SQSEvent, SQSRecord, SQSRecordAttributes } from "aws-lambda";
import type { ConsumerHandler } from "../lambdas/consumer/consumer.js";
import { CONSUMER } from "../lambdas/core/contract.js";

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: ConsumerHandler;
  /** The function name the handler sees in its Lambda context. */
  readonly functionName: string;
  readonly visibilityTimeoutSeconds: number;
  /** Records per invocation. @default CONSUMER.batchSize */
  readonly batchSize?: number;
  /** Invocations at once (the mapping's maximum concurrency). @default CONSUMER.maxConcurrency */
  readonly maxConcurrency?: number;
  /** Received messages held at most, waiting for a batch. @default 2 × maxConcurrency × batchSize */
  readonly maxBuffered?: number;
  /** Long-poll wait of a receive while idle (stop() waits up to this long for the receive under way). @default 1 */
  readonly waitTimeSeconds?: number;
  readonly onError?: (error: unknown) => void;
}

export interface PollerStatus {
  /** Epoch ms of the poller's last progress: a receive that answered (an idle long poll too), a batch handled. */
  readonly heartbeatAt: number;
  /** The message failing for the longest time without success yet, if any. */
  readonly retrying: {
    readonly messageId: string;
    /** Receives of the message so far (SQS's ApproximateReceiveCount). */
    readonly attempts: number;
    /** Epoch ms of its first failure. */
    readonly since: number;
  } | null;
  /** Messages received and waiting for a batch. */
  readonly buffered: number;
  /** Invocations under way. */
  readonly inFlight: number;
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

/** A received message, as buffered and handed over. */
interface Received {
  readonly message: Message;
  readonly id: string;
  readonly group: string;
  /** Epoch ms the receive was asked for: the message's visibility timeout started after this (its age counts from here). */
  readonly askedAt: number;
  /** Epoch ms the receive answered: its visibility timeout runs out at most a visibility timeout after this. */
  readonly receivedAt: number;
}

/** A message the poller let go of (dropped, or failed): its group waits for it to come back. */
interface Lost {
  readonly id: string;
  /** Past this, it went to the DLQ or was deleted: the group stops waiting for it. */
  readonly until: number;
}

interface Group {
  /** Received and not yet handed over, in group order. */
  buffer: Received[];
  /** A batch holding messages of this group is under way. */
  inFlight: boolean;
  /** Messages let go of, in group order: the group accepts only the first one until it is back. */
  lost: Lost[];
}

/** How long past its visibility timeout a lost message may take to be received again (plus a long poll's wait). */
const COMEBACK_MARGIN_MS = 2_000;
/** The longest the receiver waits for a change while it does not receive (stale checks run at least this often). */
const MAX_PAUSE_MS = 250;

export function startPoller(options: PollerOptions): Poller {
  const { sqs, queueUrl, queueArn, handler } = options;
  const batchSize = options.batchSize ?? CONSUMER.batchSize;
  const maxConcurrency = options.maxConcurrency ?? CONSUMER.maxConcurrency;
  const maxBuffered = Math.max(options.maxBuffered ?? 2 * maxConcurrency * batchSize, batchSize);
  const visibilityMs = options.visibilityTimeoutSeconds * 1000;
  const waitTimeSeconds = options.waitTimeSeconds ?? 1;
  /** A buffered message older than this is not handed over any more (the handler keeps two thirds of the timeout). */
  const maxAgeMs = visibilityMs / 3;
  /** Every slot busy, the oldest for this long: the consumer is stalled and the receiver pauses. */
  const stalledAfterMs = maxAgeMs / 2;

  const groups = new Map<string, Group>();
  let buffered = 0;
  /** Batches under way, with their start (epoch ms). */
  const active = new Map<Promise<void>, number>();
  /** Messages that failed and have not succeeded since, by message id. */
  const failing = new Map<string, { attempts: number; since: number; lastAt: number }>();
  let heartbeatAt = Date.now();
  let running = true;

  /** Wakes the receiver when it waits for room, for progress, or for the end of an error pause. */
  let wake: (() => void) | undefined;
  const notify = () => wake?.();
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (wake === done) wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      wake = done;
    });

  const groupState = (id: string): Group => {
    let group = groups.get(id);
    if (group === undefined) {
      group = { buffer: [], inFlight: false, lost: [] };
      groups.set(id, group);
    }
    return group;
  };
  const forgetIfIdle = (id: string, group: Group) => {
    if (group.buffer.length === 0 && !group.inFlight && group.lost.length === 0) groups.delete(id);
  };
  const comebackMs = visibilityMs + COMEBACK_MARGIN_MS + waitTimeSeconds * 1000;
  const lostOf = (r: Received): Lost => ({ id: r.id, until: r.receivedAt + comebackMs });

  /** Lets go of `first` (in group order) and of everything buffered for the group after it. */
  function loseFrom(groupId: string, group: Group, first: readonly Received[]): void {
    // By id, in the order first seen; a message received twice comes back after its later receive.
    const lost = new Map<string, Lost>();
    for (const l of [...first.map(lostOf), ...group.buffer.map(lostOf), ...group.lost])
      lost.set(l.id, { id: l.id, until: Math.max(l.until, lost.get(l.id)?.until ?? 0) });
    buffered -= group.buffer.length;
    group.buffer = [];
    group.lost = [...lost.values()];
    forgetIfIdle(groupId, group);
  }

  /** Buffers a received message, or drops it when its group waits for an earlier one. */
  function accept(message: Message, askedAt: number, now: number): void {
    const received: Received = {
      message,
      id: message.MessageId ?? "",
      group: message.Attributes?.["MessageGroupId"] ?? "",
      askedAt,
      receivedAt: now,
    };
    const group = groupState(received.group);
    group.lost = group.lost.filter((l) => l.until > now);
    const copy = group.buffer.findIndex((r) => r.id === received.id);
    if (copy >= 0) {
      group.buffer[copy] = received; // received again (it was in flight too long): the newest receipt counts
      return;
    }
    const expected = group.lost[0];
    if (expected === undefined || expected.id === received.id) {
      group.lost.shift();
      group.buffer.push(received);
      buffered += 1;
      return;
    }
    // An earlier message of its group is not back yet: this one reappears after its visibility timeout.
    const lost = lostOf(received);
    const at = group.lost.findIndex((l) => l.id === received.id);
    if (at >= 0) group.lost[at] = lost;
    else group.lost.push(lost);
  }

  /** Drops each group whose oldest buffered message is too old to be handed over safely; forgets lost messages that did not come back. */
  function dropStale(now: number): void {
    for (const [id, group] of groups) {
      const head = group.buffer[0];
      if (head !== undefined && now - head.askedAt >= maxAgeMs) loseFrom(id, group, []);
      if (group.lost.some((l) => l.until <= now)) {
        group.lost = group.lost.filter((l) => l.until > now);
        forgetIfIdle(id, group);
      }
    }
  }

  /**
   * The next batch: the ready groups (no batch in flight), oldest first, until it holds `target`
   * messages; each group with as much of its buffer as fits, so that it waits behind itself less.
   */
  function nextBatch(target: number): Received[] {
    const ready = [...groups.values()]
      .filter((g) => !g.inFlight && g.buffer.length > 0)
      .sort((a, b) => (a.buffer[0]?.askedAt ?? 0) - (b.buffer[0]?.askedAt ?? 0));
    const batch: Received[] = [];
    for (const group of ready) {
      if (batch.length >= target) break;
      const taken = group.buffer.splice(0, batchSize - batch.length);
      buffered -= taken.length;
      group.inFlight = true;
      batch.push(...taken);
    }
    return batch;
  }

  /** Starts batches while slots are free and something can be handed over. */
  function dispatch(): void {
    if (!running) return;
    dropStale(Date.now());
    while (active.size < maxConcurrency) {
      let ready = 0;
      for (const group of groups.values()) if (!group.inFlight) ready += group.buffer.length;
      if (ready === 0) return;
      // Spread what is ready over the free slots: more invocations at once, each group still in one.
      const target = Math.min(batchSize, Math.ceil(ready / (maxConcurrency - active.size)));
      const batch = nextBatch(target);
      if (batch.length === 0) return;
      const run = invoke(batch).catch((error: unknown) => options.onError?.(error));
      active.set(run, Date.now());
      void run.then(() => {
        active.delete(run);
        dispatch();
        notify();
      });
    }
  }

  /** One invocation: the handler, then DeleteMessageBatch of what succeeded, then the failed groups let go. */
  async function invoke(batch: readonly Received[]): Promise<void> {
    const event: SQSEvent = { Records: batch.map((r) => toRecord(r.message, queueArn)) };
    let failed: Set<string>;
    try {
      const response = await handler(event, context(options.functionName));
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      options.onError?.(error);
      failed = new Set(batch.map((r) => r.id)); // an invocation error fails the whole batch
    }
    const done = batch.filter((r) => !failed.has(r.id));
    if (done.length > 0) {
      try {
        const answer = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.message.ReceiptHandle ?? "" })),
          }),
        );
        // A message not deleted (its visibility ran out meanwhile) comes back: a redelivery, which the consumer makes harmless.
        if (answer.Failed !== undefined && answer.Failed.length > 0)
          options.onError?.(new Error(`DeleteMessageBatch: ${answer.Failed.map((f) => `${f.Code}: ${f.Message}`).join("; ")}`));
      } catch (error) {
        options.onError?.(error);
      }
    }

    const now = Date.now();
    heartbeatAt = now;
    const byGroup = new Map<string, Received[]>();
    for (const r of batch) byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r]);
    for (const [id, records] of byGroup) {
      const group = groupState(id);
      group.inFlight = false;
      const firstFailed = records.findIndex((r) => failed.has(r.id));
      for (const r of firstFailed < 0 ? records : records.slice(0, firstFailed)) failing.delete(r.id);
      const head = records[firstFailed];
      if (head === undefined) {
        forgetIfIdle(id, group);
        continue;
      }
      const attempts = Number(head.message.Attributes?.["ApproximateReceiveCount"] ?? "1");
      failing.set(head.id, { attempts, since: failing.get(head.id)?.since ?? now, lastAt: now });
      // The failed record and the group's records after it come back after their visibility timeout, in order.
      loseFrom(
        id,
        group,
        records.slice(firstFailed).filter((r) => failed.has(r.id)),
      );
    }
  }

  /** Makes messages visible again at once (on stop), 10 per call. */
  async function release(messages: readonly Received[]): Promise<void> {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      try {
        await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.message.ReceiptHandle ?? "", VisibilityTimeout: 0 })),
          }),
        );
      } catch (error) {
        options.onError?.(error); // they reappear after their visibility timeout anyway
      }
    }
  }

  const stalled = (now: number) => active.size >= maxConcurrency && now - Math.min(...active.values()) >= stalledAfterMs;

  async function receive(): Promise<void> {
    let lastReceived = 0;
    while (running) {
      dispatch();
      const now = Date.now();
      // A failed message that has not come back for two visibility timeouts went to the DLQ (or was deleted).
      for (const [id, f] of failing) if (f.lastAt < now - 2 * visibilityMs - 5_000) failing.delete(id);
      if (buffered >= maxBuffered || stalled(now)) {
        let oldest = Number.POSITIVE_INFINITY;
        for (const group of groups.values()) oldest = Math.min(oldest, group.buffer[0]?.askedAt ?? oldest);
        await pause(Math.max(1, Math.min(MAX_PAUSE_MS, oldest + maxAgeMs - now)));
        continue;
      }
      const idle = lastReceived === 0 && buffered === 0 && active.size === 0;
      const askedAt = Date.now();
      try {
        const answer = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: Math.min(10, maxBuffered - buffered),
            WaitTimeSeconds: idle ? waitTimeSeconds : 0,
            AttributeNames: ["All"],
          }),
        );
        // A receive that answered, even with nothing, is the poller working (an idle long poll beats too).
        const at = Date.now();
        heartbeatAt = at;
        const messages = answer.Messages ?? [];
        lastReceived = messages.length;
        for (const message of messages) accept(message, askedAt, at);
      } catch (error) {
        options.onError?.(error);
        lastReceived = 0;
        await pause(500); // no heartbeat: a failing receive is no progress
      }
    }
  }

  const receiver = receive();

  return {
    status() {
      const oldest = [...failing.entries()].sort(([, a], [, b]) => a.since - b.since)[0];
      return {
        heartbeatAt,
        retrying: oldest === undefined ? null : { messageId: oldest[0], attempts: oldest[1].attempts, since: oldest[1].since },
        buffered,
        inFlight: active.size,
      };
    },
    async stop() {
      running = false;
      notify();
      await receiver;
      while (active.size > 0) await Promise.all([...active.keys()]);
      const rest = [...groups.values()].flatMap((g) => g.buffer);
      for (const group of groups.values()) group.buffer = [];
      buffered = 0;
      groups.clear();
      await release(rest);
    },
  };
}
