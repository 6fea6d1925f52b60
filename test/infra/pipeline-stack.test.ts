import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import type { KycFunction } from "../../lib/kyc-function.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";
import {
  acknowledgements,
  expectNagClean,
  getAtt,
  logicalIdOf,
  roleIdOf,
  type StackTemplate,
  type Synthesized,
  synthWithNag,
  XRAY_STATEMENT,
} from "../support/cdk.js";

/**
 * The stack as a whole: how it composes the stages (each one's own resources: one test file per
 * construct), the HTTP API it shares between them, least privilege across stages, outputs, cdk-nag.
 * Options: one non-default flag, one default flag, a non-default key derivation, a partial throttle.
 */
let synth: Synthesized;
let t: StackTemplate;
let stack: PipelineStack;
/** The same stack with both cost settings (docs/performance.md, Cost settings): no tracing, provisioned capacity. */
let leanSynth: Synthesized;
let lean: PipelineStack;

beforeAll(() => {
  synth = synthWithNag((app) => {
    stack = new PipelineStack(app, "KycWebhookPipeline", {
      providerOptions: { veriffLegacySignature: true, neurovisionKeyDerivation: "sha256-hex-prefix" },
      throttle: { rateLimit: 20 },
    });
  });
  t = synth.template(stack);
  leanSynth = synthWithNag((app) => {
    lean = new PipelineStack(app, "KycWebhookPipeline", {
      tracing: "disabled",
      tableCapacity: { mode: "provisioned", maxWriteUnits: 800 },
    });
  });
});

const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);
/** Every function of the stack. */
const functions = (): KycFunction[] => [
  ...PROVIDER_IDS.map((p) => stack.webhooks[p].ingestFunction),
  stack.events.consumerFunction,
  stack.statusChanges.publisherFunction,
  stack.readApi.readFunction,
  reconcilerOf(stack),
];

function reconcilerOf(of: PipelineStack): KycFunction {
  if (of.reconciliation === undefined) throw new Error("the stack has no reconciler");
  return of.reconciliation.reconcilerFunction;
}
const env = (fn: KycFunction): Record<string, unknown> =>
  (t.props(logicalIdOf(fn))["Environment"] as { Variables: Record<string, unknown> }).Variables;

describe("composition", () => {
  it("has one table, the events and status-changes queues with their DLQs, the failures queue, eight functions", () => {
    t.template.resourceCountIs("AWS::DynamoDB::Table", 1);
    // Events queue and DLQ, status-changes queue and DLQ, publisher failures.
    t.template.resourceCountIs("AWS::SQS::Queue", 5);
    // One ingest function per provider, the consumer and the publisher (no route), the read function, the reconciler.
    t.template.resourceCountIs("AWS::Lambda::Function", PROVIDER_IDS.length + 4);
    t.template.resourceCountIs("AWS::Scheduler::Schedule", 1);
    expect(stack.table).toBe(stack.verifications.table);
    expect([stack.eventsQueue, stack.eventsDlq]).toEqual([stack.events.eventsQueue, stack.events.eventsDlq]);
    expect([stack.statusChangesQueue, stack.statusChangesDlq, stack.publisherFailuresQueue]).toEqual([
      stack.statusChanges.statusChangesQueue,
      stack.statusChanges.statusChangesDlq,
      stack.statusChanges.publisherFailuresQueue,
    ]);
  });

  it("wires the stages: ingest → events queue → consumer → table → stream → publisher → status-changes; read → table", () => {
    const table = logicalIdOf(stack.table);
    for (const provider of PROVIDER_IDS) {
      expect(env(stack.webhooks[provider].ingestFunction)["EVENTS_QUEUE_URL"]).toEqual({ Ref: logicalIdOf(stack.eventsQueue) });
    }
    const [consumerMapping] = t.mappingsOf(logicalIdOf(stack.events.consumerFunction));
    expect(consumerMapping?.[1].Properties["EventSourceArn"]).toEqual(getAtt(logicalIdOf(stack.eventsQueue)));
    expect(env(stack.events.consumerFunction)["TABLE_NAME"]).toEqual({ Ref: table });
    const [publisherMapping] = t.mappingsOf(logicalIdOf(stack.statusChanges.publisherFunction));
    expect(publisherMapping?.[1].Properties["EventSourceArn"]).toEqual(getAtt(table, "StreamArn"));
    expect(env(stack.readApi.readFunction)["TABLE_NAME"]).toEqual({ Ref: table });
  });

  it("gives each ingest function its own provider's options, absent ones at their safe default", () => {
    expect(env(stack.webhooks.veriff.ingestFunction)).toMatchObject({ VERIFF_LEGACY_SIGNATURE: "true" });
    expect(env(stack.webhooks.idngo.ingestFunction)).toMatchObject({ IDNGO_ALLOW_SHA1: "false" });
    expect(env(stack.webhooks.neurovision.ingestFunction)).toMatchObject({ NEUROVISION_KEY_DERIVATION: "sha256-hex-prefix" });
    expect(Object.keys(env(stack.webhooks.idbeyond.ingestFunction)).filter((k) => /LEGACY|SHA1|DERIVATION/.test(k))).toEqual([]);
  });

  // Stateful resources: test/infra/logical-ids.test.ts. These are pinned too because replacing them is not
  // harmless: a new stream mapping re-reads up to 24 h of the stream (TRIM_HORIZON) and republishes status
  // changes; a new route clashes with the old one's route key; functions and roles would be recreated.
  it.each([
    ["AWS::Lambda::EventSourceMapping", ["ConsumerFromVerificationEvents1D395D75", "PublisherFromVerificationsTableStream8619B8DA"]],
    [
      "AWS::ApiGatewayV2::Route",
      [
        "WebhookApiGETverifications4A1A8117",
        "WebhookApiGETverificationscorrelationIdE7CAD98E",
        "WebhookApiPOSTwebhooksidbeyond3032F346",
        "WebhookApiPOSTwebhooksidngoB57E066E",
        "WebhookApiPOSTwebhooksneurovision92982990",
        "WebhookApiPOSTwebhooksveriffBCA66238",
      ],
    ],
    [
      "AWS::Lambda::Function",
      [
        "Consumer8D6BE417",
        "IdbeyondIngest1EF0E7A3",
        "IdngoIngest846E4804",
        "NeurovisionIngest4B03BAAA",
        "PublisherF0355618",
        "Read0389503C",
        // New with the reconciler (not in the first release): pinned from its first release on.
        "ReconciliationReconciler44D9E515",
        "VeriffIngest489D364A",
      ],
    ],
    [
      "AWS::IAM::Role",
      [
        "ConsumerRoleACB9B9F3",
        "IdbeyondIngestRole782C890D",
        "IdngoIngestRole918485CC",
        "NeurovisionIngestRoleB7C2C9A9",
        "PublisherRoleFDE2F285",
        "ReadRoleF724156F",
        "ReconciliationReconcilerRoleA5128B16",
        "ReconciliationScheduleRoleBC18A0B5",
        "VeriffIngestRole5E4747D9",
      ],
    ],
  ])("keeps the first release's logical IDs of every %s (an upgrade updates them in place)", (type, ids) => {
    expect(
      t
        .ofType(type)
        .map(([id]) => id)
        .sort(),
    ).toEqual(ids);
  });

  it("outputs exactly the README's stack outputs", () => {
    expect(Object.keys(t.outputs).sort()).toEqual(
      [
        ...PROVIDER_IDS.flatMap((p) => [`${pascal(p)}WebhookUrl`, `${pascal(p)}SecretArn`]),
        "EventsQueueUrl",
        "EventsQueueArn",
        "EventsDlqUrl",
        "VerificationsTableName",
        "VerificationsTableArn",
        "StatusChangesQueueUrl",
        "StatusChangesQueueArn",
        "StatusChangesDlqUrl",
        "PublisherFailuresQueueUrl",
        "ReadApiBaseUrl",
        "ReconcilerFunctionName",
        "IdngoApiCredentialsArn",
        "VeriffApiCredentialsArn",
        "AlarmTopicArn",
        "DashboardName",
        "DashboardUrl",
      ].sort(),
    );
  });
});

describe("tracing", () => {
  it("every function traces actively, and its role may write to X-Ray", () => {
    expect(t.ofType("AWS::Lambda::Function")).toHaveLength(functions().length);
    for (const fn of functions()) {
      expect(t.props(logicalIdOf(fn))["TracingConfig"]).toEqual({ Mode: "Active" });
      expect(t.roleStatements(roleIdOf(fn))[0]).toEqual(XRAY_STATEMENT);
    }
  });

  it("with tracing: disabled, no function traces and no role may write to X-Ray (nothing on '*' for it, nothing acknowledged for it)", () => {
    const l = leanSynth.template(lean);
    const fns = l.ofType("AWS::Lambda::Function");
    expect(fns).toHaveLength(functions().length);
    for (const [, fn] of fns) expect(fn.Properties).not.toHaveProperty("TracingConfig");
    expect(JSON.stringify(l.resources)).not.toContain("xray:");
    const acknowledged = acknowledgements(lean);
    expect(acknowledged.get("AwsSolutions-IAM5[Resource::*]")?.paths).toEqual(["StatusChanges/PublisherRole"]);
    expect(acknowledged.get("Serverless-LambdaTracing")?.paths).toHaveLength(functions().length);
    expect(acknowledged.get("Serverless-LambdaTracing")?.reasons.every((r) => r.includes("tracing: disabled"))).toBe(true);
    expectNagClean(leanSynth);
  });
});

describe("table capacity", () => {
  it("is on demand by default, without capacity or scaling", () => {
    expect(t.props(logicalIdOf(stack.table))["BillingMode"]).toBe("PAY_PER_REQUEST");
    expect(t.ofType("AWS::ApplicationAutoScaling::ScalableTarget")).toEqual([]);
  });

  it("provisioned: the same table (logical ID), auto scaled for the table and each of its indexes", () => {
    const l = leanSynth.template(lean);
    const id = logicalIdOf(lean.table);
    expect(id).toBe(logicalIdOf(stack.table));
    expect(l.props(id)["BillingMode"]).toBe("PROVISIONED");
    const indexes = (l.props(id)["GlobalSecondaryIndexes"] as { IndexName: string }[]).map((i) => i.IndexName);
    expect(indexes).toEqual(["bySubject", "bySubjectCreated", "byPendingSince"]);
    const targets = l.ofType("AWS::ApplicationAutoScaling::ScalableTarget").map(([, r]) => r.Properties);
    expect(targets).toHaveLength(2 * (1 + indexes.length));
    for (const target of targets)
      expect(target["MaxCapacity"]).toBe(String(target["ScalableDimension"]).endsWith("WriteCapacityUnits") ? 800 : 4000);
    expectNagClean(leanSynth);
  });
});

describe("HTTP API", () => {
  it("has one webhook route per provider without authorization (the Lambda checks signatures), and the two IAM read routes", () => {
    const routes = t.ofType("AWS::ApiGatewayV2::Route").map(([, r]) => [r.Properties["RouteKey"], r.Properties["AuthorizationType"]]);
    expect(routes.sort()).toEqual(
      [
        ...PROVIDER_IDS.map((p) => [`POST /webhooks/${p}`, "NONE"]),
        ["GET /verifications", "AWS_IAM"],
        ["GET /verifications/{correlationId}", "AWS_IAM"],
      ].sort(),
    );
    t.template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    t.template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0); // IAM authorization needs no authorizer resource
  });

  it("has a single auto-deployed $default stage with throttling and minimal JSON access logs", () => {
    const stages = t.ofType("AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.[1].Properties ?? {};
    expect(stage).toMatchObject({
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 100 },
    });
    const access = stage["AccessLogSettings"] as { DestinationArn: { "Fn::GetAtt": [string, string] }; Format: string };
    const [logGroupId] = access.DestinationArn["Fn::GetAtt"];
    expect(t.resources[logGroupId]).toMatchObject({
      Type: "AWS::Logs::LogGroup",
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: "Retain",
    });
    expect(JSON.parse(access.Format)).toEqual({
      requestId: "$context.requestId",
      routeKey: "$context.routeKey",
      status: "$context.status",
      responseLength: "$context.responseLength",
      requestTime: "$context.requestTime",
      integrationErrorMessage: "$context.integrationErrorMessage",
    });
  });
});

describe("least privilege across the stack", () => {
  it("only the consumer may write the table or receive from the events queue", () => {
    const role = roleIdOf(stack.events.consumerFunction);
    const queue = logicalIdOf(stack.eventsQueue);
    for (const { roles, statement } of t.allStatements()) {
      if (roles.includes(role)) continue;
      const actions = JSON.stringify(statement.Action);
      for (const write of ["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem", "dynamodb:*"]) {
        expect(actions).not.toContain(write);
      }
      if (JSON.stringify(statement.Resource).includes(`"${queue}"`)) expect(actions).not.toContain("sqs:ReceiveMessage");
    }
  });

  it("status-changes has no consumer in the stack itself: only the publisher may touch it, and only to send", () => {
    const queue = logicalIdOf(stack.statusChangesQueue);
    const publisherRole = roleIdOf(stack.statusChanges.publisherFunction);
    const onQueue = t.allStatements().filter(({ statement }) => JSON.stringify(statement.Resource).includes(`"${queue}"`));
    expect(onQueue).toEqual([
      { roles: [publisherRole], statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) } },
    ]);
    // The queue policy only denies requests without TLS.
    expect(t.queuePolicyStatements(stack.statusChangesQueue).map((st) => st.Effect)).toEqual(["Deny"]);
  });

  it("only the publisher may read the table's stream", () => {
    const role = roleIdOf(stack.statusChanges.publisherFunction);
    for (const { roles, statement } of t.allStatements()) {
      if (roles.includes(role)) continue;
      expect(JSON.stringify(statement.Resource)).not.toContain("StreamArn");
      for (const action of ["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"]) {
        expect(JSON.stringify(statement.Action)).not.toContain(action);
      }
    }
  });

  it("leaves the table to the consumer and the read function: no other role names it or its stream", () => {
    const table = logicalIdOf(stack.table);
    const allowed = [roleIdOf(stack.events.consumerFunction), roleIdOf(stack.readApi.readFunction)];
    const publisher = roleIdOf(stack.statusChanges.publisherFunction);
    const reconciler = roleIdOf(reconcilerOf(stack));
    for (const { roles, statement } of t.allStatements()) {
      if (roles.some((r) => allowed.includes(r))) continue;
      const resource = JSON.stringify(statement.Resource);
      if (roles.includes(reconciler) && resource.includes(`"${table}"`)) {
        // The reconciler queries the pending index, and nothing else of the table.
        expect(statement).toEqual({
          Effect: "Allow",
          Action: "dynamodb:Query",
          Resource: { "Fn::Join": ["", [getAtt(table), "/index/byPendingSince"]] },
        });
        continue;
      }
      if (roles.includes(publisher)) {
        // The publisher reads the stream (and lists streams): nothing on the table or its index.
        if (resource.includes(`"${table}"`)) expect(statement.Resource).toEqual(getAtt(table, "StreamArn"));
        continue;
      }
      expect(resource).not.toContain(table);
      expect(JSON.stringify(statement.Action)).not.toContain("dynamodb:");
    }
  });

  it("grants no wildcard action or resource anywhere but X-Ray's and dynamodb:ListStreams on '*' (no resource-level permissions)", () => {
    const wildcards = t
      .allStatements()
      .filter(({ statement }) => JSON.stringify(statement.Action).includes("*") || JSON.stringify(statement.Resource).includes("*"));
    const publisher = roleIdOf(stack.statusChanges.publisherFunction);
    const reconciler = logicalIdOf(reconcilerOf(stack));
    expect(wildcards).toEqual(
      expect.arrayContaining([
        ...functions().map((fn) => ({ roles: [roleIdOf(fn)], statement: XRAY_STATEMENT })),
        { roles: [publisher], statement: { Effect: "Allow", Action: "dynamodb:ListStreams", Resource: "*" } },
        // The schedule may invoke the reconciler (and, by grantInvoke's making, its versions).
        {
          roles: [logicalIdOf(stack.reconciliation?.scheduleRole ?? stack)],
          statement: {
            Effect: "Allow",
            Action: "lambda:InvokeFunction",
            Resource: [getAtt(reconciler), { "Fn::Join": ["", [getAtt(reconciler), ":*"]] }],
          },
        },
      ]),
    );
    expect(wildcards).toHaveLength(functions().length + 2);
  });

  it("has no principal outside the stack: no grantee policy, no queue policy Allow, no deploy-time rule", () => {
    for (const [, policy] of t.ofType("AWS::SQS::QueuePolicy")) {
      const { Statement } = policy.Properties["PolicyDocument"] as { Statement: { Effect: string }[] };
      expect(Statement.map((st) => st.Effect)).toEqual(["Deny"]);
    }
    expect(Object.keys(t.rules)).toEqual(["CheckBootstrapVersion"]);
  });
});

describe("cdk-nag AwsSolutions and Serverless", () => {
  it("leaves no unacknowledged error or warning", () => {
    expectNagClean(synth);
  });

  it("acknowledges only the expected rules, where expected, each with a reason", () => {
    const acknowledged = acknowledgements(stack);
    const paths = (rule: string) => acknowledged.get(rule)?.paths.sort();
    const reconcilerVersions = `AwsSolutions-IAM5[Resource::<${logicalIdOf(reconcilerOf(stack))}.Arn>:*]`;
    expect([...acknowledged.keys()].sort()).toEqual([
      "AwsSolutions-APIG4",
      "AwsSolutions-IAM5[Resource::*]",
      reconcilerVersions,
      "AwsSolutions-L1",
      "AwsSolutions-SMG4",
      "AwsSolutions-SQS3",
      "Serverless-LambdaAsyncFailureDestination",
      "Serverless-LambdaDLQ",
      "Serverless-LambdaEventSourceMappingDestination",
      "Serverless-LambdaLatestVersion",
      "Serverless-SQSRedrivePolicy",
    ]);
    const fns = [
      ...PROVIDER_IDS.map((p) => `${pascal(p)}/Ingest`),
      "VerificationEvents/Consumer",
      "StatusChanges/Publisher",
      "ReadApi/Read",
      "Reconciliation/Reconciler",
    ];
    // No authorization only on the webhook routes; no rotation on each provider's secret.
    expect(paths("AwsSolutions-APIG4")).toEqual(PROVIDER_IDS.map((p) => `WebhookApi/POST--webhooks--${p}`).sort());
    expect(paths("AwsSolutions-SMG4")).toEqual(
      [
        ...PROVIDER_IDS.map((p) => `${pascal(p)}/WebhookSecrets`),
        "Reconciliation/IdngoApiCredentials",
        "Reconciliation/VeriffApiCredentials",
      ].sort(),
    );
    expect(paths(reconcilerVersions)).toEqual(["Reconciliation/ScheduleRole"]);
    // '*' on every role for X-Ray, and once more on the publisher's for ListStreams, each with its own reason.
    expect(paths("AwsSolutions-IAM5[Resource::*]")).toEqual([...fns.map((fn) => `${fn}Role`), "StatusChanges/PublisherRole"].sort());
    const wildcardReasons = acknowledged.get("AwsSolutions-IAM5[Resource::*]")?.reasons ?? [];
    expect(wildcardReasons.filter((r) => r.includes("xray:PutTraceSegments"))).toHaveLength(fns.length);
    expect(wildcardReasons.filter((r) => r.includes("dynamodb:ListStreams"))).toHaveLength(1);
    // The pinned runtime, and no DeadLetterConfig (only the schedule invokes asynchronously, with nothing to keep), on each function.
    // No on-failure destination for the reconciler's asynchronous invocations (its retries are off).
    expect(paths("Serverless-LambdaAsyncFailureDestination")).toEqual(["Reconciliation/Reconciler"]);
    for (const rule of ["AwsSolutions-L1", "Serverless-LambdaLatestVersion", "Serverless-LambdaDLQ"])
      expect(paths(rule)).toEqual(fns.sort());
    // No on-failure destination only on the SQS mapping (SQS has none: the queue's redrive does it).
    expect(paths("Serverless-LambdaEventSourceMappingDestination")).toEqual(["VerificationEvents/Consumer/FromVerificationEvents"]);
    // No redrive only on the queues that are themselves dead-letter destinations.
    expect(paths("AwsSolutions-SQS3")).toEqual(["StatusChanges/PublisherFailures"]);
    expect(paths("Serverless-SQSRedrivePolicy")).toEqual(
      ["StatusChanges/PublisherFailures", "StatusChanges/StatusChanges/Dlq", "VerificationEvents/VerificationEvents/Dlq"].sort(),
    );
    for (const { reasons } of acknowledged.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
  });
});
