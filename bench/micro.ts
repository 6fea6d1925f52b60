/**
 * Bench phase 2 (a child process of bench/run.ts; the functions' log and EMF lines are built as in
 * Lambda and counted in process): the per-request CPU cost of the handlers next to their floors,
 * interleaved in this one process, medians of repeated runs. Results go back over IPC.
 *
 * Ingest, per provider, on a ~2 KiB body from an API Gateway payload-v2 event:
 * - floor: the provider's HMAC-SHA256 of the body (NeuroVision: the AES-256-CBC decryption of its
 *   ciphertext, key already derived) plus one JSON.parse;
 * - handler: the whole entry point as lambdas/ingest/handler.ts composes it (withLambdaContext around
 *   createIngestHandler with buildIngestDeps' deps: the provider, its options from the deployed
 *   environment, the Secrets Manager source through Powertools' cache, sqsEnqueuer building the
 *   SendMessage input, a Powertools Logger at the deployed level, powertoolsMetrics writing its EMF
 *   line), the network stubbed in process: the SQS client's `send` answers at once. With one secret,
 *   and with two (the matching one second, then first: ingest tries the secret that matched last
 *   first, so both are a rotation's steady state; and signed by each in turn, the worst case);
 * - handlerSdk: the same with a real SQSClient whose request handler answers in process, for
 *   reference: the SDK's serialization, SigV4 signing and answer checks, which no floor includes;
 * - receive: the pure part alone (authenticate, parse, normalize, bound), for reference.
 *
 * Consumer, on an SQS batch of the event source's size (one event per verification, each moving an
 * existing state):
 * - floor: the SDK calls the store makes per event (the GetItem and the write(s), as recorded from the
 *   handler's own run), replayed through a raw DynamoDBClient on the same in-process DynamoDB;
 * - handler: the whole entry point (withLambdaContext around createConsumerHandler with
 *   buildConsumerDeps' deps on a document client over that DynamoDBClient).
 *
 * Usage: node --import tsx bench/micro.ts <facts.json> [rounds]
 */
import { createDecipheriv, createHash, createHmac, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { Logger } from "@aws-lambda-powertools/logger";
import { DEFAULT_PROVIDERS } from "@aws-lambda-powertools/parameters/base";
import { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { createConsumerHandler } from "../lambdas/consumer/consumer.js";
import { buildConsumerDeps } from "../lambdas/consumer/deps.js";
import { ENV } from "../lambdas/core/contract.js";
import { createDocumentClient } from "../lambdas/core/document-client.js";
import { type NormalizedEvent, PROVIDER_IDS, type ProviderId, type Status } from "../lambdas/core/event.js";
import { appLogger, withLambdaContext } from "../lambdas/core/lambda.js";
import { powertoolsMetrics } from "../lambdas/core/metrics.js";
import { sqsMessageBody, toSqsId } from "../lambdas/core/sqs-message.js";
import { buildIngestDeps } from "../lambdas/ingest/deps.js";
import { createIngestHandler } from "../lambdas/ingest/ingest.js";
import { receive } from "../lambdas/ingest/receive.js";
import { PROVIDERS } from "../lambdas/providers/index.js";
import { optionsFromEnv } from "../lambdas/providers/options.js";
import { sampleSessionId } from "../local/samples.js";
import type { FunctionFacts, StackFacts } from "./lib/facts.js";
import { apiGatewayEvent, lambdaContext, paddedWebhook } from "./lib/payloads.js";
import { interleave, median, medianRatio, type Variant } from "./lib/stats.js";
import { BENCH_CREDENTIALS, BENCH_REGION, dynamoStub, type RecordedCall, secretsManagerStub, sqsStub } from "./lib/stubs.js";

export interface IngestMicro {
  readonly bodyBytes: number;
  readonly floorMicros: number;
  /** The whole entry point, the SQS client's `send` answered in process (the target's measure). */
  readonly handlerMicros: number;
  /** The same with two secrets configured, the matching one listed second (both are tried). */
  readonly handlerTwoSecretsMicros: number;
  /** The same with two secrets, the matching one first (a rotation's steady state: new, old). */
  readonly handlerTwoSecretsMatchFirstMicros: number;
  /**
   * Two secrets, deliveries signed by each in turn (the worst case of a rotation: every request
   * signed by the other secret than the last one, so the last match never helps).
   */
  readonly handlerTwoSecretsAlternatingMicros: number;
  /** The pure part alone: authenticate, parse, normalize, bound. */
  readonly receiveMicros: number;
  /** The whole entry point with the real SQSClient (serialize, sign, parse the answer) over an in-process HTTP handler. */
  readonly handlerWithSdkMicros: number;
  readonly ratioToFloor: number;
  readonly ratioToFloorTwoSecrets: number;
  readonly ratioToFloorTwoSecretsMatchFirst: number;
  readonly ratioToFloorTwoSecretsAlternating: number;
  readonly ratioWithSdkToFloor: number;
}

export interface ConsumerMicro {
  readonly batchSize: number;
  /** Per event. */
  readonly floorMicros: number;
  readonly handlerMicros: number;
  readonly ratioToFloor: number;
  /** The SDK calls per event the floor replays, by operation. */
  readonly floorCallsPerEvent: Readonly<Record<string, number>>;
}

export interface MicroResult {
  readonly rounds: number;
  readonly ingest: Readonly<Record<string, IngestMicro>>;
  readonly consumer: ConsumerMicro;
}

/**
 * The functions' stdout (their log and EMF lines) stubbed in process, as the network is: each line
 * is built as in Lambda and counted here instead of going through a write system call (about 4 µs a
 * line on this machine, to a file or a pipe alike: I/O, which no floor includes either).
 */
const stdout = { lines: 0, bytes: 0 };
process.stdout.write = ((chunk: string | Uint8Array) => {
  stdout.lines += 1;
  stdout.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk) : chunk.length;
  return true;
}) as typeof process.stdout.write;

const [factsPath, roundsArg] = process.argv.slice(2);
if (factsPath === undefined) throw new Error("usage: bench/micro.ts <facts.json> [rounds]");
const facts = JSON.parse(readFileSync(factsPath, "utf8")) as StackFacts;
const ROUNDS = Number(roundsArg ?? 41);
const TARGET_MS = 20;

type Level = "DEBUG" | "INFO" | "WARN" | "ERROR";
const levelOf = (fn: FunctionFacts): Level => {
  const raw = (fn.env[ENV.logLevel] ?? "INFO").toUpperCase();
  return raw === "DEBUG" || raw === "WARN" || raw === "ERROR" ? raw : "INFO";
};
const functionOf = (predicate: (f: FunctionFacts) => boolean): FunctionFacts => {
  const fn = facts.functions.find(predicate);
  if (fn === undefined) throw new Error("the synthesized stack lacks a function the bench needs");
  return fn;
};
const clientConfig = { region: BENCH_REGION, credentials: BENCH_CREDENTIALS, maxAttempts: 3 };

// ---------------------------------------------------------------------------------------------
// Ingest

const secretValues = new Map<string, string>();
DEFAULT_PROVIDERS["secrets"] = new SecretsProvider({
  awsSdkV3Client: new SecretsManagerClient({ ...clientConfig, requestHandler: secretsManagerStub(secretValues) }),
});

/**
 * The network stubbed in process, as the target measures it: an SQS client whose `send` takes the
 * SendMessage input the handler built and answers at once (the SDK's own serialization and request
 * signing are measured separately, `handlerWithSdkMicros`).
 */
const inProcessSqs = {
  send: async (command: { input: { MessageBody?: string } }) => {
    if (typeof command.input.MessageBody !== "string") throw new Error("no message body");
    return { MessageId: "5fea7756-0ea4-451a-a703-a558b933e274", SequenceNumber: "1" };
  },
} as unknown as SQSClient;

const STATUS: Readonly<Record<ProviderId, Status>> = {
  veriff: "approved",
  idngo: "approved",
  idbeyond: "approved",
  neurovision: "approved",
};

interface IngestSetup {
  readonly provider: ProviderId;
  readonly bodyBytes: number;
  readonly variants: readonly Variant[];
}

/** One provider's four variants, each checked once (the handlers must answer 200). */
async function ingestSetup(provider: ProviderId): Promise<IngestSetup> {
  const fn = functionOf((f) => f.role === "ingest" && f.provider === provider);
  const secret = `whsec_${provider}_current_0123456789abcdef`;
  const oldSecret = `whsec_${provider}_previous_fedcba9876543210`;
  const arn = fn.env[ENV.webhookSecretsArn] ?? `arn:aws:secretsmanager:${BENCH_REGION}:123456789012:secret:${provider}`;
  secretValues.set(arn, JSON.stringify([secret]));
  secretValues.set(`${arn}-rotating`, JSON.stringify([oldSecret, secret]));
  secretValues.set(`${arn}-rotated`, JSON.stringify([secret, oldSecret]));
  const logger = new Logger({ serviceName: fn.service, logLevel: levelOf(fn) });
  const sdkSqs = new SQSClient({ ...clientConfig, requestHandler: sqsStub() });
  const handlerWith = (secretsArn: string, sqs: SQSClient = inProcessSqs) =>
    withLambdaContext(
      logger,
      createIngestHandler(
        buildIngestDeps(
          { ...fn.env, [ENV.webhookSecretsArn]: secretsArn },
          { sqs, logger: appLogger(logger), metrics: powertoolsMetrics(fn.service) },
        ),
      ),
    );
  const one = handlerWith(arn);
  const two = handlerWith(`${arn}-rotating`);
  const twoFirst = handlerWith(`${arn}-rotated`);
  const withSdk = handlerWith(arn, sdkSqs);
  const webhook = paddedWebhook(provider, STATUS[provider], secret, {
    sessionId: sampleSessionId(provider),
    userKey: "user-42",
    occurredAt: new Date(),
    attemptId: randomUUID(),
    deliveryId: `req-${randomUUID()}`,
  });
  const event = apiGatewayEvent(provider, webhook.request);
  const oldEvent = apiGatewayEvent(
    provider,
    paddedWebhook(provider, STATUS[provider], oldSecret, {
      sessionId: sampleSessionId(provider),
      userKey: "user-42",
      occurredAt: new Date(),
      attemptId: randomUUID(),
      deliveryId: `req-${randomUUID()}`,
    }).request,
  );
  let alternate = false;
  const context = lambdaContext(fn.functionName, fn.memoryMb);
  for (const handler of [one, two, twoFirst, withSdk]) {
    const answer = await handler(event, context);
    if (answer.statusCode !== 200) throw new Error(`${provider}: the handler answered ${answer.statusCode} ${answer.body}`);
  }

  const body = event.body ?? "";
  let floor: () => unknown;
  if (provider === "neurovision") {
    const data = Buffer.from(String((JSON.parse(body) as { encrypted: string }).encrypted), "base64");
    const key = createHash("sha256").update(secret).digest();
    floor = () => {
      const decipher = createDecipheriv("aes-256-cbc", key, data.subarray(0, 16));
      return JSON.parse(Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString("utf8"));
    };
  } else {
    const signature = Object.values(webhook.request.headers).find((v) => /^[0-9a-f]{64}$/.test(v)) ?? "";
    floor = () => {
      if (createHmac("sha256", secret).update(body).digest("hex") !== signature) throw new Error("floor: signature mismatch");
      return JSON.parse(body);
    };
  }
  const options = optionsFromEnv(fn.env);
  const raw = { body: Buffer.from(body, "utf8"), headers: event.headers as Record<string, string> };
  return {
    provider,
    bodyBytes: Buffer.byteLength(body),
    variants: [
      { name: `${provider} floor`, op: floor },
      { name: `${provider} handler`, op: () => one(event, context) },
      { name: `${provider} handler2`, op: () => two(event, context) },
      { name: `${provider} handler2first`, op: () => twoFirst(event, context) },
      {
        name: `${provider} handler2alternating`,
        op: () => {
          alternate = !alternate;
          return two(alternate ? oldEvent : event, context);
        },
      },
      { name: `${provider} handlerSdk`, op: () => withSdk(event, context) },
      {
        name: `${provider} receive`,
        op: () => receive(PROVIDERS[provider], raw, { secrets: [secret], options }, new Date().toISOString()),
      },
    ],
  };
}

/** All providers' variants interleaved in one series of rounds, so that none is measured colder than another. */
async function ingestMicro(): Promise<Record<string, IngestMicro>> {
  const setups: IngestSetup[] = [];
  for (const provider of PROVIDER_IDS) setups.push(await ingestSetup(provider));
  const runs = await interleave(
    setups.flatMap((s) => s.variants),
    { rounds: ROUNDS, targetMs: TARGET_MS },
  );
  const result: Record<string, IngestMicro> = {};
  for (const { provider, bodyBytes } of setups) {
    const of = (name: string) => runs.get(`${provider} ${name}`) ?? [];
    result[provider] = {
      bodyBytes,
      floorMicros: median(of("floor")),
      handlerMicros: median(of("handler")),
      handlerTwoSecretsMicros: median(of("handler2")),
      handlerTwoSecretsMatchFirstMicros: median(of("handler2first")),
      handlerTwoSecretsAlternatingMicros: median(of("handler2alternating")),
      receiveMicros: median(of("receive")),
      handlerWithSdkMicros: median(of("handlerSdk")),
      ratioToFloor: medianRatio(of("handler"), of("floor")),
      ratioToFloorTwoSecrets: medianRatio(of("handler2"), of("floor")),
      ratioToFloorTwoSecretsMatchFirst: medianRatio(of("handler2first"), of("floor")),
      ratioToFloorTwoSecretsAlternating: medianRatio(of("handler2alternating"), of("floor")),
      ratioWithSdkToFloor: medianRatio(of("handlerSdk"), of("floor")),
    };
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Consumer

/** The DynamoDB operations the floor replays: the read and the write(s) the store makes per event. */
const REPLAYED = new Set(["GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"]);

function replay(client: DynamoDBClient, call: RecordedCall): Promise<unknown> {
  const input = call.input as never;
  switch (call.operation) {
    case "GetItem":
      return client.send(new GetItemCommand(input));
    case "BatchGetItem":
      return client.send(new BatchGetItemCommand(input));
    case "PutItem":
      return client.send(new PutItemCommand(input));
    case "UpdateItem":
      return client.send(new UpdateItemCommand(input));
    case "DeleteItem":
      return client.send(new DeleteItemCommand(input));
    case "TransactWriteItems":
      return client.send(new TransactWriteItemsCommand(input));
    case "BatchWriteItem":
      return client.send(new BatchWriteItemCommand(input));
    default:
      return Promise.resolve();
  }
}

function sqsRecord(event: NormalizedEvent, queueArn: string): SQSRecord {
  const body = sqsMessageBody(event);
  const now = Date.now();
  return {
    messageId: randomUUID(),
    receiptHandle: `AQEB${Buffer.from(randomUUID().repeat(6)).toString("base64")}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(now - 40),
      SenderId: "AROAEXAMPLEROLEID0001:KycWebhookPipeline-VeriffIngest489D364A-srSwbkSsJ6bn",
      ApproximateFirstReceiveTimestamp: String(now),
      SequenceNumber: "18890876543210987654",
      MessageGroupId: toSqsId(event.correlationId),
      MessageDeduplicationId: toSqsId(event.eventId),
    },
    messageAttributes: {},
    md5OfBody: createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: BENCH_REGION,
  };
}

/** Two events per verification, the second moving the state the first created, as ingest makes them. */
function consumerEvents(count: number): { first: NormalizedEvent[]; second: NormalizedEvent[] } {
  const first: NormalizedEvent[] = [];
  const second: NormalizedEvent[] = [];
  const steps: Readonly<Record<ProviderId, [Status, Status]>> = {
    veriff: ["submitted", "approved"],
    idngo: ["submitted", "approved"],
    idbeyond: ["submitted", "approved"],
    neurovision: ["submitted", "approved"],
  };
  const t0 = Date.now() - 600_000;
  for (let i = 0; i < count; i += 1) {
    const provider = PROVIDER_IDS[i % PROVIDER_IDS.length] ?? "veriff";
    const options = { sessionId: sampleSessionId(provider), userKey: `user-${i}`, attemptId: randomUUID() };
    const [a, b] = steps[provider];
    for (const [status, minute, list] of [
      [a, 0, first],
      [b, 5, second],
    ] as const) {
      const webhook = paddedWebhook(provider, status, "s", {
        ...options,
        occurredAt: new Date(t0 + minute * 60_000),
        deliveryId: randomUUID(),
      });
      const receipt = receive(
        PROVIDERS[provider],
        { body: Buffer.from(webhook.request.body), headers: webhook.request.headers },
        { secrets: ["s"], options: optionsFromEnv({}) },
        new Date(t0 + minute * 60_000 + 1000).toISOString(),
      );
      if (receipt.kind !== "accepted") throw new Error(`consumer events: ${provider} ${status} was not accepted`);
      list.push(receipt.event);
    }
  }
  return { first, second };
}

async function consumerMicro(): Promise<ConsumerMicro> {
  const fn = functionOf((f) => f.role === "consumer");
  const batchSize = facts.consumerSource.batchSize;
  const stub = dynamoStub();
  const raw = new DynamoDBClient({ ...clientConfig, requestHandler: stub });
  let recording: RecordedCall[] | undefined;
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      recording?.push({
        operation: String(context.commandName ?? "").replace(/Command$/, ""),
        input: structuredClone(args.input as Record<string, unknown>),
      });
      return next(args);
    },
    { step: "build", name: "benchRecorder" },
  );
  const logger = new Logger({ serviceName: fn.service, logLevel: levelOf(fn) });
  const handler = withLambdaContext(
    logger,
    createConsumerHandler(
      buildConsumerDeps(fn.env, {
        documents: createDocumentClient(raw),
        logger: appLogger(logger),
        metrics: powertoolsMetrics(fn.service),
      }),
    ),
  );
  const queueArn = `arn:aws:sqs:${BENCH_REGION}:123456789012:KycWebhookPipeline-VerificationEvents.fifo`;
  const { first, second } = consumerEvents(batchSize);
  const batchOf = (events: NormalizedEvent[]): SQSEvent => ({ Records: events.map((e) => sqsRecord(e, queueArn)) });
  const context = lambdaContext(fn.functionName, fn.memoryMb);

  // The verifications exist (the first events, written for real into the stub); then the state is
  // frozen so that every run of the second batch finds the same states and takes the same path.
  const created = await handler(batchOf(first), context);
  if (created.batchItemFailures.length > 0) throw new Error("consumer: the first batch failed");
  stub.freeze();
  const batch = batchOf(second);
  recording = [];
  const answered = await handler(batch, context);
  const calls = recording.filter((c) => REPLAYED.has(c.operation));
  recording = undefined;
  if (answered.batchItemFailures.length > 0) throw new Error("consumer: the measured batch failed");
  if (!calls.some((c) => c.operation !== "GetItem")) throw new Error("consumer: the measured batch wrote nothing (not the applied path)");

  const floorClient = new DynamoDBClient({ ...clientConfig, requestHandler: stub });
  const floor = async () => {
    for (const call of calls) await replay(floorClient, call);
  };
  const runs = await interleave(
    [
      { name: "floor", op: floor },
      { name: "handler", op: () => handler(batch, context) },
    ],
    { rounds: ROUNDS, targetMs: TARGET_MS * 2 },
  );
  const of = (name: string) => runs.get(name) ?? [];
  const perEvent: Record<string, number> = {};
  for (const c of calls) perEvent[c.operation] = (perEvent[c.operation] ?? 0) + 1 / batchSize;
  return {
    batchSize,
    floorMicros: median(of("floor")) / batchSize,
    handlerMicros: median(of("handler")) / batchSize,
    ratioToFloor: medianRatio(of("handler"), of("floor")),
    floorCallsPerEvent: perEvent,
  };
}

const ingest = await ingestMicro();
const consumer = await consumerMicro();
const result: MicroResult = { rounds: ROUNDS, ingest, consumer };
process.send?.({ type: "micro", result });
process.disconnect?.();
