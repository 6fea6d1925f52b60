import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PROVIDER_IDS, type ProviderId, type Status } from "../../lambdas/core/event.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { sampleSessionId, sampleWebhook } from "../../local/samples.js";
import { ACCEPTED_STATUSES } from "../support/http.js";
import { consumeStatusChanges, useLocalPipeline } from "../support/pipeline.js";

const SECRETS: Record<ProviderId, string> = {
  veriff: "e2e-veriff",
  idngo: "e2e-idngo",
  idbeyond: "e2e-idbeyond",
  neurovision: "e2e-neurovision",
};

/** Realistic journeys, delivered over HTTP in this order; the last status is where each ends. */
const JOURNEYS: Record<ProviderId, Status[]> = {
  veriff: ["started", "submitted", "resubmission_requested", "submitted", "approved"],
  idngo: ["created", "submitted", "in_review", "approved"],
  idbeyond: ["started", "submitted", "in_review", "rejected"],
  neurovision: ["submitted", "in_review", "approved"],
};

// Rotation: the second secret in each list is the one the "provider" signs with.
const local = useLocalPipeline(
  { veriff: `old-veriff,${SECRETS.veriff}`, idngo: SECRETS.idngo, idbeyond: SECRETS.idbeyond, neurovision: SECRETS.neurovision },
  {},
);
const logger = local.logger;

async function post(provider: string, request: { body: string; headers: Readonly<Record<string, string>> }) {
  const res = await fetch(`${local.pipeline.url}/webhooks/${provider}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: request.body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface View {
  status: Status | null;
  subject: Record<string, string>;
  history: { eventId: string; outcome: string }[];
}

async function verification(correlationId: string): Promise<{ status: number; view?: View }> {
  const res = await fetch(`${local.pipeline.url}/verifications/${encodeURIComponent(correlationId)}`);
  return res.status === 200 ? { status: 200, view: (await res.json()) as View } : { status: res.status };
}

async function waitForEvents(correlationId: string, count: number): Promise<View> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { view } = await verification(correlationId);
    if (view && view.history.length >= count) return view;
    if (Date.now() > deadline) throw new Error(`${correlationId}: ${view?.history.length ?? 0} of ${count} events after 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("local pipeline end to end: HTTP → SQS → consumer → DynamoDB Local", () => {
  it("is healthy", async () => {
    const res = await fetch(`${local.pipeline.url}/health`);
    expect(res.status).toBe(200);
  });

  for (const provider of PROVIDER_IDS) {
    it(`${provider}: signed webhooks move a verification to its final status; a forged one changes nothing`, async () => {
      const sessionId = sampleSessionId(provider);
      const userKey = `u-${randomUUID().slice(0, 8)}`;
      const start = Date.now() - 60_000;
      const journey = JOURNEYS[provider];
      for (const [i, status] of journey.entries()) {
        const request = sampleWebhook(provider, status, SECRETS[provider], { sessionId, userKey, occurredAt: new Date(start + i * 1000) });
        const res = await post(provider, request);
        expect(ACCEPTED_STATUSES, JSON.stringify(res.body)).toContain(res.status);
      }
      const correlationId = `${provider}:${sessionId}`;
      const view = await waitForEvents(correlationId, journey.length);
      expect(view.status, JSON.stringify(view.history)).toBe(journey.at(-1));
      expect(view.history).toHaveLength(journey.length);

      // Forged: a later "rejected"/"expired" signed with a secret the pipeline does not hold.
      const forged = sampleWebhook(provider, provider === "veriff" || provider === "neurovision" ? "expired" : "rejected", "attacker", {
        sessionId,
        userKey,
        occurredAt: new Date(),
      });
      expect((await post(provider, forged)).status).toBe(401);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const after = await verification(correlationId);
      expect(after.view?.status).toBe(journey.at(-1));
      expect(after.view?.history).toHaveLength(journey.length);

      // The subject listing finds it; no personal data of the samples reached the table.
      const list = await fetch(`${local.pipeline.url}/verifications?subject=${encodeURIComponent(userKey)}`);
      const page = (await list.json()) as { items: { correlationId: string }[] };
      expect(page.items.map((i) => i.correlationId)).toEqual([correlationId]);
      expect(JSON.stringify(after.view)).not.toMatch(/SAMPLE|PERSON|1900-01-01|192\.0\.2\.1|Sample private comment|Sample rationale/);
    });
  }

  it("answers the documented errors: unknown provider 404, unknown verification 404, missing subject 400, oversized 413", async () => {
    expect((await post("acme", { body: "{}", headers: {} })).status).toBe(404);
    expect((await verification("veriff:does-not-exist")).status).toBe(404);
    expect((await fetch(`${local.pipeline.url}/verifications`)).status).toBe(400);
    const big = { body: JSON.stringify({ pad: "x".repeat(300 * 1024) }), headers: {} };
    expect((await post("idbeyond", big)).status).toBe(413);
  });

  it("logs no personal data", () => {
    const logged = logger.lines.join("\n");
    expect(logged.length).toBeGreaterThan(0);
    expect(logged).not.toMatch(/SAMPLE|PERSON|1900-01-01|192\.0\.2\.1|Sample private comment|Sample rationale/);
  });
});

describe("status changes through the local pipeline", () => {
  const consumeChanges = (done: (changes: readonly StatusChange[]) => boolean) => consumeStatusChanges(local.pipeline, done);

  it("duplicates and out-of-order deliveries produce exactly the expected changes, in order, once each", async () => {
    const t0 = Date.now() - 3_600_000;
    const at = (minutes: number) => new Date(t0 + minutes * 60_000);

    const idngo = sampleSessionId("idngo");
    const sign = (status: Status, minute: number, deliveryId: string) =>
      sampleWebhook("idngo", status, SECRETS.idngo, { sessionId: idngo, userKey: "u-changes", occurredAt: at(minute), deliveryId });
    const submitted = sign("submitted", 1, "req-submitted");
    const inReview = sign("in_review", 2, "req-in-review");
    const idngoDeliveries = [
      submitted,
      sign("created", 0, "req-created"), // late: older than submitted
      submitted, // redelivery
      inReview,
      sign("approved", 4, "req-approved"),
      inReview, // redelivery after the decision
      sign("on_hold", 3, "req-on-hold"), // late: older than the decision
    ];

    const veriff = sampleSessionId("veriff");
    const veriffDeliveries = [
      sampleWebhook("veriff", "approved", SECRETS.veriff, { sessionId: veriff, userKey: "u-changes", occurredAt: at(10) }),
      sampleWebhook("veriff", "submitted", SECRETS.veriff, { sessionId: veriff, userKey: "u-changes", occurredAt: at(5) }), // untimed, after the decision
      sampleWebhook("veriff", "started", SECRETS.veriff, { sessionId: veriff, userKey: "u-changes", occurredAt: at(4) }),
    ];

    for (const request of idngoDeliveries) expect(ACCEPTED_STATUSES).toContain((await post("idngo", request)).status);
    for (const request of veriffDeliveries) expect(ACCEPTED_STATUSES).toContain((await post("veriff", request)).status);

    const expected = {
      [`idngo:${idngo}`]: [
        [null, "submitted"],
        ["submitted", "in_review"],
        ["in_review", "approved"],
      ],
      [`veriff:${veriff}`]: [[null, "approved"]],
    };
    // The queue also carries the changes of the tests above: look at this test's verifications only.
    const ours = (c: StatusChange) => c.correlationId in expected;
    const changes = (await consumeChanges((c) => c.filter(ours).length >= 4)).filter(ours);
    for (const [correlationId, transitions] of Object.entries(expected)) {
      const mine = changes.filter((c) => c.correlationId === correlationId);
      expect(mine.map((c) => [c.previousStatus, c.status])).toEqual(transitions);
      expect(new Set(mine.map((c) => c.eventId)).size).toBe(transitions.length);
    }
    expect(changes).toHaveLength(4);
    // The IDnGO samples come from its sandbox (`sandboxMode`): the messages say so; Veriff's do not.
    expect(changes.map((c) => [c.provider, c.sandbox])).toEqual(
      expect.arrayContaining([
        ["idngo", true],
        ["veriff", false],
      ]),
    );
    expect(changes.filter((c) => c.provider === "idngo").every((c) => c.sandbox)).toBe(true);
    expect(JSON.stringify(changes)).not.toMatch(/SAMPLE|PERSON|192\.0\.2\.1|Sample private comment/);
  });
});
