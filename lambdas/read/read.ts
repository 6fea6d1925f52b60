import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { ROUTES } from "../core/contract.js";
import { describeError } from "../core/errors.js";
import { type HttpResult, json } from "../core/http.js";
import type { AppLogger } from "../core/logger.js";
import { type CursorKey, decodeCursor, InvalidCursor } from "./cursor.js";
import { isCorrelationId, MAX_PAGE_SIZE, parseLimit, parseQuery } from "./input.js";
import { getVerification, listBySubject } from "./queries.js";
import { isWellFormedText, subjectIndexKey } from "./subject-key.js";

export { MAX_PAGE_SIZE } from "./input.js";

/** Every answer but a 200: fixed bodies, none repeats anything of the request. */
export const READ_ERRORS = {
  notFound: { statusCode: 404, body: { error: "not found" } },
  verificationNotFound: { statusCode: 404, body: { error: "verification not found" } },
  methodNotAllowed: { statusCode: 405, body: { error: "method not allowed" } },
  badQuery: { statusCode: 400, body: { error: "the query string is not validly URL-encoded, or repeats subject, limit or cursor" } },
  subjectRequired: { statusCode: 400, body: { error: "the subject query parameter is required" } },
  badSubject: { statusCode: 400, body: { error: "the subject must be well-formed Unicode" } },
  badLimit: { statusCode: 400, body: { error: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` } },
  badCursor: { statusCode: 400, body: { error: "invalid cursor" } },
  badKey: { statusCode: 400, body: { error: "invalid request" } },
  internal: { statusCode: 500, body: { error: "internal error" } },
} as const;

const answer = (error: (typeof READ_ERRORS)[keyof typeof READ_ERRORS]): HttpResult => json(error.statusCode, error.body);

/** DynamoDB refusing a key we sent (size, schema, start key): a request problem, not ours. */
function isKeyValidation(error: unknown): boolean {
  return error instanceof Error && error.name === "ValidationException" && /key/i.test(error.message);
}

/** `message` without any of the request's values (an SDK message may quote what it was sent), bounded. */
function scrub(message: string, values: readonly string[]): string {
  let text = message;
  // Longest first, so a value inside another (the subject inside the query string) goes with it.
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length >= 3) text = text.replaceAll(value, "[redacted]");
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/**
 * `GET /verifications/{correlationId}` and `GET /verifications?subject=…[&limit=…&cursor=…]`:
 * read-only views of the table, no personal data (the table holds none).
 *
 * Bad input is a 4xx decided before DynamoDB is called (lambdas/read/input.ts, cursor.ts); a 500
 * is only an unexpected failure, logged by error name and a message scrubbed of request values.
 */
export interface ReadDeps {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly logger: AppLogger;
}

export function createReadHandler(deps: ReadDeps) {
  const { documents, tableName, logger } = deps;

  async function route(event: APIGatewayProxyEventV2, seen: string[]): Promise<HttpResult> {
    if (event.requestContext.http.method !== "GET") return answer(READ_ERRORS.methodNotAllowed);
    const segments = event.rawPath.split("/").filter(Boolean);
    if (`/${segments[0] ?? ""}` !== ROUTES.verifications || segments.length > 2) return answer(READ_ERRORS.notFound);

    if (segments.length === 2) {
      // API Gateway hands rawPath over percent-decoded: the segment is the id (decoding it again
      // would read `veriff:abc%41` as another verification, `veriff:abcA`).
      const correlationId = segments[1] ?? "";
      if (!isCorrelationId(correlationId)) return answer(READ_ERRORS.verificationNotFound);
      seen.push(correlationId);
      const view = await getVerification(documents, tableName, correlationId);
      return view ? json(200, view) : answer(READ_ERRORS.verificationNotFound);
    }

    const query = parseQuery(event.rawQueryString ?? "");
    if (query === undefined) return answer(READ_ERRORS.badQuery);
    const { subject, cursor } = query;
    if (!subject) return answer(READ_ERRORS.subjectRequired);
    if (!isWellFormedText(subject)) return answer(READ_ERRORS.badSubject);
    const limit = parseLimit(query.limit);
    if (limit === undefined) return answer(READ_ERRORS.badLimit);
    const subjectKey = subjectIndexKey(subject);
    seen.push(subject, subjectKey);
    if (cursor) {
      // Decoded here too (listBySubject checks it again) so that its fields are known request values.
      let start: CursorKey;
      try {
        start = decodeCursor(cursor, subjectKey);
      } catch {
        return answer(READ_ERRORS.badCursor);
      }
      seen.push(cursor, start.correlationId, start.createdAt);
    }
    try {
      const page = await listBySubject(documents, tableName, subject, { limit, cursor: cursor ?? null });
      return json(200, { subject, items: page.items, next: page.next });
    } catch (error) {
      if (error instanceof InvalidCursor) return answer(READ_ERRORS.badCursor);
      // Cannot happen for a cursor that passed decodeCursor; kept so DynamoDB's word is a 4xx too.
      if (cursor && isKeyValidation(error)) return answer(READ_ERRORS.badCursor);
      throw error;
    }
  }

  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    const seen: string[] = [];
    try {
      return await route(event, seen);
    } catch (error) {
      if (isKeyValidation(error)) {
        logger.warn("read refused by DynamoDB", { error: "ValidationException" });
        return answer(READ_ERRORS.badKey);
      }
      const described = describeError(error);
      // An SDK message may quote what it was sent: the request's values are scrubbed from it.
      logger.error("read failed", {
        ...described,
        errorMessage: scrub(described.errorMessage, [...seen, event.rawPath ?? "", event.rawQueryString ?? ""]),
      });
      return answer(READ_ERRORS.internal);
    }
  };
}
