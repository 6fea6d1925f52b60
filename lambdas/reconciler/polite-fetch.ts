/**
 * The reconciler's HTTP client for one provider's status API: bounded and polite, as the
 * providers' rate limits require (docs/reconciliation.md).
 *
 * - One fetcher per provider: its rate limit, concurrency limit and retries are its own, so a
 *   provider that is slow or down never holds up another's lookups.
 * - Every attempt (retries included) takes a concurrency slot and a token of the rate limit
 *   (a token bucket: `burst` at once, then `ratePerSecond`). A slot is held for one attempt only,
 *   never during a backoff, so a failing verification does not block the others.
 * - Retried: network errors, timeouts (`timeoutMs` per attempt, through an AbortSignal, covering
 *   the body too) and 5xx, with exponential backoff and full jitter
 *   (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/); `429` (and `503`)
 *   wait for `Retry-After` (delta-seconds or HTTP-date, RFC 9110 §10.2.3) when it is given, else
 *   back off. A `Retry-After` applies to the provider, not to one request: no attempt of any
 *   request starts before it ends. One longer than `maxRetryAfterMs` is not waited for: `RetryLater`
 *   is thrown, and so it is, without sending anything, for every later request that shares the
 *   budget's `pause` (the rest of the pass); the next scheduled pass asks again.
 * - A request may be given a time budget (`remainingMs`): no attempt starts, and no backoff or
 *   `Retry-After` is waited for, that could not end within it (`ProviderUnavailable`, "no time
 *   left"), so a pass never outruns its function's timeout.
 * - Not retried: any other answer (2xx, 3xx, 4xx other than 429): returned for the provider's
 *   `parse`. Redirects are not followed (`redirect: "manual"`): the signed credentials headers are
 *   sent to the configured API only.
 * - The request may be given as a function: it is then built (signed) afresh for every attempt,
 *   just before it is sent, so a timestamped signature is never older than the attempt.
 * - After the last attempt: `ProviderUnavailable`, whose message names the last status code or
 *   error name and the number of attempts, never a body or a URL.
 * - The body is read as UTF-8 text up to `maxBodyBytes` (1 MiB). A larger answer is not a status
 *   answer (the status endpoints answer a few hundred bytes): `ProviderUnavailable` at once, not
 *   retried within the pass (the same answer would come back), so the lookup counts as failed and
 *   the next pass tries again.
 */
import type { ApiRequest, ApiResponse } from "./types.js";

export interface PoliteFetchOptions {
  /** Attempts started per second, on average (token bucket refill). Default 5. */
  readonly ratePerSecond?: number;
  /** Attempts that may start at once after a quiet period (bucket size). Default 1: evenly spaced. */
  readonly burst?: number;
  /** Attempts in flight at once. Default 2. */
  readonly concurrency?: number;
  /** Attempts per request, the first included. Default 4. */
  readonly maxAttempts?: number;
  /** Backoff before retry n (1-based): uniform in [0, min(maxDelayMs, baseDelayMs·2^(n-1))). Default 500. */
  readonly baseDelayMs?: number;
  /** Default 10 000. */
  readonly maxDelayMs?: number;
  /** Per attempt, headers and body. Default 5 000. */
  readonly timeoutMs?: number;
  /** The longest `Retry-After` waited for within a pass. Default 30 000. */
  readonly maxRetryAfterMs?: number;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Injectable for tests; default the global fetch. */
  readonly fetch?: FetchLike;
  /** Resolves after `ms`, or as soon as `signal` aborts. Default a timer. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Epoch milliseconds. Default Date.now. */
  readonly now?: () => number;
}

/** The part of `fetch` the fetcher uses. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: Record<string, string>; signal: AbortSignal; redirect: "manual" },
) => Promise<Response>;

/**
 * A request, or a function that builds (signs) it afresh for each attempt. Pass a function for
 * signatures with a clock in them: IDnGO's `X-App-Access-Ts` must be within one minute of Sumsub's
 * clock, and the retries of one request (backoffs, `Retry-After`, timeouts) can take longer.
 */
export type RequestSource = ApiRequest | (() => ApiRequest);

/** Per request: what it may use. One pass gives all its requests to a provider the same budget. */
export interface RequestBudget {
  /** The milliseconds left (for attempts and waits), read when each would start. */
  readonly remainingMs?: () => number;
  /**
   * Shared by the requests of one pass: set (epoch ms) when the provider asks for a pause longer
   * than a pass waits, after which the pass's later requests throw `RetryLater` without sending.
   */
  readonly pause?: { until: number };
}

export type PoliteFetcher = (request: RequestSource, budget?: RequestBudget) => Promise<ApiResponse>;

export const POLITE_FETCH_DEFAULTS = {
  ratePerSecond: 5,
  burst: 1,
  concurrency: 2,
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  timeoutMs: 5_000,
  maxRetryAfterMs: 30_000,
  maxBodyBytes: 1024 * 1024,
} as const;

/** The provider did not answer usefully within the attempts of one pass; the next pass retries. */
export class ProviderUnavailable extends Error {
  override readonly name = "ProviderUnavailable";
  constructor(
    /** `HTTP 503`, `timeout`, `body over 1048576 bytes`, or the name of the network error. */
    readonly reason: string,
    readonly attempts: number,
  ) {
    super(`${reason} after ${attempts} attempt${attempts === 1 ? "" : "s"}`);
  }
}

/** The provider asked for a pause longer than a pass waits (`Retry-After`): retry on a later pass. */
export class RetryLater extends Error {
  override readonly name = "RetryLater";
  constructor(
    readonly retryAfterMs: number,
    readonly attempts: number,
  ) {
    super(`HTTP 429: Retry-After of ${Math.ceil(retryAfterMs / 1000)} s is longer than a pass waits (after ${attempts} attempts)`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pure parts

/**
 * `Retry-After` in milliseconds from `nowMs`: delta-seconds, or an HTTP-date (a date in the past
 * is 0). Undefined when absent or unreadable (then the fetcher backs off as for a 5xx).
 */
export function retryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  // An HTTP-date names a weekday or a month: a bare number with a sign or a fraction is not one.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** Full jitter: uniform in [0, min(maxDelayMs, baseDelayMs·2^(retry-1))), `retry` counting from 1. */
export function backoffDelayMs(retry: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(Math.min(Math.max(random(), 0), 0.999_999_999) * cap);
}

// ---------------------------------------------------------------------------------------------
// Limits

/** A counting semaphore with FIFO waiters. */
class Slots {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(size: number) {
    this.#free = size;
  }
  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }
  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free += 1;
    else next(); // the slot passes to the next waiter
  }
}

/**
 * A token bucket as a reservation (GCRA): each attempt reserves the earliest start the rate
 * allows and waits until then. Reservations are made synchronously, so concurrent callers never
 * share a token.
 */
class TokenBucket {
  #theoreticalArrival = Number.NEGATIVE_INFINITY;
  readonly #interval: number;
  readonly #tolerance: number;
  constructor(
    ratePerSecond: number,
    burst: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    this.#interval = 1000 / ratePerSecond;
    this.#tolerance = (burst - 1) * this.#interval;
  }
  async take(): Promise<void> {
    const t = this.now();
    const startAt = Math.max(t, this.#theoreticalArrival - this.#tolerance);
    this.#theoreticalArrival = Math.max(this.#theoreticalArrival, startAt) + this.#interval;
    if (startAt > t) await this.sleep(startAt - t);
  }
  /** No attempt starts before `at` (epoch ms): the provider asked for a pause. */
  pauseUntil(at: number): void {
    this.#theoreticalArrival = Math.max(this.#theoreticalArrival, at + this.#tolerance);
  }
}

// ---------------------------------------------------------------------------------------------
// One attempt

type Attempt =
  | { readonly kind: "response"; readonly response: ApiResponse }
  | { readonly kind: "failed"; readonly cause: string }
  | { readonly kind: "too-large"; readonly cause: string };

class BodyTooLarge extends Error {}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLarge();
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function lowerCaseHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

/** A thrown value's name only (`TypeError`, `AbortError`): its message may quote a URL or a host. */
function errorName(error: unknown): string {
  return error instanceof Error && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(error.name) ? error.name : "network error";
}

interface Settings {
  readonly fetch: FetchLike;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly timeoutMs: number;
  readonly maxBodyBytes: number;
}

async function attempt(request: ApiRequest, settings: Settings): Promise<Attempt> {
  const controller = new AbortController();
  const finished = new AbortController(); // cancels the timeout once the attempt is over
  let timedOut = false;
  void settings.sleep(settings.timeoutMs, finished.signal).then(() => {
    if (finished.signal.aborted) return;
    timedOut = true;
    controller.abort();
  });
  try {
    const response = await settings.fetch(request.url, {
      method: request.method,
      headers: { ...request.headers },
      signal: controller.signal,
      redirect: "manual",
    });
    const body = await readCapped(response, settings.maxBodyBytes);
    return { kind: "response", response: { status: response.status, headers: lowerCaseHeaders(response.headers), body } };
  } catch (error) {
    if (error instanceof BodyTooLarge) return { kind: "too-large", cause: `body over ${settings.maxBodyBytes} bytes` };
    return { kind: "failed", cause: timedOut ? "timeout" : errorName(error) };
  } finally {
    finished.abort();
  }
}

// ---------------------------------------------------------------------------------------------
// The fetcher

function positive(value: number | undefined, fallback: number, name: string, integer = false): number {
  const chosen = value ?? fallback;
  if (!(chosen > 0) || !Number.isFinite(chosen) || (integer && !Number.isInteger(chosen))) {
    throw new RangeError(`${name} must be a positive ${integer ? "integer" : "number"}`);
  }
  return chosen;
}

const defaultSleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, Math.max(0, ms));
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

const defaultFetch: FetchLike = (url, init) => fetch(url, init);

/** What to do after an attempt: return, throw, or wait `delayMs` and try again (`pause`: the provider's Retry-After). */
type Next =
  | { readonly kind: "return"; readonly response: ApiResponse }
  | { readonly kind: "throw"; readonly error: Error; readonly pauseMs?: number }
  | { readonly kind: "retry"; readonly delayMs: number; readonly cause: string; readonly pause?: boolean };

interface Policy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxRetryAfterMs: number;
  readonly random: () => number;
  readonly now: () => number;
}

/** The retry decision for attempt number `n` (1-based): pure but for the clock and the jitter. */
function nextStep(result: Attempt, n: number, policy: Policy): Next {
  if (result.kind === "too-large") return { kind: "throw", error: new ProviderUnavailable(result.cause, n) };
  const backoff = (): number => backoffDelayMs(n, policy.baseDelayMs, policy.maxDelayMs, policy.random);
  if (result.kind === "failed") return { kind: "retry", delayMs: backoff(), cause: result.cause };
  const { response } = result;
  if (response.status === 429 || response.status === 503) {
    const wait = retryAfterMs(response.headers["retry-after"], policy.now());
    if (wait !== undefined && wait > policy.maxRetryAfterMs) return { kind: "throw", error: new RetryLater(wait, n), pauseMs: wait };
    if (wait !== undefined) return { kind: "retry", delayMs: wait, cause: `HTTP ${response.status}`, pause: true };
    return { kind: "retry", delayMs: backoff(), cause: `HTTP ${response.status}` };
  }
  if (response.status >= 500) return { kind: "retry", delayMs: backoff(), cause: `HTTP ${response.status}` };
  return { kind: "return", response };
}

/**
 * A fetcher for one provider: `(request) => response`, throwing `ProviderUnavailable` or
 * `RetryLater` when the provider did not answer usefully. Never logs.
 */
export function createPoliteFetcher(options: PoliteFetchOptions = {}): PoliteFetcher {
  const d = POLITE_FETCH_DEFAULTS;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? defaultSleep;
  const policy: Policy = {
    maxAttempts: positive(options.maxAttempts, d.maxAttempts, "maxAttempts", true),
    baseDelayMs: positive(options.baseDelayMs, d.baseDelayMs, "baseDelayMs"),
    maxDelayMs: positive(options.maxDelayMs, d.maxDelayMs, "maxDelayMs"),
    maxRetryAfterMs: positive(options.maxRetryAfterMs, d.maxRetryAfterMs, "maxRetryAfterMs"),
    random: options.random ?? Math.random,
    now,
  };
  const settings: Settings = {
    fetch: options.fetch ?? defaultFetch,
    sleep,
    timeoutMs: positive(options.timeoutMs, d.timeoutMs, "timeoutMs"),
    maxBodyBytes: positive(options.maxBodyBytes, d.maxBodyBytes, "maxBodyBytes", true),
  };
  const slots = new Slots(positive(options.concurrency, d.concurrency, "concurrency", true));
  const bucket = new TokenBucket(
    positive(options.ratePerSecond, d.ratePerSecond, "ratePerSecond"),
    positive(options.burst, d.burst, "burst", true),
    now,
    (ms) => sleep(ms),
  );

  const outOfTime = (budget: RequestBudget | undefined, waitMs: number): boolean =>
    budget?.remainingMs !== undefined && budget.remainingMs() < waitMs + settings.timeoutMs;

  /** Why attempt `n` may not start now (the pass's pause, its time), checked again once a slot and a token are free. */
  const refusal = (budget: RequestBudget | undefined, n: number): Error | undefined => {
    const paused = budget?.pause?.until ?? Number.NEGATIVE_INFINITY;
    if (now() < paused) return new RetryLater(paused - now(), n - 1);
    if (outOfTime(budget, 0)) return new ProviderUnavailable("no time left in the pass", n - 1);
    return undefined;
  };

  /** Attempt `n` and what follows from it, once a slot and a token are free. */
  const limitedStep = async (source: RequestSource, budget: RequestBudget | undefined, n: number): Promise<Next> => {
    await slots.acquire();
    try {
      await bucket.take();
      const refused = refusal(budget, n);
      if (refused !== undefined) return { kind: "throw", error: refused };
      // Signed at the last moment: after the waits for a slot and a token.
      const next = nextStep(await attempt(typeof source === "function" ? source() : source, settings), n, policy);
      // A pause the provider asked for holds before this slot passes to another attempt.
      if (next.kind === "throw" && next.pauseMs !== undefined && budget?.pause !== undefined) {
        budget.pause.until = Math.max(budget.pause.until, now() + next.pauseMs);
      }
      if (next.kind === "retry" && next.pause === true) bucket.pauseUntil(now() + next.delayMs);
      return next;
    } finally {
      slots.release();
    }
  };

  return async (source, budget) => {
    for (let n = 1; ; n += 1) {
      const refused = refusal(budget, n);
      if (refused !== undefined) throw refused;
      const next = await limitedStep(source, budget, n);
      if (next.kind === "return") return next.response;
      if (next.kind === "throw") throw next.error;
      if (n >= policy.maxAttempts) throw new ProviderUnavailable(next.cause, n);
      if (outOfTime(budget, next.delayMs)) throw new ProviderUnavailable(`${next.cause}; no time left in the pass`, n);
      await sleep(next.delayMs);
    }
  };
}
