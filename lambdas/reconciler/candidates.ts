/**
 * The reconciler's candidates, from the sparse index TABLE.pendingIndex (never a scan): the
 * verifications of one provider that are not in a final status and whose last status change lies
 * in a window (after `from`, before `before`), the most recently changed first: a webhook lost
 * yesterday is worth more of a pass's lookups than a session a user left a month ago. The index
 * holds the hour of the last change, so a verification enters the window once the whole hour is
 * past `before`: up to an hour later than the exact age.
 */
import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { TABLE } from "../core/contract.js";
import type { ProviderId } from "../core/event.js";
import { hourOf } from "../model/verification.js";

interface Entry {
  readonly correlationId: string;
  readonly pendingSince: string;
}

/** Every entry of one index partition whose hour started at or after `fromHour` and before `hour` (all pages). */
async function* partition(
  client: DynamoDBDocumentClient,
  tableName: string,
  pendingKey: string,
  fromHour: string,
  hour: string,
): AsyncGenerator<Entry> {
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: TABLE.pendingIndex.name,
        // BETWEEN is inclusive: the hour before `hour` is the last one wholly in the past.
        KeyConditionExpression: "#k = :k AND #s BETWEEN :from AND :last",
        ExpressionAttributeNames: { "#k": TABLE.pendingIndex.partitionKey, "#s": TABLE.pendingIndex.sortKey },
        ExpressionAttributeValues: { ":k": pendingKey, ":from": fromHour, ":last": previousHour(hour) },
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    for (const item of page.Items ?? []) {
      const correlationId = item[TABLE.partitionKey];
      const pendingSince = item[TABLE.pendingIndex.sortKey];
      if (typeof correlationId === "string" && typeof pendingSince === "string") yield { correlationId, pendingSince };
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
}

/** The start of the hour before `hour` (an hour start, ISO 8601). */
const previousHour = (hour: string): string => new Date(Date.parse(hour) - 3_600_000).toISOString();

/** The candidates of `provider` whose last status change was after `from` and before `before` (ISO 8601), most recent first. */
export function indexCandidates(client: DynamoDBDocumentClient, tableName: string) {
  return async function* candidates(provider: ProviderId, from: string, before: string): AsyncGenerator<string> {
    const entries: Entry[] = [];
    for (let shard = 0; shard < TABLE.pendingIndex.shards; shard += 1) {
      for await (const entry of partition(client, tableName, `${provider}#${shard}`, hourOf(from), hourOf(before))) entries.push(entry);
    }
    entries.sort((a, b) => (a.pendingSince > b.pendingSince ? -1 : a.pendingSince < b.pendingSince ? 1 : 0));
    for (const entry of entries) yield entry.correlationId;
  };
}
