/**
 * A local fake of the IDnGO (Sumsub) and Veriff status APIs, one node:http server each on
 * 127.0.0.1 (a free port), checking every request as the provider documents it:
 *
 * - IDnGO, https://docs.sumsub.com/reference/authentication: `X-App-Token` must be a known token,
 *   `X-App-Access-Ts` within one minute of the server's clock ("Your timestamp must be within 1
 *   minute of the API server time"), `X-App-Access-Sig` = hex HMAC-SHA256 with the token's secret
 *   over ts + METHOD + the request URI as received (path and query) + the body. Any failure is a
 *   401 with the documented error body (test/fixtures/idngo/api-error-401.json, errorCode 4003).
 *   Unknown applicants get a 404 in Sumsub's error shape.
 * - Veriff, https://devdocs.veriff.com/apidocs/v1sessionsiddecision-1: `X-AUTH-CLIENT` must be a
 *   known API key and `X-HMAC-SIGNATURE` the hex HMAC-SHA256 of the session id with its shared
 *   secret; failures are 401 `{status: "fail", code, message}` with the codes of
 *   https://devdocs.veriff.com/docs/credentials-and-authorization-codes-table (1801 key missing,
 *   1803 integration not found, 1812 not a SHA-256 hash, 1818 HMAC of the query id mismatch).
 *   Every answer is signed as Veriff signs it: `x-hmac-signature` = hex HMAC-SHA256 of the body.
 *
 * Answers come from per-id tables the test fills (`setIdngo`, `setVeriff`; default 404), faults
 * are injected per id or per provider, and every request is recorded (never a header value).
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fixture } from "./providers.js";

export type FakeProvider = "idngo" | "veriff";

export interface IdngoCredentials {
  readonly appToken: string;
  readonly appSecret: string;
}
export interface VeriffCredentials {
  readonly apiKey: string;
  readonly apiSecret: string;
}

/** The credentials the fakes accept by default (made up; Sumsub sandbox tokens start `sbx:`). */
export const FAKE_IDNGO: IdngoCredentials = { appToken: "sbx:fake-app-token-0001", appSecret: "fake-idngo-app-secret-7c1d" };
export const FAKE_VERIFF: VeriffCredentials = {
  apiKey: "0d6e7f80-91a2-4b3c-8d4e-5f60718293a4",
  apiSecret: "fake-veriff-shared-secret-2b8e",
};

/** Sumsub: "Your timestamp must be within 1 minute of the API server time." */
export const IDNGO_TS_TOLERANCE_S = 60;

/**
 * One injected fault: `500` answers 500; `429` answers 429 with `Retry-After` when given; `hang`
 * accepts the request and never answers (the client's timeout ends it); `bad-signature` (Veriff)
 * answers normally but with an `x-hmac-signature` that does not match the body.
 */
export type Fault =
  | { readonly kind: "500" }
  | { readonly kind: "429"; readonly retryAfter?: string }
  | { readonly kind: "hang" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "bad-signature" };

export interface RecordedRequest {
  readonly provider: FakeProvider;
  readonly method: string;
  /** The request URI as received (path and query). */
  readonly path: string;
  /** The applicant (`action:{id}` for an action) or session id named by the path, decoded, when the path is an endpoint's. */
  readonly id: string | undefined;
  /** Lower-case names of the headers present (never their values). */
  readonly headers: readonly string[];
  /** True when the provider's authentication checks all passed. */
  readonly authenticated: boolean;
  /** What went wrong when not authenticated (`unknown-token`, `ts-out-of-window`, `signature-mismatch`, …). */
  readonly authFailure: string | undefined;
  /** The status answered, or `hang`. */
  readonly answer: number | "hang";
}

export interface FakeProviderApis {
  readonly baseUrls: { readonly idngo: string; readonly veriff: string };
  /**
   * The answer for one applicant (or, keyed `action:{actionId}`, one action): a 200 with `body`
   * (JSON-serialised unless a string), or another status.
   */
  setIdngo(applicantId: string, body: unknown, status?: number): void;
  setVeriff(sessionId: string, body: unknown, status?: number): void;
  /** The next `times` answers for `id` (or for any id of the provider) are `fault`. */
  fault(provider: FakeProvider, fault: Fault, options?: { readonly id?: string; readonly times?: number }): void;
  /** Every request received so far, in order (optionally one provider's). */
  requests(provider?: FakeProvider): readonly RecordedRequest[];
  /** Forget answers, faults and recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

export interface FakeOptions {
  readonly idngo?: IdngoCredentials;
  readonly veriff?: VeriffCredentials;
  /** The servers' clock (epoch ms), for the timestamp window. Default Date.now. */
  readonly now?: () => number;
}

// ---------------------------------------------------------------------------------------------
// Shared plumbing

interface Answer {
  readonly status: number;
  readonly body: string;
}

interface PendingFault {
  readonly fault: Fault;
  remaining: number;
  readonly id: string | undefined;
}

const hmacHex = (secret: string, data: string | Buffer): string => createHmac("sha256", secret).update(data).digest("hex");

/** Constant-time equality of two lowercase hex strings (providers compare signatures this way). */
function hexEquals(received: string, expected: string): boolean {
  const a = Buffer.from(received, "utf8");
  const b = Buffer.from(expected, "utf8");
  return a.length === b.length && timingSafeEqual(a, b);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

const bodyText = (body: unknown): string => (typeof body === "string" ? body : JSON.stringify(body));

function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections(); // hanging requests included
    server.close(() => resolve());
  });
}

/** Takes the next fault for `id` (an id-specific one first), consuming one of its answers. */
function takeFault(faults: PendingFault[], id: string | undefined): Fault | undefined {
  const index = [faults.findIndex((f) => f.id !== undefined && f.id === id), faults.findIndex((f) => f.id === undefined)].find(
    (i) => i >= 0,
  );
  if (index === undefined) return undefined;
  const pending = faults[index];
  if (pending === undefined) return undefined;
  pending.remaining -= 1;
  if (pending.remaining <= 0) faults.splice(index, 1);
  return pending.fault;
}

interface Check {
  readonly id: string | undefined;
  readonly failure: string | undefined;
}

interface ProviderFake {
  readonly provider: FakeProvider;
  readonly answers: Map<string, Answer>;
  readonly faults: PendingFault[];
  /** Shared by both fakes: one log in arrival order. */
  readonly recorded: RecordedRequest[];
  /** Authenticates and routes one request; `failure` set means a 401 with `unauthorized(failure)`. */
  check(req: IncomingMessage, path: string, body: Buffer): Check;
  unauthorized(failure: string): Answer;
  notFound(): Answer;
  /** Headers added to every answer (Veriff's signature over the body). */
  sign(body: string, fault: Fault | undefined): Record<string, string>;
}

function send(res: ServerResponse, answer: Answer, headers: Record<string, string>, extra: Record<string, string> = {}): void {
  res.writeHead(answer.status, { "content-type": "application/json", ...headers, ...extra });
  res.end(answer.body);
}

async function handle(fake: ProviderFake, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = req.url ?? "/";
  const body = await readBody(req);
  const { id, failure } = fake.check(req, path, body);
  const record = (answer: number | "hang"): void => {
    fake.recorded.push({
      provider: fake.provider,
      method: req.method ?? "",
      path,
      id,
      headers: Object.keys(req.headers).sort(),
      authenticated: failure === undefined,
      authFailure: failure,
      answer,
    });
  };
  if (failure !== undefined) {
    const answer = fake.unauthorized(failure);
    record(answer.status);
    return send(res, answer, fake.sign(answer.body, undefined));
  }
  const fault = takeFault(fake.faults, id);
  if (fault?.kind === "hang") return record("hang"); // never answered; close() or the client ends it
  if (fault?.kind === "delay") await new Promise((resolve) => setTimeout(resolve, fault.ms)); // then the normal answer
  if (fault?.kind === "500" || fault?.kind === "429") {
    const answer: Answer = {
      status: Number(fault.kind),
      body: JSON.stringify({ code: Number(fault.kind), description: "fault injected" }),
    };
    record(answer.status);
    const retryAfter: Record<string, string> =
      fault.kind === "429" && fault.retryAfter !== undefined ? { "retry-after": fault.retryAfter } : {};
    return send(res, answer, fake.sign(answer.body, undefined), retryAfter);
  }
  const answer = (id === undefined ? undefined : fake.answers.get(id)) ?? fake.notFound();
  record(answer.status);
  send(res, answer, fake.sign(answer.body, fault));
}

function serve(fake: ProviderFake): Server {
  return createServer((req, res) => {
    handle(fake, req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
}

// ---------------------------------------------------------------------------------------------
// IDnGO (Sumsub)

const IDNGO_PATH = /^\/resources\/applicants\/([^/?]+)\/status(?:\?.*)?$/;
/** https://docs.sumsub.com/reference/get-action-information; its answers are set under `action:{actionId}`. */
const IDNGO_ACTION_PATH = /^\/resources\/applicantActions\/([^/?]+)\/one(?:\?.*)?$/;
const IDNGO_401 = fixture("idngo", "api-error-401.json").toString("utf8");

function idngoFake(credentials: IdngoCredentials, now: () => number, recorded: RecordedRequest[]): ProviderFake {
  const idOf = (path: string): string | undefined => {
    const applicant = IDNGO_PATH.exec(path)?.[1];
    if (applicant !== undefined) return decodeURIComponent(applicant);
    const action = IDNGO_ACTION_PATH.exec(path)?.[1];
    return action === undefined ? undefined : `action:${decodeURIComponent(action)}`;
  };
  return {
    provider: "idngo",
    answers: new Map(),
    faults: [],
    recorded,
    check(req, path, body) {
      const id = idOf(path);
      const token = single(req.headers["x-app-token"]);
      const ts = single(req.headers["x-app-access-ts"]);
      const sig = single(req.headers["x-app-access-sig"]);
      const fail = (failure: string): Check => ({ id, failure });
      if (token === undefined || ts === undefined || sig === undefined) return fail("missing-header");
      if (token !== credentials.appToken) return fail("unknown-token");
      if (!/^\d{1,12}$/.test(ts) || Math.abs(Number(ts) - now() / 1000) > IDNGO_TS_TOLERANCE_S) return fail("ts-out-of-window");
      const expected = hmacHex(credentials.appSecret, Buffer.concat([Buffer.from(`${ts}${req.method ?? ""}${path}`, "utf8"), body]));
      // Sumsub documents the signature as lowercase hex.
      if (!hexEquals(sig, expected)) return fail("signature-mismatch");
      if (req.method !== "GET") return fail("method-not-allowed");
      return { id, failure: undefined };
    },
    unauthorized: () => ({ status: 401, body: IDNGO_401 }),
    notFound: () => ({
      status: 404,
      body: JSON.stringify({ description: "Applicant not found", code: 404, correlationId: "0f1e2d3c4b5a69788796a5b4c3d2e1f0" }),
    }),
    sign: () => ({}),
  };
}

// ---------------------------------------------------------------------------------------------
// Veriff

const VERIFF_PATH = /^\/v1\/sessions\/([^/?]+)\/decision(?:\?.*)?$/;

const veriffFailure = (code: string, message: string): Answer => ({ status: 401, body: JSON.stringify({ status: "fail", code, message }) });

const VERIFF_FAILURES: Readonly<Record<string, Answer>> = {
  "missing-key": veriffFailure("1801", "Mandatory X-AUTH-CLIENT header containing the API key is missing from the request"),
  "unknown-key": veriffFailure("1803", "Integration with the API key was not found"),
  "not-a-hash": veriffFailure("1812", "Signature is not a valid SHA256 hash"),
  "signature-mismatch": veriffFailure("1818", "Signature does not match the HMAC-SHA256 of query ID and integration API secret"),
};

function veriffFake(credentials: VeriffCredentials, recorded: RecordedRequest[]): ProviderFake {
  return {
    provider: "veriff",
    answers: new Map(),
    faults: [],
    recorded,
    check(req, path) {
      const m = VERIFF_PATH.exec(path);
      const id = m?.[1] === undefined ? undefined : decodeURIComponent(m[1]);
      const key = single(req.headers["x-auth-client"]);
      const sig = single(req.headers["x-hmac-signature"]);
      const fail = (failure: string): Check => ({ id, failure });
      if (key === undefined) return fail("missing-key");
      if (key !== credentials.apiKey) return fail("unknown-key");
      if (sig === undefined || !/^[0-9a-f]{64}$/i.test(sig)) return fail("not-a-hash");
      // GET requests sign the session id (the "query ID").
      if (id === undefined || !hexEquals(sig.toLowerCase(), hmacHex(credentials.apiSecret, id))) return fail("signature-mismatch");
      return { id, failure: undefined };
    },
    unauthorized: (failure) => VERIFF_FAILURES[failure] ?? veriffFailure("1815", "Could not authenticate request"),
    notFound: () => ({ status: 404, body: JSON.stringify({ status: "fail", message: "Session not found" }) }),
    sign(body, fault) {
      const signature = hmacHex(credentials.apiSecret, body);
      return {
        "x-auth-client": credentials.apiKey,
        "x-hmac-signature": fault?.kind === "bad-signature" ? hmacHex(`${credentials.apiSecret}-wrong`, body) : signature,
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** Starts both fakes; `close()` them when done. */
export async function startFakeProviderApis(options: FakeOptions = {}): Promise<FakeProviderApis> {
  const now = options.now ?? Date.now;
  const recorded: RecordedRequest[] = [];
  const fakes: Record<FakeProvider, ProviderFake> = {
    idngo: idngoFake(options.idngo ?? FAKE_IDNGO, now, recorded),
    veriff: veriffFake(options.veriff ?? FAKE_VERIFF, recorded),
  };
  const servers = { idngo: serve(fakes.idngo), veriff: serve(fakes.veriff) };
  const baseUrls = { idngo: await listen(servers.idngo), veriff: await listen(servers.veriff) };
  const set =
    (provider: FakeProvider) =>
    (id: string, body: unknown, status = 200) => {
      fakes[provider].answers.set(id, { status, body: bodyText(body) });
    };
  return {
    baseUrls,
    setIdngo: set("idngo"),
    setVeriff: set("veriff"),
    fault(provider, fault, { id, times = 1 } = {}) {
      fakes[provider].faults.push({ fault, remaining: times, id });
    },
    requests: (provider) => recorded.filter((r) => provider === undefined || r.provider === provider),
    reset() {
      for (const fake of Object.values(fakes)) {
        fake.answers.clear();
        fake.faults.length = 0;
      }
      recorded.length = 0;
    },
    close: async () => {
      await Promise.all([closeServer(servers.idngo), closeServer(servers.veriff)]);
    },
  };
}
