import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { METRICS_NAMESPACE, powertoolsMetrics } from "../../lambdas/core/metrics.js";

/** What the function writes to stdout during `run`, as JSON lines. */
function emfLines(run: () => void): Record<string, unknown>[] {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return written
    .join("")
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Powertools' own document for the same counts (publishStoredMetrics), the reference. */
function reference(service: string, dimensions: Record<string, string>, counts: Record<string, number>): Record<string, unknown> {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
  for (const [name, value] of Object.entries(dimensions)) metrics.addDimension(name, value);
  for (const [name, value] of Object.entries(counts)) metrics.addMetric(name, MetricUnit.Count, value);
  const document = metrics.serializeMetrics() as unknown as Record<string, unknown>;
  metrics.clearMetrics();
  return document;
}

const withoutTime = (document: Record<string, unknown>) => ({ ...document, _aws: { ...(document["_aws"] as object), Timestamp: 0 } });

afterEach(() => {
  vi.useRealTimers();
});

describe("powertoolsMetrics", () => {
  it("writes, flush after flush, exactly the EMF document Powertools builds for the counts, with the flush's time", () => {
    const metrics = powertoolsMetrics("kyc-ingest-veriff");
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            provider: fc.constantFrom("veriff", "idngo"),
            accepted: fc.integer({ min: 1, max: 3 }),
            unmapped: fc.integer({ min: 0, max: 2 }),
            at: fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        (flushes) => {
          for (const { provider, accepted, unmapped, at } of flushes) {
            vi.useFakeTimers({ now: at, toFake: ["Date"] });
            const lines = emfLines(() => {
              for (let i = 0; i < accepted; i++) metrics.count("WebhooksAccepted", { provider: provider as "veriff" });
              if (unmapped > 0) metrics.count("WebhooksUnmapped", { provider: provider as "veriff" }, unmapped);
              metrics.flush();
            });
            const counts: Record<string, number> = { WebhooksAccepted: accepted, ...(unmapped > 0 ? { WebhooksUnmapped: unmapped } : {}) };
            expect(lines).toHaveLength(1);
            expect(withoutTime(lines[0] ?? {})).toEqual(withoutTime(reference("kyc-ingest-veriff", { provider }, counts)));
            expect((lines[0]?.["_aws"] as { Timestamp?: number } | undefined)?.Timestamp).toBe(at);
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it("sums per dimension set whether callers pass fresh objects or reuse one, in any interleaving", () => {
    const metrics = powertoolsMetrics("kyc-consumer");
    const shared = {
      veriffApplied: { provider: "veriff", outcome: "applied" },
      idngoStale: { provider: "idngo", outcome: "stale" },
    } as const;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ key: fc.constantFrom("veriffApplied", "idngoStale"), fresh: fc.boolean(), value: fc.integer({ min: 1, max: 5 }) }),
          {
            minLength: 1,
            maxLength: 20,
          },
        ),
        (counts) => {
          const expected = new Map<string, number>();
          const lines = emfLines(() => {
            for (const { key, fresh, value } of counts) {
              const dims = fresh ? { ...shared[key] } : shared[key];
              metrics.count("EventsProcessed", dims, value);
              const id = `${dims.provider}/${dims.outcome}`;
              expected.set(id, (expected.get(id) ?? 0) + value);
            }
            metrics.flush();
          });
          expect(new Map(lines.map((l) => [`${String(l["provider"])}/${String(l["outcome"])}`, l["EventsProcessed"]]))).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("writes one line per dimension set, nothing when nothing was counted", () => {
    const metrics = powertoolsMetrics("kyc-consumer");
    const lines = emfLines(() => {
      metrics.count("EventsProcessed", { provider: "veriff", outcome: "applied" }, 2);
      metrics.count("EventsProcessed", { provider: "idngo", outcome: "stale" });
      metrics.count("EventsFailed", {});
      metrics.flush();
      metrics.flush();
    });
    expect(
      lines.map((l) => [l["provider"] ?? null, l["outcome"] ?? null, l["EventsProcessed"] ?? null, l["EventsFailed"] ?? null]),
    ).toEqual([
      ["veriff", "applied", 2, null],
      ["idngo", "stale", 1, null],
      [null, null, null, 1],
    ]);
    expect(lines.every((l) => l["service"] === "kyc-consumer")).toBe(true);
  });
});
