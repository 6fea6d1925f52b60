/** Small statistics and timing helpers shared by the bench phases. */

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** The q-quantile (0..1) by linear interpolation between closest ranks; NaN for no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  const a = sorted[low] ?? Number.NaN;
  const b = sorted[high] ?? Number.NaN;
  return a + (b - a) * (position - low);
}

export function sum(values: readonly number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : sum(values) / values.length;
}

/** Rounds to `digits` decimals (for reports; the raw numbers stay in memory). */
export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Nanoseconds since an arbitrary origin, as a number (enough precision for runs under hours). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

export type Op = () => unknown;
export type AsyncOp = () => Promise<unknown>;

/** Time of one run of `n` calls of `op`, in microseconds per call. */
export async function timeRun(op: AsyncOp | Op, n: number): Promise<number> {
  const start = nowNs();
  for (let i = 0; i < n; i += 1) await op();
  return (nowNs() - start) / 1000 / n;
}

/** How many calls of `op` take about `targetMs` (at least 1), found by doubling. */
export async function calibrate(op: AsyncOp | Op, targetMs: number): Promise<number> {
  let n = 1;
  for (;;) {
    const start = nowNs();
    for (let i = 0; i < n; i += 1) await op();
    const elapsedMs = (nowNs() - start) / 1e6;
    if (elapsedMs >= targetMs / 4 || n >= 1 << 20) return Math.max(1, Math.round((n * targetMs) / Math.max(elapsedMs, 1e-3)));
    n *= 2;
  }
}

export interface Variant {
  readonly name: string;
  readonly op: AsyncOp | Op;
}

/** A deterministic pseudo-random permutation of 0..n-1 (Fisher-Yates over mulberry32 from `seed`). */
export function permutation(n: number, seed: number): number[] {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i -= 1) {
    const j = Math.floor(next() * (i + 1));
    const a = order[i] ?? i;
    order[i] = order[j] ?? j;
    order[j] = a;
  }
  return order;
}

/**
 * Runs the variants interleaved in one process: `rounds` rounds, each variant once per round in a
 * shuffled order (a fixed seed per round, so that no variant always follows the same one and
 * inherits its garbage or its caches), each run `calls[name]` calls long (calibrated to about
 * `targetMs`). Returns the microseconds per call of every run, by variant, in round order (so that
 * ratios can be taken per round).
 */
export async function interleave(
  variants: readonly Variant[],
  options: { readonly rounds: number; readonly targetMs: number; readonly warmupMs?: number },
): Promise<Map<string, number[]>> {
  const calls = new Map<string, number>();
  for (const v of variants) {
    await calibrate(v.op, options.warmupMs ?? options.targetMs); // warm-up (JIT, caches)
    calls.set(v.name, await calibrate(v.op, options.targetMs));
  }
  const runs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < options.rounds; round += 1) {
    for (const i of permutation(variants.length, round + 1)) {
      const v = variants[i];
      if (v === undefined) continue;
      runs.get(v.name)?.push(await timeRun(v.op, calls.get(v.name) ?? 1));
    }
  }
  return runs;
}

/** Median over rounds of the per-round ratio a/b (both arrays in round order). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  const ratios: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i];
    const y = b[i];
    if (x !== undefined && y !== undefined && y > 0) ratios.push(x / y);
  }
  return median(ratios);
}
