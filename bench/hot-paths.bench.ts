/**
 * `npm run bench`: the per-request CPU work of the Lambdas, without I/O. Targets (2-core CI
 * machine, Node 20): authenticate + normalize well under 1 ms per webhook for every provider
 * (Lambda bills by the millisecond and IDnGO gives up after 5 s); a transition decision in
 * microseconds. Read the `mean` column; these are not asserted in tests on purpose.
 */
import { bench, describe } from "vitest";
import { PROVIDER_IDS, type Status } from "../lambdas/core/event.js";
import { receive } from "../lambdas/ingest/receive.js";
import { decide } from "../lambdas/model/transition.js";
import { PROVIDERS } from "../lambdas/providers/index.js";
import { DEFAULT_OPTIONS } from "../lambdas/providers/types.js";
import { sampleSessionId, sampleWebhook } from "../local/samples.js";

const SECRETS = ["old-secret-0123456789", "current-secret-0123456789"];
const STATUS: Record<(typeof PROVIDER_IDS)[number], Status> = {
  veriff: "approved",
  idngo: "approved",
  idbeyond: "approved",
  neurovision: "approved",
};

describe("authenticate + normalize one webhook (two secrets configured, the second matches)", () => {
  for (const id of PROVIDER_IDS) {
    const request = sampleWebhook(id, STATUS[id], SECRETS[1] ?? "", {
      sessionId: sampleSessionId(id),
      userKey: "user-42",
      occurredAt: new Date(),
    });
    const raw = { body: Buffer.from(request.body), headers: request.headers };
    const auth = { secrets: SECRETS, options: DEFAULT_OPTIONS };
    bench(id, () => {
      if (receive(PROVIDERS[id], raw, auth, "2026-11-22T10:00:00.000Z").kind !== "accepted") throw new Error("not accepted");
    });
  }
});

describe("transition decision", () => {
  const request = sampleWebhook("idngo", "approved", "s", {
    sessionId: "5cb744200a975a67ed1798a4",
    userKey: "u",
    occurredAt: new Date(1_000_000),
  });
  const receipt = receive(
    PROVIDERS.idngo,
    { body: Buffer.from(request.body), headers: request.headers },
    { secrets: ["s"], options: DEFAULT_OPTIONS },
    "2026-11-22T10:00:00.000Z",
  );
  if (receipt.kind !== "accepted") throw new Error("not accepted");
  const { event } = receipt;
  const current = { eventId: "idngo:req-previous", status: "in_review" as const, occurredAt: new Date(500_000).toISOString() };
  bench("decide", () => {
    decide(current, event);
  });
});
