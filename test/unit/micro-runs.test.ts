import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { combineMicroRuns, RANGED_RATIOS } from "../../bench/lib/micro-runs.js";
import type { IngestMicro, MicroResult } from "../../bench/micro.js";

const figure = fc.double({ min: 0.1, max: 500, noNaN: true });
const ingestMicro: fc.Arbitrary<IngestMicro> = fc.record({
  bodyBytes: fc.constant(2048),
  floorMicros: figure,
  handlerMicros: figure,
  handlerTwoSecretsMicros: figure,
  handlerTwoSecretsMatchFirstMicros: figure,
  handlerTwoSecretsAlternatingMicros: figure,
  receiveMicros: figure,
  handlerWithSdkMicros: figure,
  ratioToFloor: figure,
  ratioToFloorTwoSecrets: figure,
  ratioToFloorTwoSecretsMatchFirst: figure,
  ratioToFloorTwoSecretsAlternating: figure,
  ratioWithSdkToFloor: figure,
});
const run: fc.Arbitrary<MicroResult> = fc.record({
  rounds: fc.constant(41),
  ingest: fc.record({ veriff: ingestMicro, neurovision: ingestMicro }),
  consumer: fc.record({
    batchSize: fc.constant(10),
    floorMicros: figure,
    handlerMicros: figure,
    ratioToFloor: figure,
    floorCallsPerEvent: fc.constant({ GetItem: 1, PutItem: 2 }),
  }),
});

/** The middle value of an odd count, the mean of the two middle ones of an even count. */
function middle(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[half] ?? Number.NaN) : ((sorted[half - 1] ?? 0) + (sorted[half] ?? 0)) / 2;
}

describe("combineMicroRuns", () => {
  it("reports every figure as the median over the runs and each ratio's lowest and highest value (property)", () => {
    fc.assert(
      fc.property(fc.array(run, { minLength: 1, maxLength: 6 }), (runs) => {
        const { runs: count, combined, ingestRanges, consumerRange } = combineMicroRuns(runs);
        expect(count).toBe(runs.length);
        for (const provider of ["veriff", "neurovision"] as const) {
          const all = runs.map((r) => r.ingest[provider]);
          const got = combined.ingest[provider];
          for (const key of Object.keys(all[0] ?? {}) as (keyof IngestMicro)[]) {
            expect(got?.[key]).toBeCloseTo(middle(all.map((x) => x?.[key] ?? Number.NaN)), 9);
          }
          for (const ratio of RANGED_RATIOS) {
            const values = all.map((x) => x?.[ratio] ?? Number.NaN);
            expect(ingestRanges[provider]?.[ratio]).toEqual([Math.min(...values), Math.max(...values)]);
          }
        }
        const ratios = runs.map((r) => r.consumer.ratioToFloor);
        expect(combined.consumer.ratioToFloor).toBeCloseTo(middle(ratios), 9);
        expect(consumerRange).toEqual([Math.min(...ratios), Math.max(...ratios)]);
      }),
      { numRuns: 200 },
    );
  });

  it("refuses no runs, and runs that measured different providers or made different SDK calls", () => {
    const sample = fc.sample(run, { numRuns: 1, seed: 7 })[0];
    if (sample === undefined) throw new Error("no sample");
    expect(() => combineMicroRuns([])).toThrow(/no micro runs/);
    const { neurovision: _dropped, ...veriffOnly } = sample.ingest;
    expect(() => combineMicroRuns([sample, { ...sample, ingest: veriffOnly }])).toThrow(/different providers/);
    const otherCalls = { ...sample, consumer: { ...sample.consumer, floorCallsPerEvent: { GetItem: 1, PutItem: 1 } } };
    expect(() => combineMicroRuns([sample, otherCalls])).toThrow(/different SDK calls/);
  });
});
