import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createRequestHandler } from "local-aws-sqs";
import type { FifoQueueSpec } from "../lambdas/core/contract.js";

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

/**
 * An in-process SQS-compatible server (SDK JSON protocol, FIFO) on 127.0.0.1; port 0 picks a free
 * one. Rejects when it cannot listen (e.g. the port is in use): the package's own createSqsServer
 * never does, it leaves the server's "error" event unhandled.
 */
export async function startLocalSqs(port = 0): Promise<LocalSqs> {
  const { service, requestHandler } = createRequestHandler({ port, hostname: "127.0.0.1", validateDlqDestination: true });
  const server = createServer(requestHandler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  service.PORT = (server.address() as AddressInfo).port; // the queue URLs it answers name the port (0 picked one)
  const endpoint = `http://127.0.0.1:${service.PORT}`;
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

/** Creates a FIFO queue `{nameStem}.fifo` and its FIFO dead-letter queue `{nameStem}-dlq.fifo` with a redrive policy, as the stack does. */
export async function createFifoQueueWithDlq(
  client: SQSClient,
  spec: Pick<FifoQueueSpec, "nameStem" | "visibilityTimeoutSeconds" | "maxReceiveCount" | "retentionDays">,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const retention = String(spec.retentionDays * 86_400);
  const dlq = await client.send(
    new CreateQueueCommand({
      QueueName: `${spec.nameStem}-dlq.fifo`,
      Attributes: { FifoQueue: "true", MessageRetentionPeriod: retention },
    }),
  );
  const dlqUrl = dlq.QueueUrl ?? "";
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }));
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: `${spec.nameStem}.fifo`,
      Attributes: {
        FifoQueue: "true",
        ContentBasedDeduplication: "false",
        MessageRetentionPeriod: retention,
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
