import { type CfnElement, RemovalPolicy, Stack } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, type HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import type { Table } from "aws-cdk-lib/aws-dynamodb";
import type { Grant, IGrantable } from "aws-cdk-lib/aws-iam";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Queue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { PIPELINE_DEFAULTS, type PipelineStackProps, provisionedCapacity, stageDefaults } from "./config.js";
import type { KycFunction } from "./kyc-function.js";
import { flatLogicalId, flattenLogicalIds } from "./logical-ids.js";
import { PipelineMonitoring } from "./monitoring.js";
import { ReadApi } from "./read-api.js";
import { Reconciliation } from "./reconciliation.js";
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

/**
 * The pipeline, one construct per stage of the data flow (README diagram); the HTTP API is shared;
 * its alarms and dashboard (PipelineMonitoring). Props left out take the defaults of `props.stage`
 * (STAGE_DEFAULTS in lib/config.ts: production without a stage).
 */
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
  readonly monitoring: PipelineMonitoring;
  /** The reconciler, its schedule and API credential secrets; absent with `reconciliation.enabled: false`. */
  readonly reconciliation: Reconciliation | undefined;

  constructor(scope: Construct, id: string, props: PipelineStackProps = {}) {
    super(scope, id, props);
    const defaults = stageDefaults(props.stage);
    const logRetention = props.logRetention ?? defaults.logRetention;
    const logLevel = props.logLevel ?? defaults.logLevel;
    const reconciliation = props.reconciliation ?? {};
    const tableCapacity = props.tableCapacity ?? PIPELINE_DEFAULTS.tableCapacity;
    const tracing = props.tracing ?? PIPELINE_DEFAULTS.tracing;
    this.verifications = new VerificationsTable(this, "VerificationsTable", {
      deletionProtection: props.tableDeletionProtection ?? defaults.tableDeletionProtection,
      legacySubjectIndex: props.legacySubjectIndex ?? true,
      pendingIndex: reconciliation.enabled !== false,
      ...(tableCapacity.mode === "provisioned" ? { provisioned: provisionedCapacity(tableCapacity) } : {}),
    });
    this.table = this.verifications.table;
    const { table } = this;
    this.events = new VerificationEvents(this, "VerificationEvents", {
      table,
      consumerMaxConcurrency: props.consumerMaxConcurrency ?? PIPELINE_DEFAULTS.consumerMaxConcurrency,
      logRetention,
      logLevel,
      tracing,
    });
    ({ eventsQueue: this.eventsQueue, eventsDlq: this.eventsDlq } = this.events);
    this.statusChanges = new StatusChanges(this, "StatusChanges", {
      table,
      logRetention,
      logLevel,
      tracing,
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

    const ingest = { api: this.api, eventsQueue: this.eventsQueue, options: props.providerOptions, logRetention, logLevel, tracing };
    this.webhooks = Object.fromEntries(
      PROVIDER_IDS.map((provider) => [provider, new WebhookIngest(this, providerName(provider), { provider, ...ingest })]),
    ) as Record<ProviderId, WebhookIngest>;
    this.readApi = new ReadApi(this, "ReadApi", {
      table,
      api: this.api,
      stage: this.apiStage,
      logRetention,
      logLevel,
      tracing,
      readers: props.verificationReaders,
      readerRoleArns: props.verificationReaderRoleArns,
    });
    // New with the reconciler: not flattened, like the monitoring below.
    this.reconciliation =
      reconciliation.enabled === false
        ? undefined
        : new Reconciliation(this, "Reconciliation", {
            table,
            eventsQueue: this.eventsQueue,
            scheduleMinutes: reconciliation.scheduleMinutes,
            olderThanHours: reconciliation.olderThanHours,
            idngoApiUrl: reconciliation.idngoApiUrl,
            veriffApiUrl: reconciliation.veriffApiUrl,
            logRetention,
            logLevel,
            tracing,
          });
    // New with the alarms: not flattened, its resources were never children of the stack.
    this.monitoring = new PipelineMonitoring(this, "Monitoring", {
      // A threshold left undefined keeps the stage's.
      thresholds: {
        ...defaults.alarmThresholds,
        ...Object.fromEntries(Object.entries(props.alarmThresholds ?? {}).filter(([, value]) => value !== undefined)),
      },
      alarmEmail: props.alarmEmail,
      api: this.api,
      apiStage: this.apiStage,
      ingestFunctions: Object.fromEntries(PROVIDER_IDS.map((p) => [p, this.webhooks[p].ingestFunction])) as Record<ProviderId, KycFunction>,
      consumerFunction: this.events.consumerFunction,
      publisherFunction: this.statusChanges.publisherFunction,
      readFunction: this.readApi.readFunction,
      eventsQueue: this.eventsQueue,
      eventsDlq: this.eventsDlq,
      statusChangesQueue: this.statusChangesQueue,
      statusChangesDlq: this.statusChangesDlq,
      publisherFailuresQueue: this.publisherFailuresQueue,
      table,
      reconciler: this.reconciliation,
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
