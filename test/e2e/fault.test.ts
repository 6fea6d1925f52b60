import { describe, expect, it } from "vitest";
import type { ProviderId, Status } from "../../lambdas/core/event.js";
import { type SampleRequest, sampleSessionId, sampleWebhook } from "../../local/samples.js";
import { ACCEPTED_STATUSES } from "../support/http.js";
import { consumeStatusChanges, queueDepth, readVerification, useLocalPipeline, type VerificationView } from "../support/pipeline.js";

const SECRETS: Record<ProviderId, string> = { veriff: "f-veriff", idngo: "f-idngo", idbeyond: "f-idbeyond", neurovision: "f-neurovision" };

/** Journeys whose last event also has the highest precedence, so any arrival order ends there. */
const JOURNEYS: Record<ProviderId, Status[]> = {
  veriff: ["started", "submitted", "approved"],
  idngo: ["created", "submitted", "in_review", "approved"],
  idbeyond: ["started", "submitted", "in_review", "rejected"],
  neurovision: ["submitted", "in_review", "approved"],
};
const PER_PROVIDER = 5;
const WEBHOOKS = 200;
const CONCURRENCY = 16;
const SEND_INTERVAL_MS = 30; // 200 webhooks over about 6 s
const FREEZE_AFTER_MS = 1_500;
const FREEZE_MS = 3_500;

const local = useLocalPipeline(SECRETS, {});

interface Delivery {
  readonly provider: ProviderId;
  readonly correlationId: string;
  readonly request: SampleRequest;
}

/** 20 verifications; every event delivered at least once, then redeliveries up to 200 webhooks, in random order. */
function load(): { deliveries: Delivery[]; expected: Map<string, { status: Status; events: number }> } {
  const expected = new Map<string, { status: Status; events: number }>();
  const distinct: Delivery[] = [];
  const t0 = Date.now() - 3_600_000;
  for (const provider of Object.keys(JOURNEYS) as ProviderId[]) {
    for (let v = 0; v < PER_PROVIDER; v++) {
      const sessionId = sampleSessionId(provider);
      const correlationId = `${provider}:${sessionId}`;
      const journey = JOURNEYS[provider];
      journey.forEach((status, i) => {
        const request = sampleWebhook(provider, status, SECRETS[provider], {
          sessionId,
          userKey: `fault-${v}`,
          occurredAt: new Date(t0 + i * 60_000),
        });
        distinct.push({ provider, correlationId, request });
      });
      expected.set(correlationId, { status: journey.at(-1) as Status, events: journey.length });
    }
  }
  const deliveries = [...distinct];
  while (deliveries.length < WEBHOOKS) deliveries.push(distinct[Math.floor(Math.random() * distinct.length)] as Delivery);
  for (let i = deliveries.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [deliveries[i], deliveries[j]] = [deliveries[j] as Delivery, deliveries[i] as Delivery];
  }
  return { deliveries, expected };
}

/** Sends one webhook as a provider does: a 503 is sent again (after a pause); any other answer is final. */
async function deliver(d: Delivery, answers: number[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(`${local.pipeline.url}/webhooks/${d.provider}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...d.request.headers },
      body: d.request.body,
    });
    await res.arrayBuffer();
    answers.push(res.status);
    if (res.status !== 503 || attempt >= 20) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function health(): Promise<{ status: number; ms: number; body: { checks: Record<string, { ok: boolean; error?: string }> } }> {
  const started = Date.now();
  const res = await fetch(`${local.pipeline.url}/health`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { checks: Record<string, { ok: boolean; error?: string }> };
  return { status: res.status, ms: Date.now() - started, body };
}

const view = (correlationId: string): Promise<VerificationView | undefined> => readVerification(local.pipeline, correlationId);

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("DynamoDB Local frozen in the middle of a load", () => {
  it("loses nothing, applies nothing twice, publishes each change once; /health says 503 within 1 s while frozen, 200 after", async () => {
    const pid = local.pipeline.dynamoPid;
    expect(isRunning(pid)).toBe(true);
    expect((await health()).status).toBe(200);
    const { deliveries, expected } = load();
    const answers: number[] = [];

    // Paced sending, at most CONCURRENCY in flight.
    const started = Date.now();
    let next = 0;
    const workers = Array.from({ length: CONCURRENCY }, async () => {
      for (;;) {
        const i = next++;
        const delivery = deliveries[i];
        if (delivery === undefined) return;
        const due = started + i * SEND_INTERVAL_MS;
        if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
        await deliver(delivery, answers);
      }
    });

    const duringFreeze: Awaited<ReturnType<typeof health>>[] = [];
    let frozenAt = 0;
    let sentWhileFrozen = 0;
    try {
      await new Promise((resolve) => setTimeout(resolve, FREEZE_AFTER_MS));
      process.kill(pid, "SIGSTOP");
      frozenAt = Date.now();
      const answersBefore = answers.length;
      while (Date.now() - frozenAt < FREEZE_MS - 600) {
        duringFreeze.push(await health());
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      sentWhileFrozen = answers.length - answersBefore;
    } finally {
      process.kill(pid, "SIGCONT"); // always resumed, whatever failed above
    }
    await Promise.all(workers);

    // While frozen: 503 within 1 s, naming DynamoDB (its check timed out rather than hang the answer).
    expect(duringFreeze.length).toBeGreaterThanOrEqual(3);
    for (const answer of duringFreeze) {
      expect(answer.status).toBe(503);
      expect(answer.ms).toBeLessThan(1_000);
      expect(answer.body.checks["dynamodb"]).toEqual({ ok: false, error: "timeout" });
    }
    // Webhooks kept being accepted while the table was frozen (ingest only needs the queue).
    expect(sentWhileFrozen).toBeGreaterThan(20);

    // Every webhook was accepted in the end; no 5xx but 503 (which was sent again).
    expect(answers.filter((s) => s >= 500 && s !== 503)).toEqual([]);
    expect(answers.filter((s) => !ACCEPTED_STATUSES.includes(s) && s !== 503)).toEqual([]);
    expect(answers.filter((s) => ACCEPTED_STATUSES.includes(s))).toHaveLength(WEBHOOKS);

    // After: healthy again.
    const deadline = Date.now() + 15_000;
    let after = await health();
    while (after.status !== 200 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await health();
    }
    expect(after.status, JSON.stringify(after.body)).toBe(200);

    // Every verification ends in the status of its last in-order event, each event in its history once.
    const views = new Map<string, VerificationView>();
    const settle = Date.now() + 20_000;
    for (const [correlationId, { status, events }] of expected) {
      for (;;) {
        const current = await view(correlationId);
        if (current !== undefined && current.history.length >= events && current.status === status) {
          views.set(correlationId, current);
          break;
        }
        if (Date.now() > settle)
          throw new Error(`${correlationId}: ${current?.history.length ?? 0} of ${events} events, status ${current?.status}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    let realChanges = 0;
    for (const [correlationId, v] of views) {
      const ids = v.history.map((h) => h.eventId);
      expect(new Set(ids).size, correlationId).toBe(ids.length);
      expect(ids).toHaveLength(expected.get(correlationId)?.events ?? -1);
      // The journey's statuses are distinct: each applied event changed the status once.
      realChanges += v.history.filter((h) => h.outcome === "applied").length;
    }

    // Exactly one status-change message per real change, chained per verification.
    const changes = await consumeStatusChanges(local.pipeline, (c) => c.length >= realChanges);
    expect(changes).toHaveLength(realChanges);
    for (const [correlationId, { status }] of expected) {
      const mine = changes.filter((c) => c.correlationId === correlationId);
      expect(new Set(mine.map((c) => c.eventId)).size).toBe(mine.length);
      expect(mine.map((c) => c.previousStatus)).toEqual([null, ...mine.slice(0, -1).map((c) => c.status)]);
      expect(mine.at(-1)?.status).toBe(status);
    }

    // Nothing parked: the events DLQ and the publisher failures queue are empty.
    for (const queueUrl of [local.pipeline.dlqUrl, local.pipeline.publisherFailuresQueueUrl]) {
      expect(await queueDepth(local.pipeline, queueUrl), queueUrl).toBe(0);
    }
  }, 60_000);
});
