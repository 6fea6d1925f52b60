/**
 * A local stand-in for Lambda's DynamoDB stream event source mapping: reads the table's stream
 * on DynamoDB Local shard by shard, hands batches to the publisher handler as a
 * `DynamoDBStreamEvent`, and keeps a checkpoint per shard. A batch item failure (or a thrown
 * error) moves nothing forward: the batch is retried from the first failed record, as
 * Lambda does. Only state items are delivered (the stack's filter criteria).
 */
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record as StreamRecord,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { TABLE } from "../lambdas/core/table.js";
import type { PublisherHandler } from "../lambdas/publisher/publisher.js";
import { LOCAL_AWS } from "./sqs.js";

export interface StreamPollerOptions {
  readonly dynamo: DynamoDBClient;
  readonly endpoint: string;
  readonly tableName: string;
  readonly handler: PublisherHandler;
  readonly batchSize?: number;
  readonly intervalMs?: number;
  readonly onError?: (error: unknown) => void;
}

export interface StreamPoller {
  stop(): Promise<void>;
}

function toLambdaRecord(record: StreamRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: "aws:dynamodb",
    awsRegion: LOCAL_AWS.region,
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

const isStateItem = (record: StreamRecord) => record.dynamodb?.Keys?.[TABLE.sortKey]?.S === TABLE.stateSortKey;

export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const table = await options.dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = table.Table?.LatestStreamArn;
  if (!streamArn) throw new Error(`table ${options.tableName} has no stream`);
  const streams = new DynamoDBStreamsClient({ ...LOCAL_AWS, endpoint: options.endpoint });
  /** Last sequence number handled per shard; shards whose end was reached are in `closed`. */
  const checkpoints = new Map<string, string>();
  const closed = new Set<string>();
  let running = true;

  async function pollShard(shardId: string): Promise<void> {
    const checkpoint = checkpoints.get(shardId);
    const iterator = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shardId,
        ...(checkpoint ? { ShardIteratorType: "AFTER_SEQUENCE_NUMBER", SequenceNumber: checkpoint } : { ShardIteratorType: "TRIM_HORIZON" }),
      }),
    );
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: options.batchSize ?? 10 }));
    const records = page.Records ?? [];
    const delivered = records.filter(isStateItem);
    let handledUpTo = records.at(-1)?.dynamodb?.SequenceNumber;
    if (delivered.length > 0) {
      let failedAt: string | undefined;
      try {
        const response = await options.handler({ Records: delivered.map((r) => toLambdaRecord(r, streamArn ?? "")) } satisfies DynamoDBStreamEvent);
        failedAt = response.batchItemFailures[0]?.itemIdentifier;
      } catch (error) {
        options.onError?.(error);
        failedAt = delivered[0]?.dynamodb?.SequenceNumber;
      }
      if (failedAt !== undefined) {
        // Retry from the failed record: the checkpoint stays just before it.
        const index = records.findIndex((r) => r.dynamodb?.SequenceNumber === failedAt);
        handledUpTo = index > 0 ? records[index - 1]?.dynamodb?.SequenceNumber : checkpoint;
        if (handledUpTo !== undefined) checkpoints.set(shardId, handledUpTo);
        return;
      }
    }
    if (handledUpTo !== undefined) checkpoints.set(shardId, handledUpTo);
    if (page.NextShardIterator === undefined && records.length === 0) closed.add(shardId);
  }

  const loop = (async () => {
    while (running) {
      try {
        const description = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
        const shards = description.StreamDescription?.Shards ?? [];
        const known = new Set(shards.map((shard) => shard.ShardId));
        for (const shard of shards) {
          // A child shard waits until its parent is read to the end: per-item order is kept.
          const parentOpen = shard.ParentShardId !== undefined && known.has(shard.ParentShardId) && !closed.has(shard.ParentShardId);
          if (shard.ShardId && !closed.has(shard.ShardId) && !parentOpen) await pollShard(shard.ShardId);
        }
      } catch (error) {
        options.onError?.(error);
      }
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 200));
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      streams.destroy();
    },
  };
}
