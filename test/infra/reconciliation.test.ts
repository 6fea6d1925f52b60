import { App, Stack } from "aws-cdk-lib";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { ENV, QUEUES, SERVICES } from "../../lambdas/core/contract.js";
import { FifoQueueWithDlq } from "../../lib/fifo-queue-with-dlq.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";
import { Reconciliation } from "../../lib/reconciliation.js";
import { VerificationsTable } from "../../lib/verifications-table.js";
import {
  expectNagClean,
  getAtt,
  logicalIdOf,
  roleIdOf,
  type StackTemplate,
  type Synthesized,
  synthWithNag,
  XRAY_STATEMENT,
} from "../support/cdk.js";

/** Reconciliation on a table and an events queue: the function, its exact IAM, the schedule, the secrets, the outputs. */
let synth: Synthesized;
let t: StackTemplate;
let verifications: VerificationsTable;
let events: Queue;
let reconciliation: Reconciliation;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test", { env: { account: "123456789012", region: "eu-west-1" } });
    verifications = new VerificationsTable(stack, "VerificationsTable");
    events = new FifoQueueWithDlq(stack, "Events", QUEUES.events).queue;
    reconciliation = new Reconciliation(stack, "Reconciliation", {
      table: verifications.table,
      eventsQueue: events,
      scheduleMinutes: 30,
      olderThanHours: 12,
      idngoApiUrl: "https://api.sumsub.com",
    });
  });
  t = synth.template(Stack.of(reconciliation));
});

const ids = () => {
  const fn = reconciliation.reconcilerFunction;
  return {
    fn: logicalIdOf(fn),
    role: roleIdOf(fn),
    logGroup: logicalIdOf(fn.logGroup),
    table: logicalIdOf(verifications.table),
    idngo: logicalIdOf(reconciliation.idngoCredentials),
    veriff: logicalIdOf(reconciliation.veriffCredentials),
    queue: logicalIdOf(events),
  };
};

describe("Reconciliation", () => {
  it("runs the bundled reconciler with the table, the events queue, its secrets, the API URLs and the age", () => {
    const { table, idngo, veriff, queue } = ids();
    t.expectHouseFunction(reconciliation.reconcilerFunction, {
      timeout: 600,
      service: "kyc-reconciler",
      env: {
        TABLE_NAME: { Ref: table },
        EVENTS_QUEUE_URL: { Ref: queue },
        IDNGO_API_SECRET_ARN: { Ref: idngo },
        VERIFF_API_SECRET_ARN: { Ref: veriff },
        IDNGO_API_URL: "https://api.sumsub.com",
        VERIFF_API_URL: "https://stationapi.veriff.com",
        RECONCILE_OLDER_THAN_HOURS: "12",
      },
    });
  });

  it("has its own role allowed exactly: trace, write its logs, query the pending index, read its two secrets, send to the events queue", () => {
    const { role, logGroup, table, idngo, veriff, queue } = ids();
    expect(t.roleStatements(role)).toEqual([
      XRAY_STATEMENT,
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: "dynamodb:Query", Resource: { "Fn::Join": ["", [getAtt(table), "/index/byPendingSince"]] } },
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: { Ref: idngo } },
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: { Ref: veriff } },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) },
    ]);
  });

  it("runs a pass every scheduleMinutes through EventBridge Scheduler, with a role that may invoke only the reconciler", () => {
    const { fn } = ids();
    const schedules = t.ofType("AWS::Scheduler::Schedule");
    expect(schedules).toHaveLength(1);
    const scheduleRole = logicalIdOf(reconciliation.scheduleRole);
    expect(schedules[0]?.[1].Properties).toEqual({
      Description: expect.stringContaining("every 30 minutes") as unknown,
      FlexibleTimeWindow: { Mode: "OFF" },
      ScheduleExpression: "rate(30 minutes)",
      ScheduleExpressionTimezone: "Etc/UTC",
      State: "ENABLED",
      Target: {
        Arn: getAtt(fn),
        RoleArn: getAtt(scheduleRole),
        Input: JSON.stringify({ source: "schedule" }),
        // Not retried: the next pass comes within the schedule's period and finds the same candidates.
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 86400 },
      },
    });
    expect(t.props(scheduleRole)["AssumeRolePolicyDocument"]).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "scheduler.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "aws:SourceAccount": "123456789012" } },
        },
      ],
    });
    expect(t.roleStatements(scheduleRole)).toEqual([
      { Effect: "Allow", Action: "lambda:InvokeFunction", Resource: [getAtt(fn), { "Fn::Join": ["", [getAtt(fn), ":*"]] }] },
    ]);
    // The schedule invokes asynchronously: Lambda itself must not run a failed pass again either.
    const invokeConfigs = t.ofType("AWS::Lambda::EventInvokeConfig");
    expect(invokeConfigs.map(([, r]) => r.Properties)).toEqual([
      { FunctionName: { Ref: fn }, Qualifier: "$LATEST", MaximumRetryAttempts: 0 },
    ]);
  });

  it("creates the two credential secrets as {} (not polled until an operator fills them in)", () => {
    for (const id of [ids().idngo, ids().veriff]) {
      expect(t.props(id)).toMatchObject({ SecretString: "{}", Description: expect.stringContaining("not webhook secrets") as unknown });
    }
  });

  it("outputs the function's name and the secrets' ARNs", () => {
    const { fn, idngo, veriff } = ids();
    t.template.hasOutput("ReconcilerFunctionName", { Value: { Ref: fn } });
    t.template.hasOutput("IdngoApiCredentialsArn", { Value: { Ref: idngo } });
    t.template.hasOutput("VeriffApiCredentialsArn", { Value: { Ref: veriff } });
  });

  it("passes cdk-nag", () => {
    expectNagClean(synth);
  });
});

describe("PipelineStack with reconciliation disabled (the first deploy of an upgrade)", () => {
  it("has no reconciler, schedule, credential secrets, pending index or reconciliation alarms", () => {
    const app = new App();
    const stack = new PipelineStack(app, "KycWebhookPipeline", { reconciliation: { enabled: false } });
    const resources = Object.values(
      app.synth().getStackByName(stack.stackName).template.Resources as Record<
        string,
        { Type: string; Properties: Record<string, unknown> }
      >,
    );
    expect(stack.reconciliation).toBeUndefined();
    expect(resources.filter((r) => r.Type === "AWS::Scheduler::Schedule")).toHaveLength(0);
    // No reconciler function: the four ingest functions, the consumer, the publisher and the read API only.
    const services = resources
      .filter((r) => r.Type === "AWS::Lambda::Function")
      .map((r) => (r.Properties["Environment"] as { Variables?: Record<string, string> } | undefined)?.Variables?.[ENV.serviceName]);
    expect(services).toHaveLength(7);
    expect(services).not.toContain(SERVICES.reconciler);
    expect(resources.filter((r) => r.Type === "AWS::SecretsManager::Secret")).toHaveLength(4); // the webhook secrets only
    const table = resources.find((r) => r.Type === "AWS::DynamoDB::Table");
    expect(((table?.Properties["GlobalSecondaryIndexes"] ?? []) as { IndexName: string }[]).map((i) => i.IndexName)).toEqual([
      "bySubject",
      "bySubjectCreated",
    ]);
    const alarms = resources.filter((r) => r.Type === "AWS::CloudWatch::Alarm").map((r) => String(r.Properties["AlarmName"]));
    expect(alarms.filter((name) => /Stuck|Reconciler/.test(name))).toEqual([]);
  });
});
