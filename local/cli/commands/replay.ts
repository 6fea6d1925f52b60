/**
 * `kyc replay-publisher-failures`: puts back on the status-changes queue what the publisher could
 * not publish. The failure queue holds two shapes:
 *
 * - Lambda's on-failure record for a stream batch given up after the maximum record age
 *   (`{requestContext, DDBStreamBatchInfo: {shardId, startSequenceNumber, endSequenceNumber, streamArn, …}}`):
 *   the records are read again from the stream (GetShardIterator AT_SEQUENCE_NUMBER), from the
 *   first to the last sequence number;
 * - the publisher's notice for a record no message could be built from
 *   (`{reason, eventSourceARN, sequenceNumber, keys, approximateCreationDateTime}`): its record is
 *   looked up in the stream the same way (after finding its shard).
 *
 * Each record becomes its message through the publisher's own `outgoingChangeOf`, sent with the
 * publisher's group and deduplication ids (SQS drops a change already sent within its 5-minute
 * window; a change met twice in one run is sent once). When the stream no longer has a record
 * (24 hours), or its record still cannot become a message, the table is the fallback: the
 * verification's current state item becomes its status change (previous status from the
 * history, deduplication id from the state item's version). A failure message is deleted only
 * once all of its changes are on the queue; `--dry-run` reads and changes nothing.
 */
import { type AttributeValue, GetItemCommand, QueryCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { DeleteMessageCommand, type Message, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { DynamoDBRecord } from "aws-lambda";
import * as v from "valibot";
import { text } from "../../../lambdas/core/config.js";
import { TABLE } from "../../../lambdas/core/contract.js";
import { STATUSES, type Status } from "../../../lambdas/core/event.js";
import { sqsMessageBody } from "../../../lambdas/core/sqs-message.js";
import type { OutgoingChange } from "../../../lambdas/publisher/change.js";
import { outgoingChangeOf } from "../../../lambdas/publisher/publisher.js";
import { toLambdaRecord } from "../../stream-poller.js";
import type { Command, Context } from "../command.js";
import { usageError } from "../io.js";
import { type Flags, HELP_OPTION, isHttpUrl, JSON_OPTION, TARGET_OPTIONS } from "../options.js";
import { bodyOf, drainWaitSeconds, receiveBatch, release } from "../sqs.js";
import type { Target } from "../target.js";

// ---- The two shapes on the failure queue ----

const batchInfoSchema = v.object({
  DDBStreamBatchInfo: v.object({
    shardId: v.pipe(v.string(), v.minLength(1)),
    startSequenceNumber: v.pipe(v.string(), v.regex(/^\d+$/)),
    endSequenceNumber: v.pipe(v.string(), v.regex(/^\d+$/)),
    streamArn: v.pipe(v.string(), v.minLength(1)),
    approximateArrivalOfFirstRecord: v.nullish(v.string(), null),
    approximateArrivalOfLastRecord: v.nullish(v.string(), null),
  }),
});

const noticeSchema = v.object({
  reason: v.string(),
  eventSourceARN: v.nullish(v.string(), null),
  sequenceNumber: v.nullish(v.pipe(v.string(), v.regex(/^\d+$/)), null),
  keys: v.object({ [TABLE.partitionKey]: v.pipe(v.string(), v.minLength(1)), [TABLE.sortKey]: v.optional(v.string()) }),
});

type Failure =
  | { readonly shape: "lambda-on-failure"; readonly info: v.InferOutput<typeof batchInfoSchema>["DDBStreamBatchInfo"] }
  | { readonly shape: "publisher-notice"; readonly notice: v.InferOutput<typeof noticeSchema> };

function parseFailure(body: unknown): Failure | undefined {
  const batch = v.safeParse(batchInfoSchema, body);
  if (batch.success) return { shape: "lambda-on-failure", info: batch.output.DDBStreamBatchInfo };
  const notice = v.safeParse(noticeSchema, body);
  if (notice.success) return { shape: "publisher-notice", notice: notice.output };
  return undefined;
}

// ---- Reading the stream ----

/** The stream no longer has what was asked (trimmed after 24 hours, stream or shard gone, sequence number unknown). */
class StreamGone extends Error {
  override readonly name = "StreamGone";
}

const GONE = new Set(["TrimmedDataAccessException", "ResourceNotFoundException", "ValidationException"]);

async function streamCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && GONE.has(error.name)) throw new StreamGone(`${error.name}: ${error.message}`);
    throw error;
  }
}

/**
 * The records of one shard from `start` to `end` (sequence numbers, inclusive), read with
 * AT_SEQUENCE_NUMBER. Sequence numbers are passed on as written (DynamoDB wants their 21+ digits)
 * and compared as numbers.
 */
async function readRange(target: Target, streamArn: string, shardId: string, start: string, end: string): Promise<StreamRecord[]> {
  const last = BigInt(end);
  const streams = target.streams();
  let iterator = (
    await streamCall(() =>
      streams.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: "AT_SEQUENCE_NUMBER",
          SequenceNumber: start,
        }),
      ),
    )
  ).ShardIterator;
  const records: StreamRecord[] = [];
  let emptyPages = 0;
  while (iterator !== undefined && emptyPages < 5) {
    const current = iterator;
    const page = await streamCall(() => streams.send(new GetRecordsCommand({ ShardIterator: current, Limit: 1_000 })));
    for (const record of page.Records ?? []) {
      if (BigInt(record.dynamodb?.SequenceNumber ?? "0") > last) return records;
      records.push(record);
    }
    if (BigInt(records.at(-1)?.dynamodb?.SequenceNumber ?? "-1") >= last) return records;
    emptyPages = (page.Records ?? []).length === 0 ? emptyPages + 1 : 0;
    iterator = page.NextShardIterator;
  }
  if (records.length === 0) throw new StreamGone(`no record from ${start} in ${shardId}`);
  return records;
}

/** The shards whose range holds `sequence` (a notice names its record's sequence number, not its shard). */
async function shardsHolding(target: Target, streamArn: string, sequence: bigint): Promise<string[]> {
  const shards: Shard[] = [];
  let start: string | undefined;
  do {
    const after = start;
    const page = await streamCall(() =>
      target
        .streams()
        .send(new DescribeStreamCommand({ StreamArn: streamArn, ...(after === undefined ? {} : { ExclusiveStartShardId: after }) })),
    );
    shards.push(...(page.StreamDescription?.Shards ?? []));
    start = page.StreamDescription?.LastEvaluatedShardId;
  } while (start !== undefined);
  return shards
    .filter((shard) => {
      const range = shard.SequenceNumberRange;
      const first = BigInt(range?.StartingSequenceNumber ?? "0");
      const last = range?.EndingSequenceNumber === undefined ? undefined : BigInt(range.EndingSequenceNumber);
      return first <= sequence && (last === undefined || sequence <= last);
    })
    .map((shard) => shard.ShardId ?? "");
}

const keyOf = (record: StreamRecord, name: string): string | undefined => record.dynamodb?.Keys?.[name]?.S;

// ---- The table fallback ----

/** The status before the current one: the last applied history entry (in processing order) with another status. */
export function previousStatusOf(
  history: readonly { status: Status | null; outcome: string; processedAt: string }[],
  current: Status,
): Status | null {
  const applied = history
    .filter((h) => h.outcome === "applied" && h.status !== null)
    .sort((a, b) => a.processedAt.localeCompare(b.processedAt));
  for (let i = applied.length - 1; i >= 0; i -= 1) {
    const status = applied[i]?.status ?? null;
    if (status !== current) return status;
  }
  return null;
}

const statusOf = (value: AttributeValue | undefined): Status | null => STATUSES.find((s) => s === value?.S) ?? null;

/** The verification's current status change, from its state item and history (null: no state item, or no status). */
async function changeFromTable(target: Target, correlationId: string): Promise<OutgoingChange | null> {
  const tableName = await target.tableName();
  const dynamo = target.dynamo();
  const key = { [TABLE.partitionKey]: { S: correlationId }, [TABLE.sortKey]: { S: TABLE.stateSortKey } };
  const { Item } = await dynamo.send(new GetItemCommand({ TableName: tableName, Key: key, ConsistentRead: true }));
  if (Item === undefined) return null;
  const current = statusOf(Item["status"]);
  if (current === null) return null;
  const history: { status: Status | null; outcome: string; processedAt: string }[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: "#pk = :pk AND begins_with(#sk, :events)",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey },
        ExpressionAttributeValues: { ":pk": { S: correlationId }, ":events": { S: TABLE.eventSortKeyPrefix } },
        ConsistentRead: true,
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    for (const item of page.Items ?? []) {
      history.push({ status: statusOf(item["status"]), outcome: item["outcome"]?.S ?? "", processedAt: item["processedAt"]?.S ?? "" });
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  const previous = previousStatusOf(history, current);
  // The state item as the stream would show it after the transition: the publisher's own code builds (and checks) the message.
  return outgoingChangeOf({
    eventName: "MODIFY",
    dynamodb: {
      Keys: key,
      NewImage: Item,
      ...(previous === null ? {} : { OldImage: { ...key, status: { S: previous } } }),
    },
  } as DynamoDBRecord);
}

/** Verifications whose status changed within [from, to]: who a stream batch was about, once the stream has dropped it. */
async function changedBetween(target: Target, from: string, to: string, context: Context): Promise<string[]> {
  const ids: string[] = [];
  let scanned = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await target.dynamo().send(
      new ScanCommand({
        TableName: await target.tableName(),
        FilterExpression: "#sk = :state AND #changed BETWEEN :from AND :to",
        ProjectionExpression: "#pk",
        ExpressionAttributeNames: { "#pk": TABLE.partitionKey, "#sk": TABLE.sortKey, "#changed": "statusChangedAt" },
        ExpressionAttributeValues: { ":state": { S: TABLE.stateSortKey }, ":from": { S: from }, ":to": { S: to } },
        ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
      }),
    );
    scanned += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      const id = item[TABLE.partitionKey]?.S;
      if (id !== undefined) ids.push(id);
    }
    context.out.progress(`scanned ${scanned} items of ${await target.tableName()}…`);
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return ids;
}

// ---- One failure message → its changes ----

interface Plan {
  /** Where the changes came from, in words. */
  readonly source: string;
  readonly changes: readonly OutgoingChange[];
}

/** The changes of stream records: each through `outgoingChangeOf`; one that still cannot become a message falls back to the table. */
async function changesOfRecords(
  target: Target,
  records: readonly StreamRecord[],
  streamArn: string,
): Promise<{ changes: OutgoingChange[]; fromTable: number }> {
  const changes: OutgoingChange[] = [];
  let fromTable = 0;
  for (const record of records) {
    if (keyOf(record, TABLE.sortKey) !== TABLE.stateSortKey) continue;
    let change: OutgoingChange | null;
    try {
      change = outgoingChangeOf(toLambdaRecord(record, streamArn));
    } catch {
      const correlationId = keyOf(record, TABLE.partitionKey);
      if (correlationId === undefined) continue;
      change = await changeFromTable(target, correlationId);
      fromTable += 1;
    }
    if (change !== null) changes.push(change);
  }
  return { changes, fromTable };
}

async function plan(target: Target, failure: Failure, context: Context): Promise<Plan> {
  if (failure.shape === "lambda-on-failure") {
    const { info } = failure;
    const range = `${info.shardId} ${info.startSequenceNumber}…${info.endSequenceNumber}`;
    try {
      const records = await readRange(target, info.streamArn, info.shardId, info.startSequenceNumber, info.endSequenceNumber);
      const { changes, fromTable } = await changesOfRecords(target, records, info.streamArn);
      const note = fromTable > 0 ? `; ${fromTable} record(s) that still cannot become a message, from the table` : "";
      return { source: `${records.length} stream record(s) of ${range}${note}`, changes };
    } catch (error) {
      if (!(error instanceof StreamGone)) throw error;
      const first = info.approximateArrivalOfFirstRecord === null ? Number.NaN : Date.parse(info.approximateArrivalOfFirstRecord);
      const last = info.approximateArrivalOfLastRecord === null ? Number.NaN : Date.parse(info.approximateArrivalOfLastRecord);
      if (Number.isNaN(first) || Number.isNaN(last)) {
        throw new Error(`the stream no longer has ${range} (${error.message}) and the record names no time to find its verifications by`);
      }
      // Arrival times are approximate (DynamoDB Local rounds them down to the minute): a margin on both sides.
      const from = new Date(first - 60_000).toISOString();
      const to = new Date(last + 120_000).toISOString();
      const ids = await changedBetween(target, from, to, context);
      const changes: OutgoingChange[] = [];
      for (const id of ids) {
        const change = await changeFromTable(target, id);
        if (change !== null) changes.push(change);
      }
      return {
        source: `the stream no longer has ${range}: the table's ${ids.length} verification(s) whose status changed between ${from} and ${to}`,
        changes,
      };
    }
  }
  const { notice } = failure;
  const correlationId = notice.keys[TABLE.partitionKey] ?? "";
  if (notice.keys[TABLE.sortKey] !== undefined && notice.keys[TABLE.sortKey] !== TABLE.stateSortKey) {
    return { source: `a ${notice.keys[TABLE.sortKey]} record (not a state item): no status change`, changes: [] };
  }
  if (notice.eventSourceARN !== null && notice.sequenceNumber !== null) {
    const streamArn = notice.eventSourceARN;
    const sequence = notice.sequenceNumber;
    try {
      for (const shardId of await shardsHolding(target, streamArn, BigInt(sequence))) {
        const records = await readRange(target, streamArn, shardId, sequence, sequence).catch((error: unknown) => {
          if (error instanceof StreamGone) return [];
          throw error;
        });
        const record = records.find(
          (r) => r.dynamodb?.SequenceNumber === notice.sequenceNumber && keyOf(r, TABLE.partitionKey) === correlationId,
        );
        if (record === undefined) continue;
        const { changes, fromTable } = await changesOfRecords(target, [record], streamArn);
        return {
          source:
            fromTable > 0
              ? `stream record ${notice.sequenceNumber} still cannot become a message: the table's state of ${correlationId}`
              : `stream record ${notice.sequenceNumber}`,
          changes,
        };
      }
    } catch (error) {
      if (!(error instanceof StreamGone)) throw error;
    }
  }
  const change = await changeFromTable(target, correlationId);
  return {
    source: `the stream no longer has record ${notice.sequenceNumber ?? "?"}: the table's state of ${correlationId}`,
    changes: change === null ? [] : [change],
  };
}

// ---- The command ----

/**
 * Locally, DynamoDB Local's address (--dynamodb-endpoint, else AWS_ENDPOINT_URL_DYNAMODB) must be an
 * http(s) URL: checked before the failure queue is read, not found out message by message.
 */
function checkDynamoEndpoint(flags: Flags, env: Context["io"]["env"]): void {
  const flag = flags.string("dynamodb-endpoint");
  const [name, value] =
    flag === undefined ? ["AWS_ENDPOINT_URL_DYNAMODB", text(env["AWS_ENDPOINT_URL_DYNAMODB"])] : ["--dynamodb-endpoint", flag];
  if (value !== undefined && !isHttpUrl(value)) {
    throw usageError(`kyc replay-publisher-failures: ${name} needs an http(s) URL like http://127.0.0.1:8000, got "${value}"`);
  }
}

/** What `--json` prints per failure message. */
interface ReplayReport {
  readonly messageId: string;
  readonly shape: Failure["shape"] | "unknown";
  source: string | null;
  readonly changes: {
    readonly correlationId: string;
    readonly previousStatus: Status | null;
    readonly status: Status;
    readonly eventId: string;
    readonly deduplicationId: string;
    readonly action: "published" | "already published in this run" | "would publish";
  }[];
  deleted: boolean;
  error: string | null;
}

const describeShape = (failure: Failure | undefined): string =>
  failure === undefined
    ? "unknown message"
    : failure.shape === "lambda-on-failure"
      ? "Lambda on-failure record"
      : `publisher notice (${failure.notice.reason})`;

export const replayPublisherFailures: Command = {
  name: "replay-publisher-failures",
  summary: "re-publish the status changes of the publisher-failures queue (from the stream, else the table)",
  usage: ["replay-publisher-failures [--dry-run] [--json] [--dynamodb-endpoint <url>] [options]"],
  description: [
    "For each message on the publisher-failures queue (Lambda's on-failure record of a stream batch, or",
    "the publisher's notice for a record it could not turn into a message), re-publishes its status",
    "changes to the status-changes queue, once each, with the publisher's own message builder and ids:",
    "read again from the table's stream (kept 24 hours), or, when the stream no longer has them or a",
    "record still cannot become a message, from the verification's current state in the table.",
    "A failure message is deleted only once all of its changes are on the queue; one that cannot be",
    "replayed stays there (exit code 1). --dry-run reads and prints, and changes nothing.",
  ].join("\n"),
  options: {
    "dry-run": { type: "boolean", describe: "say what would be published, change nothing" },
    "dynamodb-endpoint": {
      type: "string",
      value: "url",
      describe: "local only: DynamoDB Local's address (npm start picks its port; default $AWS_ENDPOINT_URL_DYNAMODB)",
    },
    ...JSON_OPTION,
    ...TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    if (flags.positionals.length > 0) throw usageError(`kyc replay-publisher-failures: unexpected argument "${flags.positionals[0]}"`);
    const { out } = context;
    const dryRun = flags.boolean("dry-run");
    const json = flags.boolean("json");
    const target = context.target();
    if (target.kind === "local") checkDynamoEndpoint(flags, context.io.env);
    target.dynamo(); // locally, fails at once (exit 2) when DynamoDB Local's address is not given
    const sqs = target.sqs();
    const [failuresUrl, statusChangesUrl] = await Promise.all([target.queueUrl("publisherFailures"), target.queueUrl("statusChanges")]);

    const sent = new Set<string>();
    const held: string[] = [];
    const seen = new Set<string>();
    let replayed = 0;
    let kept = 0;
    let published = 0;
    try {
      for (;;) {
        const batch: Message[] = await receiveBatch(sqs, failuresUrl, {
          waitSeconds: drainWaitSeconds(target.kind),
          visibilitySeconds: 300,
        });
        const fresh = batch.filter((m) => !seen.has(m.MessageId ?? ""));
        if (fresh.length === 0) break;
        for (const message of fresh) {
          const messageId = message.MessageId ?? "";
          seen.add(messageId);
          const failure = parseFailure(bodyOf(message));
          const report: ReplayReport = {
            messageId,
            shape: failure?.shape ?? "unknown",
            source: null,
            changes: [],
            deleted: false,
            error: null,
          };
          const lines: string[] = [];
          try {
            if (failure === undefined)
              throw new Error("neither a Lambda on-failure record nor a publisher notice: left for a person to read");
            const { source, changes } = await plan(target, failure, context);
            report.source = source;
            lines.push(`${messageId}: ${describeShape(failure)}: ${changes.length} status change(s) from ${source}`);
            for (const outgoing of changes) {
              const { correlationId, previousStatus, status, eventId } = outgoing.change;
              const again = sent.has(outgoing.deduplicationId);
              const action = dryRun ? "would publish" : again ? "already published in this run" : "published";
              if (!dryRun && !again) {
                await sqs.send(
                  new SendMessageCommand({
                    QueueUrl: statusChangesUrl,
                    MessageBody: sqsMessageBody(outgoing.change),
                    MessageGroupId: outgoing.groupId,
                    MessageDeduplicationId: outgoing.deduplicationId,
                  }),
                );
                published += 1;
              }
              if (!dryRun) sent.add(outgoing.deduplicationId);
              report.changes.push({ correlationId, previousStatus, status, eventId, deduplicationId: outgoing.deduplicationId, action });
              lines.push(
                `  ${action.padEnd(13)} ${correlationId}  ${previousStatus ?? "(new)"} → ${status}  (event ${eventId}; dedup ${outgoing.deduplicationId})`,
              );
            }
            if (dryRun) {
              held.push(message.ReceiptHandle ?? "");
              lines.push("  would delete the failure message");
            } else {
              await sqs.send(new DeleteMessageCommand({ QueueUrl: failuresUrl, ReceiptHandle: message.ReceiptHandle ?? "" }));
              report.deleted = true;
              replayed += 1;
              lines.push("  deleted the failure message");
            }
          } catch (error) {
            held.push(message.ReceiptHandle ?? "");
            kept += 1;
            report.error = error instanceof Error ? error.message.replace(/\s*\n\s*/g, " ") : String(error);
            lines.push(`${messageId}: ${describeShape(failure)}: NOT replayed, left on the queue: ${report.error}`);
          }
          if (json) out.json(report);
          else for (const line of lines) out.line(line);
          out.progress(`${seen.size} failure message(s) handled…`);
        }
      }
    } finally {
      await release(sqs, failuresUrl, held);
    }
    if (!json) {
      if (seen.size === 0) out.line("The publisher-failures queue is empty: nothing to replay.");
      else if (dryRun) out.line(`Dry run: ${seen.size} failure message(s) read; nothing was sent or deleted.`);
      else out.line(`${replayed} failure message(s) replayed (${published} status change(s) published), ${kept} left on the queue.`);
    }
    return kept > 0 ? 1 : 0;
  },
};
