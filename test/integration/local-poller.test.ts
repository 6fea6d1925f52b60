import { GetQueueAttributesCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPoller } from "../../local/poller.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "../../local/sqs.js";

let sqs: LocalSqs;
beforeAll(async () => {
  sqs = await startLocalSqs();
});
afterAll(async () => {
  await sqs.close();
});

describe("local SQS poller status (what /health reads)", () => {
  it("beats while idle, and names the message it keeps failing with its receive count, until it succeeds", async () => {
    const { queueUrl } = await createFifoQueueWithDlq(sqs.client, {
      nameStem: `poller-status-${Date.now()}`,
      visibilityTimeoutSeconds: 1,
      maxReceiveCount: 5,
      retentionDays: 1,
    });
    const queueArn =
      (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.[
        "QueueArn"
      ] ?? "";
    let failuresLeft = 2;
    const handled: string[] = [];
    const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
      const failures = event.Records.filter((r) => r.body === "flaky" && failuresLeft > 0).map((r) => ({ itemIdentifier: r.messageId }));
      if (failures.length > 0) failuresLeft -= 1;
      handled.push(...event.Records.filter((r) => failures.every((f) => f.itemIdentifier !== r.messageId)).map((r) => r.body));
      return { batchItemFailures: failures };
    };
    const poller = startPoller({
      sqs: sqs.client,
      queueUrl,
      queueArn,
      handler,
      functionName: "kyc-consumer",
      visibilityTimeoutSeconds: 1,
      waitTimeSeconds: 0,
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const idle = poller.status();
      expect(Date.now() - idle.heartbeatAt).toBeLessThan(300); // an idle poll is progress
      expect(idle.retrying).toBeNull();

      const sent = await sqs.client.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "flaky", MessageGroupId: "g", MessageDeduplicationId: "flaky" }),
      );
      const seen: { messageId: string; attempts: number }[] = [];
      const deadline = Date.now() + 8_000;
      while (!handled.includes("flaky") && Date.now() < deadline) {
        const { retrying } = poller.status();
        if (retrying !== null && seen.at(-1)?.attempts !== retrying.attempts)
          seen.push({ messageId: retrying.messageId, attempts: retrying.attempts });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(seen).toEqual([
        { messageId: sent.MessageId, attempts: 1 },
        { messageId: sent.MessageId, attempts: 2 },
      ]);
      expect(handled).toContain("flaky");
      expect(poller.status().retrying).toBeNull(); // it succeeded: nothing is being retried any more
    } finally {
      await poller.stop();
    }
  }, 20_000);
});
