import { CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, HttpMethod, LogGroupLogDestination, PayloadFormatVersion } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from "aws-cdk-lib/aws-dynamodb";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { TABLE } from "../lambdas/core/table.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../lambdas/providers/types.js";
import { KycFunction } from "./kyc-function.js";
import { PIPELINE_SETTINGS } from "./settings.js";

export interface PipelineStackProps extends StackProps {
  /** Non-secret provider switches; an absent key is the safe default (`DEFAULT_OPTIONS`). */
  readonly providerOptions?: Partial<ProviderOptions>;
  /** Retention of the Lambda and access log groups. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Stage throttling. @default rateLimit 50 req/s, burstLimit 100 */
  readonly throttle?: { readonly rateLimit?: number | undefined; readonly burstLimit?: number | undefined };
  /**
   * DynamoDB deletion protection of the verifications table (the table is retained on stack
   * deletion either way). Turn off only to delete a stage's table on purpose. @default true
   */
  readonly tableDeletionProtection?: boolean;
  /** Most concurrent consumer invocations the SQS event source may run (2–1000). @default 5 */
  readonly consumerMaxConcurrency?: number;
}

/** Environment variables for the options a provider reads; providers without options get none. */
const OPTION_ENV: { readonly [P in ProviderId]?: (options: ProviderOptions) => Record<string, string> } = {
  veriff: (o) => ({ VERIFF_LEGACY_SIGNATURE: String(o.veriffLegacySignature) }),
  idngo: (o) => ({ IDNGO_ALLOW_SHA1: String(o.idngoAllowSha1) }),
  neurovision: (o) => ({ NEUROVISION_KEY_DERIVATION: o.neurovisionKeyDerivation }),
};

/**
 * HTTP API access log line. The caller is the provider's server, but the log stays minimal anyway:
 * no source IP, user agent, headers, path parameters or body. Headers carry signatures and the
 * body carries end-user personal data (names, documents), which must never reach a log.
 */
const ACCESS_LOG_FORMAT = {
  requestId: "$context.requestId",
  routeKey: "$context.routeKey",
  status: "$context.status",
  responseLength: "$context.responseLength",
  requestTime: "$context.requestTime",
  integrationErrorMessage: "$context.integrationErrorMessage",
};

const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);

export class PipelineStack extends Stack {
  readonly eventsQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly table: Table;
  readonly consumerFunction: KycFunction;
  readonly api: HttpApi;
  readonly ingestFunctions: Readonly<Record<ProviderId, KycFunction>>;
  readonly webhookSecrets: Readonly<Record<ProviderId, Secret>>;

  constructor(scope: Construct, id: string, props: PipelineStackProps = {}) {
    super(scope, id, props);
    const o = props.providerOptions;
    const options: ProviderOptions = {
      veriffLegacySignature: o?.veriffLegacySignature ?? DEFAULT_OPTIONS.veriffLegacySignature,
      idngoAllowSha1: o?.idngoAllowSha1 ?? DEFAULT_OPTIONS.idngoAllowSha1,
      neurovisionKeyDerivation: o?.neurovisionKeyDerivation ?? DEFAULT_OPTIONS.neurovisionKeyDerivation,
    };
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;

    // The verifications table (shape: lambdas/core/table.ts; local twin: createVerificationsTable).
    // Table (AWS::DynamoDB::Table), not TableV2 (AWS::DynamoDB::GlobalTable): one region, no replicas
    // planned; it is what CreateTable builds locally, and cdk-nag's PITR rule checks this resource type
    // only. Switching later would replace the resource, so the choice is made here on purpose.
    // CloudFormation names it, like the queues; the consumer gets TABLE_NAME, operators the output.
    this.table = new Table(this, "VerificationsTable", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      // KMS with the AWS managed key aws/dynamodb (auditable in CloudTrail), no key to administer.
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.tableDeletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE.subjectIndex.name,
      partitionKey: { name: TABLE.subjectIndex.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.subjectIndex.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });

    // Created before the events queue, whose visibility timeout derives from its timeout.
    this.consumerFunction = new KycFunction(this, "Consumer", {
      entry: "lambdas/consumer/handler.ts",
      serviceName: "kyc-consumer",
      description: "Applies normalized verification events to the verifications table (idempotent, order-safe)",
      timeout: Duration.seconds(PIPELINE_SETTINGS.consumerTimeoutSeconds),
      logRetention,
    }).allowWriteVerifications(this.table);

    // Queue names are left to CloudFormation (fifo: true appends ".fifo"): consumers get the URL
    // and ARN from the outputs, two stages can share an account, and a replacement can't collide.
    this.deadLetterQueue = new Queue(this, "VerificationEventsDlq", {
      fifo: true,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.eventsQueue = new Queue(this, "VerificationEvents", {
      fifo: true,
      // The producer sets MessageDeduplicationId = eventId and MessageGroupId = correlationId.
      contentBasedDeduplication: false,
      deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // 6x the consumer's timeout (AWS's guidance for SQS event sources), so that a batch still
      // being processed, or retried by the poller, does not become visible to another poller.
      visibilityTimeout: this.consumerFunction.consumerVisibilityTimeout(),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: PIPELINE_SETTINGS.maxReceiveCount },
    });

    // Partial batch responses: a failed record fails only itself and what FIFO order requires.
    this.consumerFunction.consumeFrom(this.eventsQueue, {
      batchSize: PIPELINE_SETTINGS.consumerBatchSize, // the FIFO maximum
      maxConcurrency: props.consumerMaxConcurrency ?? 5,
    });

    this.api = new HttpApi(this, "WebhookApi", {
      description: "KYC provider webhooks: POST /webhooks/{provider}",
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, "WebhookApiAccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api.addStage("DefaultStage", {
      stageName: "$default",
      autoDeploy: true,
      throttle: { rateLimit: props.throttle?.rateLimit ?? 50, burstLimit: props.throttle?.burstLimit ?? 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
      },
    });

    const functions: Partial<Record<ProviderId, KycFunction>> = {};
    const secrets: Partial<Record<ProviderId, Secret>> = {};
    for (const provider of PROVIDER_IDS) {
      const name = pascal(provider);
      const secret = new Secret(this, `${name}WebhookSecrets`, {
        description:
          `Accepted ${provider} webhook secrets: a JSON array of strings, e.g. ["<secret>"]. ` +
          `To rotate: add the new one (["<new>","<old>"]), switch the provider, remove the old. ` +
          `While the array is empty every ${provider} webhook is rejected with 401.`,
        // "[]" is a public placeholder, not a secret: it is visible in the template on purpose.
        // The operator writes the real list with put-secret-value; CloudFormation never sees it.
        secretStringValue: SecretValue.unsafePlainText("[]"),
      });
      secrets[provider] = secret;
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "Third-party webhook secrets are issued by the provider and cannot be rotated by a Lambda; " +
          "the operator rotates them through the accepted-secrets list (add new, switch provider, remove old).",
      });

      const fn = new KycFunction(this, `${name}Ingest`, {
        entry: "lambdas/ingest/handler.ts",
        serviceName: `kyc-ingest-${provider}`,
        description: `Authenticates ${provider} webhooks and enqueues the normalized event`,
        logRetention,
        environment: { PROVIDER_ID: provider, ...OPTION_ENV[provider]?.(options) },
      })
        .allowReadSecret(secret)
        .allowSendTo(this.eventsQueue);
      functions[provider] = fn;

      const routes = this.api.addRoutes({
        path: `/webhooks/${provider}`,
        methods: [HttpMethod.POST],
        integration: new HttpLambdaIntegration(`${name}Integration`, fn, {
          payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
        }),
      });
      for (const route of routes) {
        Validations.of(route).acknowledge({
          id: "AwsSolutions-APIG4",
          reason:
            "Webhook callers are the providers' servers, which cannot sign SigV4 or obtain tokens; every " +
            "request is authenticated in the Lambda by the provider's HMAC signature (AES for NeuroVision).",
        });
      }

      new CfnOutput(this, `${name}WebhookUrl`, {
        description: `Webhook URL to configure in the ${provider} dashboard`,
        value: `${this.api.apiEndpoint}/webhooks/${provider}`,
      });
      new CfnOutput(this, `${name}SecretArn`, {
        description: `Secret holding the JSON list of accepted ${provider} webhook secrets`,
        value: secret.secretArn,
      });
    }
    // Complete: the loop above ran over every PROVIDER_IDS entry.
    this.ingestFunctions = functions as Record<ProviderId, KycFunction>;
    this.webhookSecrets = secrets as Record<ProviderId, Secret>;

    new CfnOutput(this, "EventsQueueUrl", { value: this.eventsQueue.queueUrl });
    new CfnOutput(this, "EventsQueueArn", { value: this.eventsQueue.queueArn });
    new CfnOutput(this, "EventsDlqUrl", { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, "VerificationsTableName", {
      description: "DynamoDB table of verifications (state and event history)",
      value: this.table.tableName,
    });
    new CfnOutput(this, "VerificationsTableArn", { value: this.table.tableArn });
  }
}
