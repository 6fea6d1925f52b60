import { type CfnElement, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, type HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import type { Grant, IGrantable } from "aws-cdk-lib/aws-iam";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { PIPELINE_DEFAULTS, type PipelineStackProps } from "./config.js";
import { flatLogicalId, flattenLogicalIds } from "./logical-ids.js";
import { ReadApi } from "./read-api.js";
import { StatusChanges } from "./status-changes.js";
import { VerificationEvents } from "./verification-events.js";
import { VerificationsTable } from "./verifications-table.js";
import { providerName, WebhookIngest } from "./webhook-ingest.js";

export type { PipelineStackProps } from "./config.js";

/**
 * HTTP API access log line: `{"requestId":"$context.requestId",…}`. The caller is the provider's server,
 * but the log stays minimal anyway: no source IP, user agent, headers, path parameters or body. Headers
 * carry signatures and the body carries end-user personal data (names, documents), which must never reach a log.
 */
const ACCESS_LOG_FIELDS = ["requestId", "routeKey", "status", "responseLength", "requestTime", "integrationErrorMessage"];
const ACCESS_LOG_FORMAT = Object.fromEntries(ACCESS_LOG_FIELDS.map((field) => [field, `$context.${field}`]));

/** The pipeline, one construct per stage of the data flow (README diagram); the HTTP API is shared. */
export class PipelineStack extends Stack {
  readonly verifications: VerificationsTable;
  readonly events: VerificationEvents;
  readonly statusChanges: StatusChanges;
  readonly readApi: ReadApi;
  readonly webhooks: Readonly<Record<ProviderId, WebhookIngest>>;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  readonly table: Table;
  readonly eventsQueue: Queue;
  readonly eventsDlq: Queue;
  readonly statusChangesQueue: Queue;
  readonly statusChangesDlq: Queue;
  readonly publisherFailuresQueue: Queue;

  constructor(scope: Construct, id: string, props: PipelineStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? PIPELINE_DEFAULTS.logRetention;
    this.verifications = new VerificationsTable(this, "VerificationsTable", {
      deletionProtection: props.tableDeletionProtection ?? PIPELINE_DEFAULTS.tableDeletionProtection,
    });
    this.table = this.verifications.table;
    const { table } = this;
    this.events = new VerificationEvents(this, "VerificationEvents", {
      table,
      consumerMaxConcurrency: props.consumerMaxConcurrency ?? PIPELINE_DEFAULTS.consumerMaxConcurrency,
      logRetention,
    });
    ({ eventsQueue: this.eventsQueue, eventsDlq: this.eventsDlq } = this.events);
    this.statusChanges = new StatusChanges(this, "StatusChanges", {
      table,
      logRetention,
      consumers: props.statusChangeConsumers,
      consumerRoleArns: props.statusChangeConsumerRoleArns,
    });
    ({ statusChangesQueue: this.statusChangesQueue, statusChangesDlq: this.statusChangesDlq } = this.statusChanges);
    this.publisherFailuresQueue = this.statusChanges.publisherFailuresQueue;

    this.api = new HttpApi(this, "WebhookApi", {
      description: "KYC pipeline: POST /webhooks/{provider} (provider signatures), GET /verifications[/{correlationId}] (IAM)",
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, "WebhookApiAccessLogs", { retention: logRetention, removalPolicy: RemovalPolicy.RETAIN });
    const { rateLimit = PIPELINE_DEFAULTS.throttle.rateLimit, burstLimit = PIPELINE_DEFAULTS.throttle.burstLimit } = props.throttle ?? {};
    this.apiStage = this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit, burstLimit },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    const ingest = { api: this.api, eventsQueue: this.eventsQueue, options: props.providerOptions, logRetention };
    this.webhooks = Object.fromEntries(
      PROVIDER_IDS.map((provider) => [provider, new WebhookIngest(this, providerName(provider), { provider, ...ingest })]),
    ) as Record<ProviderId, WebhookIngest>;
    this.readApi = new ReadApi(this, "ReadApi", {
      table,
      api: this.api,
      stage: this.apiStage,
      logRetention,
      readers: props.verificationReaders,
      readerRoleArns: props.verificationReaderRoleArns,
    });

    // Every resource keeps the logical ID it had as a direct child of this stack (lib/logical-ids.ts):
    // the stages drop out of the path; the queue pairs and each provider's ingest prefix their children
    // (`VerificationEvents` + `Dlq`, `Veriff` + `IngestRole`). The table is its construct's Default child.
    for (const stage of [this.events, this.statusChanges, this.readApi]) flattenLogicalIds(stage);
    for (const scope of [this.events.queues, this.statusChanges.queues, ...Object.values(this.webhooks)]) {
      flattenLogicalIds(scope, scope.node.id);
    }
  }

  /** Logical IDs with the flattened constructs left out: see lib/logical-ids.ts. */
  protected override allocateLogicalId(element: CfnElement): string {
    return flatLogicalId(element);
  }

  /** Allows `grantee` to consume `status-changes`: see `StatusChanges.grantConsumeStatusChanges`. */
  grantConsumeStatusChanges(grantee: IGrantable): Grant {
    return this.statusChanges.grantConsumeStatusChanges(grantee);
  }

  /** Allows `grantee` to call the read API: see `ReadApi.grantReadVerifications`. */
  grantReadVerifications(grantee: IGrantable): Grant {
    return this.readApi.grantReadVerifications(grantee);
  }
}
