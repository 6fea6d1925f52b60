/**
 * The local stand-in for API Gateway's HTTP API (payload v2): turns requests into the events
 * API Gateway builds and handler results into responses. It passes the exact request bytes (a
 * leading byte order mark included) and answers `413` past API Gateway's 10 MiB without breaking
 * the connection. Routes see the request target as sent: its path is neither normalized (`//`,
 * `.` and `..` segments stay) nor decoded.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { describeError } from "../lambdas/core/errors.js";
import { type HttpResult, json } from "../lambdas/core/http.js";
import type { AppLogger } from "../lambdas/core/logger.js";
import { responses } from "../lambdas/ingest/responses.js";

const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

/** Past this much body after a 413, the sender's connection is closed (only that one). */
const MAX_DISCARDED_BYTES = 4 * API_GATEWAY_MAX_BYTES;

/**
 * Reads the raw body, or answers "too large" as soon as it passes API Gateway's payload limit.
 * The request stream is never abandoned: past the limit the rest of the body is still read and
 * dropped, so the connection stays in step and remains usable (keep-alive) once the request ends.
 * Leaving a `for await` loop early would destroy the request, i.e. its socket: the 413 could be
 * lost and the client's pooled keep-alive connection would be reset under its next request.
 */
export function readBody(req: IncomingMessage): Promise<Buffer | "too large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!settled && size > API_GATEWAY_MAX_BYTES) {
        chunks.length = 0;
        settle(() => resolve("too large"));
      } else if (!settled) {
        chunks.push(chunk);
      } else if (size > API_GATEWAY_MAX_BYTES + MAX_DISCARDED_BYTES) {
        req.socket.destroy(); // a sender that ignores the 413 for that long loses its own connection
      }
    });
    req.once("end", () => settle(() => resolve(Buffer.concat(chunks))));
    req.once("error", (error) => settle(() => reject(error)));
    req.once("close", () => settle(() => reject(new Error("request closed before its end"))));
  });
}

/** A request's path and query string: as sent (for routing), and as API Gateway hands them to a function. */
export interface RequestTarget {
  /** The path exactly as sent: what the local routes match. */
  readonly path: string;
  /**
   * The path percent-decoded, as API Gateway's HTTP API hands `rawPath` to a function
   * (`/verifications/veriff%3Aabc%2541` arrives as `/verifications/veriff:abc%41`).
   */
  readonly rawPath: string;
  /** What follows the first `?` (without it), still encoded, as API Gateway hands it; empty when there is none. */
  readonly rawQueryString: string;
}

/**
 * The path and query string of an origin-form request target (`/path?query`), split on the first
 * `?`; dot segments stay, as API Gateway does not resolve them either (a URL parser would make
 * `/x/../health` the health route). Undefined for any other form (absolute-form
 * `http://host/path`, `//host/path`, `*`) and for a path that is not validly percent-encoded UTF-8.
 */
export function parseRequestTarget(target: string): RequestTarget | undefined {
  if (!target.startsWith("/") || target.startsWith("//")) return undefined;
  const query = target.indexOf("?");
  const path = query === -1 ? target : target.slice(0, query);
  let rawPath: string;
  try {
    rawPath = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  return { path, rawPath, rawQueryString: query === -1 ? "" : target.slice(query + 1) };
}

// ignoreBOM: a leading BOM stays in the text, so the handler gets exactly the bytes that were sent.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** The API Gateway HTTP API (payload v2) event for a request, as API Gateway builds it. */
export function toApiGatewayEvent(req: IncomingMessage, body: Buffer, target: RequestTarget): APIGatewayProxyEventV2 {
  let text: string | undefined;
  try {
    text = utf8.decode(body);
  } catch {
    text = undefined; // not UTF-8: API Gateway hands such bodies over base64-encoded
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const method = req.method ?? "GET";
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: target.rawPath,
    rawQueryString: target.rawQueryString,
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "local",
      http: {
        method,
        path: target.rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ?? body.toString("base64"), isBase64Encoded: text === undefined } : { isBase64Encoded: false }),
  };
}

export function send(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.statusCode, { "content-type": "application/json", ...(result.headers as Record<string, string> | undefined) });
  res.end(result.body);
}

/** A route: the answer for a request whose body was read (or "too large"). */
export type Router = (req: IncomingMessage, target: RequestTarget) => Promise<HttpResult>;

/** Serves `router` on 127.0.0.1:`port` (0 picks a free one); resolves with its URL and a stop function. */
export async function serve(port: number, router: Router, logger: AppLogger): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const target = parseRequestTarget(req.url ?? "");
    if (target === undefined) {
      send(res, json(400, { error: "bad request" }));
      return;
    }
    router(req, target)
      .then((result) => send(res, result))
      .catch((error: unknown) => {
        logger.error("local server error", describeError(error));
        send(res, responses.internalError());
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
