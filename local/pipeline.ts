/**
 * The local pipeline behind `npm start`: the same handler code as in Lambda, wired to
 * DynamoDB Local (Java 17+, in memory) and an in-process SQS-compatible server, with a poller
 * standing in for the SQS event source mapping and an HTTP server standing in for API Gateway.
 *
 * Everything is in memory: a stop (or a crash) loses what was accepted but not yet applied. The
 * HTTP server passes the exact request bytes (a BOM included) and answers `413` past API
 * Gateway's 10 MiB without breaking the connection; `GET /health` checks every part in parallel,
 * each within its own time limit (see `healthCheck`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { TABLE } from "../lambdas/core/table.js";
import { createConsumerHandler } from "../lambdas/consumer/consumer.js";
import { dynamoStore } from "../lambdas/consumer/store.js";
import type { Env } from "../lambdas/core/config.js";
import { optionsFromEnv } from "../lambdas/ingest/config.js";
import { sqsEnqueuer } from "../lambdas/ingest/enqueue.js";
import { describeError } from "../lambdas/core/errors.js";
import type { AppLogger } from "../lambdas/core/logger.js";
import { createIngestHandler, type IngestHandler, MAX_BODY_BYTES } from "../lambdas/ingest/ingest.js";
import type { HttpResult } from "../lambdas/core/http.js";
import { responses } from "../lambdas/ingest/responses.js";
import { parseSecretCsv, staticSource } from "../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../lambdas/providers/index.js";
import { createPublisherHandler } from "../lambdas/publisher/publisher.js";
import { createReadHandler } from "../lambdas/read/read.js";
import { EVENTS_VISIBILITY_TIMEOUT_SECONDS, PIPELINE_SETTINGS, PUBLISHER_SETTINGS } from "../lib/settings.js";
import { createVerificationsTable, type LocalDynamoDb, startDynamoDbLocal } from "./dynamodb.js";
import { type Poller, startPoller } from "./poller.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "./sqs.js";
import { startStreamPoller, type StreamPoller } from "./stream-poller.js";

/** Environment variable holding each provider's comma-separated secret list. */
export const SECRET_ENV: Readonly<Record<ProviderId, string>> = {
  veriff: "VERIFF_WEBHOOK_SECRET",
  idngo: "IDNGO_WEBHOOK_SECRET",
  idbeyond: "IDBEYOND_WEBHOOK_SECRET",
  neurovision: "NEUROVISION_WEBHOOK_SECRET",
};

/** The status-changes queue's name in the local SQS server. */
export const STATUS_CHANGES_QUEUE_NAME = "status-changes.fifo";

/** The publisher's failure queue (standard, as Lambda's stream on-failure destination must be). */
export const PUBLISHER_FAILURES_QUEUE_NAME = "publisher-failures";

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
  /** Age after which the stream poller gives a failing record up (default: the stack's 12 hours). */
  readonly maxRecordAgeMs?: number;
  readonly health?: Partial<HealthSettings>;
}

export interface HealthSettings {
  /** Each check's own time limit; they run in parallel, so /health answers within about this long. */
  readonly checkTimeoutMs: number;
  /** A poller whose loop made no progress for this long is not working. */
  readonly staleAfterMs: number;
  /** A poller retrying the same record (or message) for this long is not working. */
  readonly stuckAfterMs: number;
}

export interface LocalPipeline {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly statusChangesQueueUrl: string;
  /** Records the publisher could not turn into a message, and records the stream poller gave up. */
  readonly publisherFailuresQueueUrl: string;
  /** The DynamoDB Local JVM's process id. */
  readonly dynamoPid: number;
  readonly secrets: Readonly<Record<ProviderId, SecretConfig>>;
  stop(): Promise<void>;
}

const API_GATEWAY_MAX_BYTES = 10 * 1024 * 1024;

/** Past this much body after a 413, the sender's connection is closed (only that one). */
const MAX_DISCARDED_BYTES = 4 * API_GATEWAY_MAX_BYTES;

/**
 * Reads the raw body, or answers "too large" as soon as it passes API Gateway's payload limit.
 * The request stream is never abandoned: past the limit the rest of the body is still read and
 * dropped, so the connection stays in step and remains usable (keep-alive) once the request ends.
 * Leaving a `for await` loop early would destroy the request, i.e. its socket: the 413 could be
 * lost and the client's pooled keep-alive connection would be reset under its next request.
 */
function readBody(req: IncomingMessage): Promise<Buffer | "too large"> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      outcome();
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (!settled && size > API_GATEWAY_MAX_BYTES) {
        chunks.length = 0;
        settle(() => resolve("too large"));
      } else if (!settled) {
        chunks.push(chunk);
      } else if (size > API_GATEWAY_MAX_BYTES + MAX_DISCARDED_BYTES) {
        req.socket.destroy(); // a sender that ignores the 413 for that long loses its own connection
      }
    });
    req.once("end", () => settle(() => resolve(Buffer.concat(chunks))));
    req.once("error", (error) => settle(() => reject(error)));
    req.once("close", () => settle(() => reject(new Error("request closed before its end"))));
  });
}

// ignoreBOM: a leading BOM stays in the text, so the handler gets exactly the bytes that were sent.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

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
    const publisherFailuresQueueUrl =
      (await sqs.client.send(new CreateQueueCommand({ QueueName: PUBLISHER_FAILURES_QUEUE_NAME }))).QueueUrl ?? "";
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
    const read = createReadHandler({ documents, tableName: TABLE.name, logger });

    const poller: Poller = startPoller({
      sqs: sqs.client,
      queueUrl,
      queueArn,
      handler: createConsumerHandler({ store: dynamoStore(documents, { tableName: TABLE.name }), logger }),
      visibilityTimeoutSeconds,
      batchSize: PIPELINE_SETTINGS.consumerBatchSize,
      waitTimeSeconds: options.pollWaitSeconds ?? 1,
      onError: (error) => logger.error("poller error", describeError(error)),
    });
    stack.push(() => poller.stop());

    // The table's stream feeds the status-change publisher, as Lambda's stream event source does.
    const streamPoller = await startStreamPoller({
      dynamo: dynamo.client,
      endpoint: dynamo.endpoint,
      tableName: TABLE.name,
      handler: createPublisherHandler({ sqs: sqs.client, queueUrl: statusChanges.queueUrl, failuresQueueUrl: publisherFailuresQueueUrl, logger }),
      onFailure: { sqs: sqs.client, queueUrl: publisherFailuresQueueUrl },
      batchSize: PUBLISHER_SETTINGS.batchSize,
      ...(options.maxRecordAgeMs === undefined ? {} : { maxRecordAgeMs: options.maxRecordAgeMs }),
      onError: (error) => logger.error("stream poller error", describeError(error)),
      onGiveUp: (info) =>
        logger.error("stream record given up after the max record age: reported to the publisher failures queue", {
          shardId: info.shardId,
          sequenceNumber: info.startSequenceNumber,
        }),
    });
    stack.push(() => streamPoller.stop());

    const health = healthCheck({
      settings: {
        checkTimeoutMs: options.health?.checkTimeoutMs ?? 700,
        // The consumer's loop beats once per long poll: allow one wait and then some.
        staleAfterMs: options.health?.staleAfterMs ?? (options.pollWaitSeconds ?? 1) * 1000 + 3_000,
        stuckAfterMs: options.health?.stuckAfterMs ?? 30_000,
      },
      dynamo: (signal) => dynamo.client.send(new DescribeTableCommand({ TableName: TABLE.name }), { abortSignal: signal }),
      queueDepth: async (url, signal) => {
        const answer = await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }), {
          abortSignal: signal,
        });
        return Number(answer.Attributes?.["ApproximateNumberOfMessages"] ?? "0");
      },
      queues: { events: queueUrl, eventsDlq: dlqUrl, statusChanges: statusChanges.queueUrl, publisherFailures: publisherFailuresQueueUrl },
      consumer: poller,
      publisher: streamPoller,
    });

    async function route(req: IncomingMessage, url: URL): Promise<HttpResult> {
      const segments = url.pathname.split("/").filter(Boolean);
      if (segments[0] === "webhooks" && segments.length === 2) {
        if (req.method !== "POST") return json(405, { error: "method not allowed" });
        const provider = segments[1];
        if (!isProviderId(provider)) return responses.notFound();
        const body = await readBody(req);
        if (body === "too large") return responses.tooLarge(MAX_BODY_BYTES);
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
          logger.error("local server error", describeError(error));
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
      publisherFailuresQueueUrl,
      dynamoPid: dynamo.pid,
      secrets,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

interface CheckResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly [detail: string]: unknown;
}

/** `fn` within `timeoutMs` (aborted past it), as a check result; never throws. */
async function timed(timeoutMs: number, fn: (signal: AbortSignal) => Promise<Record<string, unknown>>): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, error: "timeout" });
    }, timeoutMs);
  });
  const run = fn(controller.signal).then(
    (details): CheckResult => ({ ok: true, ...details }),
    (error: unknown): CheckResult => ({ ok: false, error: error instanceof Error ? error.name : typeof error }),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PollerState {
  readonly heartbeatAt: number;
  readonly retrying: { readonly attempts: number; readonly since: number } | null;
}

/** A poller works when its loop made progress lately and it is not stuck retrying one record (or message). */
function pollerCheck(state: PollerState, settings: HealthSettings, id: Record<string, string>, extra: Record<string, unknown> = {}): CheckResult {
  const now = Date.now();
  const idleMs = now - state.heartbeatAt;
  const retryingMs = state.retrying === null ? 0 : now - state.retrying.since;
  const details = {
    lastProgressMsAgo: idleMs,
    ...extra,
    retrying: state.retrying === null ? null : { ...id, retries: state.retrying.attempts, forMs: retryingMs },
  };
  if (idleMs > settings.staleAfterMs) return { ok: false, error: `no progress for ${idleMs} ms`, ...details };
  if (retryingMs > settings.stuckAfterMs) return { ok: false, error: `retrying one record for ${retryingMs} ms`, ...details };
  return { ok: true, ...details };
}

/**
 * `GET /health`: every part checked in parallel, each within its own time limit, so the answer
 * comes within about `checkTimeoutMs` even when a part hangs (e.g. a frozen DynamoDB Local).
 * 200 when all work, else 503 naming the parts that do not. Also reports the events DLQ depth,
 * the publisher failures queue depth and the publisher's backlog.
 */
function healthCheck(deps: {
  settings: HealthSettings;
  dynamo: (signal: AbortSignal) => Promise<unknown>;
  queueDepth: (queueUrl: string, signal: AbortSignal) => Promise<number>;
  queues: { events: string; eventsDlq: string; statusChanges: string; publisherFailures: string };
  consumer: Poller;
  publisher: StreamPoller;
}): () => Promise<HttpResult> {
  const { settings, queues } = deps;
  return async () => {
    const [dynamodb, sqs] = await Promise.all([
      timed(settings.checkTimeoutMs, async (signal) => {
        await deps.dynamo(signal);
        return {};
      }),
      timed(settings.checkTimeoutMs, async (signal) => {
        const [events, eventsDlq, statusChanges, publisherFailures] = await Promise.all(
          [queues.events, queues.eventsDlq, queues.statusChanges, queues.publisherFailures].map((url) => deps.queueDepth(url, signal)),
        );
        return { messages: { events, eventsDlq, statusChanges, publisherFailures } };
      }),
    ]);
    const consumer = deps.consumer.status();
    const publisher = deps.publisher.status();
    const checks = {
      dynamodb,
      sqs,
      consumer: pollerCheck(consumer, settings, { messageId: consumer.retrying?.messageId ?? "" }),
      publisher: pollerCheck(publisher, settings, { sequenceNumber: publisher.retrying?.sequenceNumber ?? "" }, {
        backlog: publisher.backlog,
        givenUp: publisher.givenUp,
      }),
    };
    const ok = Object.values(checks).every((check) => check.ok);
    const messages = sqs["messages"] as { eventsDlq?: number; publisherFailures?: number } | undefined;
    return json(ok ? 200 : 503, {
      status: ok ? "ok" : "unavailable",
      checks,
      eventsDlqMessages: messages?.eventsDlq ?? null,
      publisherBacklog: publisher.backlog,
    });
  };
}
