import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { HttpResult } from "../ingest/responses.js";
import { getVerification, InvalidCursor, listBySubject } from "./queries.js";

function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export const MAX_PAGE_SIZE = 100;

/**
 * `GET /verifications/{correlationId}` and `GET /verifications?subject=…[&limit=…&cursor=…]`:
 * read-only views of the table, no personal data (the table holds none).
 */
export function createReadHandler(deps: { documents: DynamoDBDocumentClient; tableName: string }) {
  const { documents, tableName } = deps;
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    if (event.requestContext.http.method !== "GET") return json(405, { error: "method not allowed" });
    const segments = event.rawPath.split("/").filter(Boolean);
    if (segments[0] !== "verifications" || segments.length > 2) return json(404, { error: "not found" });

    if (segments.length === 2) {
      let correlationId: string;
      try {
        correlationId = decodeURIComponent(segments[1] ?? "");
      } catch {
        return json(400, { error: "the verification id is not validly URL-encoded" });
      }
      const view = await getVerification(documents, tableName, correlationId);
      return view ? json(200, view) : json(404, { error: "verification not found" });
    }

    const query = new URLSearchParams(event.rawQueryString);
    const subject = query.get("subject");
    if (!subject) return json(400, { error: "the subject query parameter is required" });
    const limitParam = query.get("limit");
    const limit = limitParam === null ? 50 : Number(limitParam);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      return json(400, { error: `limit must be a whole number from 1 to ${MAX_PAGE_SIZE}` });
    }
    try {
      const page = await listBySubject(documents, tableName, subject, { limit, cursor: query.get("cursor") });
      return json(200, { subject, items: page.items, next: page.next });
    } catch (error) {
      // A cursor from another query is refused by DynamoDB (ValidationException) or by us.
      if (error instanceof InvalidCursor || (error instanceof Error && error.name === "ValidationException")) {
        return json(400, { error: "invalid cursor" });
      }
      throw error;
    }
  };
}
