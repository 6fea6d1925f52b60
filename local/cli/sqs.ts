/** SQS helpers shared by the commands that read queues (`tail`, `dlq`, `replay-publisher-failures`). */
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";

/** Receives up to 10 messages with every attribute (group id, receive count, sent time). */
export async function receiveBatch(
  sqs: SQSClient,
  queueUrl: string,
  options: { readonly max?: number; readonly waitSeconds: number; readonly visibilitySeconds: number; readonly signal?: AbortSignal },
): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: Math.min(10, Math.max(1, options.max ?? 10)),
      WaitTimeSeconds: options.waitSeconds,
      VisibilityTimeout: options.visibilitySeconds,
      AttributeNames: ["All"],
      MessageSystemAttributeNames: ["All"],
    }),
    options.signal === undefined ? {} : { abortSignal: options.signal },
  );
  return Messages;
}

/**
 * How long a read that drains a queue waits for more: SQS's short poll samples only some of its
 * servers and may answer empty while messages wait, a long poll does not; the local server is exact.
 */
export const drainWaitSeconds = (kind: "local" | "aws"): number => (kind === "aws" ? 2 : 0);

/** Makes received messages visible again at once (what "leave it on the queue" means for a message being held). */
export async function release(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]): Promise<void> {
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const entries = receiptHandles.slice(i, i + 10).map((handle, j) => ({ Id: String(j), ReceiptHandle: handle, VisibilityTimeout: 0 }));
    // A handle may have expired (the message came back and was received again): it is visible then anyway.
    await sqs.send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries })).catch(() => undefined);
  }
}

/** Messages waiting (visible) and being processed (in flight), as SQS estimates them. */
export async function depthOf(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number; arn: string }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "QueueArn"],
    }),
  );
  return {
    visible: Number(Attributes["ApproximateNumberOfMessages"] ?? 0),
    inFlight: Number(Attributes["ApproximateNumberOfMessagesNotVisible"] ?? 0),
    arn: Attributes["QueueArn"] ?? "",
  };
}

/** The body as JSON when it is JSON, else the text. */
export function bodyOf(message: Message): unknown {
  const body = message.Body ?? "";
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/** The queue's name, from its URL (`…/123456789012/status-changes.fifo`). */
export const queueNameOf = (queueUrl: string): string => queueUrl.split("/").pop() ?? queueUrl;
