/**
 * Bench phase 1 (a child process of bench/run.ts): synthesizes the production stack exactly as
 * `cdk synth` does without context (bin/app.ts: `configFromContext`, the stack's own bundling, so
 * every function's bundle is the one that would be deployed), plus a stack of cold-start floors built
 * with the same house function (KycFunction, hence the same NodejsFunction bundling settings), and
 * writes what the other phases need to know about both as JSON.
 *
 * Usage: tsx bench/stack.ts <outdir> <facts.json>
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { SERVICES } from "../lambdas/core/contract.js";
import { isProviderId, type ProviderId } from "../lambdas/core/event.js";
import { CONTEXT_KEYS, configFromContext, pipelineStackName } from "../lib/config.js";
import { KycFunction } from "../lib/kyc-function.js";
import { PipelineStack } from "../lib/pipeline-stack.js";
import {
  type DeploymentFacts,
  type FloorFacts,
  FUNCTION_ROLES,
  type FunctionFacts,
  type FunctionRole,
  type ScalingFacts,
  type StackFacts,
} from "./lib/facts.js";
import { physicalName } from "./lib/payloads.js";
import { ACCOUNT, BENCH_REGION } from "./lib/stubs.js";

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
type Resources = Readonly<Record<string, CfnResource>>;

const [outdir, factsPath] = process.argv.slice(2);
if (outdir === undefined || factsPath === undefined) throw new Error("usage: tsx bench/stack.ts <outdir> <facts.json>");

const obj = (value: unknown): Record<string, unknown> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const num = (value: unknown): number | null =>
  typeof value === "number" ? value : typeof value === "string" && value !== "" ? Number(value) : null;
const refOf = (value: unknown): string | undefined => {
  const ref = obj(value)["Ref"];
  if (typeof ref === "string") return ref;
  const getAtt = obj(value)["Fn::GetAtt"];
  return Array.isArray(getAtt) && typeof getAtt[0] === "string" ? getAtt[0] : undefined;
};

/** A CloudFormation reference in an environment variable, as the deployed value would look. */
function resolveValue(stackName: string, resources: Resources, value: unknown): string {
  if (typeof value === "string") return value;
  const id = refOf(value);
  const target = id === undefined ? undefined : resources[id];
  if (id === undefined || target === undefined) return JSON.stringify(value);
  switch (target.Type) {
    case "AWS::SQS::Queue": {
      const fifo = obj(target.Properties)["FifoQueue"] === true;
      return `https://sqs.${BENCH_REGION}.amazonaws.com/${ACCOUNT}/${physicalName(stackName, id, fifo ? ".fifo" : "")}`;
    }
    case "AWS::DynamoDB::Table":
      return physicalName(stackName, id);
    case "AWS::SecretsManager::Secret":
      return `arn:aws:secretsmanager:${BENCH_REGION}:${ACCOUNT}:secret:${id}-${physicalName("", id).slice(-6)}`;
    default:
      return `${id}`;
  }
}

function sdkImportsOf(code: string): string[] {
  return [...new Set([...code.matchAll(/["'](@aws-sdk\/[a-z0-9-]+)(?:\/[a-z0-9/-]*)?["']/g)].map((m) => m[1] ?? ""))].sort();
}

function bundleOf(resource: CfnResource): { bundlePath: string; bundleBytes: number; sourceMapBytes: number; sdkImports: string[] } {
  const key = String(obj(obj(resource.Properties)["Code"])["S3Key"] ?? "");
  const bundlePath = join(outdir ?? "", `asset.${key.replace(/\.zip$/, "")}`, "index.mjs");
  if (!existsSync(bundlePath)) throw new Error(`no bundle at ${bundlePath} (Code ${JSON.stringify(obj(resource.Properties)["Code"])})`);
  const map = `${bundlePath}.map`;
  return {
    bundlePath,
    bundleBytes: statSync(bundlePath).size,
    sourceMapBytes: existsSync(map) ? statSync(map).size : 0,
    sdkImports: sdkImportsOf(readFileSync(bundlePath, "utf8")),
  };
}

function envOf(stackName: string, resources: Resources, resource: CfnResource): Record<string, string> {
  const vars = obj(obj(obj(resource.Properties)["Environment"])["Variables"]);
  return Object.fromEntries(Object.entries(vars).map(([name, value]) => [name, resolveValue(stackName, resources, value)]));
}

function roleOf(service: string): { role: FunctionRole; provider?: ProviderId } | undefined {
  if (service === SERVICES.consumer) return { role: "consumer" };
  if (service === SERVICES.publisher) return { role: "publisher" };
  if (service === SERVICES.read) return { role: "read" };
  const provider = service.startsWith("kyc-ingest-") ? service.slice("kyc-ingest-".length) : undefined;
  return provider !== undefined && isProviderId(provider) ? { role: "ingest", provider } : undefined;
}

/** The cost settings (docs/performance.md, Cost settings), as `-c` context. */
const COST_SETTINGS = { tracing: "disabled", tableCapacity: "provisioned" } as const;

/** Tracing and the table's billing and auto scaling, as the template states them. */
function deploymentFacts(resources: Resources, context: Record<string, string>): DeploymentFacts {
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const fns = of("AWS::Lambda::Function");
  const tableEntry = of("AWS::DynamoDB::Table")[0];
  const tableId = tableEntry?.[0] ?? "";
  const policies = of("AWS::ApplicationAutoScaling::ScalingPolicy").map(([, r]) => obj(r.Properties));
  const tableScaling: ScalingFacts[] = of("AWS::ApplicationAutoScaling::ScalableTarget").flatMap(([id, target]) => {
    const props = obj(target.Properties);
    const join = obj(props["ResourceId"])["Fn::Join"];
    const parts = Array.isArray(join) && Array.isArray(join[1]) ? (join[1] as unknown[]) : [];
    if (!parts.some((part) => refOf(part) === tableId)) return [];
    const last = parts.at(-1);
    const index = typeof last === "string" && last.startsWith("/index/") ? last.slice("/index/".length) : undefined;
    const policy = policies.find((p) => refOf(p["ScalingTargetId"]) === id);
    return [
      {
        resource: index ?? "table",
        dimension: String(props["ScalableDimension"]).endsWith("ReadCapacityUnits") ? "read" : "write",
        min: num(props["MinCapacity"]) ?? 0,
        max: num(props["MaxCapacity"]) ?? 0,
        targetUtilizationPercent: num(obj(policy?.["TargetTrackingScalingPolicyConfiguration"])["TargetValue"]) ?? 0,
      },
    ];
  });
  return {
    context,
    activeTracing: {
      functions: fns.length,
      active: fns.filter(([, f]) => obj(obj(f.Properties)["TracingConfig"])["Mode"] === "Active").length,
    },
    tableBillingMode: String(obj(tableEntry?.[1].Properties)["BillingMode"] ?? "PROVISIONED"),
    tableScaling,
  };
}

const started = Date.now();
// The context `cdk synth` would pass from cdk.json (feature flags), plus what docs/deploy.md has a
// new stack deploy with: no subject index of earlier versions (an upgraded stack retires it).
const cdkJson = JSON.parse(readFileSync(join(process.cwd(), "cdk.json"), "utf8")) as { context?: Record<string, unknown> };
const baseContext = { ...(cdkJson.context ?? {}), legacySubjectIndex: false };
const app = new App({ outdir, context: baseContext });
const config = configFromContext(app.node);
const pipeline = new PipelineStack(app, pipelineStackName(config.stage), config);
const floorStack = new Stack(app, "KycBenchFloors");
for (const role of FUNCTION_ROLES) {
  new KycFunction(floorStack, `Floor${role}`, { entry: `bench/floors/${role}.ts`, serviceName: `bench-floor-${role}` });
}
const assembly = app.synth();
const synthMs = Date.now() - started;

const template = assembly.getStackByName(pipeline.stackName).template as { Resources: Resources };
// The same stack with the cost settings: only its template is read (no bundling).
const leanApp = new App({
  outdir: `${outdir}-cost-settings`,
  context: { ...baseContext, ...COST_SETTINGS, "aws:cdk:bundling-stacks": [] },
});
const leanStack = new PipelineStack(leanApp, pipelineStackName(config.stage), configFromContext(leanApp.node));
const leanTemplate = leanApp.synth().getStackByName(leanStack.stackName).template as { Resources: Resources };
const resources = template.Resources;
const stackName = pipeline.stackName;
const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logGroup = (id: string | undefined) => obj(resources[id ?? ""]?.Properties);

const functions: FunctionFacts[] = [];
for (const [logicalId, resource] of byType("AWS::Lambda::Function")) {
  const props = obj(resource.Properties);
  const env = envOf(stackName, resources, resource);
  const kind = roleOf(env["POWERTOOLS_SERVICE_NAME"] ?? "");
  if (kind === undefined) continue;
  const logging = obj(props["LoggingConfig"]);
  const group = logGroup(refOf(logging["LogGroup"]));
  functions.push({
    logicalId,
    functionName: physicalName(stackName, logicalId).slice(0, 64),
    ...kind,
    service: env["POWERTOOLS_SERVICE_NAME"] ?? "",
    memoryMb: num(props["MemorySize"]) ?? 128,
    timeoutSeconds: num(props["Timeout"]) ?? 3,
    architecture: String((props["Architectures"] as unknown[] | undefined)?.[0] ?? "x86_64"),
    runtime: String(props["Runtime"] ?? ""),
    tracing: String(obj(props["TracingConfig"])["Mode"] ?? "PassThrough"),
    env,
    logFormat: String(logging["LogFormat"] ?? "Text"),
    systemLogLevel: typeof logging["SystemLogLevel"] === "string" ? logging["SystemLogLevel"] : null,
    applicationLogLevel: typeof logging["ApplicationLogLevel"] === "string" ? logging["ApplicationLogLevel"] : null,
    logGroupClass: String(group["LogGroupClass"] ?? "STANDARD"),
    logRetentionDays: num(group["RetentionInDays"]),
    ...bundleOf(resource),
  });
}

const floorTemplate = assembly.getStackByName(floorStack.stackName).template as { Resources: Resources };
const floors: FloorFacts[] = [];
for (const [, resource] of Object.entries(floorTemplate.Resources).filter(([, r]) => r.Type === "AWS::Lambda::Function")) {
  const env = envOf(floorStack.stackName, floorTemplate.Resources, resource);
  const role = (env["POWERTOOLS_SERVICE_NAME"] ?? "").replace("bench-floor-", "");
  if (!(FUNCTION_ROLES as readonly string[]).includes(role)) continue;
  const bundle = bundleOf(resource);
  floors.push({
    role: role as FunctionRole,
    bundlePath: bundle.bundlePath,
    bundleBytes: bundle.bundleBytes,
    env,
    sdkImports: bundle.sdkImports,
  });
}

const functionIdOf = (role: FunctionRole) => functions.find((f) => f.role === role)?.logicalId;
const mappingOf = (role: FunctionRole) =>
  obj(
    byType("AWS::Lambda::EventSourceMapping").find(([, r]) => refOf(obj(r.Properties)["FunctionName"]) === functionIdOf(role))?.[1]
      .Properties,
  );
const consumerMapping = mappingOf("consumer");
const publisherMapping = mappingOf("publisher");
const stage = obj(byType("AWS::ApiGatewayV2::Stage")[0]?.[1].Properties);
const routeSettings = obj(stage["DefaultRouteSettings"]);
const accessLogs = obj(stage["AccessLogSettings"]);
const table = obj(byType("AWS::DynamoDB::Table")[0]?.[1].Properties);
const alarms = byType("AWS::CloudWatch::Alarm");

const facts: StackFacts = {
  stackName,
  synthMs,
  functions,
  floors,
  api: {
    throttleRateLimit: num(routeSettings["ThrottlingRateLimit"]),
    throttleBurstLimit: num(routeSettings["ThrottlingBurstLimit"]),
    accessLogFormat: typeof accessLogs["Format"] === "string" ? accessLogs["Format"] : null,
    accessLogGroupClass: String(logGroup(refOf(accessLogs["DestinationArn"]))["LogGroupClass"] ?? "STANDARD"),
  },
  consumerSource: {
    batchSize: num(consumerMapping["BatchSize"]) ?? 10,
    maxConcurrency: num(obj(consumerMapping["ScalingConfig"])["MaximumConcurrency"]),
  },
  publisherSource: {
    batchSize: num(publisherMapping["BatchSize"]) ?? 100,
    parallelizationFactor: num(publisherMapping["ParallelizationFactor"]) ?? 1,
    filtered: publisherMapping["FilterCriteria"] !== undefined,
  },
  fixed: {
    secrets: byType("AWS::SecretsManager::Secret").length,
    alarms: alarms.length,
    alarmMetrics: alarms.reduce((total, [, alarm]) => {
      const metrics = obj(alarm.Properties)["Metrics"];
      return total + (Array.isArray(metrics) ? metrics.filter((m) => obj(m)["MetricStat"] !== undefined).length : 1);
    }, 0),
    dashboards: byType("AWS::CloudWatch::Dashboard").length,
    customerManagedKmsKeys: byType("AWS::KMS::Key").length,
  },
  table: {
    billingMode: String(table["BillingMode"] ?? "PROVISIONED"),
    globalSecondaryIndexes: (Array.isArray(table["GlobalSecondaryIndexes"]) ? (table["GlobalSecondaryIndexes"] as unknown[]) : []).map(
      (index) => ({
        name: String(obj(index)["IndexName"] ?? ""),
        keys: (Array.isArray(obj(index)["KeySchema"]) ? (obj(index)["KeySchema"] as unknown[]) : []).map((k) =>
          String(obj(k)["AttributeName"]),
        ),
        projection: String(obj(obj(index)["Projection"])["ProjectionType"] ?? "ALL"),
        nonKeyAttributes: (Array.isArray(obj(obj(index)["Projection"])["NonKeyAttributes"])
          ? (obj(obj(index)["Projection"])["NonKeyAttributes"] as unknown[])
          : []
        ).map(String),
      }),
    ),
    pointInTimeRecovery: obj(table["PointInTimeRecoverySpecification"])["PointInTimeRecoveryEnabled"] === true,
    streamViewType:
      typeof obj(table["StreamSpecification"])["StreamViewType"] === "string"
        ? String(obj(table["StreamSpecification"])["StreamViewType"])
        : null,
  },
  contextKeys: [...CONTEXT_KEYS],
  deployment: deploymentFacts(resources, {}),
  costSettings: deploymentFacts(leanTemplate.Resources, { ...COST_SETTINGS }),
};
writeFileSync(factsPath, JSON.stringify(facts, null, 2));
