import { type Agent, request } from "node:http";

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
