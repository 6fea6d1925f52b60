/**
 * The local pipeline behind `npm start`: the same functions as in Lambda, built by the same deps
 * builders from an environment that says what the stack would (queue URLs, table name, secrets),
 * wired to DynamoDB Local (Java 17+, in memory) and an in-process SQS-compatible server, with
 * pollers standing in for Lambda's event source mappings and an HTTP server standing in for API
 * Gateway (local/http-server.ts).
 *
 * Everything is in memory: a stop (or a crash) loses what was accepted but not yet applied.
 */
import type { IncomingMessage } from "node:http";
import { DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { createConsumerHandler } from "../lambdas/consumer/consumer.js";
import { buildConsumerDeps } from "../lambdas/consumer/deps.js";
import { ConfigError, type Env, parseWholeNumber } from "../lambdas/core/config.js";
import { CONSUMER, DEFAULTS, ENV, PUBLISHER, QUEUES, ROUTES, SERVICES, secretEnvOf, TABLE } from "../lambdas/core/contract.js";
import { createDocumentClient } from "../lambdas/core/document-client.js";
import { describeError } from "../lambdas/core/errors.js";
import { isProviderId, PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { type HttpResult, json } from "../lambdas/core/http.js";
import type { AppLogger } from "../lambdas/core/logger.js";
import { type AppMetrics, powertoolsMetrics } from "../lambdas/core/metrics.js";
import { buildIngestDeps } from "../lambdas/ingest/deps.js";
import { createIngestHandler, type IngestHandler } from "../lambdas/ingest/ingest.js";
import { responses } from "../lambdas/ingest/responses.js";
import { parseSecretCsv } from "../lambdas/ingest/secrets.js";
import { buildPublisherDeps } from "../lambdas/publisher/deps.js";
import { createPublisherHandler } from "../lambdas/publisher/publisher.js";
import { buildReadDeps } from "../lambdas/read/deps.js";
import { createReadHandler } from "../lambdas/read/read.js";
import { buildReconcilerDeps } from "../lambdas/reconciler/deps.js";
import type { PoliteFetchOptions } from "../lambdas/reconciler/polite-fetch.js";
import { reconcileOptionsOf } from "../lambdas/reconciler/request.js";
import { createVerificationsTable, type LocalDynamoDb, startDynamoDbLocal } from "./dynamodb.js";
import { type HealthSettings, healthCheck } from "./health.js";
import { type RequestTarget, readBody, serve, toApiGatewayEvent } from "./http-server.js";
import { type Poller, startPoller } from "./poller.js";
import { createFifoQueueWithDlq, type LocalSqs, startLocalSqs } from "./sqs.js";
import { startStreamPoller } from "./stream-poller.js";

export type { HealthSettings } from "./health.js";

/** The local status-changes queue's name (what `npm run changes` and your own consumers look up). */
export const STATUS_CHANGES_QUEUE_NAME = `${QUEUES.statusChanges.nameStem}.fifo`;

/** The local publisher failures queue's name (standard, as Lambda's stream on-failure destination must be). */
export const PUBLISHER_FAILURES_QUEUE_NAME = QUEUES.publisherFailures.nameStem;

/** The local HTTP port: $PORT, else 3000. */
export function localPort(env: Env): number {
  return parseWholeNumber("PORT", env["PORT"], DEFAULTS.localPort, { max: 65_535 });
}

/** The local SQS server's port: $SQS_PORT, else the HTTP port + 1 (3001 by default; 0, a free one, when PORT is 0). */
export function localSqsPort(env: Env): number {
  const http = localPort(env);
  const port = parseWholeNumber("SQS_PORT", env["SQS_PORT"], http === 0 ? 0 : http + 1, { max: 65_535 });
  if (port > 65_535) throw new ConfigError(`SQS_PORT is not set and its default, the HTTP port + 1, would be ${port}: set SQS_PORT`);
  return port;
}

/** Local-only defaults, printed at start; never use them in a deployment. */
export const defaultSecretOf = (provider: ProviderId): string => `local-${provider}-secret`;

export interface SecretConfig {
  readonly secrets: readonly string[];
  readonly fromDefault: boolean;
}

/** Each provider's secrets: `{PROVIDER}_WEBHOOK_SECRET` (comma-separated), else the local default. */
export function secretsFromEnv(env: Env): Readonly<Record<ProviderId, SecretConfig>> {
  const entries = PROVIDER_IDS.map((id) => {
    const fromEnv = parseSecretCsv(env[secretEnvOf(id)] ?? "");
    return [id, fromEnv.length > 0 ? { secrets: fromEnv, fromDefault: false } : { secrets: [defaultSecretOf(id)], fromDefault: true }];
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
  /** Each function's metrics (default: Powertools EMF lines on stdout, as in Lambda). */
  readonly metricsFor?: (serviceName: string) => AppMetrics;
  /** Each function's logger, by its service name (default: `logger` for all), e.g. one Powertools Logger per function. */
  readonly loggerFor?: (serviceName: string) => AppLogger;
  /**
   * Called once with the SDK clients the functions and pollers use, before the first of their
   * requests (the table and queues exist by then): e.g. to add counting middleware (npm run bench).
   */
  readonly instrumentClients?: (clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient }) => void;
  /** The reconciler's fetchers (tests: short retry delays); the pacing defaults are RECONCILER's. */
  readonly reconcilerFetchOptions?: PoliteFetchOptions;
  /** The reconciler's clock (tests: a day ahead, so that what was just applied is already "stuck"). */
  readonly reconcilerClock?: () => Date;
}

export interface LocalPipeline {
  readonly url: string;
  readonly dynamoEndpoint: string;
  readonly sqsEndpoint: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly statusChangesQueueUrl: string;
  readonly statusChangesDlqUrl: string;
  /** Records the publisher could not turn into a message, and records the stream poller gave up. */
  readonly publisherFailuresQueueUrl: string;
  /** The DynamoDB Local JVM's process id. */
  readonly dynamoPid: number;
  readonly secrets: Readonly<Record<ProviderId, SecretConfig>>;
  stop(): Promise<void>;
}

export async function startPipeline(options: PipelineOptions): Promise<LocalPipeline> {
  const { env, logger } = options;
  const metricsFor = options.metricsFor ?? powertoolsMetrics;
  const loggerFor = options.loggerFor ?? (() => logger);
  const secrets = secretsFromEnv(env);
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? QUEUES.events.visibilityTimeoutSeconds;

  const stack: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stack.reverse()) await stop().catch(() => undefined);
  };

  try {
    const dynamo: LocalDynamoDb = await startDynamoDbLocal();
    stack.push(() => dynamo.stop());
    const sqs: LocalSqs = await startLocalSqs(options.sqsPort).catch((error: unknown) => {
      throw new Error(`the local SQS server could not listen on SQS_PORT ${options.sqsPort}: ${describeError(error).errorMessage}`);
    });
    stack.push(() => sqs.close());

    await createVerificationsTable(dynamo.client, TABLE.name);
    const events = await createFifoQueueWithDlq(sqs.client, { ...QUEUES.events, visibilityTimeoutSeconds });
    const statusChanges = await createFifoQueueWithDlq(sqs.client, QUEUES.statusChanges);
    const publisherFailuresQueueUrl =
      (await sqs.client.send(new CreateQueueCommand({ QueueName: PUBLISHER_FAILURES_QUEUE_NAME }))).QueueUrl ?? "";
    const queueArn =
      (await sqs.client.send(new GetQueueAttributesCommand({ QueueUrl: events.queueUrl, AttributeNames: ["QueueArn"] }))).Attributes?.[
        "QueueArn"
      ] ?? "";

    // What the stack sets on the functions, here: the same deps builders read it.
    const functionEnv: Env = {
      ...env,
      ...Object.fromEntries(PROVIDER_IDS.map((id) => [secretEnvOf(id), secrets[id].secrets.join(",")])),
      [ENV.webhookSecretsArn]: undefined,
      [ENV.eventsQueueUrl]: events.queueUrl,
      [ENV.tableName]: TABLE.name,
      [ENV.statusChangesQueueUrl]: statusChanges.queueUrl,
      [ENV.publisherFailuresQueueUrl]: publisherFailuresQueueUrl,
    };
    options.instrumentClients?.({ dynamodb: dynamo.client, sqs: sqs.client });
    const documents = createDocumentClient(dynamo.client);
    const ingest = Object.fromEntries(
      PROVIDER_IDS.map((id) => [
        id,
        createIngestHandler(
          buildIngestDeps(
            { ...functionEnv, [ENV.providerId]: id },
            { sqs: sqs.client, logger: loggerFor(SERVICES.ingest(id)), metrics: metricsFor(SERVICES.ingest(id)) },
          ),
        ),
      ]),
    ) as Record<ProviderId, IngestHandler>;
    const read = createReadHandler(buildReadDeps(functionEnv, { documents, logger: loggerFor(SERVICES.read) }));
    // The reconciler runs when asked (`npm run kyc -- reconcile`: POST /reconcile), not on a schedule.
    const reconciler = buildReconcilerDeps(functionEnv, {
      documents,
      sqs: sqs.client,
      logger: loggerFor(SERVICES.reconciler),
      metrics: metricsFor(SERVICES.reconciler),
      ...(options.reconcilerFetchOptions === undefined ? {} : { fetchOptions: options.reconcilerFetchOptions }),
      ...(options.reconcilerClock === undefined ? {} : { now: options.reconcilerClock }),
    });

    const poller: Poller = startPoller({
      sqs: sqs.client,
      queueUrl: events.queueUrl,
      queueArn,
      handler: createConsumerHandler(
        buildConsumerDeps(functionEnv, { documents, logger: loggerFor(SERVICES.consumer), metrics: metricsFor(SERVICES.consumer) }),
      ),
      visibilityTimeoutSeconds,
      batchSize: CONSUMER.batchSize,
      maxConcurrency: CONSUMER.maxConcurrency,
      waitTimeSeconds: options.pollWaitSeconds ?? 1,
      functionName: SERVICES.consumer,
      onError: (error) => logger.error("poller error", describeError(error)),
    });
    stack.push(() => poller.stop());

    // The table's stream feeds the status-change publisher, as Lambda's stream event source does.
    const streamPoller = await startStreamPoller({
      dynamo: dynamo.client,
      endpoint: dynamo.endpoint,
      tableName: TABLE.name,
      handler: createPublisherHandler(
        buildPublisherDeps(functionEnv, {
          sqs: sqs.client,
          logger: loggerFor(SERVICES.publisher),
          metrics: metricsFor(SERVICES.publisher),
        }),
      ),
      onFailure: { sqs: sqs.client, queueUrl: publisherFailuresQueueUrl },
      batchSize: PUBLISHER.batchSize,
      maxRecordAgeMs: options.maxRecordAgeMs ?? PUBLISHER.maxRecordAgeHours * 3_600_000,
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
        const answer = await sqs.client.send(
          new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["ApproximateNumberOfMessages"] }),
          {
            abortSignal: signal,
          },
        );
        return Number(answer.Attributes?.["ApproximateNumberOfMessages"] ?? "0");
      },
      queues: {
        events: events.queueUrl,
        eventsDlq: events.dlqUrl,
        statusChanges: statusChanges.queueUrl,
        statusChangesDlq: statusChanges.dlqUrl,
        publisherFailures: publisherFailuresQueueUrl,
      },
      consumer: poller,
      publisher: streamPoller,
    });

    /** The routes of the HTTP API (ROUTES), plus `/health`, on the path as sent (as API Gateway routes). */
    async function route(req: IncomingMessage, target: RequestTarget): Promise<HttpResult> {
      const { path } = target;
      if (path.startsWith(ROUTES.webhookPrefix)) {
        const provider = path.slice(ROUTES.webhookPrefix.length);
        if (provider.includes("/")) return json(404, { error: "not found" });
        if (req.method !== "POST") return json(405, { error: "method not allowed" });
        if (!isProviderId(provider)) return responses.notFound();
        const body = await readBody(req);
        if (body === "too large") return responses.tooLarge(DEFAULTS.maxBodyBytes);
        return ingest[provider](toApiGatewayEvent(req, body, target));
      }
      if (path === ROUTES.verifications || path.startsWith(`${ROUTES.verifications}/`)) {
        return read(toApiGatewayEvent(req, Buffer.alloc(0), target));
      }
      if (path === ROUTES.health && req.method === "GET") return health();
      if (path === ROUTES.reconcile) {
        if (req.method !== "POST") return json(405, { error: "method not allowed" });
        const body = await readBody(req);
        if (body === "too large") return json(413, { error: "request too large" });
        let request: unknown;
        try {
          request = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
        } catch {
          return json(400, { error: "the request is not JSON" });
        }
        let passOptions: ReturnType<typeof reconcileOptionsOf>;
        try {
          passOptions = reconcileOptionsOf(request, reconciler.defaults);
        } catch (error) {
          return json(400, { error: describeError(error).errorMessage });
        }
        return json(200, await reconciler.reconcile(passOptions));
      }
      return json(404, { error: "not found" });
    }

    const server = await serve(options.port, route, logger);
    stack.push(server.close);

    return {
      url: server.url,
      dynamoEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      queueUrl: events.queueUrl,
      dlqUrl: events.dlqUrl,
      statusChangesQueueUrl: statusChanges.queueUrl,
      statusChangesDlqUrl: statusChanges.dlqUrl,
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
