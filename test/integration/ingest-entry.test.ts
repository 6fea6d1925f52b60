import { createHmac } from "node:crypto";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
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
    POWERTOOLS_LOG_LEVEL: "DEBUG",
    POWERTOOLS_SERVICE_NAME: "kyc-ingest-idbeyond",
    // As the Lambda runtime sets it (Powertools reports cold starts of on-demand environments only).
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
  });
});

afterAll(async () => {
  process.env = savedEnv;
  await secretsManager.close();
  await sqs.close();
});

/** A Lambda context as the runtime passes it. */
const context = (requestId: string): Context =>
  ({
    functionName: "kyc-ingest-idbeyond",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:123456789012:function:kyc-ingest-idbeyond",
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: "/aws/lambda/kyc-ingest-idbeyond",
    logStreamName: "stream",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 10_000,
  }) as Context;

describe("the Lambda entry point (lambdas/ingest/handler.ts)", () => {
  it("builds its SQS client once per container and reads the secret list once within its max age", async () => {
    const before = constructed.count;
    const { handler } = await import("../../lambdas/ingest/handler.js");
    expect(constructed.count - before).toBe(1);

    // Both secrets of a rotation are accepted. Every log line carries the Lambda context; every
    // invocation writes its metrics as one EMF line.
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    const spies = [
      vi.spyOn(process.stdout, "write").mockImplementation(capture),
      vi.spyOn(process.stderr, "write").mockImplementation(capture),
    ];
    const [a, b, c] = await (async () => {
      try {
        return [
          await handler(webhookEvent("idbeyond", body(1), { "x-verification-signature": sign("new-secret", body(1)) }), context("req-1")),
          await handler(webhookEvent("idbeyond", body(2), { "x-verification-signature": sign("old-secret", body(2)) }), context("req-2")),
          await handler(webhookEvent("idbeyond", body(3), { "x-verification-signature": sign("retired", body(3)) }), context("req-3")),
        ];
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    })();
    expect([a?.statusCode, b?.statusCode, c?.statusCode]).toEqual([200, 200, 401]);
    const lines = written
      .join("")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const logs = lines.filter((l) => typeof l["message"] === "string");
    expect(logs.map((l) => [l["message"], l["function_request_id"], l["cold_start"]])).toEqual([
      ["webhook accepted", "req-1", true],
      ["webhook accepted", "req-2", false],
      ["webhook rejected: authentication failed", "req-3", false],
    ]);
    const emf = lines.filter((l) => "_aws" in l);
    const fields = ["service", "provider", "cause", "WebhooksAccepted", "WebhooksRejected", "AuthenticationFailures"];
    expect(emf.map((l) => fields.map((f) => l[f] ?? null))).toEqual([
      ["kyc-ingest-idbeyond", "idbeyond", null, 1, null, null],
      ["kyc-ingest-idbeyond", "idbeyond", null, 1, null, null],
      ["kyc-ingest-idbeyond", "idbeyond", "signature-mismatch", null, 1, null],
      ["kyc-ingest-idbeyond", "idbeyond", null, null, null, 1],
    ]);
    expect(JSON.stringify(emf)).toContain('"Namespace":"KycWebhooks"');
    expect(written.join("")).not.toContain("user_123");

    expect(constructed.count - before).toBe(1);
    expect(secretsManager.requests()).toBe(1);

    const received = await sqs.client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect(received.Messages).toHaveLength(2);
  });
});
