import { type Agent, request } from "node:http";
import { connect } from "node:net";

/** The answer of an accepted webhook: exactly 200 (Veriff retries anything else). */
export const ACCEPTED_STATUSES: readonly number[] = [200];

export interface RawResponse {
  readonly status: number;
  readonly body: string;
  /** The client side's port of the connection used: the same port means the same (kept-alive) connection. */
  readonly localPort: number | undefined;
}

/** One HTTP request through `agent` (node:http, so connection reuse is under the test's control). */
export function httpRequest(
  agent: Agent,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const body = init.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body, "utf8");
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? "GET",
        agent,
        headers: { ...init.headers, ...(body === undefined ? {} : { "content-length": String(body.length) }) },
      },
      (res) => {
        const localPort = res.socket?.localPort;
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), localPort }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** One request written byte for byte on its own connection (`Connection: close`), for request targets no client library sends. */
export function rawHttpRequest(url: string, requestLine: string): Promise<{ readonly status: number; readonly body: string }> {
  return new Promise((resolve, reject) => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("error", reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error(`no answer to ${requestLine} within 5 s`)));
    socket.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const split = text.indexOf("\r\n\r\n");
      const head = text.slice(0, split);
      let body = text.slice(split + 4);
      if (/^transfer-encoding: chunked$/im.test(head)) {
        let decoded = "";
        for (let at = 0, size = 1; size > 0; ) {
          const lineEnd = body.indexOf("\r\n", at);
          size = Number.parseInt(body.slice(at, lineEnd), 16);
          decoded += body.slice(lineEnd + 2, lineEnd + 2 + size);
          at = lineEnd + 2 + size + 2;
        }
        body = decoded;
      }
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1] ?? 0), body });
    });
    // Written, not ended: a client that half-closes its side may lose the answer (the server closes the connection after it).
    socket.write(`${requestLine}\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
  });
}
