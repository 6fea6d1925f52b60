/** The bench's printed table and bench/results.json, from the phases' results. */
import type { ColdStartResult } from "./coldstart.js";
import { type CostInputs, type CostResult, type Input, PRICES } from "./cost.js";
import type { EndToEndResult } from "./e2e.js";
import type { FunctionRole, StackFacts } from "./lib/facts.js";
import { type MicroRuns, RANGED_RATIOS } from "./lib/micro-runs.js";
import { round } from "./lib/stats.js";
import { ASSUMPTIONS, type ModelResult } from "./model.js";

export interface BenchResults {
  readonly generatedAt: string;
  readonly machine: string;
  readonly node: string;
  readonly ingest: Readonly<Record<string, Record<string, number>>>;
  readonly consumer: Readonly<Record<string, unknown>>;
  /** How many micro runs the ingest and consumer figures are the medians of, and each ratio's range over them. */
  readonly microRuns: {
    readonly runs: number;
    readonly ingest: Readonly<Record<string, Readonly<Record<string, readonly [number, number]>>>>;
    readonly consumer: readonly [number, number];
  };
  readonly coldStart: Readonly<Record<string, Record<string, unknown>>>;
  readonly endToEnd: Readonly<Record<string, unknown>>;
  readonly cost: Readonly<Record<string, unknown>>;
  readonly stack: Readonly<Record<string, unknown>>;
  readonly phaseSeconds: Readonly<Record<string, number>>;
}

/** Every input as `path: Input`, e.g. `functions.ingest.billedMsPerInvocation`. */
export function flattenInputs(inputs: CostInputs): Record<string, Input> {
  const out: Record<string, Input> = {};
  const walk = (prefix: string, value: unknown) => {
    if (value !== null && typeof value === "object" && "kind" in value && "value" in value) {
      out[prefix] = value as Input;
      return;
    }
    if (value !== null && typeof value === "object")
      for (const [k, v] of Object.entries(value)) walk(prefix === "" ? k : `${prefix}.${k}`, v);
  };
  walk("", inputs);
  return out;
}

export function toResults(options: {
  readonly machine: string;
  readonly facts: StackFacts;
  /** The micro runs; their medians (`combined`) are the ingest and consumer figures. */
  readonly microRuns: MicroRuns;
  readonly cold: Readonly<Record<FunctionRole, ColdStartResult>>;
  readonly e2e: EndToEndResult;
  readonly model: ModelResult;
  readonly cost: CostResult;
  /** The same inputs priced with the cost settings (facts.costSettings). */
  readonly costWithSettings: CostResult;
  readonly phaseSeconds: Readonly<Record<string, number>>;
}): BenchResults {
  const { facts, microRuns, cold, e2e, model, cost, costWithSettings } = options;
  const micro = microRuns.combined;
  const flat = flattenInputs(model.inputs);
  const r = (x: number, d = 2) => round(x, d);
  return {
    generatedAt: new Date().toISOString(),
    machine: options.machine,
    node: process.version,
    ingest: Object.fromEntries(
      Object.entries(micro.ingest).map(([provider, m]) => [
        provider,
        {
          floorMicros: r(m.floorMicros),
          handlerMicros: r(m.handlerMicros),
          ratioToFloor: r(m.ratioToFloor),
          ratioToFloorTwoSecrets: r(m.ratioToFloorTwoSecrets),
          handlerTwoSecretsMicros: r(m.handlerTwoSecretsMicros),
          ratioToFloorTwoSecretsMatchFirst: r(m.ratioToFloorTwoSecretsMatchFirst),
          handlerTwoSecretsMatchFirstMicros: r(m.handlerTwoSecretsMatchFirstMicros),
          ratioToFloorTwoSecretsAlternating: r(m.ratioToFloorTwoSecretsAlternating),
          handlerTwoSecretsAlternatingMicros: r(m.handlerTwoSecretsAlternatingMicros),
          receiveMicros: r(m.receiveMicros),
          handlerWithSdkMicros: r(m.handlerWithSdkMicros),
          ratioWithSdkToFloor: r(m.ratioWithSdkToFloor),
          bodyBytes: m.bodyBytes,
        },
      ]),
    ),
    consumer: {
      floorMicros: r(micro.consumer.floorMicros),
      handlerMicros: r(micro.consumer.handlerMicros),
      ratioToFloor: r(micro.consumer.ratioToFloor),
      perEvent: true,
      batchSize: micro.consumer.batchSize,
      floorCallsPerEvent: Object.fromEntries(Object.entries(micro.consumer.floorCallsPerEvent).map(([k, v]) => [k, r(v)])),
    },
    microRuns: {
      runs: microRuns.runs,
      ingest: Object.fromEntries(
        Object.entries(microRuns.ingestRanges).map(([provider, ranges]) => [
          provider,
          Object.fromEntries(RANGED_RATIOS.map((ratio) => [ratio, [r(ranges[ratio][0]), r(ranges[ratio][1])] as const])),
        ]),
      ),
      consumer: [r(microRuns.consumerRange[0]), r(microRuns.consumerRange[1])],
    },
    coldStart: Object.fromEntries(
      Object.entries(cold).map(([role, c]) => [
        role,
        {
          bundleBytes: c.bundleBytes,
          floorBundleBytes: c.floorBundleBytes,
          initRatioToFloor: r(c.initRatioToFloor),
          initMs: r(c.initMs, 1),
          floorInitMs: r(c.floorInitMs, 1),
          processMs: r(c.processMs, 1),
          floorProcessMs: r(c.floorProcessMs, 1),
          sourceMapBytes: c.sourceMapBytes,
          sdkImports: c.sdkImports,
          floorSdkImports: c.floorSdkImports,
        },
      ]),
    ),
    endToEnd: {
      webhooks: e2e.webhooks,
      acceptedPerSecond: r(e2e.acceptedPerSecond, 1),
      p50Ms: r(e2e.p50Ms, 1),
      p99Ms: r(e2e.p99Ms, 1),
      secondsToLastApplied: e2e.secondsToLastApplied === null ? null : r(e2e.secondsToLastApplied),
      secondsToLastStatusChange: e2e.secondsToLastStatusChange === null ? null : r(e2e.secondsToLastStatusChange),
      duplicates: e2e.duplicates,
      verifications: e2e.verifications,
      concurrency: e2e.concurrency,
      statuses: e2e.statuses,
      loadSeconds: r(e2e.loadSeconds),
      distinctEvents: e2e.pipeline.expectedEventIds,
      missingEvents: e2e.pipeline.missingEventIds,
      historyOutcomes: e2e.pipeline.historyOutcomes,
      statusChanges: e2e.pipeline.statusChangesSent,
      statusChangesOnQueue: e2e.pipeline.statusChangesOnQueue,
      meanRequestBytes: r(e2e.meanRequestBytes, 0),
      itemBytes: {
        state: r(e2e.pipeline.items.state.totalBytes / Math.max(1, e2e.pipeline.items.state.count), 0),
        history: r(e2e.pipeline.items.history.totalBytes / Math.max(1, e2e.pipeline.items.history.count), 0),
      },
      dynamoByOutcome: e2e.pipeline.dynamoByOutcome,
      dynamoPerWebhook: dynamoPerWebhook(e2e),
      sqsRequests: e2e.pipeline.sqs,
      logs: e2e.logs,
      local: Object.fromEntries(Object.entries(model.local).map(([k, v]) => [k, r(v, 3)])),
    },
    cost: {
      usdPerMillion: r(cost.usdPerMillion, 3),
      dominantLine: cost.dominantLine,
      lines: Object.fromEntries(Object.entries(cost.lines).map(([k, v]) => [k, r(v, 4)])),
      inputs: Object.fromEntries(Object.entries(flat).map(([k, v]) => [k, r(v.value, 6)])),
      inputDetails: flat,
      logBytesPerWebhook: r(cost.logBytesPerWebhook, 1),
      logClass: model.inputs.logClass,
      logsOtherClassUsdPerMillion: r(cost.logsOtherClassUsdPerMillion, 4),
      sqsBreakdown: model.sqsBreakdown,
      fixedMonthlyUsd: r(cost.fixedMonthly.total),
      fixedMonthly: Object.fromEntries(Object.entries(cost.fixedMonthly.lines).map(([k, v]) => [k, r(v)])),
      storagePerMillionPerMonthUsd: r(cost.storagePerMillionPerMonth.total, 4),
      storagePerMillionPerMonth: Object.fromEntries(Object.entries(cost.storagePerMillionPerMonth.lines).map(([k, v]) => [k, r(v, 4)])),
      withCostSettings: {
        context: facts.costSettings.context,
        usdPerMillion: r(costWithSettings.usdPerMillion, 3),
        dominantLine: costWithSettings.dominantLine,
        lines: Object.fromEntries(Object.entries(costWithSettings.lines).map(([k, v]) => [k, r(v, 4)])),
        tableScaling: facts.costSettings.tableScaling,
      },
      assumptions: ASSUMPTIONS,
      prices: PRICES,
    },
    stack: {
      name: facts.stackName,
      throttle: { rateLimit: facts.api.throttleRateLimit, burstLimit: facts.api.throttleBurstLimit },
      consumerSource: facts.consumerSource,
      publisherSource: facts.publisherSource,
      table: facts.table,
      functions: Object.fromEntries(
        facts.functions.map((f) => [
          f.service,
          {
            memoryMb: f.memoryMb,
            timeoutSeconds: f.timeoutSeconds,
            logFormat: f.logFormat,
            systemLogLevel: f.systemLogLevel,
            logLevel: f.env["POWERTOOLS_LOG_LEVEL"],
          },
        ]),
      ),
      contextKeys: facts.contextKeys,
      costSettings: facts.costSettings.context,
    },
    phaseSeconds: Object.fromEntries(Object.entries(options.phaseSeconds).map(([k, v]) => [k, r(v, 1)])),
  };
}

/** The consumer's request units per webhook, table and each index apart (redeliveries SQS would drop left out). */
export function dynamoPerWebhook(e2e: EndToEndResult): Record<string, number> {
  const out: Record<string, number> = { tableWru: 0, rru: 0 };
  for (const [outcome, u] of [
    ...Object.entries(e2e.pipeline.dynamoByOutcome),
    ["unattributed", e2e.pipeline.dynamoUnattributed] as const,
  ]) {
    if (outcome === "redelivery") continue;
    out["tableWru"] = (out["tableWru"] ?? 0) + u.wru / e2e.webhooks;
    out["rru"] = (out["rru"] ?? 0) + u.rru / e2e.webhooks;
    for (const [index, n] of Object.entries(u.gsiWruByIndex ?? {}))
      out[`indexWru:${index}`] = (out[`indexWru:${index}`] ?? 0) + n / e2e.webhooks;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, round(v, 4)]));
}

const pad = (text: string | number, width: number) => String(text).padStart(width);
const padEnd = (text: string | number, width: number) => String(text).padEnd(width);
const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : "n/a");

export function printTable(
  results: BenchResults,
  model: ModelResult,
  cost: CostResult,
  costWithSettings: CostResult,
  write: (line: string) => void,
): void {
  write(`\nKYC webhook pipeline bench: ${results.machine}, node ${results.node}\n`);
  const runs = results.microRuns.runs;
  write(
    `\nIngest, per webhook (2 KiB body), microseconds; ratios are medians of interleaved rounds${runs > 1 ? `, then the median of ${runs} runs` : ""}`,
  );
  write(
    "  (network stubbed in process; 2 secrets: the matching one second, then first, then each in turn (alt); +SDK: with the SQS SDK's own work)",
  );
  write(
    `  ${padEnd("provider", 12)}${pad("floor", 8)}${pad("handler", 9)}${pad("×floor", 8)}${pad("2 secrets", 11)}${pad("×floor", 8)}${pad("×floor 1st", 12)}${pad("×floor alt", 12)}${pad("receive()", 11)}${pad("+SDK", 8)}`,
  );
  for (const [provider, m] of Object.entries(results.ingest)) {
    const v = (key: string) => m[key] ?? Number.NaN;
    write(
      `  ${padEnd(provider, 12)}${pad(fmt(v("floorMicros")), 8)}${pad(fmt(v("handlerMicros")), 9)}${pad(fmt(v("ratioToFloor"), 2), 8)}${pad(fmt(v("handlerTwoSecretsMicros")), 11)}${pad(fmt(v("ratioToFloorTwoSecrets"), 2), 8)}${pad(fmt(v("ratioToFloorTwoSecretsMatchFirst"), 2), 12)}${pad(fmt(v("ratioToFloorTwoSecretsAlternating"), 2), 12)}${pad(fmt(v("receiveMicros")), 11)}${pad(fmt(v("handlerWithSdkMicros")), 8)}`,
    );
  }
  const span = (range: readonly [number, number] | undefined) => (range === undefined ? "n/a" : `${fmt(range[0], 2)}–${fmt(range[1], 2)}`);
  if (runs > 1) {
    write(`  ranges over the ${runs} runs: ×floor / 2 secrets / 1st / alt`);
    for (const [provider, ranges] of Object.entries(results.microRuns.ingest)) {
      write(`  ${padEnd(provider, 12)}${RANGED_RATIOS.map((ratio) => span(ranges[ratio])).join(" / ")}`);
    }
  }
  const c = results.consumer;
  write(
    `\nConsumer, per event (batch of ${String(c["batchSize"])}), microseconds: floor ${fmt(Number(c["floorMicros"]))} (SDK calls ${JSON.stringify(c["floorCallsPerEvent"])}), handler ${fmt(Number(c["handlerMicros"]))}, ×floor ${fmt(Number(c["ratioToFloor"]), 2)}${runs > 1 ? ` (${span(results.microRuns.consumer)} over the runs)` : ""}`,
  );
  write("\nCold start (bundle imported in a fresh node process)");
  write(
    `  ${padEnd("function", 11)}${pad("bundle B", 10)}${pad("floor B", 9)}${pad("init ms", 9)}${pad("floor ms", 10)}${pad("×floor", 8)}  SDK packages loaded (floor)`,
  );
  for (const [role, cs] of Object.entries(results.coldStart)) {
    write(
      `  ${padEnd(role, 11)}${pad(String(cs["bundleBytes"]), 10)}${pad(String(cs["floorBundleBytes"]), 9)}${pad(fmt(Number(cs["initMs"])), 9)}${pad(fmt(Number(cs["floorInitMs"])), 10)}${pad(fmt(Number(cs["initRatioToFloor"]), 2), 8)}  ${(cs["sdkImports"] as string[]).map((s) => s.replace("@aws-sdk/", "")).join(", ")} (${(cs["floorSdkImports"] as string[]).map((s) => s.replace("@aws-sdk/", "")).join(", ")})`,
    );
  }
  const e = results.endToEnd;
  write(
    `\nEnd to end, local pipeline: ${String(e["webhooks"])} webhooks (${String(e["duplicates"])} redeliveries), concurrency ${String(e["concurrency"])}: ${String(e["acceptedPerSecond"])} accepted/s, answer p50 ${String(e["p50Ms"])} ms, p99 ${String(e["p99Ms"])} ms; last event applied ${String(e["secondsToLastApplied"])} s and last status change ${String(e["secondsToLastStatusChange"])} s after the last accepted webhook`,
  );
  write(
    `  statuses ${JSON.stringify(e["statuses"])}, outcomes ${JSON.stringify(e["historyOutcomes"])}, status changes ${String(e["statusChanges"])}`,
  );
  write(`  DynamoDB request units per webhook: ${JSON.stringify(e["dynamoPerWebhook"])}; item bytes ${JSON.stringify(e["itemBytes"])}`);

  write(`\nCost per million webhooks at ${ASSUMPTIONS.referenceWebhooksPerSecond} webhooks/s (us-east-1, arm64, list prices)`);
  for (const [line, usd] of Object.entries(cost.lines).sort((a, b) => b[1] - a[1]))
    write(`  ${padEnd(line, 32)}${pad(`$${usd.toFixed(4)}`, 10)}`);
  write(`  ${padEnd("total (variable)", 32)}${pad(`$${cost.usdPerMillion.toFixed(3)}`, 10)}   dominant: ${cost.dominantLine}`);
  const settings = Object.entries(results.stack["costSettings"] as Record<string, string>)
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(" ");
  const changed = Object.entries(costWithSettings.lines)
    .filter(([line, usd]) => Math.abs(usd - (cost.lines[line] ?? 0)) >= 0.00005)
    .map(([line, usd]) => `${line} $${usd.toFixed(4)}`)
    .join(", ");
  write(`  with the cost settings (${settings}): $${costWithSettings.usdPerMillion.toFixed(3)} (${changed})`);
  write(
    `  logs ${fmt(cost.logBytesPerWebhook, 0)} bytes per webhook (${model.inputs.logClass}; the other class would cost $${cost.logsOtherClassUsdPerMillion.toFixed(4)})`,
  );
  write(
    `  fixed monthly: $${cost.fixedMonthly.total.toFixed(2)} (${Object.entries(cost.fixedMonthly.lines)
      .map(([k, v]) => `${k} $${v.toFixed(2)}`)
      .join(", ")})`,
  );
  write(
    `  storage per million webhooks kept, per month: $${cost.storagePerMillionPerMonth.total.toFixed(4)} (${Object.entries(
      cost.storagePerMillionPerMonth.lines,
    )
      .map(([k, v]) => `${k} $${v.toFixed(4)}`)
      .join(", ")})`,
  );
  write("\nCost inputs (measured / assumed)");
  for (const [name, input] of Object.entries(flattenInputs(model.inputs))) {
    write(
      `  ${padEnd(name, 58)}${pad(fmt(input.value, input.value < 10 ? 4 : 1), 12)} ${padEnd(input.kind, 9)}${input.unit}; ${input.note}`,
    );
  }
  for (const [name, input] of Object.entries(model.sqsBreakdown)) {
    write(`  ${padEnd(`sqs: ${name}`, 58)}${pad(fmt(input.value, 4), 12)} ${padEnd(input.kind, 9)}${input.unit}; ${input.note}`);
  }
  write("\nPrices (source, looked up, status)");
  for (const [name, price] of Object.entries(PRICES))
    write(`  ${padEnd(name, 38)}${pad(price.usd, 12)}  ${price.status}: ${price.unit}, ${price.source} (${price.date})`);
  write(`\nPhases (s): ${JSON.stringify(results.phaseSeconds)}\n`);
}
