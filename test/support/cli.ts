/**
 * The `kyc` command line for tests: run it in-process (`kyc(args, env)`: main() with captured
 * output) or as a real process (`kycProcess`), point it at a test pipeline (`pipelineEnv`), and a
 * tiny HTTP server that records what it is sent (forward targets, a stand-in read API).
 */
import { spawn } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import type { Env } from "../../lambdas/core/config.js";
import { secretEnvOf } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { type CliIo, main } from "../../local/cli/main.js";
import type { LocalPipeline } from "../../local/pipeline.js";

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout's non-empty lines. */
  readonly lines: readonly string[];
  /** stdout's lines parsed as JSON (for `--json`). */
  json<T>(): T[];
}

/** No provider secret from the test process's environment: the CLI then signs with npm start's local defaults, as the test pipelines use. */
const NO_SECRETS: Env = Object.fromEntries(PROVIDER_IDS.map((id) => [secretEnvOf(id), undefined]));

const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

function result(code: number, stdout: string, stderr: string): CliRun {
  const lines = stdout.split("\n").filter((line) => line.length > 0);
  return { code, stdout, stderr, lines, json: <T>() => lines.map((line) => JSON.parse(line) as T) };
}

/** Runs `kyc <args…>` in this process (main() with its own output and environment). */
export async function kyc(args: readonly string[], env: Env = {}, extra: Partial<Pick<CliIo, "signal" | "aws">> = {}): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: { ...NO_SECRETS, ...env },
    ...extra,
  });
  return result(code, stdout, stderr);
}

/** Runs `tsx <script> <args…>` as a process of its own (script: local/cli/run.ts, local/start.ts, …). */
export function runScript(script: string, args: readonly string[], env: Env = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...Object.fromEntries(PROVIDER_IDS.map((id) => [secretEnvOf(id), ""])), ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code) => resolve(result(code ?? -1, stdout, stderr)));
  });
}

/** `kyc <args…>` as a real process (`tsx local/cli/run.ts`). */
export const kycProcess = (args: readonly string[], env: Env = {}): Promise<CliRun> => runScript("local/cli/run.ts", args, env);

/** The environment that points `kyc` at a test pipeline (its free ports), as PORT / SQS_PORT point it at `npm start`. */
export function pipelineEnv(pipeline: LocalPipeline): Env {
  return { PORT: new URL(pipeline.url).port, SQS_PORT: new URL(pipeline.sqsEndpoint).port };
}

export interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

/** An HTTP server on 127.0.0.1 that records each request and answers with `answer`. */
export async function recordingServer(
  answer: (request: Recorded) => { status: number; body?: string; headers?: Readonly<Record<string, string>> } = () => ({ status: 200 }),
): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const recorded = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(recorded);
      const { status, body, headers } = answer(recorded);
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(body ?? "{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- SigV4, as AWS defines it (docs "Create a signed AWS API request"), written independently of the SDK's signer ----

const sha256Hex = (data: string) => createHash("sha256").update(data, "utf8").digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest();
const uriEncode = (value: string) => encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface SigV4Check {
  readonly ok: boolean;
  readonly problem?: string;
  readonly signedHeaders?: string;
  readonly credentialScope?: string;
}

/**
 * Checks a received request's SigV4 Authorization header: its shape, its credential scope, and its
 * signature recomputed from the request as received (canonical URI: each path segment URI-encoded
 * again, as for every service but S3; canonical query: decoded, re-encoded, sorted; the signed
 * headers' values trimmed; the payload's SHA-256).
 */
export function checkSigV4(
  request: Recorded,
  expected: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly region: string; readonly service: string },
): SigV4Check {
  const authorization = String(request.headers["authorization"] ?? "");
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (match === null) return { ok: false, problem: `Authorization header not of SigV4's shape: ${authorization}` };
  const [, keyId, date, region, service, signedHeaders = "", signature] = match;
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) return { ok: false, problem: `bad x-amz-date ${amzDate}` };
  if (keyId !== expected.accessKeyId || region !== expected.region || service !== expected.service) {
    return { ok: false, problem: `credential scope ${keyId}/${region}/${service}` };
  }
  const names = signedHeaders.split(";");
  if (names.join(";") !== [...names].sort().join(";")) return { ok: false, problem: "signed headers not sorted" };
  const [rawPath = "", rawQuery = ""] = request.url.split("?");
  const canonicalUri = rawPath
    .split("/")
    .map((segment) => uriEncode(segment))
    .join("/");
  const canonicalQuery = rawQuery
    .split("&")
    .filter((pair) => pair.length > 0)
    .map((pair) => {
      const [name = "", value = ""] = pair.split("=");
      return [uriEncode(decodeURIComponent(name)), uriEncode(decodeURIComponent(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalHeaders = names
    .map(
      (name) =>
        `${name}:${String(request.headers[name] ?? "")
          .trim()
          .replace(/\s+/g, " ")}\n`,
    )
    .join("");
  const canonicalRequest = [request.method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, sha256Hex(request.body)].join(
    "\n",
  );
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${expected.secretAccessKey}`, date ?? ""), region ?? ""), service ?? ""), "aws4_request");
  const computed = createHmac("sha256", key).update(stringToSign, "utf8").digest("hex");
  if (computed !== signature) return { ok: false, problem: "signature mismatch", signedHeaders };
  return { ok: true, signedHeaders, credentialScope: scope };
}
