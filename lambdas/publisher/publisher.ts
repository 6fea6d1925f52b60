import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type NativeAttributeValue, unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { AppLogger } from "../core/logger.js";
import { statusChangeOf } from "./change.js";

export type PublisherHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

type Image = NonNullable<NonNullable<DynamoDBRecord["dynamodb"]>["NewImage"]>;

function image(raw: Image | undefined): Record<string, NativeAttributeValue> | undefined {
  return raw === undefined ? undefined : unmarshall(raw as Record<string, AttributeValue>);
}

/**
 * The status-change publisher, fed by the table's DynamoDB stream: the stream holds every
 * committed write, so a change written to the table reaches the queue even if this function
 * (or the consumer) dies in between; Lambda retries from the first failed record. Records are
 * handled in stream order, and the first failure stops the batch (later records come again
 * with the retry, and the queue's deduplication drops any already sent).
 */
export function createPublisherHandler(deps: { sqs: SQSClient; queueUrl: string; logger: AppLogger }): PublisherHandler {
  const { sqs, queueUrl, logger } = deps;
  return async (event) => {
    for (const record of event.Records) {
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? "";
      try {
        const outgoing = statusChangeOf(
          image(record.dynamodb?.OldImage) as Parameters<typeof statusChangeOf>[0],
          image(record.dynamodb?.NewImage) as Parameters<typeof statusChangeOf>[1],
        );
        if (outgoing === null) continue;
        await sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify(outgoing.change),
            MessageGroupId: outgoing.groupId,
            MessageDeduplicationId: outgoing.deduplicationId,
          }),
        );
        const { correlationId, previousStatus, status, eventId } = outgoing.change;
        logger.info("status change published", { correlationId, previousStatus, status, eventId });
      } catch (error) {
        logger.error("status change not published: retried from this record", {
          sequenceNumber,
          error: error instanceof Error ? error.name : typeof error,
        });
        return { batchItemFailures: [{ itemIdentifier: sequenceNumber }] };
      }
    }
    return { batchItemFailures: [] };
  };
}
