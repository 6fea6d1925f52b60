import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_IDS, STATUSES } from "../../lambdas/core/event.js";
import { METRICS_NAMESPACE } from "../../lambdas/core/metrics.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";
import {
  acknowledgements,
  expectNagClean,
  getAtt,
  logicalIdOf,
  type StackTemplate,
  type Synthesized,
  synthWithNag,
} from "../support/cdk.js";

/**
 * PipelineMonitoring as PipelineStack composes it (no stage: production thresholds), without and with
 * an alarm e-mail: every alarm exactly (metric, statistic, period, comparison, threshold, periods,
 * actions), the topic, the dashboard, the outputs, cdk-nag. Per-stage thresholds: test/infra/stages.test.ts.
 */
let synth: Synthesized;
let t: StackTemplate;
let stack: PipelineStack;
let withEmail: Synthesized;
let te: StackTemplate;
let stackWithEmail: PipelineStack;

beforeAll(() => {
  synth = synthWithNag((app) => {
    stack = new PipelineStack(app, "KycWebhookPipeline");
  });
  t = synth.template(stack);
  withEmail = synthWithNag((app) => {
    stackWithEmail = new PipelineStack(app, "KycWebhookPipeline", { alarmEmail: "ops@example.com" });
  });
  te = withEmail.template(stackWithEmail);
});

const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);

/** An alarm's properties with its Dimensions as a record (their order is CDK's). */
function alarm(name: string): Record<string, unknown> {
  const props = t.alarmsByName()[`KycWebhookPipeline-${name}`];
  if (props === undefined) throw new Error(`no alarm ${name}`);
  const dimensions = (props["Dimensions"] ?? []) as { Name: string; Value: unknown }[];
  return { ...props, Dimensions: Object.fromEntries(dimensions.map((d) => [d.Name, d.Value])) };
}

const queueMetric = (queue: IQueue, MetricName: string, Period: number) => ({
  Namespace: "AWS/SQS",
  MetricName,
  Dimensions: { QueueName: getAtt(logicalIdOf(queue), "QueueName") },
  Statistic: "Maximum",
  Period,
});
const lambdaMetric = (fn: IFunction, MetricName: string, Statistic: string) => ({
  Namespace: "AWS/Lambda",
  MetricName,
  Dimensions: { FunctionName: { Ref: logicalIdOf(fn) } },
  Statistic,
  Period: 300,
});
const ingestMetric = (provider: string, MetricName: string, Period: number) => ({
  Namespace: METRICS_NAMESPACE,
  MetricName,
  Dimensions: { service: `kyc-ingest-${provider}`, provider },
  Statistic: "Sum",
  Period,
});

/** Every alarm: its metric, then `> threshold` over `periods` periods (all of them breaching). */
const expected = (): Record<string, { metric: Record<string, unknown>; threshold: number; periods?: number }> => ({
  EventsDlqNotEmpty: { metric: queueMetric(stack.eventsDlq, "ApproximateNumberOfMessagesVisible", 60), threshold: 0 },
  StatusChangesDlqNotEmpty: { metric: queueMetric(stack.statusChangesDlq, "ApproximateNumberOfMessagesVisible", 60), threshold: 0 },
  PublisherFailuresNotEmpty: { metric: queueMetric(stack.publisherFailuresQueue, "ApproximateNumberOfMessagesVisible", 60), threshold: 0 },
  EventsQueueOldestMessageAge: { metric: queueMetric(stack.eventsQueue, "ApproximateAgeOfOldestMessage", 300), threshold: 1200 },
  PublisherIteratorAge: { metric: lambdaMetric(stack.statusChanges.publisherFunction, "IteratorAge", "Maximum"), threshold: 300_000 },
  ConsumerErrors: { metric: lambdaMetric(stack.events.consumerFunction, "Errors", "Sum"), threshold: 2 },
  PublisherErrors: { metric: lambdaMetric(stack.statusChanges.publisherFunction, "Errors", "Sum"), threshold: 2 },
  Api5xx: {
    metric: {
      Namespace: "AWS/ApiGateway",
      MetricName: "5xx",
      Dimensions: { ApiId: { Ref: logicalIdOf(stack.api) }, Stage: "$default" },
      Statistic: "Sum",
      Period: 300,
    },
    threshold: 5,
  },
  ...Object.fromEntries(
    PROVIDER_IDS.flatMap((p) => [
      [`${pascal(p)}AuthenticationFailures`, { metric: ingestMetric(p, "AuthenticationFailures", 300), threshold: 5, periods: 2 }],
      [`${pascal(p)}WebhooksUnmapped`, { metric: ingestMetric(p, "WebhooksUnmapped", 3600), threshold: 10 }],
      // One data point per reconciliation pass (hourly by default): its count of stuck verifications.
      [
        `${pascal(p)}StuckVerifications`,
        {
          metric: {
            Namespace: METRICS_NAMESPACE,
            MetricName: "StuckVerifications",
            Dimensions: { service: "kyc-reconciler", provider: p },
            Statistic: "Maximum",
            Period: 3600,
          },
          threshold: 25,
        },
      ],
    ]),
  ),
  ReconcilerErrors: {
    metric: { ...lambdaMetric(reconcilerOf(stack), "Errors", "Sum"), Period: 3600 },
    threshold: 0,
    periods: 2,
  },
});

function reconcilerOf(of: PipelineStack): IFunction {
  if (of.reconciliation === undefined) throw new Error("the stack has no reconciler");
  return of.reconciliation.reconcilerFunction;
}

/** The alarms' ids (their names without the stack's), known before the synth. */
const ALARM_IDS = [
  "EventsDlqNotEmpty",
  "StatusChangesDlqNotEmpty",
  "PublisherFailuresNotEmpty",
  "EventsQueueOldestMessageAge",
  "PublisherIteratorAge",
  "ConsumerErrors",
  "PublisherErrors",
  "Api5xx",
  ...PROVIDER_IDS.flatMap((p) => [`${pascal(p)}AuthenticationFailures`, `${pascal(p)}WebhooksUnmapped`, `${pascal(p)}StuckVerifications`]),
  "ReconcilerErrors",
];

describe("alarms", () => {
  it("are exactly these, named after the stack", () => {
    expect(Object.keys(expected()).sort()).toEqual([...ALARM_IDS].sort());
    expect(Object.keys(t.alarmsByName()).sort()).toEqual(ALARM_IDS.map((id) => `KycWebhookPipeline-${id}`).sort());
  });

  it.each(ALARM_IDS)("%s: its metric, > threshold, every period breaching, missing data not breaching, notifies the topic", (id) => {
    const spec = expected()[id];
    if (spec === undefined) throw new Error(id);
    const topic = { Ref: logicalIdOf(stack.monitoring.topic) };
    expect(alarm(id)).toEqual({
      AlarmName: `KycWebhookPipeline-${id}`,
      AlarmDescription: expect.stringMatching(/^.{20,} \(KycWebhookPipeline; what to do: docs\/operations\.md\)$/) as unknown,
      ...spec.metric,
      ComparisonOperator: "GreaterThanThreshold",
      Threshold: spec.threshold,
      EvaluationPeriods: spec.periods ?? 1,
      DatapointsToAlarm: spec.periods ?? 1,
      TreatMissingData: "notBreaching",
      AlarmActions: [topic],
      OKActions: [topic],
    });
  });

  it("every alarm of the stack notifies the one topic on ALARM and on OK (the dashboard's facade adds none)", () => {
    const topic = { Ref: logicalIdOf(stack.monitoring.topic) };
    t.template.resourceCountIs("AWS::SNS::Topic", 1);
    for (const [, a] of t.ofType("AWS::CloudWatch::Alarm")) {
      expect(a.Properties).toMatchObject({ AlarmActions: [topic], OKActions: [topic] });
      expect(a.Properties["ActionsEnabled"]).not.toBe(false);
    }
    expect(stack.monitoring.alarms).toHaveLength(Object.keys(expected()).length);
    t.template.resourceCountIs("AWS::CloudWatch::CompositeAlarm", 0);
  });
});

describe("alarm topic", () => {
  it("is encrypted with its own rotated key, which CloudWatch may use", () => {
    const key = logicalIdOf(stack.monitoring.topic.masterKey ?? stack.monitoring.topic);
    expect(t.props(logicalIdOf(stack.monitoring.topic))).toEqual({
      DisplayName: "KycWebhookPipeline alarms",
      KmsMasterKeyId: getAtt(key),
    });
    expect(t.resources[key]).toMatchObject({ Type: "AWS::KMS::Key", Properties: { EnableKeyRotation: true, PendingWindowInDays: 7 } });
    const statements = (t.props(key)["KeyPolicy"] as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toContainEqual({
      Sid: "AllowCloudWatchAlarmsToUseTheKey",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    });
  });

  it("takes TLS only, and notifications from this stack's alarms only", () => {
    const topic = { Ref: logicalIdOf(stack.monitoring.topic) };
    const [policy, ...others] = t.ofType("AWS::SNS::TopicPolicy");
    expect(others).toEqual([]);
    expect(policy?.[1].Properties).toEqual({
      Topics: [topic],
      PolicyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "AllowPublishThroughSSLOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "sns:Publish",
            Resource: topic,
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          {
            Sid: "AllowThisStacksAlarmsToPublish",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: "sns:Publish",
            Resource: topic,
            Condition: {
              StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } },
              ArnLike: {
                "aws:SourceArn": {
                  "Fn::Join": [
                    "",
                    [
                      "arn:",
                      { Ref: "AWS::Partition" },
                      ":cloudwatch:",
                      { Ref: "AWS::Region" },
                      ":",
                      { Ref: "AWS::AccountId" },
                      ":alarm:KycWebhookPipeline-*",
                    ],
                  ],
                },
              },
            },
          },
        ],
      },
    });
  });

  it("has no subscription without alarmEmail, and exactly the e-mail one with it", () => {
    t.template.resourceCountIs("AWS::SNS::Subscription", 0);
    const subscriptions = te.ofType("AWS::SNS::Subscription");
    expect(subscriptions.map(([, s]) => s.Properties)).toEqual([
      { Protocol: "email", Endpoint: "ops@example.com", TopicArn: { Ref: logicalIdOf(stackWithEmail.monitoring.topic) } },
    ]);
    // The e-mail changes nothing else.
    expect(Object.keys(te.resources).filter((id) => !(id in t.resources))).toEqual(subscriptions.map(([id]) => id));
  });
});

/** The dashboard's body with each token written `<Ref:Id>` or `<GetAtt:Id.Attribute>`. */
function dashboardBody(template: StackTemplate): string {
  const [dashboard, ...others] = template.ofType("AWS::CloudWatch::Dashboard");
  expect(others).toEqual([]);
  const body = dashboard?.[1].Properties["DashboardBody"] as { "Fn::Join": [string, unknown[]] };
  return body["Fn::Join"][1]
    .map((part) => {
      if (typeof part === "string") return part;
      const token = part as { Ref?: string; "Fn::GetAtt"?: [string, string] };
      return token.Ref !== undefined ? `<Ref:${token.Ref}>` : `<GetAtt:${token["Fn::GetAtt"]?.join(".")}>`;
    })
    .join("");
}

describe("dashboard", () => {
  it("is named after the stack and its region (dashboards are global to the account)", () => {
    const [[, dashboard] = []] = t.ofType("AWS::CloudWatch::Dashboard");
    expect(dashboard?.Properties["DashboardName"]).toEqual({ "Fn::Join": ["", ["KycWebhookPipeline-", { Ref: "AWS::Region" }]] });
  });

  it("shows the flow: webhooks in per provider, rejections by cause, queues, transitions, status changes out, errors", () => {
    const body = dashboardBody(t);
    const widget = (metric: unknown[]) => expect(body).toContain(JSON.stringify(metric).slice(1, -1));
    for (const p of PROVIDER_IDS) {
      widget([METRICS_NAMESPACE, "WebhooksAccepted", "provider", p, "service", `kyc-ingest-${p}`]);
      widget([METRICS_NAMESPACE, "AuthenticationFailures", "provider", p, "service", `kyc-ingest-${p}`]);
      widget([METRICS_NAMESPACE, "WebhooksUnmapped", "provider", p, "service", `kyc-ingest-${p}`]);
      widget([METRICS_NAMESPACE, "EnqueueFailures", "provider", p, "service", `kyc-ingest-${p}`]);
      widget([METRICS_NAMESPACE, "EventsProcessed", "outcome", "applied", "provider", p, "service", "kyc-consumer"]);
    }
    expect(body).toContain(
      JSON.stringify(`SEARCH('{${METRICS_NAMESPACE},cause,provider,service} MetricName="WebhooksRejected"', 'Sum', 300)`),
    );
    expect(body).toContain(
      JSON.stringify(`SEARCH('{${METRICS_NAMESPACE},outcome,provider,service} MetricName="EventsProcessed"', 'Sum', 300)`),
    );
    for (const status of STATUSES) widget([METRICS_NAMESPACE, "StatusChangesPublished", "service", "kyc-publisher", "status", status]);
    widget([METRICS_NAMESPACE, "EventsFailed", "service", "kyc-consumer"]);
    widget([METRICS_NAMESPACE, "PublishFailures", "service", "kyc-publisher"]);
    widget([METRICS_NAMESPACE, "UnpublishableRecords", "service", "kyc-publisher"]);
    for (const queue of [
      stack.eventsQueue,
      stack.eventsDlq,
      stack.statusChangesQueue,
      stack.statusChangesDlq,
      stack.publisherFailuresQueue,
    ]) {
      for (const metric of ["ApproximateNumberOfMessagesVisible", "ApproximateAgeOfOldestMessage"]) {
        widget(["AWS/SQS", metric, "QueueName", `<GetAtt:${logicalIdOf(queue)}.QueueName>`]);
      }
    }
    const functions = [
      ...PROVIDER_IDS.map((p) => stack.webhooks[p].ingestFunction),
      stack.events.consumerFunction,
      stack.statusChanges.publisherFunction,
      stack.readApi.readFunction,
    ];
    for (const fn of functions) widget(["AWS/Lambda", "Errors", "FunctionName", `<Ref:${logicalIdOf(fn)}>`]);
    widget(["AWS/Lambda", "IteratorAge", "FunctionName", `<Ref:${logicalIdOf(stack.statusChanges.publisherFunction)}>`]);
    widget(["AWS/ApiGateway", "5xx", "ApiId", `<Ref:${logicalIdOf(stack.api)}>`, "Stage", "$default"]);
  });

  it("shows every alarm's state", () => {
    const body = dashboardBody(t);
    for (const a of stack.monitoring.alarms) expect(body).toContain(`<GetAtt:${logicalIdOf(a)}.Arn>`);
  });
});

describe("outputs", () => {
  it("give the topic ARN, the dashboard's name and its console URL", () => {
    const dashboard = { Ref: logicalIdOf(stack.monitoring.dashboard) };
    t.template.hasOutput("AlarmTopicArn", { Value: { Ref: logicalIdOf(stack.monitoring.topic) } });
    t.template.hasOutput("DashboardName", { Value: dashboard });
    t.template.hasOutput("DashboardUrl", {
      Value: {
        "Fn::Join": [
          "",
          ["https://console.aws.amazon.com/cloudwatch/home?region=", { Ref: "AWS::Region" }, "#dashboards/dashboard/", dashboard],
        ],
      },
    });
  });
});

describe("PipelineMonitoring and cdk-nag (AwsSolutions and Serverless)", () => {
  it("passes without and with the e-mail subscription; only the subscription's missing redrive is acknowledged", () => {
    expectNagClean(synth);
    expectNagClean(withEmail);
    expect([...acknowledgements(stack.monitoring).keys()]).toEqual([]);
    const acknowledged = acknowledgements(stackWithEmail.monitoring);
    expect([...acknowledged.keys()]).toEqual(["Serverless-SNSRedrivePolicy"]);
    expect(acknowledged.get("Serverless-SNSRedrivePolicy")?.paths).toEqual(["AlarmTopic/ops@example.com"]);
  });
});
