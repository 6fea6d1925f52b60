/**
 * From what the bench measured (the synthesized stack, the micro benchmarks, the cold starts, the
 * local end-to-end run) to the cost model's per-webhook inputs (bench/cost.ts), at a stated reference
 * throughput. Pure. What the local run cannot show (AWS latencies, how Lambda's pollers batch at that
 * throughput, how many shards the stream has) is an assumption, stated where it is made.
 */
import { PROVIDER_IDS } from "../lambdas/core/event.js";
import type { ColdStartResult } from "./coldstart.js";
import {
  billedMs,
  type CostInputs,
  type Deployment,
  type FunctionInputs,
  type Input,
  sqsBillableRequests,
  tracedPerSecond,
} from "./cost.js";
import type { EndToEndResult } from "./e2e.js";
import type { DeploymentFacts, FunctionFacts, FunctionRole, StackFacts } from "./lib/facts.js";
import type { MicroResult } from "./micro.js";

export const ASSUMPTIONS = {
  referenceWebhooksPerSecond: 100,
  /** A Lambda arm64 core's speed relative to this machine's core, for CPU time (the 256 MB CPU share does not bind at sub-millisecond bursts). */
  cpuSlowdown: 1.5,
  sqsSendMs: 8,
  dynamoLatencyMs: { GetItem: 4, PutItem: 6, UpdateItem: 6, DeleteItem: 6, TransactWriteItems: 12, BatchWriteItem: 10, Query: 6 } as Record<
    string,
    number
  >,
  /** Fixed work per invocation besides the records (event parsing, Powertools, the response). */
  invocationOverheadMs: 1,
  publisherCpuMsPerRecord: 0.2,
  /** Shards of the table's stream at the reference throughput: a new on-demand table starts with 4 partitions. */
  streamShards: 4,
  /** Lambda polls each stream shard about 4 times a second. */
  streamPollsPerSecond: 4,
  /** Share of invocations that start a new execution environment (AWS: "typically under 1 %"). */
  coldStartRate: 0.01,
  /** Compressed / ingested size of archived logs (JSON lines compress well). */
  logCompressionRatio: 0.15,
  /** Response headers API Gateway adds to each answer, in bytes. */
  responseHeaderBytes: 200,
} as const;

export interface ModelResult {
  readonly inputs: CostInputs;
  /** The SQS requests per webhook behind `sqsRequestsPerWebhook`, by who makes them. */
  readonly sqsBreakdown: Readonly<Record<string, Input>>;
  /** Measured locally, for comparison with the modelled values. */
  readonly local: Readonly<Record<string, number>>;
}

const measured = (value: number, unit: string, note: string): Input => ({ value, unit, kind: "measured", note });
const assumed = (value: number, unit: string, note: string): Input => ({ value, unit, kind: "assumed", note });

const REQUEST_ID = "8f5e3c1a-2b4d-4e6f-9a8b-7c6d5e4f3a2b";
const TRACE = "Root=1-6740f1a2-3b4c5d6e7f8091a2b3c4d5e6;Parent=53995c3f42cd8ad8;Sampled=1";

/** Lambda's platform lines for one invocation, as its logging config writes them (none when its system log level is above INFO). */
export function platformLogBytes(fn: Pick<FunctionFacts, "logFormat" | "systemLogLevel" | "memoryMb">, traced: number): number {
  const time = "2026-11-22T10:00:00.000Z";
  if (fn.logFormat === "JSON") {
    if (fn.systemLogLevel !== null && !["DEBUG", "INFO", "TRACE"].includes(fn.systemLogLevel.toUpperCase())) return 0;
    const tracing = { spanId: "53995c3f42cd8ad8", type: "X-Amzn-Trace-Id", value: TRACE };
    const lines = [
      { time, type: "platform.start", record: { requestId: REQUEST_ID, version: "$LATEST", tracing } },
      {
        time,
        type: "platform.runtimeDone",
        record: {
          requestId: REQUEST_ID,
          status: "success",
          tracing,
          spans: [{ name: "responseLatency", start: time, durationMs: 9.8 }],
          metrics: { durationMs: 10.2, producedBytes: 60 },
        },
      },
      {
        time,
        type: "platform.report",
        record: {
          requestId: REQUEST_ID,
          metrics: { durationMs: 10.25, billedDurationMs: 11, memorySizeMB: fn.memoryMb, maxMemoryUsedMB: 98 },
          tracing,
          status: "success",
        },
      },
    ];
    return lines.reduce((t, l) => t + JSON.stringify(l).length + 1, 0);
  }
  const start = `START RequestId: ${REQUEST_ID} Version: $LATEST\n`;
  const end = `END RequestId: ${REQUEST_ID}\n`;
  const report = `REPORT RequestId: ${REQUEST_ID}\tDuration: 10.25 ms\tBilled Duration: 11 ms\tMemory Size: ${fn.memoryMb} MB\tMax Memory Used: 98 MB\t\n`;
  const xray = "XRAY TraceId: 1-6740f1a2-3b4c5d6e7f8091a2b3c4d5e6\tSegmentId: 53995c3f42cd8ad8\tSampled: true\t\n";
  return start.length + end.length + report.length + traced * xray.length;
}

/** The stage's access log line for one webhook (its format from the stack, realistic values). */
export function accessLogBytes(format: string | null, responseBytes: number): number {
  if (format === null) return 0;
  const values: Readonly<Record<string, string>> = {
    requestId: "CvKx1hQ0IAMEbXw=",
    routeKey: "POST /webhooks/neurovision",
    status: "200",
    responseLength: String(Math.round(responseBytes)),
    requestTime: "22/Nov/2026:10:00:00 +0000",
    integrationErrorMessage: "-",
  };
  return format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => values[name] ?? "-").length + 1;
}

/**
 * What a template's settings mean for the cost model: traced when every function traces actively
 * (a mix is not something the stack builds), provisioned when the table is, with the auto scaling the
 * template sets (the lowest minimum and target over the table and its indexes: one setting for all).
 */
export function deploymentOf(facts: DeploymentFacts): Deployment {
  const { functions, active } = facts.activeTracing;
  if (active !== 0 && active !== functions)
    throw new Error(`${active} of ${functions} functions trace actively: the model prices all or none`);
  if (facts.tableBillingMode !== "PROVISIONED") return { tracing: active > 0, provisioned: null };
  const of = (dimension: "read" | "write") => facts.tableScaling.filter((s) => s.dimension === dimension);
  if (of("read").length === 0 || of("write").length === 0)
    throw new Error("a provisioned table without auto scaling: the model assumes it scales");
  return {
    tracing: active > 0,
    provisioned: {
      targetUtilizationPercent: Math.min(...facts.tableScaling.map((s) => s.targetUtilizationPercent)),
      minReadUnits: Math.min(...of("read").map((s) => s.min)),
      minWriteUnits: Math.min(...of("write").map((s) => s.min)),
    },
  };
}

export function buildInputs(
  facts: StackFacts,
  micro: MicroResult,
  cold: Readonly<Record<FunctionRole, ColdStartResult>>,
  e2e: EndToEndResult,
): ModelResult {
  const A = ASSUMPTIONS;
  const rate = A.referenceWebhooksPerSecond;
  const webhooks = e2e.webhooks;
  const p = e2e.pipeline;
  const fnOf = (role: FunctionRole): FunctionFacts => {
    const fn = facts.functions.find((f) => f.role === role);
    if (fn === undefined) throw new Error(`no ${role} function in the stack`);
    return fn;
  };
  const logsOf = (service: string) => e2e.logs[service] ?? { lines: 0, bytes: 0, emfLines: 0, emfBytes: 0, droppedLines: 0 };
  const sqs = (key: string) => p.sqs[key] ?? { calls: 0, entries: 0, bodyBytes: 0, maxBodyBytes: 0, messages: 0, empty: 0 };
  const ms = "ms per invocation";

  // -- ingest: one invocation per webhook, per provider function
  const ingestFns = facts.functions.filter((f) => f.role === "ingest");
  const shareOf = (provider: string) => (e2e.byProvider[provider] ?? 0) / Math.max(1, webhooks);
  const ingestInvocations = ingestFns.reduce((t, f) => t + (p.invocations[f.service] ?? 0), 0) / webhooks;
  // Lambda bills the SDK's own CPU too: the handler with the real SQS client.
  const ingestCpuMs = PROVIDER_IDS.reduce((t, id) => t + shareOf(id) * (micro.ingest[id]?.handlerWithSdkMicros ?? 0), 0) / 1000;
  const sendsPerWebhook = sqs("SendMessage events").calls / webhooks;
  const ingestMs = billedMs(ingestCpuMs * A.cpuSlowdown + (sendsPerWebhook / Math.max(ingestInvocations, 1e-9)) * A.sqsSendMs);
  const ingestLogBytes = ingestFns.reduce((t, f) => t + logsOf(f.service).bytes + logsOf(f.service).emfBytes, 0) / webhooks;
  const ingestTraced = PROVIDER_IDS.reduce((t, id) => t + tracedPerSecond(rate * shareOf(id)), 0) / rate;
  const ingest = fnOf("ingest");

  // -- consumer: the distinct events (SQS FIFO drops redeliveries within its 5-minute deduplication window)
  const consumer = fnOf("consumer");
  const eventsPerWebhook = p.expectedEventIds / webhooks;
  const batch = facts.consumerSource.batchSize;
  // Redeliveries that reached the local consumer (the local SQS server forgets a deduplication id once its message is deleted) are left out.
  // Requests the consumer did not report an event for (none when its per-event line names the verification and outcome) count too.
  const counted = [
    ...Object.entries(p.dynamoByOutcome).filter(([outcome]) => outcome !== "redelivery"),
    ["unattributed", p.dynamoUnattributed] as const,
  ];
  const attributedEvents = counted.reduce((t, [, u]) => t + u.events, 0);
  const countedEvents = attributedEvents > 0 ? attributedEvents : p.expectedEventIds;
  const opsPerEvent: Record<string, number> = {};
  for (const [, u] of counted)
    for (const [op, n] of Object.entries(u.requests)) opsPerEvent[op] = (opsPerEvent[op] ?? 0) + n / Math.max(1, countedEvents);
  const ioMsPerEvent = Object.entries(opsPerEvent).reduce((t, [op, n]) => t + n * (A.dynamoLatencyMs[op] ?? 6), 0);
  const consumerInvocations = eventsPerWebhook / batch;
  const consumerMs = billedMs(A.invocationOverheadMs + batch * ((micro.consumer.handlerMicros / 1000) * A.cpuSlowdown + ioMsPerEvent));
  const localConsumerInvocations = p.invocations[consumer.service] ?? 0;
  const consumerLogs = logsOf(consumer.service);
  const consumerLogBytes =
    consumerLogs.bytes / webhooks + (consumerLogs.emfBytes / Math.max(1, localConsumerInvocations)) * consumerInvocations;

  // -- publisher: the stream records that pass its filter, batched per shard poll
  const publisher = fnOf("publisher");
  const recordsPerWebhook = (facts.publisherSource.filtered ? p.statusChangesSent : p.writtenItems.state.count) / webhooks;
  const recordsPerSecond = recordsPerWebhook * rate;
  const recordsPerInvocation = Math.min(
    facts.publisherSource.batchSize,
    Math.max(1, recordsPerSecond / (A.streamShards * facts.publisherSource.parallelizationFactor * A.streamPollsPerSecond)),
  );
  const publisherInvocations = recordsPerWebhook / recordsPerInvocation;
  const batched = sqs("SendMessageBatch statusChanges").calls > 0;
  const sendsPerInvocation = batched ? Math.ceil(recordsPerInvocation / 10) : recordsPerInvocation;
  const publisherMs = billedMs(
    A.invocationOverheadMs + recordsPerInvocation * A.publisherCpuMsPerRecord + sendsPerInvocation * A.sqsSendMs,
  );
  const localPublisherInvocations = p.invocations[publisher.service] ?? 0;
  const publisherLogs = logsOf(publisher.service);
  const publisherLogBytes =
    publisherLogs.bytes / webhooks + (publisherLogs.emfBytes / Math.max(1, localPublisherInvocations)) * publisherInvocations;

  const fnInputs = (
    fn: FunctionFacts,
    invocations: Input,
    billed: Input,
    logBytes: Input,
    traced: number,
    invocationsPerSecond: number,
  ): FunctionInputs => ({
    invocationsPerWebhook: invocations,
    billedMsPerInvocation: billed,
    memoryMb: measured(fn.memoryMb, "MB", "MemorySize of the synthesized function"),
    appLogBytesPerWebhook: logBytes,
    platformLogBytesPerInvocation: {
      value: platformLogBytes(fn, tracedPerSecond(invocationsPerSecond) / Math.max(invocationsPerSecond, 1e-9)),
      unit: "bytes",
      kind: "assumed",
      note: `START/END/REPORT (platform.*) lines: LoggingConfig ${fn.logFormat}${fn.systemLogLevel === null ? "" : `, system log level ${fn.systemLogLevel}`}${platformLogBytes(fn, 0) === 0 ? " suppresses them" : ""}`,
    },
    tracedInvocationsPerWebhook: assumed(
      traced,
      "traces per webhook",
      "Lambda's fixed sampling (1 request/s + 5 % of the rest) per function at the reference throughput",
    ),
    coldStartsPerInvocation: assumed(A.coldStartRate, "per invocation", "AWS: cold starts are typically under 1 % of invocations"),
    initMs: measured(cold[fn.role].initMs, "ms", "median import time of the bundle in a fresh node process (this machine)"),
  });

  const sqsBreakdown: Record<string, Input> = {
    "ingest SendMessage": measured(
      sendsPerWebhook * sqsBillableRequests(sqs("SendMessage events").maxBodyBytes),
      "requests per webhook",
      "counted by SDK middleware in the local run",
    ),
    "consumer ReceiveMessage": assumed(
      (eventsPerWebhook / batch) *
        sqsBillableRequests((batch * sqs("SendMessage events").bodyBytes) / Math.max(1, sqs("SendMessage events").calls)),
      "requests per webhook",
      `Lambda's poller at ${rate}/s: full batches of ${batch} (each invocation applies its events one after the other, longer than ${batch} take to arrive); idle long polls negligible`,
    ),
    "consumer DeleteMessageBatch": assumed(
      eventsPerWebhook / batch,
      "requests per webhook",
      "one DeleteMessageBatch per batch, as Lambda's poller deletes",
    ),
    "publisher sends": measured(
      publisherInvocations * sendsPerInvocation,
      "requests per webhook",
      `${batched ? "SendMessageBatch (up to 10 per call)" : "SendMessage per change"} as the local run showed, ${recordsPerInvocation.toFixed(2)} records per invocation modelled`,
    ),
  };
  const sqsTotal = Object.values(sqsBreakdown).reduce((t, i) => t + i.value, 0);

  const units = counted.reduce((t, [, u]) => ({ wru: t.wru + u.wru + u.gsiWru, rru: t.rru + u.rru }), { wru: 0, rru: 0 });
  const maxAge = Number(ingest.env["SECRETS_MAX_AGE_SECONDS"] ?? 300);
  const ingestContainers = PROVIDER_IDS.reduce((t, id) => t + Math.max(1, Math.ceil((rate * shareOf(id) * ingestMs) / 1000)), 0);

  const inputs: CostInputs = {
    referenceWebhooksPerSecond: assumed(rate, "webhooks/s", "steady traffic the batch sizes and sampling are modelled at"),
    apiRequestsPerWebhook: measured(
      ingestInvocations * Math.max(1, Math.ceil((e2e.meanRequestBytes + e2e.meanResponseBytes) / (512 * 1024))),
      "requests per webhook",
      "one HTTP API request per delivery (512 KB metering: one)",
    ),
    apiAccessLogBytesPerWebhook: measured(
      accessLogBytes(facts.api.accessLogFormat, e2e.meanResponseBytes),
      "bytes",
      "the stage's access log format filled in",
    ),
    responseBytesPerWebhook: {
      value: e2e.meanResponseBytes + A.responseHeaderBytes,
      unit: "bytes",
      kind: "measured",
      note: `answer bodies measured; ${A.responseHeaderBytes} bytes of headers assumed`,
    },
    functions: {
      ingest: fnInputs(
        ingest,
        measured(ingestInvocations, "invocations per webhook", "ingest invocations in the local run / webhooks"),
        assumed(ingestMs, ms, `CPU ${ingestCpuMs.toFixed(3)} ms measured (micro) × ${A.cpuSlowdown} + ${A.sqsSendMs} ms per SendMessage`),
        measured(
          ingestLogBytes,
          "bytes per webhook",
          "log and EMF lines the ingest functions wrote in the local run, at their deployed levels",
        ),
        ingestTraced,
        rate / ingestFns.length,
      ),
      consumer: fnInputs(
        consumer,
        {
          value: consumerInvocations,
          unit: "invocations per webhook",
          kind: "assumed",
          note: `${eventsPerWebhook.toFixed(3)} distinct events per webhook (measured) / batches of ${batch} at ${rate}/s (local mean batch ${(p.consumerBatchSizes.reduce((a, b) => a + b, 0) / Math.max(1, p.consumerBatchSizes.length)).toFixed(1)})`,
        },
        assumed(
          consumerMs,
          ms,
          `${batch} events × (CPU ${(micro.consumer.handlerMicros / 1000).toFixed(3)} ms measured × ${A.cpuSlowdown} + ${Object.entries(
            opsPerEvent,
          )
            .map(([op, n]) => `${n.toFixed(2)} ${op}`)
            .join(" + ")} at ${Object.keys(opsPerEvent)
            .map((op) => `${A.dynamoLatencyMs[op] ?? 6} ms`)
            .join("/")}) + ${A.invocationOverheadMs} ms`,
        ),
        measured(
          consumerLogBytes,
          "bytes per webhook",
          "log lines per event and EMF lines per invocation from the local run, scaled to the modelled invocations",
        ),
        tracedPerSecond(rate * consumerInvocations) / rate,
        rate * consumerInvocations,
      ),
      publisher: fnInputs(
        publisher,
        {
          value: publisherInvocations,
          unit: "invocations per webhook",
          kind: "assumed",
          note: `${recordsPerWebhook.toFixed(3)} stream records per webhook (measured) / ${recordsPerInvocation.toFixed(2)} per invocation (${A.streamShards} shards polled ${A.streamPollsPerSecond}×/s at ${rate}/s)`,
        },
        assumed(
          publisherMs,
          ms,
          `${A.publisherCpuMsPerRecord} ms CPU per record + ${A.sqsSendMs} ms per send + ${A.invocationOverheadMs} ms`,
        ),
        measured(
          publisherLogBytes,
          "bytes per webhook",
          "log lines and EMF lines per invocation from the local run, scaled to the modelled invocations",
        ),
        tracedPerSecond(rate * publisherInvocations) / rate,
        rate * publisherInvocations,
      ),
    },
    sqsRequestsPerWebhook: {
      value: sqsTotal,
      unit: "requests per webhook",
      kind: "assumed",
      note: "the sum of the SQS breakdown (measured sends, modelled polling)",
    },
    dynamoWriteUnitsPerWebhook: measured(
      units.wru / webhooks,
      "WRU per webhook",
      `the consumer's writes (${Object.entries(opsPerEvent)
        .map(([op, n]) => `${n.toFixed(2)} ${op}`)
        .join(
          ", ",
        )} per event) by DynamoDB's size rules, the stack's ${facts.table.globalSecondaryIndexes.length} index(es) included; redeliveries SQS would drop excluded`,
    ),
    dynamoWriteUnitsByResource: Object.fromEntries([
      [
        "table",
        measured(
          counted.reduce((t, [, u]) => t + u.wru, 0) / webhooks,
          "WRU per webhook",
          "the table's own share of the writes above (what its provisioned capacity would be sized by)",
        ),
      ],
      ...facts.table.globalSecondaryIndexes.map((index) => [
        index.name,
        measured(
          counted.reduce((t, [, u]) => t + (u.gsiWruByIndex?.[index.name] ?? 0), 0) / webhooks,
          "WRU per webhook",
          `index ${index.name}'s share of the writes above`,
        ),
      ]),
    ]),
    dynamoReadUnitsPerWebhook: measured(
      units.rru / webhooks,
      "RRU per webhook",
      "the consumer's reads by DynamoDB's size rules and their consistency",
    ),
    secretsManagerCallsPerWebhook: assumed(
      ingestContainers / maxAge / rate,
      "calls per webhook",
      `one GetSecretValue per warm ingest container every ${maxAge} s (${ingestContainers} containers at ${rate}/s)`,
    ),
    logClass: ingest.logGroupClass === "INFREQUENT_ACCESS" ? "INFREQUENT_ACCESS" : "STANDARD",
    fixed: {
      secrets: measured(facts.fixed.secrets, "secrets", "AWS::SecretsManager::Secret in the template"),
      alarmMetrics: measured(facts.fixed.alarmMetrics, "alarm metrics", `${facts.fixed.alarms} AWS::CloudWatch::Alarm in the template`),
      dashboards: measured(facts.fixed.dashboards, "dashboards", "AWS::CloudWatch::Dashboard in the template"),
      customerManagedKmsKeys: measured(facts.fixed.customerManagedKmsKeys, "keys", "AWS::KMS::Key in the template"),
      customMetrics: measured(
        e2e.customMetrics.length,
        "metrics",
        "distinct metric + dimension values in the local run's EMF lines (rejections add more)",
      ),
    },
    storage: {
      dynamoBytesPerWebhook: measured(
        (p.storedBytes.table + p.storedBytes.indexes) / webhooks,
        "bytes per webhook",
        "items and index entries in DynamoDB Local after the run, +100 bytes each",
      ),
      pointInTimeRecovery: facts.table.pointInTimeRecovery,
      logCompressionRatio: assumed(A.logCompressionRatio, "ratio", "archived (compressed) / ingested log size"),
    },
  };
  return {
    inputs,
    sqsBreakdown,
    local: {
      consumerMeanBatch: p.consumerBatchSizes.reduce((a, b) => a + b, 0) / Math.max(1, p.consumerBatchSizes.length),
      consumerInvocationsPerWebhook: localConsumerInvocations / webhooks,
      publisherInvocationsPerWebhook: localPublisherInvocations / webhooks,
      sqsRequestsPerWebhook: Object.values(p.sqs).reduce((t, s) => t + s.calls, 0) / webhooks,
      emptyReceivesPerWebhook: sqs("ReceiveMessage events").empty / webhooks,
    },
  };
}
