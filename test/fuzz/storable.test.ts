/**
 * What ingest accepts, the consumer can always store: hostile, validly signed webhooks of every
 * provider go through `receive` (ingest's own function), and the real consumer handler applies
 * each resulting message against DynamoDB Local without a single failed record.
 */
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createConsumerHandler } from "../../lambdas/consumer/consumer.js";
import { dynamoStore } from "../../lambdas/consumer/store.js";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { sqsMessageBody } from "../../lambdas/core/sqs-message.js";
import { getVerification } from "../../lambdas/read/queries.js";
import { signWebhook } from "../../local/samples.js";
import { recordingLogger, recordingMetrics, sqsRecord } from "../support/apigw.js";
import { freshTable } from "../support/dynamo.js";
import { hostile, shaped } from "../support/hostile.js";
import { receipt } from "../support/providers.js";

let documents: DynamoDBDocumentClient;
let tableName: string;
beforeAll(async () => {
  const table = await freshTable("storable");
  documents = DynamoDBDocumentClient.from(table.client, { marshallOptions: { removeUndefinedValues: true } });
  tableName = table.tableName;
});

describe.each(PROVIDER_IDS)("%s: every accepted webhook is applied by the consumer against DynamoDB Local", (provider) => {
  it("never fails a record, and the history holds the event", async () => {
    const logger = recordingLogger();
    const handler = createConsumerHandler({ store: dynamoStore(documents, { tableName }), logger, metrics: recordingMetrics() });
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(shaped(provider), hostile), async (value) => {
        const json =
          provider === "neurovision"
            ? {
                ...(typeof value === "object" && value !== null && !Array.isArray(value) ? value : {}),
                sessionId: crypto.randomUUID(),
                status: "wait",
                clientKey: null,
              }
            : value;
        const request = signWebhook(provider, JSON.stringify(json), "storable-secret");
        const result = receipt(provider, request.body, request.headers, { secrets: ["storable-secret"] });
        expect(result.kind).toBe("accepted");
        if (result.kind !== "accepted") return;
        n += 1;
        const response = await handler({ Records: [sqsRecord(sqsMessageBody(result.event), `m-${n}`, `g-${n}`)] }, {} as never);
        expect(response.batchItemFailures).toEqual([]);
        const view = await getVerification(documents, tableName, result.event.correlationId);
        expect(view?.history.map((h) => h.eventId)).toContain(result.event.eventId);
      }),
      { numRuns: 60 },
    );
    expect(logger.lines.join("\n")).not.toMatch(/PII-|event failed/);
  }, 60_000);
});
