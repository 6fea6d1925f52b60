/**
 * `npm run bench`: the handlers next to their floors, cold starts next to theirs, the local pipeline
 * end to end, and the cost per million webhooks computed from what was measured. Prints a table and
 * writes bench/results.json. Every phase measures the code and the stack as they are now: nothing
 * about today's behaviour is written in here. docs/performance.md explains each figure.
 *
 * Phases (each heavy one in a fresh process): 1. synthesize the stack with its own bundling
 * (bench/stack.ts); 2. micro benchmarks (bench/micro.ts, run --micro-runs times, each in a fresh
 * process: each figure is the median over the runs, each ratio keeps its range); 3. cold starts (bench/coldstart.ts);
 * 4. the local pipeline under load (bench/e2e.ts + bench/e2e-pipeline.ts); 5. the cost model
 * (bench/model.ts, bench/cost.ts).
 *
 * Options: --webhooks N (2000), --rounds N (micro rounds, 41), --micro-runs N (3), --cold-repeats N
 * (15), --out FILE.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { measureColdStarts } from "./coldstart.js";
import { computeCost, PRICES } from "./cost.js";
import { runEndToEnd } from "./e2e.js";
import { exited, nextMessage, ROOT, startTsx } from "./lib/child.js";
import type { StackFacts } from "./lib/facts.js";
import { combineMicroRuns } from "./lib/micro-runs.js";
import type { MicroResult } from "./micro.js";
import { buildInputs, deploymentOf } from "./model.js";
import { printTable, toResults } from "./report.js";

const { values } = parseArgs({
  options: {
    webhooks: { type: "string", default: "2000" },
    rounds: { type: "string", default: "41" },
    "micro-runs": { type: "string", default: "3" },
    "cold-repeats": { type: "string", default: "15" },
    out: { type: "string", default: join(ROOT, "bench", "results.json") },
  },
});
const CACHE = join(ROOT, "node_modules", ".cache", "kyc-bench");
mkdirSync(CACHE, { recursive: true });
const log = (text: string) => process.stderr.write(`[bench] ${text}\n`);
const phaseSeconds: Record<string, number> = {};
async function phase<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`${name}…`);
  const result = await run();
  phaseSeconds[name] = (Date.now() - started) / 1000;
  log(`${name}: ${phaseSeconds[name]?.toFixed(1)} s`);
  return result;
}

const factsPath = join(CACHE, "facts.json");
const facts = await phase("synthesize", async () => {
  const child = startTsx("bench/stack.ts", [join(CACHE, "cdk.out"), factsPath], { stdout: "ignore", ipc: false });
  const code = await exited(child);
  if (code !== 0) throw new Error(`synthesizing the stack failed (exit ${code}):\n${child.stderrText()}`);
  return JSON.parse(readFileSync(factsPath, "utf8")) as StackFacts;
});

/** One run of the micro benchmarks, in a fresh process. */
async function microRun(): Promise<MicroResult> {
  // The functions' log and EMF lines go to stdout, as in Lambda: discarded here.
  const child = startTsx("bench/micro.ts", [factsPath, values.rounds], { stdout: "ignore", ipc: true });
  try {
    return await nextMessage(
      child,
      (m) => ((m as { type?: string }).type === "micro" ? (m as { result: MicroResult }).result : undefined),
      300_000,
    );
  } catch (error) {
    throw new Error(`micro benchmarks failed: ${String(error)}\n${child.stderrText()}`);
  } finally {
    await exited(child);
  }
}

const microRuns = await phase("micro", async () => {
  const runs: MicroResult[] = [];
  const count = Number(values["micro-runs"]);
  if (!Number.isInteger(count) || count < 1) throw new Error("--micro-runs takes a whole number of runs, 1 or more");
  for (let i = 0; i < count; i += 1) runs.push(await microRun());
  return combineMicroRuns(runs);
});
const micro = microRuns.combined;

const cold = await phase("cold starts", () => measureColdStarts(facts, Number(values["cold-repeats"])));

const e2e = await phase("end to end", () =>
  runEndToEnd(facts, factsPath, { webhooks: Number(values.webhooks), duplicateShare: 0.2, concurrency: 32, seed: 20261122 }),
);

const model = buildInputs(facts, micro, cold, e2e);
const cost = computeCost(model.inputs, PRICES, deploymentOf(facts.deployment));
// The same inputs, priced as the stack with the cost settings bills them (docs/performance.md, Cost settings).
const costWithSettings = computeCost(model.inputs, PRICES, deploymentOf(facts.costSettings));
const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB, ${process.platform}/${process.arch}`;
const results = toResults({ machine, facts, microRuns, cold, e2e, model, cost, costWithSettings, phaseSeconds });
printTable(results, model, cost, costWithSettings, (line) => process.stdout.write(`${line}\n`));
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
log(`wrote ${values.out}`);
