/**
 * Bench phase 4, the pipeline side (a child process of bench/run.ts): the local pipeline of `npm
 * start` (startPipeline: DynamoDB Local, the local SQS server, the pollers), each function with its
 * own Powertools Logger at its deployed log level and the real Powertools metrics, both writing to
 * stdout as in Lambda (the driver counts the bytes per function), and counting middleware on the
 * SDK clients the pipeline uses: every DynamoDB request with the request units DynamoDB's rules give
 * it, attributed to the event the consumer was applying; every SQS request by operation and queue.
 *
 * Usage (by bench/e2e.ts): node --import tsx bench/e2e-pipeline.ts <facts.json>, with an IPC channel.
 */
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Logger } from "@aws-lambda-powertools/logger";
import { ConditionalCheckFailedException, DynamoDBClient, ScanCommand, type ScanCommandOutput } from "@aws-sdk/client-dynamodb";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { marshall } from "@aws-sdk/util-dynamodb";
import { QUEUES, SERVICES, secretEnvOf, TABLE } from "../lambdas/core/contract.js";
import { PROVIDER_IDS } from "../lambdas/core/event.js";
import type { AppLogger } from "../lambdas/core/logger.js";
import { type AppMetrics, type MetricDimensions, type MetricName, powertoolsMetrics } from "../lambdas/core/metrics.js";
import { startPipeline } from "../local/pipeline.js";
import { LOCAL_AWS } from "../local/sqs.js";
import { type IndexSpec, type Item, indexEntry, indexWriteUnits, itemSize, readUnits, tableWriteUnits } from "./dynamo-units.js";
import {
  type DriverMessage,
  E2E_SECRET,
  type PipelineMessage,
  type PipelineStats,
  type SizeStats,
  type SqsCallStats,
  type UnitTotals,
} from "./lib/e2e-protocol.js";
import type { StackFacts } from "./lib/facts.js";
import { lambdaContext } from "./lib/payloads.js";

const factsPath = process.argv[2];
if (factsPath === undefined) throw new Error("usage: bench/e2e-pipeline.ts <facts.json>");
const facts = JSON.parse(readFileSync(factsPath, "utf8")) as StackFacts;
const send = (message: PipelineMessage) => process.send?.(message);
const note = (text: string) => process.stderr.write(`[e2e-pipeline] ${text}\n`);

// ---------------------------------------------------------------------------------------------
// Loggers and metrics per function

type Level = "DEBUG" | "INFO" | "WARN" | "ERROR";
const LEVELS: readonly Level[] = ["DEBUG", "INFO", "WARN", "ERROR"];
const levelOf = (raw: string | undefined): Level => LEVELS.find((l) => l === raw?.toUpperCase()) ?? "INFO";

function loggerFor(service: string): AppLogger {
  const fn = facts.functions.find((f) => f.service === service);
  const logger = new Logger({ serviceName: service, logLevel: levelOf(fn?.env["POWERTOOLS_LOG_LEVEL"]) });
  // What withLambdaContext adds to every line in Lambda (lambdas/core/lambda.ts).
  if (fn !== undefined) logger.addContext(lambdaContext(fn.functionName, fn.memoryMb));
  if (service !== SERVICES.consumer) return logger;
  // The consumer's line for each event it is done with (whatever its level, written or not) names the
  // verification and the outcome: its DynamoDB requests since the last one are that event's.
  const observe = (attributes: readonly Record<string, unknown>[]) => {
    const fields = Object.assign({}, ...attributes) as Record<string, unknown>;
    if (typeof fields["correlationId"] === "string" && typeof fields["outcome"] === "string") {
      measured(() => dynamo.closeEvent(String(fields["correlationId"]), String(fields["outcome"])));
    }
  };
  return {
    debug: (message, ...attributes) => {
      observe(attributes);
      logger.debug(message, ...attributes);
    },
    info: (message, ...attributes) => {
      observe(attributes);
      logger.info(message, ...attributes);
    },
    warn: (message, ...attributes) => logger.warn(message, ...attributes),
    error: (message, ...attributes) => logger.error(message, ...attributes),
  };
}

const invocations: Record<string, number> = {};
const eventsProcessed: Record<string, number> = {};
let published = 0;
let lastConsumerMarkAt = 0;
let lastPublisherActivityAt = 0;

function metricsFor(service: string): AppMetrics {
  const inner = powertoolsMetrics(service);
  return {
    count<M extends MetricName>(metric: M, dimensions: MetricDimensions[M], value = 1) {
      inner.count(metric, dimensions, value);
      measured(() => countMarker(service, metric, dimensions, value));
    },
    flush() {
      inner.flush();
      invocations[service] = (invocations[service] ?? 0) + 1;
      if (service === SERVICES.publisher) lastPublisherActivityAt = Date.now();
    },
  };
}

function countMarker(service: string, metric: MetricName, dimensions: unknown, value: number): void {
  if (service === SERVICES.consumer && (metric === "EventsProcessed" || metric === "EventsFailed")) {
    const outcome = metric === "EventsFailed" ? "failed" : String((dimensions as Record<string, string>)["outcome"] ?? "unknown");
    eventsProcessed[outcome] = (eventsProcessed[outcome] ?? 0) + value;
    lastConsumerMarkAt = Date.now();
  }
  if (service === SERVICES.publisher && metric === "StatusChangesPublished") {
    published += value;
    lastPublisherActivityAt = Date.now();
  }
}

// ---------------------------------------------------------------------------------------------
// DynamoDB: request units by DynamoDB's rules, per event

const TABLE_KEYS = [TABLE.partitionKey, TABLE.sortKey];
const INDEXES: readonly IndexSpec[] = facts.table.globalSecondaryIndexes;
const CONTROL_PLANE = new Set(["DescribeTable", "CreateTable", "ListTables", "DescribeTimeToLive", "UpdateTable"]);

type Json = Record<string, unknown>;
const obj = (value: unknown): Json => (value !== null && typeof value === "object" ? (value as Json) : {});
const keyOf = (item: Json): string => `${JSON.stringify(item[TABLE.partitionKey])}|${JSON.stringify(item[TABLE.sortKey])}`;
const kindOf = (item: Json): "state" | "history" =>
  String(obj(item[TABLE.sortKey])["S"] ?? "") === TABLE.stateSortKey ? "state" : "history";

const ATTRIBUTE_TYPES = new Set(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]);

/**
 * An item as DynamoDB's JSON holds it. Requests reach this middleware marshalled, but the document
 * client unmarshalls responses before it sees them: those are marshalled back (as the client would send them).
 */
function asAttributeMap(item: unknown): Item | undefined {
  if (item === null || typeof item !== "object") return undefined;
  const values = Object.values(item as Json);
  const marshalled = values.every((v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
    const keys = Object.keys(v as Json);
    return keys.length === 1 && ATTRIBUTE_TYPES.has(keys[0] ?? "");
  });
  return (marshalled ? item : marshall(item as Json, { removeUndefinedValues: true, convertClassInstanceToMap: true })) as Item;
}

const attributeMaps = (list: unknown): Item[] =>
  (Array.isArray(list) ? list : []).flatMap((i): Item[] => {
    const item = asAttributeMap(i);
    return item === undefined ? [] : [item];
  });

const emptyTotals = (): UnitTotals => ({ events: 0, requests: {}, rru: 0, wru: 0, gsiWru: 0, gsiWruByIndex: {} });
const emptySize = (): SizeStats => ({ count: 0, totalBytes: 0, maxBytes: 0 });
const addSize = (s: SizeStats, bytes: number) => {
  s.count += 1;
  s.totalBytes += bytes;
  s.maxBytes = Math.max(s.maxBytes, bytes);
};

/** The verification (partition key value) a request is about; `batch` for a request about several. */
function verificationOf(operation: string, input: Json): string {
  const pk = (item: unknown) => String(obj(obj(item)[TABLE.partitionKey])["S"] ?? "");
  switch (operation) {
    case "PutItem":
      return pk(input["Item"]);
    case "TransactWriteItems": {
      const first = obj(((input["TransactItems"] ?? []) as Json[])[0]);
      const action = obj(first["Put"] ?? first["Update"] ?? first["Delete"] ?? first["ConditionCheck"]);
      return pk(action["Item"] ?? action["Key"]);
    }
    case "GetItem":
    case "UpdateItem":
    case "DeleteItem":
      return pk(input["Key"]);
    case "Query":
      return String(Object.values(obj(input["ExpressionAttributeValues"])).map((v) => obj(v)["S"])[0] ?? "batch");
    default:
      return "batch";
  }
}

/**
 * The consumer's DynamoDB requests and their request units, per event: the local poller runs
 * several batches at once (as Lambda does, one message group at a time), so requests are kept per
 * verification (a message group) until the consumer reports the event done, with its outcome.
 */
const dynamo = (() => {
  const known = new Map<string, Item>();
  const byOutcome: Record<string, UnitTotals> = {};
  const open = new Map<string, UnitTotals & { redelivery: boolean }>();
  let unattributed = emptyTotals();
  let written = { state: emptySize(), history: emptySize() };
  let counting = false;

  const bucketOf = (verification: string) => {
    let bucket = open.get(verification);
    if (bucket === undefined) {
      bucket = { ...emptyTotals(), redelivery: false };
      open.set(verification, bucket);
    }
    return bucket;
  };

  function write(
    bucket: UnitTotals,
    newItem: Item | undefined,
    key: string,
    transactional: boolean,
    succeeded: boolean,
  ): { wru: number; gsiWru: number } {
    const oldItem = known.get(key);
    const wru = tableWriteUnits({ newItem, oldItem, transactional, succeeded });
    if (!succeeded) return { wru, gsiWru: 0 };
    let gsiWru = 0;
    for (const index of INDEXES) {
      const units = indexWriteUnits(oldItem, newItem, [index], TABLE_KEYS);
      gsiWru += units;
      bucket.gsiWruByIndex[index.name] = (bucket.gsiWruByIndex[index.name] ?? 0) + units;
    }
    if (newItem === undefined) known.delete(key);
    else {
      known.set(key, newItem);
      if (counting) addSize(written[kindOf(newItem)], itemSize(newItem));
    }
    return { wru, gsiWru };
  }

  const merge = (into: UnitTotals, from: UnitTotals) => {
    into.events += from.events;
    into.rru += from.rru;
    into.wru += from.wru;
    into.gsiWru += from.gsiWru;
    for (const [op, n] of Object.entries(from.requests)) into.requests[op] = (into.requests[op] ?? 0) + n;
    for (const [index, n] of Object.entries(from.gsiWruByIndex)) into.gsiWruByIndex[index] = (into.gsiWruByIndex[index] ?? 0) + n;
  };

  return {
    start() {
      counting = true;
      open.clear();
      unattributed = emptyTotals();
      written = { state: emptySize(), history: emptySize() };
      for (const k of Object.keys(byOutcome)) delete byOutcome[k];
    },
    record(operation: string, input: Json, output: Json | undefined, error: unknown): void {
      if (CONTROL_PLANE.has(operation)) return;
      const failedCondition =
        error instanceof ConditionalCheckFailedException ||
        (error as { name?: string } | undefined)?.name === "TransactionCanceledException";
      if (error !== undefined && !failedCondition) return; // not executed (network, validation): nothing consumed
      const succeeded = error === undefined;
      const bucket = counting ? bucketOf(verificationOf(operation, input)) : { ...emptyTotals(), redelivery: false };
      let rru = 0;
      const add = (units: { wru: number; gsiWru: number }) => {
        bucket.wru += units.wru;
        bucket.gsiWru += units.gsiWru;
      };
      switch (operation) {
        case "GetItem": {
          const item = asAttributeMap(output?.["Item"]);
          rru += readUnits(item === undefined ? 0 : itemSize(item), input["ConsistentRead"] === true ? "strong" : "eventual");
          if (item !== undefined) known.set(keyOf(item), item);
          break;
        }
        case "PutItem": {
          const item = obj(input["Item"]) as Item;
          add(write(bucket, item, keyOf(item), false, succeeded));
          // A history item that already exists: the event is a redelivery (SQS FIFO would have dropped it within 5 minutes).
          if (!succeeded && kindOf(item) === "history") bucket.redelivery = true;
          break;
        }
        case "DeleteItem":
          add(write(bucket, undefined, keyOf(obj(input["Key"])), false, succeeded));
          break;
        case "UpdateItem": {
          // The resulting item is not known without reading it: counted at the size of the item it replaces.
          const key = keyOf(obj(input["Key"]));
          add(write(bucket, known.get(key), key, false, succeeded));
          break;
        }
        case "TransactWriteItems": {
          const actions = (input["TransactItems"] ?? []) as Json[];
          const reasons = ((error as { CancellationReasons?: { Code?: string }[] } | undefined)?.CancellationReasons ?? []).map(
            (r) => r.Code,
          );
          actions.forEach((action, i) => {
            if (reasons[i] === "ConditionalCheckFailed" && kindOf(obj(obj(action["Put"])["Item"])) === "history") bucket.redelivery = true;
          });
          for (const action of actions) {
            const put = obj(action["Put"]);
            if (action["Put"] !== undefined) add(write(bucket, obj(put["Item"]) as Item, keyOf(obj(put["Item"])), true, succeeded));
            else {
              const key = keyOf(obj(obj(action["Update"] ?? action["Delete"] ?? action["ConditionCheck"])["Key"]));
              // A condition check is counted as a transactional write of the item it checks (assumption).
              add(write(bucket, known.get(key), key, true, succeeded && action["ConditionCheck"] === undefined));
            }
          }
          break;
        }
        case "BatchWriteItem":
          for (const requests of Object.values(obj(input["RequestItems"])) as Json[][]) {
            for (const request of requests) {
              const item = obj(obj(request["PutRequest"])["Item"]) as Item;
              if (request["PutRequest"] !== undefined) add(write(bucket, item, keyOf(item), false, true));
              else add(write(bucket, undefined, keyOf(obj(obj(request["DeleteRequest"])["Key"])), false, true));
            }
          }
          break;
        case "Query":
        case "Scan": {
          const items = attributeMaps(output?.["Items"]);
          rru += readUnits(
            items.reduce((t, i) => t + itemSize(i), 0),
            input["ConsistentRead"] === true ? "strong" : "eventual",
          );
          break;
        }
        case "BatchGetItem":
          for (const [table, items] of Object.entries(obj(output?.["Responses"])) as [string, unknown[]][]) {
            const consistent = obj(obj(input["RequestItems"])[table])["ConsistentRead"] === true;
            for (const item of attributeMaps(items)) {
              rru += readUnits(itemSize(item), consistent ? "strong" : "eventual");
              known.set(keyOf(item), item);
            }
          }
          break;
        case "TransactGetItems":
          for (const response of (output?.["Responses"] ?? []) as Json[]) {
            const item = asAttributeMap(response["Item"]);
            rru += readUnits(item === undefined ? 0 : itemSize(item), "transactional");
            if (item !== undefined) known.set(keyOf(item), item);
          }
          break;
        default:
          break;
      }
      bucket.requests[operation] = (bucket.requests[operation] ?? 0) + 1;
      bucket.rru += rru;
    },
    /** The consumer reported an event of `verification` done, with its outcome. */
    closeEvent(verification: string, outcome: string): void {
      const bucket = open.get(verification);
      open.delete(verification);
      if (!counting || bucket === undefined) return;
      const name = bucket.redelivery ? "redelivery" : outcome;
      const totals = byOutcome[name] ?? emptyTotals();
      byOutcome[name] = totals;
      merge(totals, { ...bucket, events: 1 });
    },
    stats() {
      for (const bucket of open.values()) merge(unattributed, bucket);
      open.clear();
      return { byOutcome, unattributed, written };
    },
  };
})();

// ---------------------------------------------------------------------------------------------
// SQS: requests by operation and queue

const sqsCalls: Record<string, SqsCallStats> = {};
const consumerBatchSizes: number[] = [];
let statusChangesSent = 0;
let lastStatusChangeAt: number | null = null;
let sqsCounting = false;

function queueOf(url: unknown): string {
  const name =
    String(url ?? "")
      .split("/")
      .pop() ?? "";
  for (const [kind, spec] of Object.entries(QUEUES)) {
    if (name === `${spec.nameStem}.fifo` || name === spec.nameStem) return kind;
    if (name.startsWith(`${spec.nameStem}-dlq`)) return `${kind}Dlq`;
  }
  return name || "other";
}

function recordSqs(operation: string, input: Json, output: Json | undefined): void {
  if (!sqsCounting || output === undefined) return;
  const queue = queueOf(input["QueueUrl"]);
  const key = `${operation} ${queue}`;
  const stats = sqsCalls[key] ?? { calls: 0, entries: 0, bodyBytes: 0, maxBodyBytes: 0, messages: 0, empty: 0 };
  sqsCalls[key] = stats;
  stats.calls += 1;
  const bodies: string[] = [];
  if (operation === "SendMessage") bodies.push(String(input["MessageBody"] ?? ""));
  if (operation === "SendMessageBatch") for (const e of (input["Entries"] ?? []) as Json[]) bodies.push(String(e["MessageBody"] ?? ""));
  if (operation === "ReceiveMessage") {
    const messages = (output["Messages"] ?? []) as Json[];
    for (const m of messages) bodies.push(String(m["Body"] ?? ""));
    stats.messages += messages.length;
    if (messages.length === 0) stats.empty += 1;
    if (queue === "events" && messages.length > 0) consumerBatchSizes.push(messages.length);
  }
  const entries = operation.endsWith("Batch") ? ((input["Entries"] ?? []) as unknown[]).length : 1;
  stats.entries += operation === "ReceiveMessage" ? 0 : entries;
  const bytes = bodies.reduce((t, b) => t + Buffer.byteLength(b), 0);
  stats.bodyBytes += bytes;
  stats.maxBodyBytes = Math.max(stats.maxBodyBytes, bytes);
  if (queue === "statusChanges" && operation.startsWith("SendMessage")) {
    statusChangesSent += operation === "SendMessageBatch" ? ((output["Successful"] ?? []) as unknown[]).length : 1;
    lastStatusChangeAt = Date.now();
  }
}

/** Runs a measurement; a bug in it is reported once and never changes what the pipeline does. */
let measurementError: string | null = null;
function measured(record: () => void): void {
  try {
    record();
  } catch (error) {
    if (measurementError === null)
      note(`measurement error (ignored): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    measurementError ??= String(error);
  }
}

function instrument(clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient }): void {
  clients.dynamodb.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? "").replace(/Command$/, "");
      try {
        const result = await next(args);
        measured(() => dynamo.record(operation, obj(args.input), obj(result.output), undefined));
        return result;
      } catch (error) {
        measured(() => dynamo.record(operation, obj(args.input), undefined, error));
        throw error;
      }
    },
    { step: "build", name: "benchDynamoUnits", override: true },
  );
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      measured(() => recordSqs(String(context.commandName ?? "").replace(/Command$/, ""), obj(args.input), obj(result.output)));
      return result;
    },
    { step: "build", name: "benchSqsCounter", override: true },
  );
}

// ---------------------------------------------------------------------------------------------
// The run

const pipeline = await startPipeline({
  port: 0,
  sqsPort: 0,
  env: Object.fromEntries(PROVIDER_IDS.map((p) => [secretEnvOf(p), E2E_SECRET])),
  logger: new Logger({ serviceName: SERVICES.local, logLevel: "WARN" }),
  metricsFor,
  loggerFor,
  instrumentClients: instrument,
});
const scanClient = new DynamoDBClient({ ...LOCAL_AWS, endpoint: pipeline.dynamoEndpoint });
const queueClient = new SQSClient({ ...LOCAL_AWS, endpoint: pipeline.sqsEndpoint });

async function scanTable(): Promise<Item[]> {
  const items: Item[] = [];
  let start: ScanCommandOutput["LastEvaluatedKey"];
  do {
    const page = await scanClient.send(new ScanCommand({ TableName: TABLE.name, ExclusiveStartKey: start }));
    items.push(...((page.Items ?? []) as unknown as Item[]));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

const str = (item: Item, name: string): string => String(obj(item[name])["S"] ?? "");

async function drainStatusChanges(): Promise<{ count: number; lastSent: number | null }> {
  let count = 0;
  let lastSent: number | null = null;
  for (let empty = 0; empty < 3; ) {
    const { Messages = [] } = await queueClient.send(
      new ReceiveMessageCommand({
        QueueUrl: pipeline.statusChangesQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageSystemAttributeNames: ["SentTimestamp"],
        AttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) {
      empty += 1;
      continue;
    }
    empty = 0;
    count += Messages.length;
    for (const m of Messages) {
      const sent = Number(m.Attributes?.SentTimestamp ?? Number.NaN);
      if (Number.isFinite(sent)) lastSent = Math.max(lastSent ?? 0, sent);
    }
    await queueClient.send(
      new DeleteMessageBatchCommand({
        QueueUrl: pipeline.statusChangesQueueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  return { count, lastSent };
}

async function finish(done: { readonly eventIds: readonly string[] }): Promise<PipelineStats> {
  const expected = new Set(done.eventIds);
  const deadline = Date.now() + 150_000;
  let historiesCompleteAt: number | null = null;
  let missing = expected.size;
  let items: Item[] = [];
  while (Date.now() < deadline) {
    await sleep(250);
    const processed = Object.values(eventsProcessed).reduce((a, b) => a + b, 0);
    if (processed < expected.size || Date.now() - lastConsumerMarkAt < 500) continue;
    items = await scanTable();
    const present = new Set(items.filter((i) => str(i, TABLE.sortKey).startsWith(TABLE.eventSortKeyPrefix)).map((i) => str(i, "eventId")));
    missing = [...expected].filter((id) => !present.has(id)).length;
    if (missing === 0) {
      historiesCompleteAt = Date.now();
      break;
    }
  }
  if (historiesCompleteAt === null) note(`histories incomplete: ${missing} of ${expected.size} events missing`);
  // Every status change is out once the publisher has been quiet for a while (the stream is read every 75 ms locally).
  while (
    Date.now() < deadline &&
    Date.now() - Math.max(lastPublisherActivityAt, lastStatusChangeAt ?? 0, historiesCompleteAt ?? 0) < 3_000
  ) {
    await sleep(250);
  }
  const queue = await drainStatusChanges();
  items = await scanTable();
  const history = items.filter((i) => str(i, TABLE.sortKey).startsWith(TABLE.eventSortKeyPrefix));
  const state = items.filter((i) => str(i, TABLE.sortKey) === TABLE.stateSortKey);
  const outcomes: Record<string, number> = {};
  for (const h of history) outcomes[str(h, "outcome")] = (outcomes[str(h, "outcome")] ?? 0) + 1;
  const sizes = (list: Item[]): SizeStats => {
    const s = emptySize();
    for (const i of list) addSize(s, itemSize(i));
    return s;
  };
  const processedAt = history.map((h) => Date.parse(str(h, "processedAt"))).filter(Number.isFinite);
  const dynamoStats = dynamo.stats();
  const publisherInvocations = invocations[SERVICES.publisher] ?? 0;
  return {
    historiesCompleteAt,
    lastAppliedAt: lastConsumerMarkAt > 0 ? lastConsumerMarkAt : processedAt.length > 0 ? Math.max(...processedAt) : null,
    lastAppliedSource: lastConsumerMarkAt > 0 ? "consumer metric" : processedAt.length > 0 ? "history processedAt" : "none",
    lastStatusChangeAt,
    missingEventIds: missing,
    expectedEventIds: expected.size,
    statusChangesSent,
    statusChangesOnQueue: queue.count,
    statusChangesLastSentTimestamp: queue.lastSent,
    historyOutcomes: outcomes,
    items: { state: sizes(state), history: sizes(history) },
    storedBytes: {
      table: items.reduce((t, i) => t + itemSize(i) + 100, 0),
      indexes: INDEXES.reduce(
        (t, index) =>
          t +
          items
            .filter((i) => index.keys.every((k) => i[k] !== undefined))
            .reduce((u, i) => u + itemSize(indexEntry(i, index, TABLE_KEYS)) + 100, 0),
        0,
      ),
    },
    dynamoByOutcome: dynamoStats.byOutcome,
    dynamoUnattributed: dynamoStats.unattributed,
    writtenItems: dynamoStats.written,
    sqs: sqsCalls,
    invocations,
    consumerBatchSizes,
    publisherRecordsPerInvocation: publisherInvocations > 0 ? published / publisherInvocations : null,
    eventsProcessed,
  };
}

process.on("message", (message: DriverMessage) => {
  switch (message.type) {
    case "load-start":
      dynamo.start();
      sqsCounting = true;
      for (const k of Object.keys(invocations)) delete invocations[k];
      break;
    case "load-done":
      finish(message)
        .then((stats) => send({ type: "result", stats }))
        .catch((error: unknown) => {
          note(`failed: ${String(error)}`);
          process.exitCode = 1;
          process.disconnect?.();
        });
      break;
    case "stop":
      scanClient.destroy();
      queueClient.destroy();
      pipeline
        .stop()
        .catch(() => undefined)
        .finally(() => {
          process.disconnect?.();
        });
      break;
  }
});
send({ type: "ready", url: pipeline.url });
