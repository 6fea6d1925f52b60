import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number; body: string };

function json(statusCode: number, body: Record<string, unknown>): HttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** The answers of `POST /webhooks/{provider}` (design.md). */
export const responses = {
  accepted: (eventId: string) => json(202, { accepted: true, eventId }),
  /** One body for every authentication failure: the cause is never revealed (no oracle). */
  unauthorized: () => json(401, { error: "unauthorized" }),
  badRequest: (detail: string) => json(400, { error: "invalid payload", detail }),
  tooLarge: (limit: number) => json(413, { error: "payload too large", limitBytes: limit }),
  notFound: () => json(404, { error: "unknown provider" }),
  unavailable: () => json(503, { error: "temporarily unavailable, retry later" }),
  internalError: () => json(500, { error: "internal error" }),
} as const;
