import type { AddressInfo } from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createSqsServer } from "local-aws-sqs";

/** Credentials and region for local servers only; they are never valid against AWS. */
export const LOCAL_AWS = {
  region: "us-east-1",
  credentials: { accessKeyId: "local", secretAccessKey: "local" },
} as const;

export interface LocalSqs {
  readonly endpoint: string;
  readonly client: SQSClient;
  close(): Promise<void>;
}

/** An in-process SQS-compatible server (SDK JSON protocol, FIFO) on 127.0.0.1; port 0 picks a free one. */
export async function startLocalSqs(port = 0): Promise<LocalSqs> {
  const server = await createSqsServer({ port, hostname: "127.0.0.1", validateDlqDestination: true });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new SQSClient({ ...LOCAL_AWS, endpoint });
  return {
    endpoint,
    client,
    close: () =>
      new Promise<void>((resolve, reject) => {
        client.destroy();
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface FifoQueueSpec {
  readonly name: string;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
}

/** Creates a FIFO queue and its FIFO dead-letter queue with a redrive policy, as the stack does. */
export async function createFifoQueueWithDlq(
  client: SQSClient,
  spec: FifoQueueSpec,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const base = spec.name.replace(/\.fifo$/, "");
  const dlq = await client.send(
    new CreateQueueCommand({ QueueName: `${base}-dlq.fifo`, Attributes: { FifoQueue: "true" } }),
  );
  const dlqUrl = dlq.QueueUrl ?? "";
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: `${base}.fifo`,
      Attributes: {
        FifoQueue: "true",
        ContentBasedDeduplication: "false",
        VisibilityTimeout: String(spec.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: attrs.Attributes?.["QueueArn"],
          maxReceiveCount: spec.maxReceiveCount,
        }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl ?? "", dlqUrl };
}
