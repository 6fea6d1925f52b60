import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../core/table.js";
import type { HistoryEntry, VerificationState } from "../consumer/store.js";

/** What `GET /verifications/{correlationId}` answers. */
export interface VerificationView {
  readonly correlationId: string;
  readonly provider: string;
  readonly status: string | null;
  readonly subject: Readonly<Record<string, string>>;
  readonly occurredAt: string | null;
  readonly decision: unknown;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly statusChangedAt: string | null;
  readonly version: number;
  /** Every distinct event, in processing order. */
  readonly history: readonly HistoryEntry[];
}

export type VerificationSummary = Omit<VerificationView, "history">;

function view(state: VerificationState): VerificationSummary {
  return {
    correlationId: state.correlationId,
    provider: state.provider,
    status: state.status,
    subject: state.subject,
    occurredAt: state.occurredAt,
    decision: state.decision,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    statusChangedAt: state.statusChangedAt,
    version: state.version,
  };
}

function historyEntry(item: Record<string, unknown>): HistoryEntry {
  const { [TABLE.partitionKey]: _pk, [TABLE.sortKey]: _sk, ...entry } = item;
  return entry as unknown as HistoryEntry;
}

export async function getVerification(
  client: DynamoDBDocumentClient,
  tableName: string,
  correlationId: string,
): Promise<VerificationView | undefined> {
  // History first, then the state: both are written in one transaction, so a state read after
  // the history is at least as new as every event the history shows.
  const history: HistoryEntry[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :prefix)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: { ":pk": correlationId, ":prefix": TABLE.eventSortKeyPrefix },
        ExclusiveStartKey: startKey,
        ConsistentRead: true,
      }),
    );
    history.push(...(page.Items ?? []).map(historyEntry));
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const state = await client.send(
    new GetCommand({
      TableName: tableName,
      Key: { [TABLE.partitionKey]: correlationId, [TABLE.sortKey]: TABLE.stateSortKey },
      ConsistentRead: true,
    }),
  );
  if (state.Item === undefined) return undefined;
  history.sort((a, b) => (a.processedAt < b.processedAt ? -1 : a.processedAt > b.processedAt ? 1 : 0));
  return { ...view(state.Item as VerificationState), history };
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page, or null on the last page. */
  readonly next: string | null;
}

/** Every verification of one integrator user (GSI `bySubject`), newest update first, paginated. */
export async function listBySubject(
  client: DynamoDBDocumentClient,
  tableName: string,
  subjectKey: string,
  options: { limit?: number; cursor?: string | null } = {},
): Promise<Page<VerificationSummary>> {
  const index = TABLE.subjectIndex;
  const page = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: "#sk = :sk",
      ExpressionAttributeNames: { "#sk": index.partitionKey },
      ExpressionAttributeValues: { ":sk": subjectKey },
      ScanIndexForward: false,
      Limit: options.limit ?? 50,
      ExclusiveStartKey: options.cursor ? decodeCursor(options.cursor) : undefined,
    }),
  );
  return {
    items: (page.Items ?? []).map((item) => view(item as VerificationState)),
    next: page.LastEvaluatedKey ? Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString("base64url") : null,
  };
}

/** Thrown for a cursor that was not produced by `listBySubject`. */
export class InvalidCursor extends Error {
  override readonly name = "InvalidCursor";
}

function decodeCursor(cursor: string): Record<string, unknown> {
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (typeof key === "object" && key !== null && !Array.isArray(key)) return key as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new InvalidCursor("invalid cursor");
}
