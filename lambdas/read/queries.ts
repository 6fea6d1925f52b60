import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULTS, TABLE } from "../core/contract.js";
import type { HistoryEntry, VerificationState } from "../model/verification.js";
import { cursorOf, decodeCursor } from "./cursor.js";
import { subjectIndexKey } from "./subject-key.js";

export { InvalidCursor } from "./cursor.js";

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
  /** True for a provider's test (sandbox) verification; false when the item predates the flag. */
  readonly sandbox: boolean;
  /** Every distinct event, in processing order. */
  readonly history: readonly HistoryEntry[];
}

export type VerificationSummary = Omit<VerificationView, "history">;

/** The state item as read back: items written before the consumer stored `sandbox` lack it. */
type StateItem = VerificationState & { readonly sandbox?: boolean };

function view(state: StateItem): VerificationSummary {
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
    sandbox: state.sandbox === true,
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
  // History first, then the state: the consumer writes an event's state before its history item,
  // so a state read after the history is at least as new as every event the history shows.
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
  return { ...view(state.Item as StateItem), history };
}

export interface Page<T> {
  readonly items: readonly T[];
  /** Opaque cursor for the next page, or null on the last page. */
  readonly next: string | null;
}

/**
 * Every verification of one integrator user, newest verification first, paginated: a page of
 * the keys-only subject index, then its state items in one BatchGetItem (in the index's order).
 * `subject` is the user key as the integrator knows it (any length: it is looked up by its
 * `subjectIndexKey`); a `cursor` must be one this function returned for the same subject, else
 * `InvalidCursor` is thrown before DynamoDB is called.
 */
export async function listBySubject(
  client: DynamoDBDocumentClient,
  tableName: string,
  subject: string,
  options: { limit?: number; cursor?: string | null } = {},
): Promise<Page<VerificationSummary>> {
  const index = TABLE.subjectIndex;
  const subjectKey = subjectIndexKey(subject);
  const start = options.cursor ? decodeCursor(options.cursor, subjectKey) : undefined;
  const page = await client.send(
    new QueryCommand({
      TableName: tableName,
      IndexName: index.name,
      KeyConditionExpression: "#sk = :sk",
      ExpressionAttributeNames: { "#sk": index.partitionKey },
      ExpressionAttributeValues: { ":sk": subjectKey },
      ScanIndexForward: false,
      Limit: options.limit ?? DEFAULTS.pageSize,
      ExclusiveStartKey:
        start === undefined
          ? undefined
          : {
              [TABLE.partitionKey]: start.correlationId,
              [TABLE.sortKey]: start.sk,
              [index.partitionKey]: start.subjectKey,
              [index.sortKey]: start.createdAt,
            },
    }),
  );
  const keys = (page.Items ?? []).map((item) => ({ [TABLE.partitionKey]: item[TABLE.partitionKey], [TABLE.sortKey]: TABLE.stateSortKey }));
  const items = await batchGetStates(client, tableName, keys);
  return {
    items: keys.flatMap((key) => {
      const item = items.get(String(key[TABLE.partitionKey]));
      return item === undefined ? [] : [view(item)];
    }),
    next: page.LastEvaluatedKey ? cursorOf(page.LastEvaluatedKey) : null,
  };
}

/** The state items of `keys` by correlationId (at most 100 keys: a page), retrying what DynamoDB leaves unprocessed. */
async function batchGetStates(
  client: DynamoDBDocumentClient,
  tableName: string,
  keys: readonly Record<string, unknown>[],
): Promise<Map<string, StateItem>> {
  const found = new Map<string, StateItem>();
  let pending: Record<string, unknown>[] = [...keys];
  for (let round = 0; pending.length > 0; round += 1) {
    if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** round)));
    if (round > 8) throw new Error("BatchGetItem kept leaving keys unprocessed");
    const answer = await client.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending } } }));
    for (const item of answer.Responses?.[tableName] ?? []) found.set(String(item[TABLE.partitionKey]), item as StateItem);
    pending = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
  }
  return found;
}
