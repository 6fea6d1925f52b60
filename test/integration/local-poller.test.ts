import { randomUUID } from "node:crypto";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONSUMER } from "../../lambdas/core/contract.js";
import { startPoller } from "../../local/poller.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "../../local/sqs.js";

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

/** The consumer's poller on a test queue: no long polls, the rest as given. */
function pollerOn(
  queue: { readonly queueUrl: string; readonly queueArn: string },
  handler: Parameters<typeof startPoller>[0]["handler"],
  options: Partial<Parameters<typeof startPoller>[0]> & { readonly visibilityTimeoutSeconds: number },
): ReturnType<typeof startPoller> {
  return startPoller({ sqs: sqs.client, ...queue, handler, functionName: "kyc-consumer", waitTimeSeconds: 0, ...options });
}

describe("local SQS poller status (what /health reads)", () => {
  it("beats while idle, and names the message it keeps failing with its receive count, until it succeeds", async () => {
    const { queueUrl } = await createFifoQueueWithDlq(sqs.client, {
      nameStem: `poller-status-${Date.now()}`,
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 5,
      retentionDays: 1,
    });
    const queueArn =
      (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.[
        "QueueArn"
      ] ?? "";
    let failuresLeft = 2;
    const handled: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures = event.Records.filter((r) => r.body === "flaky" && failuresLeft > 0).map((r) => ({ itemIdentifier: r.messageId }));
      if (failures.length > 0) failuresLeft -= 1;
      handled.push(...event.Records.filter((r) => failures.every((f) => f.itemIdentifier !== r.messageId)).map((r) => r.body));
      return { batchItemFailures: failures };
    };
    const poller = pollerOn({ queueUrl, queueArn }, handler, { visibilityTimeoutSeconds: 1 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      // An idle poll is progress: with nothing on the queue, a later poll still moves the heartbeat on.
      const before = poller.status().heartbeatAt;
      const beatDeadline = Date.now() + 5_000; // a hang guard only
      let idle = poller.status();
      while (idle.heartbeatAt <= before && Date.now() < beatDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        idle = poller.status();
      }
      expect(idle.heartbeatAt).toBeGreaterThan(before);
      expect(idle.retrying).toBeNull();

      const sent = await sqs.client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "flaky", MessageGroupId: "g", MessageDeduplicationId: "flaky" }),
      );
      const seen: { messageId: string; attempts: number }[] = [];
      const deadline = Date.now() + 8_000;
      while (!handled.includes("flaky") && Date.now() < deadline) {
        const { retrying } = poller.status();
        if (retrying !== null && seen.at(-1)?.attempts !== retrying.attempts)
          seen.push({ messageId: retrying.messageId, attempts: retrying.attempts });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen).toEqual([
        { messageId: sent.MessageId, attempts: 1 },
        { messageId: sent.MessageId, attempts: 2 },
      ]);
      expect(handled).toContain("flaky");
      // It succeeded: nothing is being retried any more, once the poller has taken the handler's
      // answer and deleted the message (it clears the record after that call, not during the handler).
      const clearedDeadline = Date.now() + 3_000;
      while (poller.status().retrying !== null && Date.now() < clearedDeadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(poller.status().retrying).toBeNull();
    } finally {
      await poller.stop();
    }
  }, 20_000);
});

/** A fresh FIFO queue (with its DLQ) and its ARN. */
async function fifoQueue(stem: string, visibilityTimeoutSeconds: number): Promise<{ queueUrl: string; queueArn: string }> {
  const { queueUrl } = await createFifoQueueWithDlq(sqs.client, {
    nameStem: `${stem}-${randomUUID().slice(0, 8)}`,
    visibilityTimeoutSeconds,
    maxReceiveCount: 5,
    retentionDays: 1,
  });
  const attributes = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
  return { queueUrl, queueArn: attributes.Attributes?.["QueueArn"] ?? "" };
}

/** Sends `bodies` in this order (10 per call); each body is `{group}:{index in its group}`, its group the message group. */
async function sendInOrder(queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const entries = bodies.slice(i, i + 10).map((body, j) => ({
      Id: String(j),
      MessageBody: body,
      MessageGroupId: body.split(":")[0],
      MessageDeduplicationId: `${body.replace(":", "-")}-${randomUUID()}`,
    }));
    const answer = await sqs.client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    expect(answer.Failed ?? []).toEqual([]);
  }
}

/** One body per entry of `groupOrder`: `{group}:{index}`, numbering each group's messages in this order. */
function bodiesOf(groupOrder: readonly string[]): string[] {
  const next = new Map<string, number>();
  return groupOrder.map((group) => {
    const index = next.get(group) ?? 0;
    next.set(group, index + 1);
    return `${group}:${index}`;
  });
}

const groupOf = (body: string) => body.split(":")[0] ?? "";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function queueCounts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes } = await sqs.client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes?.["ApproximateNumberOfMessages"] ?? "0"),
    inFlight: Number(Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? "0"),
  };
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not in ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

/**
 * A consumer stand-in that checks what the event source promises: how many invocations run at
 * once, that no message group is in two of them, and in which order each group's messages are
 * handled. `fail(body, attempt)` fails a record; like the real consumer (skipGroupOnError), the
 * records of its group after it in the batch are then reported failed too.
 */
function observingHandler(options: { readonly delayMs: number; readonly fail?: (body: string, receiveCount: number) => boolean }) {
  const seen = {
    running: 0,
    maxRunning: 0,
    started: 0,
    ended: 0,
    batchSizes: [] as number[],
    /** Messages handled successfully, by group, in the order handled. */
    handled: new Map<string, string[]>(),
    handledAt: new Map<string, number>(),
    failures: [] as { body: string; messageId: string; at: number }[],
    violations: [] as string[],
  };
  const inFlightGroups = new Set<string>();
  const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    seen.started += 1;
    seen.running += 1;
    seen.maxRunning = Math.max(seen.maxRunning, seen.running);
    seen.batchSizes.push(event.Records.length);
    const groups = new Set(event.Records.map((r) => r.attributes.MessageGroupId ?? ""));
    for (const group of groups) if (inFlightGroups.has(group)) seen.violations.push(`group ${group} in two batches at once`);
    for (const group of groups) inFlightGroups.add(group);
    try {
      await sleep(options.delayMs);
      const failedGroups = new Set<string>();
      const batchItemFailures: { itemIdentifier: string }[] = [];
      for (const record of event.Records) {
        const group = groupOf(record.body);
        if (failedGroups.has(group) || options.fail?.(record.body, Number(record.attributes.ApproximateReceiveCount))) {
          if (!failedGroups.has(group)) seen.failures.push({ body: record.body, messageId: record.messageId, at: Date.now() });
          failedGroups.add(group);
          batchItemFailures.push({ itemIdentifier: record.messageId });
          continue;
        }
        seen.handled.set(group, [...(seen.handled.get(group) ?? []), record.body]);
        seen.handledAt.set(record.body, Date.now());
      }
      return { batchItemFailures };
    } finally {
      for (const group of groups) inFlightGroups.delete(group);
      seen.running -= 1;
      seen.ended += 1;
    }
  };
  const handledCount = () => [...seen.handled.values()].reduce((n, list) => n + list.length, 0);
  return { handler, seen, handledCount };
}

/** Each group's bodies, in the order sent. */
function byGroup(bodies: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const body of bodies) groups.set(groupOf(body), [...(groups.get(groupOf(body)) ?? []), body]);
  return groups;
}

describe("local SQS poller: message groups in parallel, in order within a group (as Lambda's FIFO event source)", () => {
  it("runs up to maxConcurrency batches at once, never one group in two of them, each group strictly in order (any group assignment)", async () => {
    let runsWithOverlap = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(..."abcdefghijkl"), { minLength: 1, maxLength: 80, size: "max" }),
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 15 }),
        async (groupOrder, maxConcurrency, batchSize, delayMs) => {
          const bodies = bodiesOf(groupOrder);
          const { queueUrl, queueArn } = await fifoQueue("poller-order", 30);
          const { handler, seen, handledCount } = observingHandler({ delayMs });
          const poller = pollerOn({ queueUrl, queueArn }, handler, { visibilityTimeoutSeconds: 30, maxConcurrency, batchSize });
          try {
            await sendInOrder(queueUrl, bodies); // arriving while the poller runs
            await until(
              async () => handledCount() === bodies.length && (await queueCounts(queueUrl)).inFlight === 0,
              15_000,
              "all handled",
            );
          } finally {
            await poller.stop();
          }
          expect(seen.violations).toEqual([]);
          expect(seen.maxRunning).toBeLessThanOrEqual(maxConcurrency);
          expect(Math.max(...seen.batchSizes)).toBeLessThanOrEqual(batchSize);
          expect(seen.handled).toEqual(byGroup(bodies)); // each group exactly once, in the order sent
          expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 }); // all deleted
          if (seen.maxRunning > 1) runsWithOverlap += 1;
        },
      ),
      { numRuns: 15, seed: 20_261_122 },
    );
    expect(runsWithOverlap).toBeGreaterThan(0);
  }, 120_000);

  it("with many groups and a slow consumer, keeps maxConcurrency invocations running (the default is the contract's)", async () => {
    const bodies = bodiesOf(Array.from({ length: 120 }, (_, i) => `g${i % 24}`));
    const { queueUrl, queueArn } = await fifoQueue("poller-saturate", 30);
    await sendInOrder(queueUrl, bodies);
    const { handler, seen, handledCount } = observingHandler({ delayMs: 40 });
    const poller = pollerOn({ queueUrl, queueArn }, handler, { visibilityTimeoutSeconds: 30 });
    try {
      await until(() => handledCount() === bodies.length, 15_000, "all handled");
    } finally {
      await poller.stop();
    }
    expect(seen.violations).toEqual([]);
    expect(seen.maxRunning).toBe(CONSUMER.maxConcurrency);
    expect(Math.max(...seen.batchSizes)).toBeLessThanOrEqual(CONSUMER.batchSize);
    expect(seen.handled).toEqual(byGroup(bodies));
  }, 30_000);

  it("a failing record blocks only its group, which resumes in order once the record is visible again; other groups carry on", async () => {
    const { queueUrl, queueArn } = await fifoQueue("poller-block", 1);
    let firstFailureLeft = true;
    const { handler, seen, handledCount } = observingHandler({
      delayMs: 10,
      fail: (body) => {
        if (body !== "a:2" || !firstFailureLeft) return false;
        firstFailureLeft = false;
        return true;
      },
    });
    const poller = pollerOn({ queueUrl, queueArn }, handler, { visibilityTimeoutSeconds: 1 });
    const sent = bodiesOf(["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "c"]);
    try {
      await sendInOrder(queueUrl, sent);
      await until(() => seen.failures.length > 0, 5_000, "a:2 failed");
      const failure = seen.failures[0];
      await until(() => poller.status().retrying !== null, 2_000, "the failure is reported");
      expect(poller.status().retrying).toMatchObject({ messageId: failure?.messageId, attempts: 1 });
      // While a:2 waits for its retry, a later message of its group arrives (the local server hands it
      // out: it reappears later than a:2), and so does one of another group.
      await sleep(400);
      await sendInOrder(queueUrl, ["a:5", "b:5"]);
      // Once a:2 is handled, one more: visible before a:5 is back, it must still wait for a:5.
      await until(() => seen.handledAt.has("a:2"), 5_000, "a:2 retried");
      await sendInOrder(queueUrl, ["a:6"]);
      const all = [...sent, "a:5", "b:5", "a:6"];
      await until(async () => handledCount() === all.length && (await queueCounts(queueUrl)).inFlight === 0, 10_000, "all handled");
      expect(poller.status().retrying).toBeNull();

      expect(seen.violations).toEqual([]);
      expect(seen.failures.map((f) => f.body)).toEqual(["a:2"]);
      expect(seen.handled).toEqual(byGroup(all)); // a:2 to a:6 in order after the retry, each once
      const failedAt = failure?.at ?? 0;
      const retriedAt = seen.handledAt.get("a:2") ?? 0;
      expect(retriedAt - failedAt).toBeGreaterThanOrEqual(900); // blocked until visible again (1 s after its receive)
      for (const body of ["b:4", "c:4", "b:5"]) expect(seen.handledAt.get(body) ?? Number.POSITIVE_INFINITY).toBeLessThan(retriedAt);
      expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
    } finally {
      await poller.stop();
    }
  }, 20_000);

  it("a message held behind its own group for a third of the visibility timeout is let go and comes back, never handed over late", async () => {
    const { queueUrl, queueArn } = await fifoQueue("poller-stale", 1);
    // Each slow message takes 0.8 s of a 1 s visibility timeout: slow:1, received with slow:0 and held
    // behind it, would reach the consumer with its visibility nearly out (and end after it ran out).
    const attempts = new Map<string, number>();
    const observed = observingHandler({ delayMs: 0 });
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      for (const r of event.Records) attempts.set(r.body, Number(r.attributes.ApproximateReceiveCount));
      if (event.Records.some((r) => r.body.startsWith("slow:"))) await sleep(800);
      return observed.handler(event);
    };
    const errors: unknown[] = [];
    const poller = pollerOn({ queueUrl, queueArn }, handler, {
      visibilityTimeoutSeconds: 1,
      batchSize: 1,
      onError: (error) => errors.push(error),
    });
    const bodies = ["slow:0", "slow:1", "fast:0", "fast:1", "fast:2"];
    try {
      await sendInOrder(queueUrl, bodies);
      await until(
        async () => observed.handledCount() === bodies.length && (await queueCounts(queueUrl)).inFlight === 0,
        10_000,
        "all handled",
      );
    } finally {
      await poller.stop();
    }
    expect(errors).toEqual([]); // every delete succeeded: nothing was handled after its visibility ran out
    expect(observed.seen.handled).toEqual(byGroup(bodies));
    expect(attempts.get("slow:0")).toBe(1);
    expect(attempts.get("slow:1")).toBe(2); // let go while held, received again once visible
    expect(await queueCounts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  }, 20_000);

  it("stop() waits for the batches in flight: what was handled is deleted, everything else is visible again at once", async () => {
    const bodies = bodiesOf(Array.from({ length: 80 }, (_, i) => `s${i % 20}`));
    const { queueUrl, queueArn } = await fifoQueue("poller-stop", 30);
    await sendInOrder(queueUrl, bodies);
    const { handler, seen, handledCount } = observingHandler({ delayMs: 250 });
    const poller = pollerOn({ queueUrl, queueArn }, handler, { visibilityTimeoutSeconds: 30 });
    await until(() => seen.running === CONSUMER.maxConcurrency, 5_000, "every slot busy");
    await poller.stop();

    // Nothing runs any more, nothing is held: every invocation started has ended.
    expect(seen.running).toBe(0);
    expect(seen.ended).toBe(seen.started);
    expect(poller.status()).toMatchObject({ buffered: 0, inFlight: 0 });
    const handled = [...seen.handled.values()].flat();
    expect(handled.length).toBeGreaterThanOrEqual(CONSUMER.maxConcurrency);
    expect(handled.length).toBeLessThan(bodies.length);
    expect(handledCount()).toBe(handled.length);
    // The handled messages are deleted; the others are all visible (none left in flight for 30 s).
    expect(await queueCounts(queueUrl)).toEqual({ visible: bodies.length - handled.length, inFlight: 0 });
    const rest: string[] = [];
    for (;;) {
      const { Messages = [] } = await sqs.client.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 30 }),
      );
      if (Messages.length === 0) break;
      rest.push(...Messages.map((m) => m.Body ?? ""));
    }
    expect(new Set([...handled, ...rest])).toEqual(new Set(bodies));
    expect(handled.length + rest.length).toBe(bodies.length);
    // What was handled of each group is a prefix of it: no message handled before an earlier one.
    for (const [group, list] of seen.handled) expect(list).toEqual(byGroup(bodies).get(group)?.slice(0, list.length));
  }, 20_000);
});
