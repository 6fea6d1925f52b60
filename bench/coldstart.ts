/**
 * Bench phase 3: cold start. Each function's deployed bundle (bench/stack.ts synthesized it with the
 * stack's own bundling) against its floor (the same bundling of an entry that only loads the SDK
 * clients the function needs), imported in a fresh `node` process with the function's environment
 * (NODE_OPTIONS included: source maps are enabled in Lambda), `@aws-sdk/*` resolved from
 * node_modules as the runtime resolves its own copy. Interleaved, medians of repeats.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ROOT } from "./lib/child.js";
import { FUNCTION_ROLES, type FunctionRole, type StackFacts } from "./lib/facts.js";
import { median } from "./lib/stats.js";
import { BENCH_CREDENTIALS, BENCH_REGION } from "./lib/stubs.js";

const run = promisify(execFile);

export interface ColdStartResult {
  readonly bundleBytes: number;
  readonly sourceMapBytes: number;
  readonly floorBundleBytes: number;
  readonly sdkImports: readonly string[];
  readonly floorSdkImports: readonly string[];
  /** Median milliseconds to import the bundle (module loading and the handler's init code). */
  readonly initMs: number;
  readonly floorInitMs: number;
  readonly initRatioToFloor: number;
  /** Median milliseconds from process start to the end of the import (Node's own start included). */
  readonly processMs: number;
  readonly floorProcessMs: number;
}

const SCRIPT = [
  "const t0 = performance.now();",
  "await import(process.env.BENCH_BUNDLE);",
  "const t1 = performance.now();",
  "process.stdout.write(JSON.stringify({ importMs: t1 - t0, processMs: t1 }));",
].join("\n");

async function importOnce(bundlePath: string, env: Readonly<Record<string, string>>, name: string, memoryMb: number) {
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", SCRIPT], {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      ...env,
      BENCH_BUNDLE: new URL(bundlePath, `file://${ROOT}/`).href,
      AWS_REGION: BENCH_REGION,
      AWS_DEFAULT_REGION: BENCH_REGION,
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      AWS_SESSION_TOKEN: BENCH_CREDENTIALS.sessionToken,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
      AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as { importMs: number; processMs: number };
}

export async function measureColdStarts(facts: StackFacts, repeats: number): Promise<Record<FunctionRole, ColdStartResult>> {
  const subjects = FUNCTION_ROLES.map((role) => {
    const fn = facts.functions.find((f) => f.role === role);
    const floor = facts.floors.find((f) => f.role === role);
    if (fn === undefined || floor === undefined) throw new Error(`cold start: no ${role} function or floor in the synthesized stacks`);
    return { role, fn, floor };
  });
  const samples = new Map<string, { importMs: number[]; processMs: number[] }>();
  const add = (key: string, s: { importMs: number; processMs: number }) => {
    const entry = samples.get(key) ?? { importMs: [], processMs: [] };
    samples.set(key, entry);
    entry.importMs.push(s.importMs);
    entry.processMs.push(s.processMs);
  };
  // One round to warm the file system cache, then the measured rounds, in a rotating order.
  for (let round = -1; round < repeats; round += 1) {
    const order = subjects.flatMap((s) => [
      { key: `${s.role} handler`, path: s.fn.bundlePath, env: s.fn.env, name: s.fn.functionName, memory: s.fn.memoryMb },
      { key: `${s.role} floor`, path: s.floor.bundlePath, env: s.floor.env, name: `${s.fn.functionName}-floor`, memory: s.fn.memoryMb },
    ]);
    const shift = Math.max(0, round) % order.length;
    for (const item of [...order.slice(shift), ...order.slice(0, shift)]) {
      const sample = await importOnce(item.path, item.env, item.name, item.memory);
      if (round >= 0) add(item.key, sample);
    }
  }
  const result = {} as Record<FunctionRole, ColdStartResult>;
  for (const { role, fn, floor } of subjects) {
    const handler = samples.get(`${role} handler`) ?? { importMs: [], processMs: [] };
    const base = samples.get(`${role} floor`) ?? { importMs: [], processMs: [] };
    result[role] = {
      bundleBytes: fn.bundleBytes,
      sourceMapBytes: fn.sourceMapBytes,
      floorBundleBytes: floor.bundleBytes,
      sdkImports: fn.sdkImports,
      floorSdkImports: floor.sdkImports,
      initMs: median(handler.importMs),
      floorInitMs: median(base.importMs),
      initRatioToFloor: median(handler.importMs) / median(base.importMs),
      processMs: median(handler.processMs),
      floorProcessMs: median(base.processMs),
    };
  }
  return result;
}
