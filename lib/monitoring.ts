import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { IHttpApi, IHttpStage } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  type Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  type MetricOptions,
  Row,
  Stats,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { BillingMode, type ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { DefaultDashboardFactory, MonitoringFacade } from "cdk-monitoring-constructs";
import { Construct } from "constructs";
import { QUEUES, SERVICES } from "../lambdas/core/contract.js";
import { PROVIDER_IDS, type ProviderId, STATUSES } from "../lambdas/core/event.js";
import { METRICS_NAMESPACE, type MetricDimensions, type MetricName } from "../lambdas/core/metrics.js";
import { stackOutput } from "./outputs.js";
import { providerName } from "./webhook-ingest.js";

/**
 * The thresholds a stage alarms at (STAGE_DEFAULTS in lib/config.ts: production and development).
 * Each alarm fires when its metric is *above* the threshold; the table of alarms is on PipelineMonitoring.
 */
export interface AlarmThresholds {
  /** Events queue: age of its oldest message, in seconds (5-minute maximum). */
  readonly eventsQueueMaxAgeSeconds: number;
  /** Publisher: IteratorAge of its table-stream mapping, in seconds (5-minute maximum). */
  readonly publisherMaxIteratorAgeSeconds: number;
  /** Consumer, and publisher: Lambda `Errors` (thrown, timed out, out of memory) in 5 minutes. */
  readonly functionErrors: number;
  /** HTTP API: `5xx` answers of the $default stage in 5 minutes (ingest's 503s included). */
  readonly api5xx: number;
  /** Per provider: authentication failures in each of two consecutive 5-minute periods (a bad rotation). */
  readonly authenticationFailures: number;
  /** Per provider: webhooks accepted but not mapped (recorded without status) in an hour. */
  readonly unmappedWebhooks: number;
  /** Per provider: verifications still stuck after a reconciliation pass (the pass's count, its maximum over the schedule's period). */
  readonly stuckVerifications: number;
}

export interface PipelineMonitoringProps {
  readonly thresholds: AlarmThresholds;
  /** Subscribed to the alarm topic (SNS asks the address to confirm). @default no subscription */
  readonly alarmEmail?: string | undefined;
  readonly api: IHttpApi;
  /** The stage the webhooks and the read API are served on (`$default`). */
  readonly apiStage: IHttpStage;
  readonly ingestFunctions: Readonly<Record<ProviderId, IFunction>>;
  readonly consumerFunction: IFunction;
  readonly publisherFunction: IFunction;
  readonly readFunction: IFunction;
  readonly eventsQueue: IQueue;
  readonly eventsDlq: IQueue;
  readonly statusChangesQueue: IQueue;
  readonly statusChangesDlq: IQueue;
  readonly publisherFailuresQueue: IQueue;
  readonly table: ITable;
  /** The reconciler and its schedule, when the stack has one. */
  readonly reconciler?: { readonly reconcilerFunction: IFunction; readonly scheduleMinutes: number } | undefined;
}

const ONE_MINUTE = Duration.minutes(1);
const FIVE_MINUTES = Duration.minutes(5);
const ONE_HOUR = Duration.hours(1);

/**
 * One of the pipeline's own metrics (lambdas/core/metrics.ts: the name and its dimensions are the
 * contract's), as the function `service` emits it: Powertools adds the `service` dimension. A Sum.
 */
function pipelineMetric<M extends MetricName>(
  metricName: M,
  service: string,
  dimensions: MetricDimensions[M],
  options: MetricOptions = {},
): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { service, ...(dimensions as Record<string, string>) },
    statistic: Stats.SUM,
    period: FIVE_MINUTES,
    ...options,
  });
}

/**
 * A CloudWatch SEARCH over one of the pipeline's metrics: every series of it, `dimensions` being all of
 * its dimensions (a SEARCH schema lists them all), each labelled with its values of `labelBy`.
 */
function pipelineSearch(metricName: MetricName, dimensions: readonly string[], labelBy: readonly string[]): MathExpression {
  const schema = [METRICS_NAMESPACE, ...[...dimensions].sort()].join(",");
  return new MathExpression({
    expression: `SEARCH('{${schema}} MetricName="${metricName}"', 'Sum', ${FIVE_MINUTES.toSeconds()})`,
    // A dynamic label: CloudWatch fills in each series' dimension values.
    label: labelBy.map((dimension) => `\${PROP('Dim.${dimension}')}`).join(" "),
    period: FIVE_MINUTES,
  });
}

/**
 * Operations for one stack: its alarms, the SNS topic they all notify (on ALARM and on OK), and one
 * CloudWatch dashboard. Every alarm fires when its metric is above the threshold, treats missing data
 * as not breaching (no traffic, no message, no record: nothing wrong), and is named
 * `<stack name>-<id>`:
 *
 * | id                                 | metric (statistic, period)                                                                 | threshold (prod / development) | periods |
 * | ---------------------------------- | ------------------------------------------------------------------------------------------ | ------------------------------ | ------- |
 * | `EventsDlqNotEmpty`                | AWS/SQS ApproximateNumberOfMessagesVisible of the events DLQ (Maximum, 1 min)              | > 0                            | 1 of 1  |
 * | `StatusChangesDlqNotEmpty`         | the same, status-changes DLQ                                                               | > 0                            | 1 of 1  |
 * | `PublisherFailuresNotEmpty`        | the same, publisher-failures queue                                                         | > 0                            | 1 of 1  |
 * | `EventsQueueOldestMessageAge`      | AWS/SQS ApproximateAgeOfOldestMessage of the events queue (Maximum, 5 min)                 | > 1200 s / 3600 s              | 1 of 1  |
 * | `PublisherIteratorAge`             | AWS/Lambda IteratorAge of the publisher (Maximum, 5 min)                                   | > 300 000 ms / 3 600 000 ms    | 1 of 1  |
 * | `ConsumerErrors`                   | AWS/Lambda Errors of the consumer (Sum, 5 min)                                             | > 2 / 10                       | 1 of 1  |
 * | `PublisherErrors`                  | AWS/Lambda Errors of the publisher (Sum, 5 min)                                            | > 2 / 10                       | 1 of 1  |
 * | `Api5xx`                           | AWS/ApiGateway 5xx, ApiId and Stage `$default` (Sum, 5 min)                                | > 5 / 20                       | 1 of 1  |
 * | `{Provider}AuthenticationFailures` | KycWebhooks AuthenticationFailures {service: kyc-ingest-{provider}, provider} (Sum, 5 min) | > 5 / 20                       | 2 of 2  |
 * | `{Provider}WebhooksUnmapped`       | KycWebhooks WebhooksUnmapped {service: kyc-ingest-{provider}, provider} (Sum, 1 h)         | > 10 / 50                      | 1 of 1  |
 * | `{Provider}StuckVerifications`     | KycWebhooks StuckVerifications {service: kyc-reconciler, provider} (Maximum, the schedule) | > 25 / 100                     | 1 of 1  |
 * | `ReconcilerErrors`                 | AWS/Lambda Errors of the reconciler (Sum, the schedule)                                     | > 0                            | 2 of 2  |
 *
 * Alarms are plain CloudWatch alarms, one table of them, exact to read and to test; the dashboard is
 * cdk-monitoring-constructs' (MonitoringFacade): first the flow (webhooks in, rejections, queues,
 * transitions, status changes out, errors) from the pipeline's own metrics, then the facade's standard
 * sections for the HTTP API, each function, each queue and the table.
 */
export class PipelineMonitoring extends Construct {
  /** SNS topic of every alarm (ALARM and OK), encrypted with its own KMS key. */
  readonly topic: Topic;
  readonly alarms: readonly Alarm[];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { thresholds } = props;

    this.topic = this.alarmTopic(props.alarmEmail);
    const action = new SnsAction(this.topic);
    const alarms: Alarm[] = [];
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string, periods = 1): void => {
      const created = new Alarm(this, alarmId, {
        alarmName: `${stack.stackName}-${alarmId}`,
        alarmDescription: `${description} (${stack.stackName}; what to do: docs/operations.md)`,
        metric,
        threshold,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: periods,
        datapointsToAlarm: periods,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms.push(created);
    };

    const visible = (queue: IQueue) => queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, period: ONE_MINUTE });
    alarm(
      "EventsDlqNotEmpty",
      visible(props.eventsDlq),
      0,
      `Events the consumer failed ${QUEUES.events.maxReceiveCount} times are in the events DLQ`,
    );
    alarm(
      "StatusChangesDlqNotEmpty",
      visible(props.statusChangesDlq),
      0,
      `Status changes a downstream consumer failed ${QUEUES.statusChanges.maxReceiveCount} times are in its DLQ`,
    );
    alarm("PublisherFailuresNotEmpty", visible(props.publisherFailuresQueue), 0, "The publisher gave up stream records: replay them");
    alarm(
      "EventsQueueOldestMessageAge",
      props.eventsQueue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
      thresholds.eventsQueueMaxAgeSeconds,
      `Events wait longer than ${thresholds.eventsQueueMaxAgeSeconds} s on the events queue: the consumer is failing or behind`,
    );
    alarm(
      "PublisherIteratorAge",
      props.publisherFunction.metric("IteratorAge", { statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
      thresholds.publisherMaxIteratorAgeSeconds * 1000,
      `Status changes are published more than ${thresholds.publisherMaxIteratorAgeSeconds} s after the write: the publisher is failing or behind`,
    );
    const errors = (fn: IFunction) => fn.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES });
    alarm("ConsumerErrors", errors(props.consumerFunction), thresholds.functionErrors, "The consumer function fails (throws or times out)");
    alarm(
      "PublisherErrors",
      errors(props.publisherFunction),
      thresholds.functionErrors,
      "The publisher function fails (throws or times out)",
    );
    alarm(
      "Api5xx",
      props.apiStage.metricServerError({ statistic: Stats.SUM, period: FIVE_MINUTES }),
      thresholds.api5xx,
      "The HTTP API answers 5xx (ingest answers 503 when secrets are unreadable or the enqueue fails; providers retry)",
    );
    for (const provider of PROVIDER_IDS) {
      const service = SERVICES.ingest(provider);
      alarm(
        `${providerName(provider)}AuthenticationFailures`,
        pipelineMetric("AuthenticationFailures", service, { provider }),
        thresholds.authenticationFailures,
        `${provider} webhooks fail authentication for 10 minutes: a secret rotation gone wrong? (log field cause)`,
        2,
      );
      alarm(
        `${providerName(provider)}WebhooksUnmapped`,
        pipelineMetric("WebhooksUnmapped", service, { provider }, { period: ONE_HOUR }),
        thresholds.unmappedWebhooks,
        `${provider} sends events the pipeline cannot map (recorded without status): a new event type or format?`,
      );
    }
    if (props.reconciler !== undefined) {
      // One data point per pass; CloudWatch alarm periods stop at a day.
      const period = Duration.minutes(Math.min(props.reconciler.scheduleMinutes, 1440));
      for (const provider of PROVIDER_IDS) {
        alarm(
          `${providerName(provider)}StuckVerifications`,
          pipelineMetric("StuckVerifications", SERVICES.reconciler, { provider }, { statistic: Stats.MAXIMUM, period }),
          thresholds.stuckVerifications,
          `More than ${thresholds.stuckVerifications} ${provider} verifications are not final and unchanged for longer than the reconciler's age, after its lookups`,
        );
      }
      alarm(
        "ReconcilerErrors",
        props.reconciler.reconcilerFunction.metricErrors({ statistic: Stats.SUM, period }),
        0,
        "Two reconciliation passes in a row failed (throws or times out)",
        2,
      );
    }
    this.alarms = alarms;

    this.dashboard = this.createDashboard(props);

    stackOutput(this, "AlarmTopicArn", {
      description: "SNS topic every alarm notifies (ALARM and OK): subscribe your on-call tooling",
      value: this.topic.topicArn,
    });
    stackOutput(this, "DashboardName", { description: "CloudWatch dashboard of the pipeline", value: this.dashboard.dashboardName });
    stackOutput(this, "DashboardUrl", {
      value: `https://console.aws.amazon.com/cloudwatch/home?region=${stack.region}#dashboards/dashboard/${this.dashboard.dashboardName}`,
    });
  }

  /**
   * The alarm topic: SSE with a key of its own, since CloudWatch cannot use the AWS managed key
   * alias/aws/sns (its policy cannot grant CloudWatch); TLS only; publishable by this stack's alarms.
   */
  private alarmTopic(email: string | undefined): Topic {
    const stack = Stack.of(this);
    const key = new Key(this, "AlarmTopicKey", {
      description: `Encrypts the alarm notifications of ${stack.stackName} (SNS server-side encryption)`,
      enableKeyRotation: true,
      // It protects notifications in flight only: nothing is left to decrypt once the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // AWS's documented statement for alarms publishing to an encrypted topic (SNS developer guide, "Enable
    // compatibility between event sources from AWS services and encrypted topics"). The topic's policy
    // below limits who may publish to this stack's alarms.
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowCloudWatchAlarmsToUseTheKey",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
      }),
    );
    const topic = new Topic(this, "AlarmTopic", {
      displayName: `${stack.stackName} alarms`,
      masterKey: key,
      enforceSSL: true,
    });
    // Its own statement (the topic policy replaces SNS's default one): this stack's alarms, by name.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowThisStacksAlarmsToPublish",
        principals: [new ServicePrincipal("cloudwatch.amazonaws.com")],
        actions: ["sns:Publish"],
        resources: [topic.topicArn],
        conditions: {
          StringEquals: { "aws:SourceAccount": stack.account },
          ArnLike: {
            "aws:SourceArn": stack.formatArn({
              service: "cloudwatch",
              resource: "alarm",
              resourceName: `${stack.stackName}-*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    if (email !== undefined) {
      const subscription = topic.addSubscription(new EmailSubscription(email));
      Validations.of(subscription).acknowledge({
        id: "Serverless-SNSRedrivePolicy",
        reason:
          "An e-mail subscription delivers alarm notifications to a person: SNS retries a failed delivery, and a " +
          "dead-letter queue would keep notifications no one reads. The alarm's state and history stay in CloudWatch " +
          "(and on the dashboard's alarm widget) whether or not the e-mail arrives.",
      });
    }
    return topic;
  }

  /** The flow of the pipeline (its own metrics), then cdk-monitoring-constructs' sections per resource. */
  private createDashboard(props: PipelineMonitoringProps): Dashboard {
    const stack = Stack.of(this);
    // Dashboards are global to the account: the region keeps two regions' stacks apart.
    const dashboardName = `${stack.stackName}-${stack.region}`;
    const facade = new MonitoringFacade(this, "Facade", {
      // The facade creates no alarm (they are above): only dashboard sections.
      alarmFactoryDefaults: { alarmNamePrefix: stack.stackName, actionsEnabled: false },
      metricFactoryDefaults: { period: FIVE_MINUTES },
      dashboardFactory: new DefaultDashboardFactory(this, "Dashboards", {
        dashboardNamePrefix: dashboardName,
        createDashboard: true,
        createSummaryDashboard: false,
        createAlarmDashboard: false,
      }),
    });

    const graph = (title: string, left: IMetric[], width = 8): GraphWidget =>
      new GraphWidget({ title, left, width, height: 6, period: FIVE_MINUTES });
    const ingest = (provider: ProviderId) => SERVICES.ingest(provider);
    const perProvider = <M extends "WebhooksAccepted" | "AuthenticationFailures" | "WebhooksUnmapped" | "EnqueueFailures">(
      name: M,
      suffix = "",
    ) => PROVIDER_IDS.map((provider) => pipelineMetric(name, ingest(provider), { provider }, { label: `${provider}${suffix}` }));
    const queues: [string, IQueue][] = [
      ["events", props.eventsQueue],
      ["events DLQ", props.eventsDlq],
      ["status-changes", props.statusChangesQueue],
      ["status-changes DLQ", props.statusChangesDlq],
      ["publisher failures", props.publisherFailuresQueue],
    ];
    const functions: [string, IFunction][] = [
      ...PROVIDER_IDS.map((provider): [string, IFunction] => [`ingest ${provider}`, props.ingestFunctions[provider]]),
      ["consumer", props.consumerFunction],
      ["publisher", props.publisherFunction],
      ["read", props.readFunction],
      ...(props.reconciler === undefined ? [] : [["reconciler", props.reconciler.reconcilerFunction] as [string, IFunction]]),
    ];

    facade.addWidget(
      new TextWidget({
        markdown:
          `## KYC webhook pipeline: ${stack.stackName}\n` +
          "provider → `POST /webhooks/{provider}` → ingest → **events queue** → consumer → **verifications table** → " +
          "stream → publisher → **status-changes** → your services. Alarms notify the stack's `AlarmTopicArn`; " +
          "what to do for each: docs/operations.md.",
        width: 24,
        height: 2,
      }),
    );
    facade.addWidget(new AlarmStatusWidget({ title: "Alarms", alarms: [...this.alarms], width: 24, height: 4 }));
    facade.addWidget(
      new Row(
        graph("Webhooks accepted, per provider", perProvider("WebhooksAccepted")),
        graph("Webhooks rejected, by provider and cause", [
          pipelineSearch("WebhooksRejected", ["service", "provider", "cause"], ["provider", "cause"]),
        ]),
        graph("Authentication failures and unmapped webhooks, per provider", [
          ...perProvider("AuthenticationFailures", " auth failures"),
          ...perProvider("WebhooksUnmapped", " unmapped"),
        ]),
      ),
    );
    facade.addWidget(
      new Row(
        graph(
          "Queue depth (visible messages)",
          queues.map(([label, queue]) => queue.metricApproximateNumberOfMessagesVisible({ statistic: Stats.MAXIMUM, label })),
        ),
        graph(
          "Age of the oldest message (s)",
          queues.map(([label, queue]) => queue.metricApproximateAgeOfOldestMessage({ statistic: Stats.MAXIMUM, label })),
        ),
        graph("Publisher stream iterator age (ms)", [
          props.publisherFunction.metric("IteratorAge", { statistic: Stats.MAXIMUM, label: "publisher" }),
        ]),
      ),
    );
    facade.addWidget(
      new Row(
        graph(
          "Transitions applied, per provider",
          PROVIDER_IDS.map((provider) =>
            pipelineMetric("EventsProcessed", SERVICES.consumer, { provider, outcome: "applied" }, { label: provider }),
          ),
        ),
        graph("Events processed, by provider and outcome", [
          pipelineSearch("EventsProcessed", ["service", "provider", "outcome"], ["provider", "outcome"]),
        ]),
        graph(
          "Status changes published, by new status",
          STATUSES.map((status) => pipelineMetric("StatusChangesPublished", SERVICES.publisher, { status }, { label: status })),
        ),
      ),
    );
    facade.addWidget(
      new Row(
        graph(
          "Lambda errors",
          functions.map(([label, fn]) => fn.metricErrors({ statistic: Stats.SUM, label })),
        ),
        graph("Pipeline failures", [
          pipelineMetric("EventsFailed", SERVICES.consumer, {}, { label: "events failed (consumer)" }),
          pipelineMetric("PublishFailures", SERVICES.publisher, {}, { label: "publish failures" }),
          pipelineMetric("UnpublishableRecords", SERVICES.publisher, {}, { label: "unpublishable records" }),
          ...perProvider("EnqueueFailures", " enqueue failures"),
        ]),
        graph("HTTP API errors ($default stage)", [
          props.apiStage.metricServerError({ statistic: Stats.SUM, label: "5xx" }),
          props.apiStage.metricClientError({ statistic: Stats.SUM, label: "4xx" }),
        ]),
      ),
    );
    if (props.reconciler !== undefined) {
      const period = Duration.minutes(Math.min(props.reconciler.scheduleMinutes, 1440));
      const reconciled = (name: "StuckVerifications" | "ReconciliationChanged" | "ReconciliationFailures", statistic: string) =>
        PROVIDER_IDS.map((provider) => pipelineMetric(name, SERVICES.reconciler, { provider }, { label: provider, statistic, period }));
      facade.addWidget(
        new Row(
          graph("Stuck verifications after each reconciliation pass, per provider", reconciled("StuckVerifications", Stats.MAXIMUM)),
          graph("Reconciliation: final statuses found in the providers' APIs", reconciled("ReconciliationChanged", Stats.SUM)),
          graph("Reconciliation: failed lookups", reconciled("ReconciliationFailures", Stats.SUM)),
        ),
      );
    }

    facade.addLargeHeader("Resources");
    facade.monitorApiGatewayV2HttpApi({
      api: props.api,
      apiStage: props.apiStage.stageName,
      humanReadableName: "HTTP API (webhooks and read API)",
      alarmFriendlyName: "HttpApi",
    });
    for (const [label, fn] of functions) {
      facade.monitorLambdaFunction({
        lambdaFunction: fn,
        humanReadableName: `Function: ${label}`,
        alarmFriendlyName: label.replace(/\W+/g, "-"),
        isIterator: fn === props.publisherFunction,
      });
    }
    facade.monitorSqsQueueWithDlq({
      queue: props.eventsQueue,
      deadLetterQueue: props.eventsDlq,
      humanReadableName: "Queue: verification-events",
      alarmFriendlyName: "EventsQueue",
    });
    facade.monitorSqsQueueWithDlq({
      queue: props.statusChangesQueue,
      deadLetterQueue: props.statusChangesDlq,
      humanReadableName: "Queue: status-changes",
      alarmFriendlyName: "StatusChangesQueue",
    });
    facade.monitorSqsQueue({
      queue: props.publisherFailuresQueue,
      humanReadableName: "Queue: publisher failures",
      alarmFriendlyName: "PublisherFailuresQueue",
    });
    facade.monitorDynamoTable({
      table: props.table,
      billingMode: BillingMode.PAY_PER_REQUEST,
      humanReadableName: "Table: verifications",
      alarmFriendlyName: "VerificationsTable",
    });

    const dashboard = facade.createdDashboard();
    if (dashboard === undefined) throw new Error("the monitoring facade created no dashboard");
    return dashboard;
  }
}
