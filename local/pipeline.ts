/**
 * The local pipeline behind `npm start`: the same handler code as in Lambda, wired to
 * DynamoDB Local (Java 17+, in memory) and an in-process SQS-compatible server, with a poller
 * standing in for the SQS event source mapping and an HTTP server standing in for API Gateway.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { TABLE } from "../lambdas/core/table.js";
import { createConsumerHandler } from "../lambdas/consumer/consumer.js";
import { dynamoStore } from "../lambdas/consumer/store.js";
import type { Env } from "../lambdas/core/config.js";
import { optionsFromEnv } from "../lambdas/ingest/config.js";
import { sqsEnqueuer } from "../lambdas/ingest/enqueue.js";
import type { AppLogger } from "../lambdas/core/logger.js";
import { createIngestHandler, type IngestHandler, MAX_BODY_BYTES } from "../lambdas/ingest/ingest.js";
import { type HttpResult, responses } from "../lambdas/ingest/responses.js";
import { parseSecretCsv, staticSource } from "../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../lambdas/providers/index.js";
import { createPublisherHandler } from "../lambdas/publisher/publisher.js";
import { createReadHandler } from "../lambdas/read/read.js";
import { EVENTS_VISIBILITY_TIMEOUT_SECONDS, PIPELINE_SETTINGS, PUBLISHER_SETTINGS } from "../lib/settings.js";
import { createVerificationsTable, type LocalDynamoDb, startDynamoDbLocal } from "./dynamodb.js";
import { type Poller, startPoller } from "./poller.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "./sqs.js";
import { startStreamPoller } from "./stream-poller.js";

/** Environment variable holding each provider's comma-separated secret list. */
export const SECRET_ENV: Readonly<Record<ProviderId, string>> = {
  veriff: "VERIFF_WEBHOOK_SECRET",
  idngo: "IDNGO_WEBHOOK_SECRET",
  idbeyond: "IDBEYOND_WEBHOOK_SECRET",
  neurovision: "NEUROVISION_WEBHOOK_SECRET",
};

/** The status-changes queue's name in the local SQS server. */
export const STATUS_CHANGES_QUEUE_NAME = "status-changes.fifo";

/** The local SQS server's port: $SQS_PORT, else the HTTP port + 1 (3001 by default). */
export function localSqsPort(env: Env): number {
  const raw = env["SQS_PORT"];
  if (raw !== undefined && raw !== "") return Number(raw);
  const http = Number(env["PORT"] ?? 3000);
  return http === 0 ? 0 : http + 1;
}

/** Local-only defaults, printed at start; never use them in a deployment. */
export const DEFAULT_SECRETS: Readonly<Record<ProviderId, string>> = {
  veriff: "local-veriff-secret",
  idngo: "local-idngo-secret",
  idbeyond: "local-idbeyond-secret",
  neurovision: "local-neurovision-secret",
};

export interface SecretConfig {
  readonly secrets: readonly string[];
  readonly fromDefault: boolean;
}

export function secretsFromEnv(env: Env): Readonly<Record<ProviderId, SecretConfig>> {
  const entries = PROVIDER_IDS.map((id) => {
    const raw = env[SECRET_ENV[id]];
    const fromEnv = raw === undefined ? [] : parseSecretCsv(raw);
    return [id, fromEnv.length > 0 ? { secrets: fromEnv, fromDefault: false } : { secrets: [DEFAULT_SECRETS[id]], fromDefault: true }];
  });
  return Object.fromEntries(entries) as Record<ProviderId, SecretConfig>;
}

export interface PipelineOptions {
  /** HTTP port on 127.0.0.1; 0 picks a free one. */
  readonly port: number;
  /** Port of the local SQS server (status-changes queue for your own consumers); 0 picks a free one. */
  readonly sqsPort: number;
  readonly env: Env;
  readonly logger: AppLogger;
  /** Overrides for tests (the defaults are the stack's). */
  readonly visibilityTimeoutSeconds?: number;
  readonly pollWaitSeconds?: number;
}

export interface LocalPipeline {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly statusChangesQueueUrl: string;
  readonly secrets: Readonly<Record<ProviderId, SecretConfig>>;
  stop(): Promise<void>;
}

const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

class TooLarge extends Error {}

/** Reads the raw body; stops reading past API Gateway's own payload limit. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > API_GATEWAY_MAX_BYTES) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The API Gateway HTTP API (payload v2) event for a request, as API Gateway builds it. */
function toApiGatewayEvent(req: IncomingMessage, body: Buffer, url: URL): APIGatewayProxyEventV2 {
  let text: string | undefined;
  try {
    text = utf8.decode(body);
  } catch {
    text = undefined; // not UTF-8: API Gateway hands such bodies over base64-encoded
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
  }
  const method = req.method ?? "GET";
  const now = new Date();
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName: url.hostname,
      domainPrefix: "local",
      http: { method, path: url.pathname, protocol: `HTTP/${req.httpVersion}`, sourceIp: req.socket.remoteAddress ?? "", userAgent: headers["user-agent"] ?? "" },
      requestId: crypto.randomUUID(),
      routeKey: "$default",
      stage: "$default",
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0 ? { body: text ?? body.toString("base64"), isBase64Encoded: text === undefined } : { isBase64Encoded: false }),
  };
}

function send(res: ServerResponse, result: HttpResult): void {
  res.writeHead(result.statusCode, { "content-type": "application/json", ...(result.headers as Record<string, string> | undefined) });
  res.end(result.body);
}

const json = (statusCode: number, body: unknown): HttpResult => ({ statusCode, body: JSON.stringify(body) });

export async function startPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  const { env, logger } = options;
  const providerOptions = optionsFromEnv(env);
  const secrets = secretsFromEnv(env);
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? EVENTS_VISIBILITY_TIMEOUT_SECONDS;

  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
  };

  try {
    const dynamo: LocalDynamoDb = await startDynamoDbLocal();
    stack.push(() => dynamo.stop());
    const sqs: LocalSqs = await startLocalSqs(options.sqsPort);
    stack.push(() => sqs.close());

    await createVerificationsTable(dynamo.client, TABLE.name);
    const { queueUrl, dlqUrl } = await createFifoQueueWithDlq(sqs.client, {
      name: "verification-events.fifo",
      visibilityTimeoutSeconds,
      maxReceiveCount: PIPELINE_SETTINGS.maxReceiveCount,
    });
    // Same names as the stack's queues would have, so local consumers look them up by name.
    const statusChanges = await createFifoQueueWithDlq(sqs.client, {
      name: STATUS_CHANGES_QUEUE_NAME,
      visibilityTimeoutSeconds: EVENTS_VISIBILITY_TIMEOUT_SECONDS,
      maxReceiveCount: PIPELINE_SETTINGS.maxReceiveCount,
    });
    const queueArn =
      (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.["QueueArn"] ?? "";

    const documents = DynamoDBDocumentClient.from(dynamo.client, { marshallOptions: { removeUndefinedValues: true } });
    const enqueue = sqsEnqueuer(sqs.client, queueUrl);
    const ingest = Object.fromEntries(
      PROVIDER_IDS.map((id) => [
        id,
        createIngestHandler({ provider: PROVIDERS[id], options: providerOptions, secrets: staticSource(secrets[id].secrets), enqueue, logger }),
      ]),
    ) as Record<ProviderId, IngestHandler>;
    const read = createReadHandler({ documents, tableName: TABLE.name });

    const poller: Poller = startPoller({
      sqs: sqs.client,
      queueUrl,
      queueArn,
      handler: createConsumerHandler({ store: dynamoStore(documents, { tableName: TABLE.name }), logger }),
      visibilityTimeoutSeconds,
      batchSize: PIPELINE_SETTINGS.consumerBatchSize,
      waitTimeSeconds: options.pollWaitSeconds ?? 1,
      onError: (error) => logger.error("poller error", { error: error instanceof Error ? error.message : String(error) }),
    });
    stack.push(() => poller.stop());

    // The table's stream feeds the status-change publisher, as Lambda's stream event source does.
    const streamPoller = await startStreamPoller({
      dynamo: dynamo.client,
      endpoint: dynamo.endpoint,
      tableName: TABLE.name,
      handler: createPublisherHandler({ sqs: sqs.client, queueUrl: statusChanges.queueUrl, logger }),
      batchSize: PUBLISHER_SETTINGS.batchSize,
      onError: (error) => logger.error("stream poller error", { error: error instanceof Error ? error.message : String(error) }),
    });
    stack.push(() => streamPoller.stop());

    async function health(): Promise<HttpResult> {
      try {
        await dynamo.client.send(new DescribeTableCommand({ TableName: TABLE.name }));
        await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }));
        return json(200, { status: "ok" });
      } catch {
        return json(503, { status: "unavailable" });
      }
    }

    async function route(req: IncomingMessage, url: URL): Promise<HttpResult> {
      const segments = url.pathname.split("/").filter(Boolean);
      if (segments[0] === "webhooks" && segments.length === 2) {
        if (req.method !== "POST") return json(405, { error: "method not allowed" });
        const provider = segments[1];
        if (!isProviderId(provider)) return responses.notFound();
        let body: Buffer;
        try {
          body = await readBody(req);
        } catch (error) {
          if (error instanceof TooLarge) return responses.tooLarge(MAX_BODY_BYTES);
          throw error;
        }
        return ingest[provider](toApiGatewayEvent(req, body, url));
      }
      if (segments[0] === "verifications") return read(toApiGatewayEvent(req, Buffer.alloc(0), url));
      if (url.pathname === "/health" && req.method === "GET") return health();
      return json(404, { error: "not found" });
    }

    const server: Server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      route(req, url)
        .then((result) => send(res, result))
        .catch((error: unknown) => {
          logger.error("local server error", { error: error instanceof Error ? error.name : typeof error });
          send(res, responses.internalError());
        });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, "127.0.0.1", resolve);
    });
    stack.push(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    );

    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      queueUrl,
      dlqUrl,
      statusChangesQueueUrl: statusChanges.queueUrl,
      secrets,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
