/**
 * The end-to-end load: real lifecycles of the four providers (as test/e2e/load.test.ts plays them),
 * each delivery a ~2 KiB padded webhook, a share of redeliveries, shuffled with a fixed seed.
 */
import { randomUUID } from "node:crypto";
import { PROVIDER_IDS, type ProviderId } from "../../lambdas/core/event.js";
import { JOURNEYS } from "../../local/journeys.js";
import { sampleSessionId } from "../../local/samples.js";
import { paddedWebhook } from "./payloads.js";

export interface Delivery {
  readonly provider: ProviderId;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** True for a redelivery of an earlier delivery (NeuroVision's re-encrypted with a fresh IV, as it does). */
  readonly duplicate: boolean;
}

/** A small seeded PRNG (mulberry32): the same plan on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `total` deliveries over the four providers in turn (whole lifecycles, the last one cut at the
 * total), `duplicateShare` of them redeliveries of earlier ones, shuffled.
 */
export function loadPlan(options: {
  readonly total: number;
  readonly duplicateShare: number;
  readonly secret: string;
  readonly seed: number;
}): {
  readonly deliveries: readonly Delivery[];
  readonly verifications: number;
} {
  const random = prng(options.seed);
  const distinctTotal = Math.round(options.total * (1 - options.duplicateShare));
  const t0 = Date.now() - 3_600_000;
  const originals: { delivery: Delivery; resign: () => Delivery }[] = [];
  let verifications = 0;
  for (let index = 0; originals.length < distinctTotal; index += 1) {
    const provider = PROVIDER_IDS[index % PROVIDER_IDS.length] ?? "veriff";
    const journeys = JOURNEYS[provider];
    const journey = journeys[Math.floor(index / PROVIDER_IDS.length) % journeys.length] ?? [];
    const sessionId = sampleSessionId(provider);
    const userKey = `bench-${randomUUID().slice(0, 8)}`;
    verifications += 1;
    journey.forEach((step, i) => {
      if (originals.length >= distinctTotal) return;
      const webhook = paddedWebhook(provider, step.status, options.secret, {
        sessionId,
        userKey,
        occurredAt: new Date(t0 + index * 1000 + step.minute * 60_000),
        attemptId: `${step.attempt ?? "a1"}a1a1a1-0000-4000-8000-${String(index).padStart(12, "0")}`.slice(-36),
        deliveryId: `req-${sessionId}-${i}`,
      });
      const delivery: Delivery = { provider, body: webhook.request.body, headers: webhook.request.headers, duplicate: false };
      originals.push({
        delivery,
        resign: () => {
          const again = provider === "neurovision" ? webhook.sign() : webhook.request;
          return { provider, body: again.body, headers: again.headers, duplicate: true };
        },
      });
    });
  }
  const all: Delivery[] = originals.map((o) => o.delivery);
  while (all.length < options.total) {
    const original = originals[Math.floor(random() * originals.length)];
    if (original !== undefined) all.push(original.resign());
  }
  for (let i = all.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const a = all[i];
    const b = all[j];
    if (a !== undefined && b !== undefined) {
      all[i] = b;
      all[j] = a;
    }
  }
  return { deliveries: all, verifications };
}
