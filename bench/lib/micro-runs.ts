/**
 * The micro phase runs several times, each in a fresh process (bench/run.ts): a shared machine
 * moves a run's ratios by up to ±0.1, which no number of rounds inside one process removes. The
 * results report each figure as the median over the runs, and keep each ratio's range.
 */
import type { ConsumerMicro, IngestMicro, MicroResult } from "../micro.js";
import { median } from "./stats.js";

/** The ingest ratios whose spread over the runs the results keep. */
export const RANGED_RATIOS = [
  "ratioToFloor",
  "ratioToFloorTwoSecrets",
  "ratioToFloorTwoSecretsMatchFirst",
  "ratioToFloorTwoSecretsAlternating",
] as const;
export type RangedRatio = (typeof RANGED_RATIOS)[number];

/** The lowest and the highest value over the runs. */
export type Range = readonly [min: number, max: number];

export interface MicroRuns {
  readonly runs: number;
  /** Every figure the median of the runs' figures (a ratio: the median of the runs' ratios). */
  readonly combined: MicroResult;
  /** Per provider, each ratio's range over the runs. */
  readonly ingestRanges: Readonly<Record<string, Readonly<Record<RangedRatio, Range>>>>;
  readonly consumerRange: Range;
}

function rangeOf(values: readonly number[]): Range {
  return [Math.min(...values), Math.max(...values)];
}

function combineIngest(all: readonly IngestMicro[]): IngestMicro {
  const m = (pick: (x: IngestMicro) => number) => median(all.map(pick));
  return {
    bodyBytes: m((x) => x.bodyBytes),
    floorMicros: m((x) => x.floorMicros),
    handlerMicros: m((x) => x.handlerMicros),
    handlerTwoSecretsMicros: m((x) => x.handlerTwoSecretsMicros),
    handlerTwoSecretsMatchFirstMicros: m((x) => x.handlerTwoSecretsMatchFirstMicros),
    handlerTwoSecretsAlternatingMicros: m((x) => x.handlerTwoSecretsAlternatingMicros),
    receiveMicros: m((x) => x.receiveMicros),
    handlerWithSdkMicros: m((x) => x.handlerWithSdkMicros),
    ratioToFloor: m((x) => x.ratioToFloor),
    ratioToFloorTwoSecrets: m((x) => x.ratioToFloorTwoSecrets),
    ratioToFloorTwoSecretsMatchFirst: m((x) => x.ratioToFloorTwoSecretsMatchFirst),
    ratioToFloorTwoSecretsAlternating: m((x) => x.ratioToFloorTwoSecretsAlternating),
    ratioWithSdkToFloor: m((x) => x.ratioWithSdkToFloor),
  };
}

function combineConsumer(all: readonly ConsumerMicro[]): ConsumerMicro {
  const [first] = all;
  if (first === undefined) throw new Error("no consumer results to combine");
  const m = (pick: (x: ConsumerMicro) => number) => median(all.map(pick));
  return {
    batchSize: first.batchSize,
    floorMicros: m((x) => x.floorMicros),
    handlerMicros: m((x) => x.handlerMicros),
    ratioToFloor: m((x) => x.ratioToFloor),
    // The SDK calls the store makes per event: the same in every run (checked below).
    floorCallsPerEvent: first.floorCallsPerEvent,
  };
}

/** The runs' results as one: medians, and the ranges of the ratios. Refuses runs that measured different things. */
export function combineMicroRuns(runs: readonly MicroResult[]): MicroRuns {
  const [first] = runs;
  if (first === undefined) throw new Error("no micro runs to combine");
  const providers = Object.keys(first.ingest);
  const calls = JSON.stringify(first.consumer.floorCallsPerEvent);
  for (const run of runs) {
    if (Object.keys(run.ingest).join() !== providers.join()) throw new Error("the micro runs measured different providers");
    if (run.rounds !== first.rounds || run.consumer.batchSize !== first.consumer.batchSize) {
      throw new Error("the micro runs used different rounds or batch sizes");
    }
    if (JSON.stringify(run.consumer.floorCallsPerEvent) !== calls)
      throw new Error("the micro runs' consumer floors made different SDK calls");
  }
  const ingest: Record<string, IngestMicro> = {};
  const ingestRanges: Record<string, Readonly<Record<RangedRatio, Range>>> = {};
  for (const provider of providers) {
    const all = runs.map((run) => run.ingest[provider]).filter((x): x is IngestMicro => x !== undefined);
    ingest[provider] = combineIngest(all);
    const range = (ratio: RangedRatio) => rangeOf(all.map((x) => x[ratio]));
    ingestRanges[provider] = {
      ratioToFloor: range("ratioToFloor"),
      ratioToFloorTwoSecrets: range("ratioToFloorTwoSecrets"),
      ratioToFloorTwoSecretsMatchFirst: range("ratioToFloorTwoSecretsMatchFirst"),
      ratioToFloorTwoSecretsAlternating: range("ratioToFloorTwoSecretsAlternating"),
    };
  }
  const consumers = runs.map((run) => run.consumer);
  return {
    runs: runs.length,
    combined: { rounds: first.rounds, ingest, consumer: combineConsumer(consumers) },
    ingestRanges,
    consumerRange: rangeOf(consumers.map((c) => c.ratioToFloor)),
  };
}
