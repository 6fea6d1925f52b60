/**
 * `npm run bench`: the per-request CPU work of the Lambdas, without I/O. Targets (2-core CI
 * machine, Node 20): authenticate + normalize well under 1 ms per webhook for every provider
 * (Lambda bills by the millisecond and IDnGO gives up after 5 s); a transition decision in
 * microseconds. Read the `mean` column; these are not asserted in tests on purpose.
 */
import { bench, describe } from "vitest";
import { PROVIDER_IDS, type Status } from "../lambdas/core/event.js";
import { decide } from "../lambdas/consumer/transition.js";
import { PROVIDERS } from "../lambdas/providers/index.js";
import { DEFAULT_OPTIONS } from "../lambdas/providers/types.js";
import { sampleSessionId, sampleWebhook } from "../local/samples.js";

const SECRETS = ["old-secret-0123456789", "current-secret-0123456789"];
const STATUS: Record<(typeof PROVIDER_IDS)[number], Status> = { veriff: "approved", idngo: "approved", idbeyond: "approved", neurovision: "approved" };

describe("authenticate + normalize one webhook (two secrets configured, the second matches)", () => {
  for (const id of PROVIDER_IDS) {
    const request = sampleWebhook(id, STATUS[id], SECRETS[1] ?? "", { sessionId: sampleSessionId(id), userKey: "user-42", occurredAt: new Date() });
    const raw = { body: Buffer.from(request.body), headers: request.headers };
    const auth = { secrets: SECRETS, options: DEFAULT_OPTIONS };
    bench(id, () => {
      const content = PROVIDERS[id].authenticate(raw, auth);
      if (content === null) throw new Error("not authenticated");
      PROVIDERS[id].normalize(content, { receivedAt: "2026-11-22T10:00:00.000Z" });
    });
  }
});

describe("transition decision", () => {
  const request = sampleWebhook("idngo", "approved", "s", { sessionId: "5cb744200a975a67ed1798a4", userKey: "u", occurredAt: new Date(1_000_000) });
  const event = PROVIDERS.idngo.normalize(Buffer.from(request.body), { receivedAt: "2026-11-22T10:00:00.000Z" });
  const current = { eventId: "idngo:req-previous", status: "in_review" as const, occurredAt: new Date(500_000).toISOString() };
  bench("decide", () => {
    decide(current, event);
  });
});
