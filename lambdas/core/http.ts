import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

/** Headers as API Gateway HTTP API (payload v2) delivers them: names may arrive in any case. */
export type Headers = Readonly<Record<string, string | undefined>>;

/** Case-insensitive header lookup (API Gateway lower-cases names, local servers may not). */
export function header(headers: Headers, name: string): string | undefined {
  const exact = headers[name]; // API Gateway's lower-case names, asked for in lower case: no scan
  if (exact !== undefined) return exact;
  const wanted = name.toLowerCase();
  const direct = headers[wanted];
  if (direct !== undefined) return direct;
  for (const key in headers) {
    if (key.length !== wanted.length || !Object.hasOwn(headers, key)) continue;
    const value = headers[key];
    if (value !== undefined && key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** An HTTP answer as API Gateway (payload v2) takes it, and as the local server writes it. */
export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

/** A JSON answer. */
export function json(statusCode: number, body: unknown): HttpResult {
  return jsonText(statusCode, JSON.stringify(body));
}

/** A JSON answer whose body is already serialized. */
export function jsonText(statusCode: number, body: string): HttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, body };
}

/** RFC 3986 percent-encoding of one component (what SigV4 canonicalizes to): every character outside the unreserved set. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
