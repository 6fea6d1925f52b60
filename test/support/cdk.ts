/**
 * Assertions for the infrastructure tests (test/infra): a synth with cdk-nag's packs attached as bin/app.ts
 * attaches them, logical-id lookup, IAM statement lookups, and the checks several constructs share
 * (a house KycFunction, a FIFO queue with its DLQ, a TLS-only queue, a clean cdk-nag report).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, CfnElement, type Stack, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT, VALIDATION_REPORT_FILE } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { expect } from "vitest";
import type { KycFunction } from "../../lib/kyc-function.js";

export interface CfnJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: unknown;
  readonly Resource: unknown;
  readonly Principal?: unknown;
}

/** Context that skips esbuild bundling: the Lambda code is not under test (test/infra/cdk-synth.test.ts bundles it). */
export const SKIP_BUNDLING = { "aws:cdk:bundling-stacks": [] };

export const getAtt = (id: string, attribute = "Arn") => ({ "Fn::GetAtt": [id, attribute] });

/** What active tracing (Tracing.ACTIVE) adds to every function's role, first: X-Ray takes no resource. */
export const XRAY_STATEMENT: Statement = {
  Effect: "Allow",
  Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
  Resource: "*",
};

/** The logical ID of a construct's CloudFormation resource (following `Default`/`Resource` children down to it). */
export function logicalIdOf(construct: IConstruct): string {
  let node: IConstruct = construct;
  while (!CfnElement.isCfnElement(node)) {
    const child = node.node.defaultChild;
    if (child === undefined) throw new Error(`${construct.node.path} has no CloudFormation resource`);
    node = child;
  }
  return node.stack.getLogicalId(node);
}

const statementsOf = (policy: [string, CfnJson] | undefined): Statement[] =>
  ((policy?.[1].Properties["PolicyDocument"] ?? { Statement: [] }) as { Statement: Statement[] }).Statement;

/** The logical ID of a KycFunction's own role. */
export const roleIdOf = (fn: KycFunction): string => logicalIdOf(fn.role ?? fn);

/** One stack's synthesized template, with lookups by logical ID and type. */
export class StackTemplate {
  readonly template: Template;
  readonly resources: Readonly<Record<string, CfnJson>>;

  constructor(json: Record<string, unknown>) {
    this.template = Template.fromJSON(json);
    this.resources = (json["Resources"] ?? {}) as Record<string, CfnJson>;
  }

  get outputs(): Record<string, { Value: unknown; Description?: string }> {
    return (this.template.toJSON()["Outputs"] ?? {}) as Record<string, { Value: unknown; Description?: string }>;
  }

  get rules(): Record<string, unknown> {
    return (this.template.toJSON()["Rules"] ?? {}) as Record<string, unknown>;
  }

  props(id: string): Record<string, unknown> {
    const resource = this.resources[id];
    if (!resource) throw new Error(`no resource ${id}`);
    return resource.Properties;
  }

  ofType(type: string): [string, CfnJson][] {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /** The one resource of `type` whose logical ID starts with `prefix`. */
  idWithPrefix(type: string, prefix: string): string {
    const ids = this.ofType(type)
      .map(([id]) => id)
      .filter((id) => id.startsWith(prefix));
    expect(ids, `${type} ${prefix}*`).toHaveLength(1);
    return ids[0] ?? "";
  }

  /** Every statement of every AWS::IAM::Policy, with the roles its policy is attached to (logical ids or names). */
  allStatements(): { roles: string[]; statement: Statement }[] {
    return this.ofType("AWS::IAM::Policy").flatMap(([, policy]) => {
      const roles = ((policy.Properties["Roles"] ?? []) as unknown[]).map((r) =>
        typeof r === "object" && r !== null && "Ref" in r ? String(r.Ref) : String(r),
      );
      const { Statement } = policy.Properties["PolicyDocument"] as { Statement: Statement[] };
      return Statement.map((statement) => ({ roles, statement }));
    });
  }

  /** The statements of the one AWS::IAM::Policy attached to exactly `roles` (as the template writes them). */
  statementsAttachedTo(roles: readonly unknown[]): Statement[] {
    const policies = this.ofType("AWS::IAM::Policy").filter(([, p]) => JSON.stringify(p.Properties["Roles"]) === JSON.stringify(roles));
    expect(policies, `policies of ${JSON.stringify(roles)}`).toHaveLength(1);
    return statementsOf(policies[0]);
  }

  /** The statements of the queue's one AWS::SQS::QueuePolicy. */
  queuePolicyStatements(queue: IQueue): Statement[] {
    const ref = JSON.stringify([{ Ref: logicalIdOf(queue) }]);
    const policies = this.ofType("AWS::SQS::QueuePolicy").filter(([, p]) => JSON.stringify(p.Properties["Queues"]) === ref);
    expect(policies, `policies of ${queue.node.path}`).toHaveLength(1);
    return statementsOf(policies[0]);
  }

  /** The statements a role of this stack is allowed: one attached policy, no inline or managed policies. */
  roleStatements(role: string): Statement[] {
    expect(this.props(role)).not.toHaveProperty("ManagedPolicyArns");
    expect(this.props(role)).not.toHaveProperty("Policies");
    return this.statementsAttachedTo([{ Ref: role }]);
  }

  /** The event source mappings that invoke a function. */
  mappingsOf(fn: string): [string, CfnJson][] {
    return this.ofType("AWS::Lambda::EventSourceMapping").filter(
      ([, m]) => JSON.stringify(m.Properties["FunctionName"]) === JSON.stringify({ Ref: fn }),
    );
  }

  /** The integration whose target is the function, asserting there is exactly one, AWS_PROXY with payload v2. */
  integrationOf(fn: string): string {
    const integrations = this.ofType("AWS::ApiGatewayV2::Integration").filter(
      ([, i]) => JSON.stringify(i.Properties["IntegrationUri"]) === JSON.stringify(getAtt(fn)),
    );
    expect(integrations).toHaveLength(1);
    const [id, integration] = integrations[0] ?? [];
    expect(integration?.Properties).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    return id ?? "";
  }

  /** The one route with this route key (`POST /webhooks/veriff`). */
  route(routeKey: string): Record<string, unknown> {
    const routes = this.ofType("AWS::ApiGatewayV2::Route").filter(([, r]) => r.Properties["RouteKey"] === routeKey);
    expect(routes).toHaveLength(1);
    return routes[0]?.[1].Properties ?? {};
  }

  /** API Gateway may invoke the function for routes on this path only. */
  expectInvokePermission(fn: string, path: string): void {
    this.template.hasResourceProperties("AWS::Lambda::Permission", {
      FunctionName: getAtt(fn),
      Principal: "apigateway.amazonaws.com",
      SourceArn: { "Fn::Join": ["", Match.arrayWith([`/*/*${path}`])] },
    });
  }

  /**
   * The house defaults every KycFunction must have (nodejs22.x, arm64, bundled index.handler, 256 MB,
   * active X-Ray tracing, its own role and log group, retained, with 30 days' retention unless said
   * otherwise; JSON logs, the platform's at WARN, the application's at the function's log level) and
   * exactly the environment given (log level INFO unless said otherwise).
   */
  expectHouseFunction(
    fn: KycFunction,
    expected: { timeout: number; service: string; env: Record<string, unknown>; logLevel?: string; retentionDays?: number },
  ): void {
    const id = logicalIdOf(fn);
    const logGroup = logicalIdOf(fn.logGroup);
    expect(this.props(id)).toMatchObject({
      Runtime: "nodejs22.x",
      Architectures: ["arm64"],
      Handler: "index.handler",
      MemorySize: 256,
      Timeout: expected.timeout,
      Role: getAtt(roleIdOf(fn)),
      TracingConfig: { Mode: "Active" },
    });
    expect(this.props(id)["LoggingConfig"]).toEqual({
      LogGroup: { Ref: logGroup },
      LogFormat: "JSON",
      ApplicationLogLevel: expected.logLevel ?? "INFO",
      SystemLogLevel: "WARN",
    });
    expect(this.resources[logGroup]).toMatchObject({
      Properties: { RetentionInDays: expected.retentionDays ?? 30 },
      DeletionPolicy: "Retain",
    });
    expect(this.props(id)["Environment"]).toEqual({
      Variables: {
        NODE_OPTIONS: "--enable-source-maps",
        POWERTOOLS_SERVICE_NAME: expected.service,
        POWERTOOLS_LOG_LEVEL: expected.logLevel ?? "INFO",
        ...expected.env,
      },
    });
  }

  /** Every CloudWatch alarm's properties, by its AlarmName. */
  alarmsByName(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(
      this.ofType("AWS::CloudWatch::Alarm").map(([, alarm]) => [String(alarm.Properties["AlarmName"]), alarm.Properties]),
    );
  }

  /** The queue's policy denies every request without TLS. */
  expectTlsOnly(queue: IQueue): void {
    const id = logicalIdOf(queue);
    this.template.hasResourceProperties("AWS::SQS::QueuePolicy", {
      Queues: [{ Ref: id }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: "Deny",
            Action: "sqs:*",
            Principal: { AWS: "*" },
            Resource: getAtt(id),
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ]),
      },
    });
  }

  /**
   * A high-throughput FIFO queue (dedup and throughput per message group, no content-based dedup),
   * SSE-SQS, redriving to its FIFO DLQ after `maxReceiveCount` receives; both TLS only, both kept
   * `retentionDays`. Exact: also proves no QueueName (CloudFormation names them).
   */
  expectFifoQueueWithDlq(
    pair: { readonly queue: IQueue; readonly dlq: IQueue },
    expected: { visibilityTimeout: number; retentionDays: number; maxReceiveCount: number },
  ): void {
    const retention = expected.retentionDays * 24 * 3600;
    expect(this.props(logicalIdOf(pair.queue))).toEqual({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: retention,
      VisibilityTimeout: expected.visibilityTimeout,
      RedrivePolicy: { deadLetterTargetArn: getAtt(logicalIdOf(pair.dlq)), maxReceiveCount: expected.maxReceiveCount },
    });
    expect(this.props(logicalIdOf(pair.dlq))).toEqual({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: retention });
    this.expectTlsOnly(pair.queue);
    this.expectTlsOnly(pair.dlq);
  }
}

export interface Synthesized {
  readonly app: App;
  /** cdk-nag's findings on the whole app, both packs (`severity rule: paths`), after acknowledgements. */
  readonly nagFindings: readonly string[];
  /** What synth reports (every validation plugin, after acknowledgements). */
  readonly reportedFindings: readonly unknown[];
  template(stack: Stack): StackTemplate;
}

/**
 * Synthesizes the stacks `build` creates in a new app, with cdk-nag's AwsSolutions and Serverless packs
 * attached as bin/app.ts attaches them. Findings are returned rather than thrown (bin/app.ts fails the synth),
 * so that a missing acknowledgement fails the test that checks them, with the finding, not the whole
 * file. Bundling is skipped unless the context says otherwise.
 */
export function synthWithNag(build: (app: App) => void, context: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), "kyc-infra-"));
  try {
    const app = new App({ outdir, context: { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false, ...SKIP_BUNDLING, ...context } });
    build(app);
    const packs = [new AwsSolutionsChecks(app), new ServerlessChecks(app)];
    Validations.of(app).addPlugins(...packs);
    const assembly = app.synth();
    const templates = new Map(assembly.stacks.map((s) => [s.id, new StackTemplate(s.template as Record<string, unknown>)]));
    const report = JSON.parse(readFileSync(join(assembly.directory, VALIDATION_REPORT_FILE), "utf8")) as { pluginReports: unknown[] };
    const nagFindings = packs.flatMap((pack) =>
      pack
        .validateScope(app)
        .violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`),
    );
    return {
      app,
      nagFindings,
      reportedFindings: report.pluginReports,
      template: (stack) => {
        const template = templates.get(stack.artifactId);
        if (!template) throw new Error(`stack ${stack.node.path} was not synthesized`);
        return template;
      },
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** No unacknowledged cdk-nag error or warning anywhere in the app, and nothing reported by synth. */
export function expectNagClean(synth: Synthesized): void {
  expect(synth.nagFindings).toEqual([]);
  expect(synth.reportedFindings).toEqual([]);
}

/** Every cdk-nag acknowledgement under `scope`: rule id → the paths (relative to `scope`) and reasons. */
export function acknowledgements(scope: IConstruct): Map<string, { paths: string[]; reasons: string[] }> {
  const acknowledged = new Map<string, { paths: string[]; reasons: string[] }>();
  for (const construct of scope.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        const key = id.replace(/^annotation::/i, "");
        const seen = acknowledged.get(key) ?? { paths: [], reasons: [] };
        seen.paths.push(construct.node.path.slice(scope.node.path.length + 1));
        seen.reasons.push(reason);
        acknowledged.set(key, seen);
      }
    }
  }
  return acknowledged;
}
