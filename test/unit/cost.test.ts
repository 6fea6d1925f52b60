/**
 * The bench's cost model (bench/cost.ts) and DynamoDB's size rules (bench/dynamo-units.ts): each line
 * is computed from its inputs and the prices, never a fixed result.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  billedMs,
  type CostInputs,
  computeCost,
  DEFAULT_DEPLOYMENT,
  type FunctionInputs,
  type Input,
  PRICES,
  type Prices,
  sqsBillableRequests,
  tracedPerSecond,
} from "../../bench/cost.js";
import { type IndexSpec, type Item, indexWriteUnits, itemSize, readUnits, tableWriteUnits, writeUnits } from "../../bench/dynamo-units.js";
import type { DeploymentFacts } from "../../bench/lib/facts.js";
import { permutation } from "../../bench/lib/stats.js";
import { accessLogBytes, deploymentOf, platformLogBytes } from "../../bench/model.js";

const input = (value: number): Input => ({ value, unit: "u", kind: "measured", note: "test" });

function fn(overrides: Partial<Record<keyof FunctionInputs, number>> = {}): FunctionInputs {
  const v = {
    invocationsPerWebhook: 1,
    billedMsPerInvocation: 10,
    memoryMb: 256,
    appLogBytesPerWebhook: 100,
    platformLogBytesPerInvocation: 0,
    tracedInvocationsPerWebhook: 0.1,
    coldStartsPerInvocation: 0.01,
    initMs: 100,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, input(x)])) as unknown as FunctionInputs;
}

function inputs(overrides: Partial<CostInputs> = {}): CostInputs {
  return {
    referenceWebhooksPerSecond: input(100),
    apiRequestsPerWebhook: input(1),
    apiAccessLogBytesPerWebhook: input(200),
    responseBytesPerWebhook: input(300),
    functions: { ingest: fn(), consumer: fn({ invocationsPerWebhook: 0.1, billedMsPerInvocation: 150 }) },
    sqsRequestsPerWebhook: input(1.5),
    dynamoWriteUnitsPerWebhook: input(3),
    dynamoWriteUnitsByResource: { table: input(2), bySubjectCreated: input(0.25), byPendingSince: input(0.75) },
    dynamoReadUnitsPerWebhook: input(1),
    secretsManagerCallsPerWebhook: input(0.0001),
    logClass: "STANDARD",
    fixed: { secrets: input(4), alarmMetrics: input(16), dashboards: input(1), customerManagedKmsKeys: input(1), customMetrics: input(20) },
    storage: { dynamoBytesPerWebhook: input(1000), pointInTimeRecovery: true, logCompressionRatio: input(0.15) },
    ...overrides,
  };
}

const GB = 1024 ** 3;

describe("cost model", () => {
  it("computes every line from its inputs and the prices", () => {
    const x = inputs();
    const cost = computeCost(x);
    expect(cost.lines["API Gateway HTTP API requests"]).toBeCloseTo(1 * PRICES.apiGatewayHttpPerMillion.usd, 10);
    expect(cost.lines["Lambda requests"]).toBeCloseTo(1.1 * PRICES.lambdaRequestsPerMillion.usd, 10);
    const gbSeconds = 1 * 0.01 * 0.25 + 0.1 * 0.15 * 0.25;
    expect(cost.lines["Lambda duration"]).toBeCloseTo(gbSeconds * 1e6 * PRICES.lambdaArmGbSecond.usd, 10);
    expect(cost.lines["Lambda init (cold starts)"]).toBeCloseTo(1.1 * 0.01 * 0.1 * 0.25 * 1e6 * PRICES.lambdaArmGbSecond.usd, 10);
    expect(cost.lines["SQS FIFO requests"]).toBeCloseTo(1.5 * PRICES.sqsFifoPerMillion.usd, 10);
    expect(cost.lines["DynamoDB writes"]).toBeCloseTo(3 * PRICES.dynamoWriteRequestUnitPerMillion.usd, 10);
    expect(cost.lines["DynamoDB reads"]).toBeCloseTo(1 * PRICES.dynamoReadRequestUnitPerMillion.usd, 10);
    expect(cost.logBytesPerWebhook).toBe(200 + 100 + 100);
    expect(cost.lines["CloudWatch Logs ingestion"]).toBeCloseTo(((400 * 1e6) / GB) * PRICES.logsIngestionStandardPerGb.usd, 10);
    expect(cost.lines["X-Ray traces"]).toBeCloseTo(0.2 * PRICES.xrayTracesRecordedPerMillion.usd, 10);
    expect(cost.lines["Data transfer out"]).toBeCloseTo(((300 * 1e6) / GB) * PRICES.dataTransferOutPerGb.usd, 10);
    expect(cost.usdPerMillion).toBeCloseTo(
      Object.values(cost.lines).reduce((a, b) => a + b, 0),
      10,
    );
  });

  it("follows its inputs: twice the write units, twice the DynamoDB line; the dominant line is the largest", () => {
    const base = computeCost(inputs());
    const doubled = computeCost(inputs({ dynamoWriteUnitsPerWebhook: input(6) }));
    expect(doubled.lines["DynamoDB writes"]).toBeCloseTo(2 * (base.lines["DynamoDB writes"] ?? 0), 10);
    const top = Object.entries(doubled.lines).sort((a, b) => b[1] - a[1])[0]?.[0];
    expect(doubled.dominantLine).toBe(top);
  });

  it("without tracing, records no X-Ray traces and changes no other line", () => {
    const traced = computeCost(inputs());
    const untraced = computeCost(inputs(), PRICES, { tracing: false, provisioned: null });
    expect(traced.lines["X-Ray traces"]).toBeGreaterThan(0);
    expect(untraced.lines["X-Ray traces"]).toBe(0);
    expect({ ...untraced.lines, "X-Ray traces": traced.lines["X-Ray traces"] }).toEqual(traced.lines);
    expect(computeCost(inputs(), PRICES, DEFAULT_DEPLOYMENT).lines).toEqual(traced.lines);
  });

  it("provisioned capacity: consumed units / target utilization, at least the minimum, per table and index, per hour over the hour's webhooks", () => {
    const provisioned = { targetUtilizationPercent: 50, minReadUnits: 5, minWriteUnits: 60 };
    const cost = computeCost(inputs(), PRICES, { tracing: true, provisioned });
    // 100 webhooks/s: the table consumes 200 WCU/s (400 provisioned at 50 %), the indexes 25 and 75
    // (50, below the minimum of 60, and 150).
    const writeUnits = 400 + 60 + 150;
    // Only the table is read per webhook: 100 RCU/s → 200; each index keeps its minimum.
    const readUnits = 200 + 5 + 5;
    const hourOfWebhooks = 100 * 3600;
    expect(cost.lines["DynamoDB writes"]).toBeCloseTo(((writeUnits * PRICES.dynamoWriteCapacityUnitHour.usd) / hourOfWebhooks) * 1e6, 10);
    expect(cost.lines["DynamoDB reads"]).toBeCloseTo(((readUnits * PRICES.dynamoReadCapacityUnitHour.usd) / hourOfWebhooks) * 1e6, 10);
    // A minimum above the need is what is paid for.
    const idle = computeCost(inputs({ referenceWebhooksPerSecond: input(1) }), PRICES, { tracing: true, provisioned });
    expect(idle.lines["DynamoDB writes"]).toBeCloseTo(((3 * 60 * PRICES.dynamoWriteCapacityUnitHour.usd) / 3600) * 1e6, 10);
  });

  it("reads the deployment from a template's facts: all traced or none, on demand or provisioned with its auto scaling", () => {
    const facts = (over: Partial<DeploymentFacts>): DeploymentFacts => ({
      context: {},
      activeTracing: { functions: 8, active: 8 },
      tableBillingMode: "PAY_PER_REQUEST",
      tableScaling: [],
      ...over,
    });
    expect(deploymentOf(facts({}))).toEqual(DEFAULT_DEPLOYMENT);
    expect(deploymentOf(facts({ activeTracing: { functions: 8, active: 0 } }))).toEqual({ tracing: false, provisioned: null });
    expect(() => deploymentOf(facts({ activeTracing: { functions: 8, active: 3 } }))).toThrow(/3 of 8 functions/);
    const scaling = (resource: string, dimension: "read" | "write", min: number) => ({
      resource,
      dimension,
      min,
      max: 900,
      targetUtilizationPercent: 70,
    });
    expect(
      deploymentOf(
        facts({
          tableBillingMode: "PROVISIONED",
          tableScaling: [scaling("table", "read", 5), scaling("table", "write", 10), scaling("byPendingSince", "write", 10)],
        }),
      ),
    ).toEqual({ tracing: true, provisioned: { targetUtilizationPercent: 70, minReadUnits: 5, minWriteUnits: 10 } });
    expect(() => deploymentOf(facts({ tableBillingMode: "PROVISIONED" }))).toThrow(/without auto scaling/);
  });

  it("prices the logs by the log group class, and reports the other class", () => {
    const standard = computeCost(inputs());
    const infrequent = computeCost(inputs({ logClass: "INFREQUENT_ACCESS" }));
    expect(infrequent.lines["CloudWatch Logs ingestion"]).toBeCloseTo(standard.logsOtherClassUsdPerMillion, 10);
    expect(standard.lines["CloudWatch Logs ingestion"]).toBeCloseTo(infrequent.logsOtherClassUsdPerMillion, 10);
  });

  it("keeps fixed monthly costs and storage apart from the variable cost, and uses the prices given", () => {
    const prices: Prices = {
      ...PRICES,
      secretPerMonth: { ...PRICES.secretPerMonth, usd: 1 },
      dynamoPitrPerGbMonth: { ...PRICES.dynamoPitrPerGbMonth, usd: 0 },
    };
    const cost = computeCost(inputs(), prices);
    expect(cost.fixedMonthly.lines["Secrets Manager secrets"]).toBe(4);
    expect(cost.fixedMonthly.lines["CloudWatch alarms"]).toBeCloseTo(16 * PRICES.alarmMetricPerMonth.usd, 10);
    expect(cost.fixedMonthly.total).toBeCloseTo(
      Object.values(cost.fixedMonthly.lines).reduce((a, b) => a + b, 0),
      10,
    );
    expect(cost.storagePerMillionPerMonth.lines["DynamoDB point-in-time recovery"]).toBe(0);
    expect(cost.storagePerMillionPerMonth.lines["DynamoDB storage"]).toBeCloseTo(
      ((1000 * 1e6) / GB) * PRICES.dynamoStoragePerGbMonth.usd,
      10,
    );
    expect(Object.keys(cost.lines)).not.toContain("Secrets Manager secrets");
  });

  it("models Lambda's X-Ray sampling, SQS's 64 KB chunks and Lambda's millisecond billing", () => {
    expect(tracedPerSecond(0.5)).toBe(0.5);
    expect(tracedPerSecond(21)).toBeCloseTo(2, 10);
    expect(sqsBillableRequests(0)).toBe(1);
    expect(sqsBillableRequests(64 * 1024)).toBe(1);
    expect(sqsBillableRequests(64 * 1024 + 1)).toBe(2);
    expect(billedMs(0.2)).toBe(1);
    expect(billedMs(10.01)).toBe(11);
  });

  it("writes no platform lines when the logging config's system level is above INFO, and the access log line from the stage's format", () => {
    expect(platformLogBytes({ logFormat: "JSON", systemLogLevel: "WARN", memoryMb: 256 }, 1)).toBe(0);
    const text = platformLogBytes({ logFormat: "Text", systemLogLevel: null, memoryMb: 256 }, 0);
    expect(text).toBeGreaterThan(150);
    expect(platformLogBytes({ logFormat: "Text", systemLogLevel: null, memoryMb: 256 }, 1)).toBeGreaterThan(text);
    expect(accessLogBytes('{"status":"$context.status"}', 100)).toBe('{"status":"200"}'.length + 1);
    expect(accessLogBytes(null, 100)).toBe(0);
  });
});

describe("DynamoDB size and capacity rules", () => {
  const S = (s: string) => ({ S: s });
  const N = (n: string) => ({ N: n });
  const item: Item = { pk: S("abc"), n: N("12345"), b: { BOOL: true }, m: { M: { k: S("vv") } }, l: { L: [S("x"), N("1")] } };

  it("sizes an item by its names and values", () => {
    // pk: 2+3; n: 1 + (ceil(5/2)+1 = 4); b: 1+1; m: 1 + (3 + 1 + 1 + 2); l: 1 + (3 + (1+1) + (1+2))
    expect(itemSize(item)).toBe(5 + 5 + 2 + 8 + 9);
  });

  it("counts write units per KiB, reads per 4 KiB, transactions twice, failed conditions at the existing item", () => {
    expect(writeUnits(1)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(readUnits(4096, "strong")).toBe(1);
    expect(readUnits(4097, "strong")).toBe(2);
    expect(readUnits(100, "eventual")).toBe(0.5);
    expect(readUnits(100, "transactional")).toBe(2);
    const big: Item = { pk: S("k"), data: S("x".repeat(1500)) };
    expect(tableWriteUnits({ newItem: item, oldItem: big, transactional: false, succeeded: true })).toBe(2);
    expect(tableWriteUnits({ newItem: item, oldItem: undefined, transactional: true, succeeded: true })).toBe(2);
    expect(tableWriteUnits({ newItem: item, oldItem: big, transactional: false, succeeded: false })).toBe(2);
    expect(tableWriteUnits({ newItem: item, oldItem: undefined, transactional: false, succeeded: false })).toBe(1);
  });

  it("writes an index when a write adds, changes or removes its entry; two writes when its key changes", () => {
    const all: IndexSpec = { name: "all", keys: ["subjectKey", "updatedAt"], projection: "ALL", nonKeyAttributes: [] };
    const keysOnly: IndexSpec = { name: "keys", keys: ["subjectKey", "createdAt"], projection: "KEYS_ONLY", nonKeyAttributes: [] };
    const v1: Item = { pk: S("p"), sk: S("STATE"), subjectKey: S("u"), createdAt: S("t0"), updatedAt: S("t1"), status: S("submitted") };
    const v2: Item = { ...v1, updatedAt: S("t2"), status: S("approved") };
    const tableKeys = ["pk", "sk"];
    expect(indexWriteUnits(undefined, v1, [all, keysOnly], tableKeys)).toBe(2);
    expect(indexWriteUnits(v1, v2, [all], tableKeys)).toBe(2);
    expect(indexWriteUnits(v1, v2, [keysOnly], tableKeys)).toBe(0);
    expect(indexWriteUnits(v1, { ...v1, status: S("approved") }, [all], tableKeys)).toBe(1);
    const history: Item = { pk: S("p"), sk: S("EVENT#1"), outcome: S("applied") };
    expect(indexWriteUnits(undefined, history, [all, keysOnly], tableKeys)).toBe(0);
    expect(indexWriteUnits(v1, undefined, [keysOnly], tableKeys)).toBe(1);
  });
});

describe("bench interleaving order", () => {
  it("runs every variant once per round, in an order fixed by the round's seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.nat(), (n, seed) => {
        const order = permutation(n, seed);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(permutation(n, seed)).toEqual(order);
      }),
    );
  });

  it("does not keep one variant right behind another from round to round", () => {
    // With seven variants, the first one's successor changes across the 41 rounds the bench runs.
    const successors = new Set<number>();
    for (let round = 1; round <= 41; round += 1) {
      const order = permutation(7, round);
      successors.add(order[(order.indexOf(0) + 1) % 7] ?? -1);
    }
    expect(successors.size).toBeGreaterThan(3);
  });
});
