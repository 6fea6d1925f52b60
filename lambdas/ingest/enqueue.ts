import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { NormalizedEvent } from "../core/event.js";
import { sqsMessageBody, toSqsId } from "../core/sqs-message.js";

/**
 * Puts a normalized event on the FIFO events queue: one message group per verification
 * (ordered), deduplicated on the event id (a redelivery within SQS's 5-minute window is
 * dropped by SQS; later ones by the consumer's idempotency).
 */
export function sqsEnqueuer(client: SQSClient, queueUrl: string): (event: NormalizedEvent) => Promise<void> {
  return async (event) => {
    await client.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: sqsMessageBody(event),
        MessageGroupId: toSqsId(event.correlationId),
        MessageDeduplicationId: toSqsId(event.eventId),
      }),
    );
  };
}
