/**
 * A load through the local pipeline, sized for CI: 200 verifications over the four providers
 * (real lifecycles, including Veriff sessions that expire without a decision time and id beyond
 * extractions delivered after the decision), about 1,000 webhooks with 20 % redeliveries,
 * shuffled, 16 at a time. Every verification ends in its in-order status, no event is applied
 * twice, the status-change messages are exactly the applied transitions, and the DLQs stay empty.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SERVICES } from "../../lambdas/core/contract.js";
import { type NormalizedEvent, PROVIDER_IDS, type ProviderId, type Status } from "../../lambdas/core/event.js";
import type { MetricName } from "../../lambdas/core/metrics.js";
import { fold } from "../../lambdas/model/transition.js";
import { JOURNEYS } from "../../local/journeys.js";
import { type SampleOptions, type SampleRequest, sampleSessionId, sampleWebhook } from "../../local/samples.js";
import { consumeStatusChanges, queueDepth, readVerification, useLocalPipeline, type VerificationView } from "../support/pipeline.js";
import { receipt } from "../support/providers.js";
import { expectValid, validateStatusChange } from "../support/schemas.js";

const SECRET = "load-secret";
const VERIFICATIONS_PER_PROVIDER = 50;
const DUPLICATE_SHARE = 0.2;

interface Delivery {
  readonly provider: ProviderId;
  readonly request: () => SampleRequest;
}

interface Plan {
  readonly correlationId: string;
  readonly events: readonly NormalizedEvent[];
  readonly expected: Status;
}

const local = useLocalPipeline({ veriff: SECRET, idngo: SECRET, idbeyond: SECRET, neurovision: SECRET }, { visibilityTimeoutSeconds: 5 });
const logger = local.logger;
const t0 = Date.now() - 3_600_000;

/** One verification's deliveries (a request factory per event: NeuroVision re-encrypts each delivery) and its expected end. */
function plan(provider: ProviderId, index: number): { plan: Plan; deliveries: Delivery[] } {
  const sessionId = sampleSessionId(provider);
  const journey = JOURNEYS[provider][index % JOURNEYS[provider].length] ?? [];
  const userKey = `load-${randomUUID().slice(0, 8)}`;
  const deliveries = journey.map((step, i): Delivery => {
    const options: SampleOptions = {
      sessionId,
      userKey,
      occurredAt: new Date(t0 + step.minute * 60_000),
      attemptId: `${step.attempt ?? "a1"}a1a1a1-0000-4000-8000-${String(index).padStart(12, "0")}`.slice(-36),
      deliveryId: `req-${sessionId}-${i}`,
    };
    const first = sampleWebhook(provider, step.status, SECRET, options);
    return { provider, request: () => (provider === "neurovision" ? sampleWebhook(provider, step.status, SECRET, options) : first) };
  });
  const events = deliveries.map((d) => {
    const r = d.request();
    const result = receipt(provider, r.body, r.headers, { secrets: [SECRET] });
    if (result.kind !== "accepted") throw new Error("a sample was not accepted");
    return result.event;
  });
  const expected = fold(events)?.status;
  if (expected === undefined || expected !== journey.at(-1 - Number(provider === "idbeyond"))?.status)
    throw new Error(`unexpected in-order end for ${provider}`);
  return { plan: { correlationId: `${provider}:${sessionId}`, events, expected }, deliveries };
}

async function post(delivery: Delivery): Promise<number> {
  const { body, headers } = delivery.request();
  for (let attempt = 0; ; attempt += 1) {
    const res = await fetch(`${local.pipeline.url}/webhooks/${delivery.provider}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    await res.arrayBuffer();
    // A provider retries a 5xx; nothing else is retried.
    if (res.status < 500 || attempt >= 5) return res.status;
  }
}

const view = (correlationId: string): Promise<VerificationView | undefined> => readVerification(local.pipeline, correlationId);

describe("load through the local pipeline", () => {
  it("1,000 shuffled webhooks with redeliveries: in-order end states, each event applied once, one message per real change, empty DLQs", async () => {
    const plans: Plan[] = [];
    const deliveries: Delivery[] = [];
    for (const provider of Object.keys(JOURNEYS) as ProviderId[]) {
      for (let i = 0; i < VERIFICATIONS_PER_PROVIDER; i += 1) {
        const p = plan(provider, i);
        plans.push(p.plan);
        deliveries.push(...p.deliveries);
      }
    }
    const duplicates = fc.sample(fc.constantFrom(...deliveries), { numRuns: Math.round(deliveries.length * DUPLICATE_SHARE), seed: 42 });
    const all =
      fc.sample(fc.shuffledSubarray([...deliveries, ...duplicates], { minLength: deliveries.length + duplicates.length }), {
        numRuns: 1,
        seed: 7,
      })[0] ?? [];
    expect(all.length).toBeGreaterThanOrEqual(950);

    const statuses: number[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < all.length) {
          const delivery = all[next];
          next += 1;
          if (delivery !== undefined) statuses.push(await post(delivery));
        }
      }),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);

    // Every verification settles with each distinct event in its history exactly once.
    const deadline = Date.now() + 60_000;
    const views = new Map<string, VerificationView>();
    while (views.size < plans.length && Date.now() < deadline) {
      for (const p of plans) {
        if (views.has(p.correlationId)) continue;
        const v = await view(p.correlationId);
        if (v !== undefined && v.history.length >= new Set(p.events.map((e) => e.eventId)).size) views.set(p.correlationId, v);
      }
      if (views.size < plans.length) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(views.size).toBe(plans.length);
    let applied = 0;
    for (const p of plans) {
      const v = views.get(p.correlationId);
      expect(v?.status, p.correlationId).toBe(p.expected);
      const ids = v?.history.map((h) => h.eventId) ?? [];
      expect(new Set(ids).size).toBe(ids.length);
      expect(new Set(ids)).toEqual(new Set(p.events.map((e) => e.eventId)));
      applied += v?.history.filter((h) => h.outcome === "applied").length ?? 0;
    }

    // One status-change message per applied transition, none more; each verification's last one is its end state.
    const changes = await consumeStatusChanges(local.pipeline, (c) => c.length >= applied, { timeoutMs: 30_000 });
    expect(changes).toHaveLength(applied);
    for (const change of changes) expectValid(validateStatusChange, change);
    // The metrics say the same: every webhook accepted, every applied event, every change published.
    const total = (service: string, metric: MetricName) => local.metrics.get(service)?.total(metric) ?? 0;
    expect(PROVIDER_IDS.reduce((sum, p) => sum + total(SERVICES.ingest(p), "WebhooksAccepted"), 0)).toBe(statuses.length);
    expect(local.metrics.get(SERVICES.consumer)?.counts.size).toBeGreaterThan(0);
    expect(
      PROVIDER_IDS.reduce(
        (sum, p) =>
          sum + (local.metrics.get(SERVICES.consumer)?.counts.get(`EventsProcessed {"provider":"${p}","outcome":"applied"}`) ?? 0),
        0,
      ),
    ).toBe(applied);
    expect(total(SERVICES.publisher, "StatusChangesPublished")).toBe(applied);
    for (const p of plans) {
      const mine = changes.filter((c) => c.correlationId === p.correlationId);
      expect(mine.at(-1)?.status).toBe(p.expected);
      // Never a regression to a progress signal after the decision (e.g. approved → started).
      expect(mine.some((c) => c.status === "started" && c.previousStatus !== null && c.previousStatus !== "created")).toBe(false);
    }
    expect(await queueDepth(local.pipeline, local.pipeline.dlqUrl)).toBe(0);
    expect(await queueDepth(local.pipeline, local.pipeline.publisherFailuresQueueUrl)).toBe(0);
    expect(logger.lines.join("\n")).not.toMatch(/SAMPLE|PERSON|1900-01-01|192\.0\.2\.1/);
  }, 150_000);
});
