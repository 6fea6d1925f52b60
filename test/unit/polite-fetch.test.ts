import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  createPoliteFetcher,
  type FetchLike,
  type PoliteFetchOptions,
  ProviderUnavailable,
  RetryLater,
  retryAfterMs,
} from "../../lambdas/reconciler/polite-fetch.js";
import type { ApiRequest } from "../../lambdas/reconciler/types.js";

// ---------------------------------------------------------------------------------------------
// Virtual time: sleeps are timers on a fake clock; `run` advances the clock to the next timer
// whenever everything else is waiting, so minutes of backoff take no real time.

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Where every virtual clock starts: a whole second, so HTTP-dates (second resolution) are exact. */
const START = Date.parse("2026-11-22T10:00:00.000Z");

class VirtualTime {
  now: number;
  #timers: Timer[] = [];
  #seq = 0;
  constructor(start = START) {
    this.now = start;
  }
  readonly clock = (): number => this.now;
  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = { at: this.now + Math.max(0, ms), seq: this.#seq++, resolve };
      this.#timers.push(timer);
      signal?.addEventListener(
        "abort",
        () => {
          this.#timers = this.#timers.filter((t) => t !== timer);
          resolve();
        },
        { once: true },
      );
    });
  async run<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    promise.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    for (;;) {
      for (let i = 0; i < 5; i += 1) await new Promise((r) => setImmediate(r));
      if (settled) return promise;
      const next = [...this.#timers].sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (next === undefined) throw new Error("deadlock: nothing to wait for and the promise has not settled");
      this.#timers = this.#timers.filter((t) => t !== next);
      this.now = Math.max(this.now, next.at);
      next.resolve();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A fake provider: per-URL scripts of outcomes, recording each call's virtual time.

type Outcome =
  | { readonly status: number; readonly headers?: Record<string, string>; readonly body?: string; readonly latencyMs?: number }
  | { readonly hang: true }
  | { readonly network: true };

interface Call {
  readonly url: string;
  readonly at: number;
  readonly headers: Record<string, string>;
  readonly redirect: string;
}

function fakeProvider(time: VirtualTime, scripts: Record<string, readonly Outcome[]>) {
  const calls: Call[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const fetch: FetchLike = async (url, init) => {
    calls.push({ url, at: time.now, headers: init.headers, redirect: init.redirect });
    const index = calls.filter((c) => c.url === url).length - 1;
    const outcome = scripts[url]?.[index] ?? { status: 200, body: "{}" };
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      if ("hang" in outcome) {
        return await new Promise<never>((_, reject) =>
          init.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")), { once: true }),
        );
      }
      if ("network" in outcome) throw new TypeError("fetch failed: connect ECONNREFUSED api.provider.test");
      if (outcome.latencyMs !== undefined) await time.sleep(outcome.latencyMs, init.signal);
      if (init.signal.aborted) throw new DOMException("aborted", "AbortError");
      const nullBody = [204, 304].includes(outcome.status) || (outcome.status >= 300 && outcome.status < 400 && outcome.body === undefined);
      return new Response(nullBody ? null : (outcome.body ?? ""), { status: outcome.status, headers: outcome.headers ?? {} });
    } finally {
      inFlight -= 1;
    }
  };
  return { fetch, calls, maxInFlight: () => maxInFlight };
}

const request = (url = "https://api.provider.test/1"): ApiRequest => ({ method: "GET", url, headers: { "X-Test": "1" } });

/** A fetcher on virtual time; `rate` high enough by default that the bucket never delays a retry test. */
function setup(scripts: Record<string, readonly Outcome[]>, options: Partial<PoliteFetchOptions> = {}) {
  const time = new VirtualTime();
  const provider = fakeProvider(time, scripts);
  const fetcher = createPoliteFetcher({
    ratePerSecond: 1000,
    fetch: provider.fetch,
    sleep: time.sleep,
    now: time.clock,
    random: () => 0.5,
    ...options,
  });
  const gaps = (): number[] => provider.calls.slice(1).map((c, i) => c.at - (provider.calls[i]?.at ?? 0));
  return { time, provider, fetcher, gaps, run: <T>(p: Promise<T>) => time.run(p) };
}

const URL1 = "https://api.provider.test/1";

// ---------------------------------------------------------------------------------------------

describe("polite fetch: pure parts", () => {
  it("reads Retry-After as delta-seconds or an HTTP-date", () => {
    const now = Date.parse("2026-11-22T10:00:00.000Z");
    expect(retryAfterMs("3", now)).toBe(3000);
    expect(retryAfterMs(" 0 ", now)).toBe(0);
    expect(retryAfterMs("Sun, 22 Nov 2026 10:00:07 GMT", now)).toBe(7000);
    expect(retryAfterMs("Sun, 22 Nov 2026 09:00:00 GMT", now)).toBe(0); // in the past
    for (const bad of [undefined, "", "soon", "-1", "1.5", "1e3"]) expect(retryAfterMs(bad, now), String(bad)).toBeUndefined();
  });

  it("backs off exponentially with full jitter, capped", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, 500, 10_000, () => 0.5))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelayMs(10, 500, 10_000, () => 0.999)).toBe(9990);
    expect(backoffDelayMs(3, 500, 10_000, () => 0)).toBe(0);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, r) => {
        const delay = backoffDelayMs(n, 500, 10_000, () => r);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThan(Math.min(10_000, 500 * 2 ** (n - 1)));
      }),
    );
  });

  it("refuses nonsensical limits", () => {
    expect(() => createPoliteFetcher({ concurrency: 0 })).toThrow(RangeError);
    expect(() => createPoliteFetcher({ ratePerSecond: -1 })).toThrow(RangeError);
    expect(() => createPoliteFetcher({ maxAttempts: 1.5 })).toThrow(RangeError);
  });
});

describe("polite fetch: retries", () => {
  it("retries 5xx with growing jittered delays, then returns the answer with lower-case header names", async () => {
    const { fetcher, provider, gaps, run } = setup(
      {
        [URL1]: [
          { status: 500 },
          { status: 502 },
          { status: 503 },
          { status: 200, body: '{"ok":true}', headers: { "X-HMAC-Signature": "ab" } },
        ],
      },
      { random: () => 0.999 },
    );
    const response = await run(fetcher(request()));
    expect(response).toEqual({ status: 200, headers: expect.objectContaining({ "x-hmac-signature": "ab" }), body: '{"ok":true}' });
    expect(gaps()).toEqual([499, 999, 1998]);
    expect(provider.calls.every((c) => c.redirect === "manual" && c.headers["X-Test"] === "1")).toBe(true);
  });

  it("draws each delay from the full jitter range", async () => {
    const draws = [0.1, 0.9, 0.3];
    const { fetcher, gaps, run } = setup(
      { [URL1]: [{ status: 500 }, { status: 500 }, { status: 500 }] },
      { random: () => draws.shift() ?? 0 },
    );
    await run(fetcher(request()));
    expect(gaps()).toEqual([50, 900, 600]);
  });

  it("times out a hanging attempt (AbortSignal) and retries it", async () => {
    const { fetcher, provider, gaps, run } = setup(
      { [URL1]: [{ hang: true }, { status: 200, latencyMs: 6000 }, { status: 200, body: "done" }] },
      { random: () => 0 },
    );
    const response = await run(fetcher(request()));
    expect(response.body).toBe("done");
    expect(provider.calls).toHaveLength(3);
    expect(gaps()).toEqual([5000, 5000]); // each attempt cut at timeoutMs, backoff 0
  });

  it("builds a request given as a function afresh for every attempt (a timestamped signature stays fresh)", async () => {
    const { fetcher, provider, run, time } = setup({
      [URL1]: [{ status: 500 }, { status: 429, headers: { "retry-after": "20" } }, { status: 200 }],
    });
    const signed = (): ApiRequest => ({ method: "GET", url: URL1, headers: { "X-Signed-At": String(time.now) } });
    await run(fetcher(signed));
    expect(provider.calls.map((c) => Number(c.headers["X-Signed-At"]))).toEqual(provider.calls.map((c) => c.at));
    expect(new Set(provider.calls.map((c) => c.at)).size).toBe(3);
  });

  it("retries network errors", async () => {
    const { fetcher, provider, run } = setup({ [URL1]: [{ network: true }, { status: 200 }] });
    expect((await run(fetcher(request()))).status).toBe(200);
    expect(provider.calls).toHaveLength(2);
  });

  it("throws ProviderUnavailable after maxAttempts, naming the status and attempts, never the body or the URL", async () => {
    const failing: Outcome = { status: 503, body: "FIXTUREFIRST upstream secret" };
    const { fetcher, provider, run } = setup({ [URL1]: [failing, failing, failing, failing, failing] });
    const error = await run(fetcher(request())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(error).toMatchObject({ message: "HTTP 503 after 4 attempts", attempts: 4, reason: "HTTP 503" });
    expect(provider.calls).toHaveLength(4);
  });

  it("names a timeout or the network error's name only", async () => {
    const hang = setup({ [URL1]: [{ hang: true }, { hang: true }] }, { maxAttempts: 2 });
    await expect(hang.run(hang.fetcher(request()))).rejects.toThrow(/^timeout after 2 attempts$/);
    const down = setup({ [URL1]: [{ network: true }] }, { maxAttempts: 1 });
    const error = await down.run(down.fetcher(request())).catch((e: unknown) => e);
    expect(error).toMatchObject({ message: "TypeError after 1 attempt" });
    expect(String(error)).not.toContain("ECONNREFUSED");
  });

  it("does not retry 2xx, 3xx or 4xx other than 429: the answer goes to the provider's parse", async () => {
    for (const status of [200, 302, 400, 401, 403, 404, 422]) {
      const { fetcher, provider, run } = setup({ [URL1]: [{ status, body: status === 302 ? undefined : "x" }] });
      expect((await run(fetcher(request()))).status, String(status)).toBe(status);
      expect(provider.calls, String(status)).toHaveLength(1);
    }
  });

  it("gives up at once on a body over the cap (the same answer would come back)", async () => {
    const { fetcher, provider, run } = setup({ [URL1]: [{ status: 200, body: "x".repeat(11) }] }, { maxBodyBytes: 10 });
    await expect(run(fetcher(request()))).rejects.toThrow(new ProviderUnavailable("body over 10 bytes", 1));
    expect(provider.calls).toHaveLength(1);
    const exact = setup({ [URL1]: [{ status: 200, body: "x".repeat(10) }] }, { maxBodyBytes: 10 });
    expect((await exact.run(exact.fetcher(request()))).body).toBe("x".repeat(10));
  });
});

describe("polite fetch: 429", () => {
  it("waits exactly Retry-After delta-seconds", async () => {
    const { fetcher, gaps, run } = setup({ [URL1]: [{ status: 429, headers: { "Retry-After": "3" } }, { status: 200 }] });
    expect((await run(fetcher(request()))).status).toBe(200);
    expect(gaps()).toEqual([3000]);
  });

  it("waits until a Retry-After HTTP-date", async () => {
    const at = new Date(START + 7000).toUTCString();
    const { fetcher, gaps, run } = setup({ [URL1]: [{ status: 429, headers: { "retry-after": at } }, { status: 200 }] });
    expect((await run(fetcher(request()))).status).toBe(200);
    expect(gaps()).toEqual([7000]);
  });

  it("honours Retry-After on a 503 too (RFC 9110)", async () => {
    const { fetcher, gaps, run } = setup({ [URL1]: [{ status: 503, headers: { "retry-after": "2" } }, { status: 200 }] });
    await run(fetcher(request()));
    expect(gaps()).toEqual([2000]);
  });

  it("backs off when a 429 names no (readable) Retry-After", async () => {
    const { fetcher, gaps, run } = setup({
      [URL1]: [{ status: 429 }, { status: 429, headers: { "retry-after": "soon" } }, { status: 200 }],
    });
    await run(fetcher(request()));
    expect(gaps()).toEqual([250, 500]);
  });

  it("throws RetryLater for a Retry-After longer than maxRetryAfterMs, without waiting", async () => {
    const { fetcher, provider, run, time } = setup({ [URL1]: [{ status: 429, headers: { "retry-after": "120" } }] });
    const start = time.now;
    const error = await run(fetcher(request())).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLater);
    expect(error).toMatchObject({ retryAfterMs: 120_000, attempts: 1 });
    expect(provider.calls).toHaveLength(1);
    expect(time.now - start).toBeLessThan(5000);
    const far = new Date(START + 3_600_000).toUTCString();
    const later = setup({ [URL1]: [{ status: 429, headers: { "retry-after": far } }] }, { maxRetryAfterMs: 60_000 });
    await expect(later.run(later.fetcher(request()))).rejects.toBeInstanceOf(RetryLater);
  });

  it("holds every request of the provider for a Retry-After, not only the one that got it", async () => {
    const URL2 = "https://api.provider.test/2";
    const { fetcher, provider, run, time } = setup({ [URL1]: [{ status: 429, headers: { "retry-after": "3" } }, { status: 200 }] });
    const a = fetcher(request(URL1));
    const b = (async () => {
      await time.sleep(1000);
      return fetcher(request(URL2));
    })();
    await run(Promise.all([a, b]));
    const second = provider.calls.find((c) => c.url === URL2);
    expect(second?.at).toBeGreaterThanOrEqual(START + 3000);
  });

  it("after a Retry-After longer than a pass waits, sends nothing more within the same budget's pass", async () => {
    const URL2 = "https://api.provider.test/2";
    const { fetcher, provider, run } = setup({ [URL1]: [{ status: 429, headers: { "retry-after": "3600" } }] });
    const pass = { pause: { until: Number.NEGATIVE_INFINITY } };
    await expect(run(fetcher(request(URL1), pass))).rejects.toBeInstanceOf(RetryLater);
    const error = await run(fetcher(request(URL2), pass)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLater);
    expect(error).toMatchObject({ attempts: 0 });
    expect(provider.calls.map((c) => c.url)).toEqual([URL1]);
    // Another pass (another budget) asks again.
    expect((await run(fetcher(request(URL2), { pause: { until: Number.NEGATIVE_INFINITY } }))).status).toBe(200);
    // A request already waiting for a slot when the 429 comes back is not sent either.
    const queued = setup({ [URL1]: [{ status: 429, headers: { "retry-after": "3600" }, latencyMs: 100 }] }, { concurrency: 1 });
    const same = { pause: { until: Number.NEGATIVE_INFINITY } };
    const both = await queued.run(
      Promise.allSettled([queued.fetcher(request(URL1), same), queued.fetcher(request(URL2), same)]).then((r) => r),
    );
    expect(both.map((r) => (r.status === "rejected" ? (r.reason as Error).name : "sent"))).toEqual(["RetryLater", "RetryLater"]);
    expect(queued.provider.calls.map((c) => c.url)).toEqual([URL1]);
  });

  it("starts no attempt and waits for no Retry-After that could outlast the request's budget", async () => {
    const none = setup({});
    const error = await none.run(none.fetcher(request(), { remainingMs: () => 4_000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailable);
    expect(String(error)).toMatch(/no time left in the pass after 0 attempts/);
    expect(none.provider.calls).toEqual([]);
    const { fetcher, provider, run, time } = setup({ [URL1]: [{ status: 503, headers: { "retry-after": "20" } }, { status: 200 }] });
    const deadline = START + 22_000;
    const late = await run(fetcher(request(), { remainingMs: () => deadline - time.now })).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ProviderUnavailable);
    expect(String(late)).toMatch(/HTTP 503; no time left in the pass after 1 attempt/);
    expect(provider.calls).toHaveLength(1);
    expect(time.now - START).toBeLessThan(20_000);
  });

  it("throws ProviderUnavailable when every attempt is a 429", async () => {
    const limited: Outcome = { status: 429, headers: { "retry-after": "1" } };
    const { fetcher, provider, run } = setup({ [URL1]: [limited, limited, limited, limited] });
    await expect(run(fetcher(request()))).rejects.toThrow("HTTP 429 after 4 attempts");
    expect(provider.calls).toHaveLength(4);
  });
});

describe("polite fetch: limits", () => {
  it("spaces attempts by the rate, retries included", async () => {
    const { fetcher, provider, run } = setup(
      { [URL1]: [{ status: 500 }, { status: 200 }] },
      { ratePerSecond: 2, random: () => 0 }, // backoff 0: only the bucket spaces the retry
    );
    await run(Promise.all([fetcher(request()), fetcher(request("https://api.provider.test/2"))]));
    const times = provider.calls.map((c) => c.at - (provider.calls[0]?.at ?? 0));
    expect(times).toEqual([0, 500, 1000]);
  });

  it("lets `burst` attempts start at once, at first and again after a quiet period", async () => {
    const urls = [1, 2, 3, 4, 5, 6, 7, 8].map((i) => `https://api.provider.test/${i}`);
    const { fetcher, provider, run, time } = setup({}, { ratePerSecond: 1, burst: 3, concurrency: 5 });
    await run(Promise.all(urls.slice(0, 5).map((url) => fetcher(request(url)))));
    const times = () => provider.calls.map((c) => c.at - (provider.calls[0]?.at ?? 0));
    expect(times()).toEqual([0, 0, 0, 1000, 2000]);
    // Quiet for burst / rate = 3 s after the last start: the bucket is full again.
    await run(time.sleep(3000));
    await run(Promise.all(urls.slice(5).map((url) => fetcher(request(url)))));
    expect(times().slice(5)).toEqual([5000, 5000, 5000]);
  });

  it("never exceeds the concurrency or the rate, whatever the answers (property)", async () => {
    const outcome: fc.Arbitrary<Outcome> = fc.oneof(
      fc.record({ status: fc.constantFrom(200, 404, 500, 503), latencyMs: fc.integer({ min: 0, max: 3000 }) }),
      fc.record({ status: fc.constant(429), headers: fc.record({ "retry-after": fc.constantFrom("0", "1", "5") }) }),
      fc.constant({ hang: true as const }),
      fc.constant({ network: true as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(outcome, { maxLength: 5 }), { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        async (scripts, concurrency, ratePerSecond, burst, jitter) => {
          const urls = scripts.map((_, i) => `https://api.provider.test/${i}`);
          const { fetcher, provider, run } = setup(Object.fromEntries(urls.map((url, i) => [url, scripts[i] ?? []])), {
            concurrency,
            ratePerSecond,
            burst,
            random: () => jitter,
          });
          const results = await run(Promise.allSettled(urls.map((url) => fetcher(request(url)))));
          expect(provider.maxInFlight()).toBeLessThanOrEqual(concurrency);
          const starts = provider.calls.map((c) => c.at).sort((a, b) => a - b);
          // A token bucket: any window [a, b] holds at most burst + (b - a)·rate attempts.
          for (let i = 0; i < starts.length; i += 1) {
            for (let j = i; j < starts.length; j += 1) {
              const window = (starts[j] ?? 0) - (starts[i] ?? 0);
              expect(j - i + 1).toBeLessThanOrEqual(burst + (window * ratePerSecond) / 1000 + 1e-3); // float clock
            }
          }
          for (const url of urls) expect(provider.calls.filter((c) => c.url === url).length).toBeLessThanOrEqual(4);
          for (const result of results) {
            if (result.status === "rejected") expect(result.reason).toBeInstanceOf(ProviderUnavailable);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("keeps providers apart: one fetcher's stalled attempts never delay another's", async () => {
    const time = new VirtualTime();
    const slow = fakeProvider(time, { [URL1]: [{ hang: true }, { hang: true }, { hang: true }, { hang: true }] });
    const fast = fakeProvider(time, {});
    const options = { sleep: time.sleep, now: time.clock, concurrency: 1 };
    const slowFetcher = createPoliteFetcher({ ...options, fetch: slow.fetch });
    const fastFetcher = createPoliteFetcher({ ...options, fetch: fast.fetch });
    const slowResult = slowFetcher(request()).catch((e: unknown) => e);
    const start = time.now;
    await time.run(fastFetcher(request("https://other.provider.test/1")));
    expect(time.now - start).toBe(0);
    expect(await time.run(slowResult)).toBeInstanceOf(ProviderUnavailable);
  });
});
