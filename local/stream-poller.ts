/**
 * A local stand-in for Lambda's DynamoDB stream event source mapping: reads the table's stream
 * on DynamoDB Local shard by shard and hands the publisher handler batches of the records the
 * stack's event source filters let through (PUBLISHER_STREAM_FILTERS: status changes) as
 * `DynamoDBStreamEvent`s, in stream order.
 *
 * - One loop per shard keeps its shard iterator (`NextShardIterator`), reads pages of up to 1,000
 *   records, and never pauses while there is more to read: it sleeps (`idleMs`) only once the
 *   shard is caught up. A child shard is read only after its parent is read to the end, so the
 *   records of one item stay in order.
 * - A batch item failure (or a thrown error) moves nothing forward: the batch is retried from the
 *   first failed record, with a growing delay (`retryDelayMs`, doubling up to `maxRetryDelayMs`),
 *   as Lambda retries. Lambda gives up a record once it is older than the mapping's maximum
 *   record age (`maxRecordAgeMs`, the stack's 12 hours by default) and sends its shard and
 *   sequence numbers to the on-failure destination; so does this poller, with the same message
 *   shape (`condition: "RecordAgeExceeded"`, `DDBStreamBatchInfo`), then carries on with the next
 *   record. Only the failing record is given up (Lambda's `bisectBatchOnError` isolates it). The
 *   age counts from when the poller first read the record: DynamoDB Local's
 *   ApproximateCreationDateTime is rounded down to the minute.
 * - `status()` tells whether the loops are alive (a heartbeat on every iteration, idle ones too),
 *   how many records are read but not yet handed over, and which record is being retried.
 */
import { randomUUID } from "node:crypto";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type Shard,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { PUBLISHER, PUBLISHER_STREAM_FILTERS } from "../lambdas/core/contract.js";
import type { PublisherHandler } from "../lambdas/publisher/publisher.js";
import { matchesAnyPattern } from "./event-filter.js";
import { LOCAL_AWS } from "./sqs.js";

export interface StreamPollerOptions {
  readonly dynamo: DynamoDBClient;
  readonly endpoint: string;
  readonly tableName: string;
  readonly handler: PublisherHandler;
  /** Where a record given up is reported, as Lambda's on-failure destination (a standard queue). */
  readonly onFailure: { readonly sqs: SQSClient; readonly queueUrl: string };
  /** Records per invocation (the mapping's batch size). */
  readonly batchSize?: number;
  /** Age after which a record that still fails is given up. @default PUBLISHER.maxRecordAgeHours */
  readonly maxRecordAgeMs?: number;
  /** Pause of a shard's loop once it has read everything there is. @default 75 */
  readonly idleMs?: number;
  /** First delay before retrying a failed batch; doubles on each failure up to `maxRetryDelayMs`. @default 100 */
  readonly retryDelayMs?: number;
  /** @default 5000 */
  readonly maxRetryDelayMs?: number;
  /** How often the list of shards is read again. @default 1000 */
  readonly discoveryIntervalMs?: number;
  /** Errors of the stream reads and of the invocations (they are retried). */
  readonly onError?: (error: unknown) => void;
  /** Called once a record was given up and reported to `onFailure`. */
  readonly onGiveUp?: (info: DdbStreamBatchInfo) => void;
}

/** What Lambda sends to a stream mapping's on-failure destination, for the batch it gave up. */
export interface DdbStreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly approximateArrivalOfFirstRecord: string | null;
  readonly approximateArrivalOfLastRecord: string | null;
  readonly batchSize: number;
  readonly streamArn: string;
}

export interface StreamOnFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: "RecordAgeExceeded";
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: string };
  readonly version: "1.0";
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: DdbStreamBatchInfo;
}

export interface StreamPollerStatus {
  /** Epoch ms of the least recent heartbeat among the poller's loops: each beats on every iteration. */
  readonly heartbeatAt: number;
  /** State records read from the stream and not yet handed over successfully. */
  readonly backlog: number;
  /** The record being retried, if one is. */
  readonly retrying: {
    readonly shardId: string;
    readonly sequenceNumber: string;
    /** Failed attempts so far. */
    readonly attempts: number;
    /** Epoch ms of its first failure. */
    readonly since: number;
  } | null;
  /** Records given up since start (each reported to the on-failure queue). */
  readonly givenUp: number;
}

export interface StreamPoller {
  status(): StreamPollerStatus;
  stop(): Promise<void>;
}

const PAGE_LIMIT = 1_000;
const PUBLISHER_FUNCTION_ARN = `arn:aws:lambda:${LOCAL_AWS.region}:000000000000:function:kyc-publisher`;

/** A stream record as Lambda's DynamoDB event source hands it to the publisher (what `outgoingChangeOf` reads). */
export function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: "aws:dynamodb",
    awsRegion: streamArn.split(":")[3] || LOCAL_AWS.region,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime: d?.ApproximateCreationDateTime ? d.ApproximateCreationDateTime.getTime() / 1000 : undefined,
      Keys: d?.Keys,
      NewImage: d?.NewImage,
      OldImage: d?.OldImage,
      SequenceNumber: d?.SequenceNumber,
      SizeBytes: d?.SizeBytes,
      StreamViewType: d?.StreamViewType,
    },
  } as DynamoDBRecord;
}

/** The records Lambda would hand the publisher: those its event source's filters let through. */
const passesFilters = (record: StreamRecord) => matchesAnyPattern(PUBLISHER_STREAM_FILTERS, record);
const sequenceOf = (record: StreamRecord) => record.dynamodb?.SequenceNumber ?? "";

/** A stream record with the time this poller first read it (the local basis of its age). */
interface Pending {
  readonly record: StreamRecord;
  readonly readAt: number;
}

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const table = await options.dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  // Bounded calls: a frozen DynamoDB Local fails a read (retried) instead of hanging a loop for ever.
  const streams = new DynamoDBStreamsClient({
    ...LOCAL_AWS,
    endpoint: options.endpoint,
    maxAttempts: 1,
    requestHandler: { requestTimeout: 5_000 },
  });

  const batchSize = options.batchSize ?? PUBLISHER.batchSize;
  const maxRecordAgeMs = options.maxRecordAgeMs ?? PUBLISHER.maxRecordAgeHours * 3_600_000;
  const idleMs = options.idleMs ?? 75;
  const retryDelayMs = options.retryDelayMs ?? 100;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000;
  const discoveryIntervalMs = options.discoveryIntervalMs ?? 1_000;

  let running = true;
  /** Resolvers of the pauses under way: stop() ends them at once. */
  const sleepers = new Set<() => void>();
  /** Heartbeat per loop ("discovery" and one per shard being read). */
  const beats = new Map<string, number>();
  /** Shard loops, by shard id; a loop's promise resolves once its shard is read to the end (or on stop). */
  const shardLoops = new Map<string, Promise<void>>();
  const finished = new Set<string>();
  const retrying = new Map<string, { sequenceNumber: string; attempts: number; since: number }>();
  let backlog = 0;
  let givenUp = 0;

  const beat = (loop: string) => beats.set(loop, Date.now());

  /**
   * Waits `ms` (less on stop). An idle or backing-off loop is a live loop: it beats at least every
   * 100 ms, unless it waits after an error of its own reads (no progress then).
   */
  async function pause(loop: string, ms: number, alive = true): Promise<void> {
    const until = Date.now() + ms;
    while (running) {
      if (alive) beat(loop);
      const left = until - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          sleepers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 100));
        sleepers.add(done);
      });
    }
  }

  const iteratorFrom = (shardId: string, after: string | undefined): GetShardIteratorCommandInput => ({
    StreamArn: streamArn,
    ShardId: shardId,
    ...(after === undefined
      ? { ShardIteratorType: "TRIM_HORIZON" }
      : { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: after }),
  });

  /** Invokes the handler with the first records of `pending`; the sequence number of the first failed record, or undefined. */
  async function invoke(batch: readonly Pending[]): Promise<{ failedAt: string | undefined; functionError: boolean }> {
    const event: DynamoDBStreamEvent = { Records: batch.map((p) => toLambdaRecord(p.record, streamArn ?? "")) };
    try {
      const response = await options.handler(event);
      return { failedAt: response.batchItemFailures[0]?.itemIdentifier, functionError: false };
    } catch (error) {
      options.onError?.(error);
      return { failedAt: sequenceOf(batch[0]?.record ?? {}), functionError: true };
    }
  }

  /** Reports a record given up to the on-failure queue, shaped as Lambda's on-failure record. */
  async function giveUp(shardId: string, failing: Pending, attempts: number, functionError: boolean): Promise<void> {
    const arrival = failing.record.dynamodb?.ApproximateCreationDateTime?.toISOString() ?? null;
    const info: DdbStreamBatchInfo = {
      shardId,
      startSequenceNumber: sequenceOf(failing.record),
      endSequenceNumber: sequenceOf(failing.record),
      approximateArrivalOfFirstRecord: arrival,
      approximateArrivalOfLastRecord: arrival,
      batchSize: 1,
      streamArn: streamArn ?? "",
    };
    const body: StreamOnFailureRecord = {
      requestContext: {
        requestId: randomUUID(),
        functionArn: PUBLISHER_FUNCTION_ARN,
        condition: "RecordAgeExceeded",
        approximateInvokeCount: attempts,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", ...(functionError ? { functionError: "Unhandled" } : {}) },
      version: "1.0",
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: info,
    };
    await options.onFailure.sqs.send(new SendMessageCommand({ QueueUrl: options.onFailure.queueUrl, MessageBody: JSON.stringify(body) }));
    givenUp += 1;
    options.onGiveUp?.(info);
  }

  /** Hands `records` over in batches, in order; returns once each was handed over or given up (or on stop). */
  async function deliver(shardId: string, records: readonly Pending[]): Promise<void> {
    let pending = records;
    while (pending.length > 0 && running) {
      beat(shardId);
      const batch = pending.slice(0, batchSize);
      const { failedAt, functionError } = await invoke(batch);
      const index = failedAt === undefined ? -1 : batch.findIndex((p) => sequenceOf(p.record) === failedAt);
      const handled = failedAt === undefined ? batch.length : Math.max(index, 0); // an unknown identifier fails the whole batch
      backlog -= handled;
      pending = pending.slice(handled);
      if (failedAt === undefined) {
        retrying.delete(shardId);
        continue;
      }
      const failing = pending[0];
      if (failing === undefined) continue;
      const sequenceNumber = sequenceOf(failing.record);
      const previous = retrying.get(shardId);
      const state =
        previous?.sequenceNumber === sequenceNumber
          ? { ...previous, attempts: previous.attempts + 1 }
          : { sequenceNumber, attempts: 1, since: Date.now() };
      retrying.set(shardId, state);
      if (Date.now() - failing.readAt >= maxRecordAgeMs) {
        try {
          await giveUp(shardId, failing, state.attempts, functionError);
          backlog -= 1;
          pending = pending.slice(1);
          retrying.delete(shardId);
          continue;
        } catch (error) {
          options.onError?.(error); // the on-failure queue did not take it: keep the record, try again
        }
      }
      await pause(shardId, Math.min(retryDelayMs * 2 ** (state.attempts - 1), maxRetryDelayMs));
    }
  }

  /** Reads one shard to its end (or until stop), after its parent. */
  async function readShard(shard: Shard, parent: Promise<void> | undefined): Promise<void> {
    const shardId = shard.ShardId ?? "";
    beat(shardId);
    if (parent !== undefined) {
      let parentDone = false;
      void parent.then(() => (parentDone = true));
      while (running && !parentDone) await pause(shardId, idleMs);
    }
    let iterator: string | undefined;
    let lastRead: string | undefined; // where to take a new iterator from after an error
    let errors = 0;
    while (running) {
      try {
        iterator ??= (await streams.send(new GetShardIteratorCommand(iteratorFrom(shardId, lastRead)))).ShardIterator;
        if (iterator === undefined) break; // nothing more will ever come from this shard
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: PAGE_LIMIT }));
        beat(shardId);
        errors = 0;
        const records = page.Records ?? [];
        const last = records.at(-1);
        if (last !== undefined) lastRead = sequenceOf(last);
        const readAt = Date.now();
        const state = records.filter(passesFilters).map((record) => ({ record, readAt }));
        backlog += state.length;
        await deliver(shardId, state);
        iterator = page.NextShardIterator;
        if (iterator === undefined) break; // the shard is closed and read to its end
        if (records.length === 0) await pause(shardId, idleMs); // caught up; a full page is followed at once
      } catch (error) {
        options.onError?.(error);
        iterator = undefined; // e.g. an expired iterator: take a new one after the last record read
        errors += 1;
        await pause(shardId, Math.min(retryDelayMs * 2 ** (errors - 1), maxRetryDelayMs), false);
      }
    }
    if (running) finished.add(shardId);
    beats.delete(shardId);
    retrying.delete(shardId);
  }

  async function discover(): Promise<void> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const page = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ...(start ? { ExclusiveStartShardId: start } : {}) }),
      );
      shards.push(...(page.StreamDescription?.Shards ?? []));
      start = page.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    const listed = new Map(shards.map((s) => [s.ShardId, s]));
    /** Starts a shard's loop (its parent's first, when the parent is still there to be read); returns that loop. */
    const ensure = (shard: Shard): Promise<void> | undefined => {
      const id = shard.ShardId;
      if (id === undefined || finished.has(id)) return undefined;
      const started = shardLoops.get(id);
      if (started !== undefined) return started;
      const parentShard = shard.ParentShardId === undefined ? undefined : listed.get(shard.ParentShardId);
      const parent = parentShard === undefined ? undefined : ensure(parentShard);
      const loop = readShard(shard, parent).catch((error: unknown) => options.onError?.(error));
      shardLoops.set(id, loop);
      void loop.then(() => shardLoops.delete(id));
      return loop;
    };
    for (const shard of shards) ensure(shard);
  }

  beat("discovery");
  const discovery = (async () => {
    let errors = 0;
    while (running) {
      try {
        await discover();
        beat("discovery");
        errors = 0;
        await pause("discovery", discoveryIntervalMs);
      } catch (error) {
        options.onError?.(error);
        errors += 1;
        await pause("discovery", Math.min(retryDelayMs * 2 ** (errors - 1), maxRetryDelayMs), false);
      }
    }
  })();

  return {
    status() {
      const oldest = [...retrying.entries()].sort(([, a], [, b]) => a.since - b.since)[0];
      return {
        heartbeatAt: beats.size === 0 ? Date.now() : Math.min(...beats.values()),
        backlog,
        retrying: oldest === undefined ? null : { shardId: oldest[0], ...oldest[1] },
        givenUp,
      };
    },
    async stop() {
      running = false;
      for (const wakeUp of [...sleepers]) wakeUp();
      await discovery;
      await Promise.all([...shardLoops.values()]);
      streams.destroy();
    },
  };
}
