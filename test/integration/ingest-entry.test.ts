import { createHmac } from "node:crypto";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { QUEUES } from "../../lambdas/core/contract.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "../../local/sqs.js";
import { webhookEvent } from "../support/apigw.js";
import { startSecretsManager } from "../support/secrets-manager-server.js";

// Counts SQS clients constructed, so the test can show the Lambda builds one per container.
const constructed = vi.hoisted(() => ({ count: 0 }));
vi.mock("@aws-sdk/client-sqs", async (importOriginal) => {
  const sdk = await importOriginal<typeof import("@aws-sdk/client-sqs")>();
  class CountingSQSClient extends sdk.SQSClient {
    constructor(...args: ConstructorParameters<typeof sdk.SQSClient>) {
      super(...args);
      constructed.count += 1;
    }
  }
  return { ...sdk, SQSClient: CountingSQSClient };
});

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:kyc/idbeyond-AbCdEf";
const sign = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");
const body = (n: number) =>
  JSON.stringify({
    event: "verification.completed",
    verificationSessionId: `9c2e6f1a-4b7d-4c1e-8f3a-2d5b6c7e8f9${n}`,
    externalUserId: "user_123",
    decision: "approved",
    reviewStatus: "approved",
    timestamp: "2026-11-22T09:59:00.000Z",
  });

let sqs: LocalSqs;
let secretsManager: Awaited<ReturnType<typeof startSecretsManager>>;
let queueUrl: string;
const savedEnv = { ...process.env };

beforeAll(async () => {
  sqs = await startLocalSqs();
  ({ queueUrl } = await createFifoQueueWithDlq(sqs.client, QUEUES.events));
  secretsManager = await startSecretsManager({ [ARN]: JSON.stringify(["new-secret", "old-secret"]) });
  Object.assign(process.env, {
    PROVIDER_ID: "idbeyond",
    WEBHOOK_SECRETS_ARN: ARN,
    EVENTS_QUEUE_URL: queueUrl,
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "local",
    AWS_SECRET_ACCESS_KEY: "local",
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    POWERTOOLS_LOG_LEVEL: "CRITICAL",
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await secretsManager.close();
  await sqs.close();
});

describe("the Lambda entry point (lambdas/ingest/handler.ts)", () => {
  it("builds its SQS client once per container and reads the secret list once within its max age", async () => {
    const before = constructed.count;
    const { handler } = await import("../../lambdas/ingest/handler.js");
    expect(constructed.count - before).toBe(1);

    // Both secrets of a rotation are accepted.
    const a = await handler(webhookEvent("idbeyond", body(1), { "x-verification-signature": sign("new-secret", body(1)) }));
    const b = await handler(webhookEvent("idbeyond", body(2), { "x-verification-signature": sign("old-secret", body(2)) }));
    const c = await handler(webhookEvent("idbeyond", body(3), { "x-verification-signature": sign("retired", body(3)) }));
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([200, 200, 401]);

    expect(constructed.count - before).toBe(1);
    expect(secretsManager.requests()).toBe(1);

    const received = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(received.Messages).toHaveLength(2);
  });
});
