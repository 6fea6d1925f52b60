import {
  Arn,
  ArnFormat,
  Aws,
  type CfnElement,
  CfnOutput,
  CfnRule,
  Duration,
  Fn,
  RemovalPolicy,
  SecretValue,
  Stack,
  type StackProps,
  Token,
  TokenComparison,
  Validations,
} from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import {
  HttpApi,
  HttpMethod,
  type HttpRoute,
  type HttpStage,
  LogGroupLogDestination,
  PayloadFormatVersion,
} from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable, Role } from "aws-cdk-lib/aws-iam";
import { FilterCriteria, FilterRule } from "aws-cdk-lib/aws-lambda";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { PROVIDER_IDS, type ProviderId } from "../lambdas/core/event.js";
import { TABLE } from "../lambdas/core/table.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../lambdas/providers/types.js";
import { KycFunction } from "./kyc-function.js";
import { EVENTS_VISIBILITY_TIMEOUT_SECONDS, PIPELINE_SETTINGS, PUBLISHER_SETTINGS, SQS_POLLER_ACTIONS } from "./settings.js";

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
  /** Principals allowed to consume `status-changes`: see `grantConsumeStatusChanges`. */
  readonly statusChangeConsumers?: readonly IGrantable[];
  /**
   * IAM roles, by ARN, allowed to consume `status-changes`, in this account or another: the grant
   * goes into the queue's policy (the stack does not own these roles, so it attaches nothing to them).
   */
  readonly statusChangeConsumerRoleArns?: readonly string[];
  /** Principals allowed to call the read API: see `grantReadVerifications`. */
  readonly verificationReaders?: readonly IGrantable[];
  /**
   * IAM roles, by ARN, allowed to call the read API. They must be in the deployment account: an
   * HTTP API has no resource policy, so the grant is a policy attached to the role itself.
   */
  readonly verificationReaderRoleArns?: readonly string[];
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

/** The read API's routes (served by lambdas/read/handler.ts). */
const READ_ROUTE_PATHS = ["/verifications", "/verifications/{correlationId}"] as const;

/**
 * A FIFO queue as the pipeline uses them (the producer sets group and deduplication ids;
 * high-throughput FIFO; SSE-SQS; TLS only; 14 days) with its FIFO dead-letter queue after
 * PIPELINE_SETTINGS.maxReceiveCount receives. The local twin is `createFifoQueueWithDlq`.
 * Names are left to CloudFormation (fifo: true appends ".fifo"): consumers get the URL and ARN
 * from the outputs, two stages can share an account, and a replacement can't collide.
 */
function fifoQueueWithDlq(scope: Construct, id: string, visibilityTimeout: Duration): { queue: Queue; dlq: Queue } {
  const common = { fifo: true, encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) };
  const dlq = new Queue(scope, `${id}Dlq`, common);
  const queue = new Queue(scope, id, {
    ...common,
    contentBasedDeduplication: false,
    deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
    fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    visibilityTimeout,
    deadLetterQueue: { queue: dlq, maxReceiveCount: PIPELINE_SETTINGS.maxReceiveCount },
  });
  return { queue, dlq };
}

const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);


export class PipelineStack extends Stack {
  readonly eventsQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly table: Table;
  readonly consumerFunction: KycFunction;
  /** FIFO queue of applied status changes, for downstream consumers. */
  readonly statusChangesQueue: Queue;
  readonly statusChangesDlq: Queue;
  /** Standard queue: where the publisher's stream mapping reports batches it gave up. */
  readonly publisherFailuresQueue: Queue;
  readonly publisherFunction: KycFunction;
  readonly readFunction: KycFunction;
  readonly api: HttpApi;
  readonly apiStage: HttpStage;
  /** `GET /verifications` and `GET /verifications/{correlationId}`, both IAM-authorized. */
  readonly readRoutes: readonly HttpRoute[];
  readonly ingestFunctions: Readonly<Record<ProviderId, KycFunction>>;
  readonly webhookSecrets: Readonly<Record<ProviderId, Secret>>;
  /** The API id as other stacks import it, once one of their principals was granted the read API. */
  private apiIdImport: string | undefined;

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
      // Feeds the status-change publisher: old and new image, to tell a status change from any write.
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
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

    // The producer sets MessageDeduplicationId = eventId and MessageGroupId = correlationId.
    // Visibility: 6x the consumer's timeout (AWS's guidance for SQS event sources), so that a batch
    // still being processed, or retried by the poller, does not become visible to another poller.
    ({ queue: this.eventsQueue, dlq: this.deadLetterQueue } = fifoQueueWithDlq(
      this,
      "VerificationEvents",
      this.consumerFunction.consumerVisibilityTimeout(),
    ));

    // Partial batch responses: a failed record fails only itself and what FIFO order requires.
    this.consumerFunction.consumeFrom(this.eventsQueue, {
      batchSize: PIPELINE_SETTINGS.consumerBatchSize, // the FIFO maximum
      maxConcurrency: props.consumerMaxConcurrency ?? 5,
    });

    // Status changes for downstream consumers: one message per applied transition, in order per
    // verification (group = correlationId), deduplicated by the publisher (dedup id = the transition).
    // Visibility as the events queue: right for a Lambda consumer with a timeout up to 30 s (6x
    // rule). A downstream consumer failing a message 5 times parks it in the DLQ (unblocking its group).
    ({ queue: this.statusChangesQueue, dlq: this.statusChangesDlq } = fifoQueueWithDlq(
      this,
      "StatusChanges",
      Duration.seconds(EVENTS_VISIBILITY_TIMEOUT_SECONDS),
    ));
    // Lambda's stream on-failure destination must be a standard queue (or SNS, S3), never FIFO.
    this.publisherFailuresQueue = new Queue(this, "PublisherFailures", {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.publisherFailuresQueue).acknowledge({
      id: "AwsSolutions-SQS3",
      reason:
        "This queue is itself a dead-letter destination: the on-failure destination of the publisher's DynamoDB " +
        "stream event source mapping (cdk-nag only recognizes queue redrive and function DeadLetterConfig). An " +
        "operator reads it to replay; a DLQ behind it would only hide those records further.",
    });

    // The stream publisher: state items only (history items never change a status).
    this.publisherFunction = new KycFunction(this, "Publisher", {
      entry: "lambdas/publisher/handler.ts",
      serviceName: "kyc-publisher",
      description: "Publishes each applied status change from the table's stream to the status-changes queue",
      timeout: Duration.seconds(PUBLISHER_SETTINGS.timeoutSeconds),
      logRetention,
    })
      .allowSendTo(this.statusChangesQueue, "STATUS_CHANGES_QUEUE_URL")
      .consumeStream(this.table, {
        batchSize: PUBLISHER_SETTINGS.batchSize,
        maxRecordAge: Duration.hours(PUBLISHER_SETTINGS.maxRecordAgeHours),
        filters: [
          FilterCriteria.filter({
            dynamodb: { Keys: { [TABLE.sortKey]: { S: FilterRule.isEqual(TABLE.stateSortKey) } } },
          }),
        ],
        onFailure: this.publisherFailuresQueue,
        // Records no status change can be built from are reported there by the publisher itself.
        onFailureEnv: "PUBLISHER_FAILURES_QUEUE_URL",
      });

    this.api = new HttpApi(this, "WebhookApi", {
      description:
        "KYC pipeline: POST /webhooks/{provider} (provider signatures), GET /verifications[/{correlationId}] (IAM)",
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, "WebhookApiAccessLogs", {
      retention: logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.apiStage = this.api.addStage("DefaultStage", {
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

    // The read API, for integrators' services: SigV4-signed requests only, read-only on the table.
    this.readFunction = new KycFunction(this, "Read", {
      entry: "lambdas/read/handler.ts",
      serviceName: "kyc-read",
      description: "Read API: GET /verifications/{correlationId} and GET /verifications?subject=",
      logRetention,
    }).allowReadVerifications(this.table, TABLE.subjectIndex.name);
    const readIntegration = new HttpLambdaIntegration("ReadIntegration", this.readFunction, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    const iamAuthorizer = new HttpIamAuthorizer();
    this.readRoutes = READ_ROUTE_PATHS.flatMap((path) =>
      this.api.addRoutes({ path, methods: [HttpMethod.GET], integration: readIntegration, authorizer: iamAuthorizer }),
    );

    new CfnOutput(this, "EventsQueueUrl", { value: this.eventsQueue.queueUrl });
    new CfnOutput(this, "EventsQueueArn", { value: this.eventsQueue.queueArn });
    new CfnOutput(this, "EventsDlqUrl", { value: this.deadLetterQueue.queueUrl });
    new CfnOutput(this, "VerificationsTableName", {
      description: "DynamoDB table of verifications (state and event history)",
      value: this.table.tableName,
    });
    new CfnOutput(this, "VerificationsTableArn", { value: this.table.tableArn });
    new CfnOutput(this, "StatusChangesQueueUrl", {
      description: "SQS FIFO queue with one message per applied status change (consumers: grantConsumeStatusChanges)",
      value: this.statusChangesQueue.queueUrl,
    });
    new CfnOutput(this, "StatusChangesQueueArn", { value: this.statusChangesQueue.queueArn });
    new CfnOutput(this, "StatusChangesDlqUrl", {
      description: "Status changes a downstream consumer failed 5 times",
      value: this.statusChangesDlq.queueUrl,
    });
    new CfnOutput(this, "PublisherFailuresQueueUrl", {
      description: "Stream batches the publisher gave up (shard and sequence numbers, to replay)",
      value: this.publisherFailuresQueue.queueUrl,
    });
    new CfnOutput(this, "ReadApiBaseUrl", {
      description: "Read API (SigV4, execute-api:Invoke): GET <url>/{correlationId}, GET <url>?subject=",
      value: `${this.api.apiEndpoint}/verifications`,
    });

    for (const grantee of props.statusChangeConsumers ?? []) this.grantConsumeStatusChanges(grantee);
    for (const grantee of props.verificationReaders ?? []) this.grantReadVerifications(grantee);
    // By ARN: consumers through the queue policy, so the role may be in any account and is not modified.
    props.statusChangeConsumerRoleArns?.forEach((arn, i) => {
      this.grantConsumeStatusChanges(
        Role.fromRoleArn(this, `StatusChangeConsumerRole${i}`, arn, { mutable: false, addGrantsToResources: true }),
      );
    });
    // Readers need a policy on the role itself, so only roles of the deployment account will do.
    const readerAccounts = new Set<string>();
    props.verificationReaderRoleArns?.forEach((arn, i) => {
      readerAccounts.add(Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).account ?? "");
      this.grantReadVerifications(Role.fromRoleArn(this, `VerificationReaderRole${i}`, arn));
    });
    if (readerAccounts.size > 0 && Token.isUnresolved(this.account)) {
      // Environment-agnostic stack: the account is known only at deploy time, so check it then,
      // before a policy is attached to a same-named role of the wrong account.
      new CfnRule(this, "VerificationReadersInThisAccount", {
        assertions: [...readerAccounts].map((account) => ({
          assert: Fn.conditionEquals(Aws.ACCOUNT_ID, account),
          assertDescription: `verificationReaderRoleArns: the roles must be in the deployment account (${account})`,
        })),
      });
    }
  }

  /**
   * Allows `grantee` to consume `status-changes`, exactly: sqs:ReceiveMessage, sqs:DeleteMessage,
   * sqs:ChangeMessageVisibility, sqs:GetQueueAttributes on that queue (what Lambda's SQS event source
   * and any SQS poller need; SSE-SQS needs no KMS permission). A principal of this account gets an
   * identity policy; one of another account (or an imported role that is not mutable) gets a
   * statement in the queue's policy instead.
   */
  grantConsumeStatusChanges(grantee: IGrantable): Grant {
    return Grant.addToPrincipalOrResource({
      grantee,
      actions: [...SQS_POLLER_ACTIONS],
      resourceArns: [this.statusChangesQueue.queueArn],
      resource: this.statusChangesQueue,
    });
  }

  /**
   * Allows `grantee` to call the read API, exactly: execute-api:Invoke on `GET /verifications` and
   * `GET /verifications/*` (the `{correlationId}` route) of this API's `$default` stage, nothing
   * else (not the webhooks). HTTP APIs have no resource policy, so this is an identity policy: the
   * grantee must be a role, user or group of the deployment account (throws otherwise). A grantee
   * in another stack of the app gets the policy in its own stack, which then depends on this one.
   */
  grantReadVerifications(grantee: IGrantable): Grant {
    const principal = grantee.grantPrincipal;
    const account = principal.principalAccount;
    if (account !== undefined && Token.compareStrings(account, this.account) === TokenComparison.DIFFERENT) {
      throw new Error(
        `grantReadVerifications: ${principal.toString()} is of account ${account}, not ${this.account}; an HTTP API ` +
          "has no resource policy, so grant a role of this account and let the other account assume it",
      );
    }
    const home = Construct.isConstruct(principal) ? Stack.of(principal) : this;
    let apiId = this.api.apiId;
    // How cdk-nag prints the API id in the grantee's policy: a Ref here, an import elsewhere. The
    // import has a name of ours (not CDK's generated one) so that the acknowledgement can name it.
    let apiIdInFinding = `<${this.getLogicalId(this.api.node.defaultChild as CfnElement)}>`;
    if (home !== this) {
      apiIdInFinding = `${this.stackName}:ReadApiId`;
      this.apiIdImport ??= this.exportValue(this.api.apiId, { name: apiIdInFinding });
      apiId = this.apiIdImport;
      home.addStackDependency(this, "grantReadVerifications imports the read API's id");
    }
    const stage = this.apiStage.stageName;
    const routeArn = (path: string): string =>
      home.formatArn({
        service: "execute-api",
        resource: apiId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        resourceName: `${stage}/${HttpMethod.GET}${path}`,
      });
    const grant = Grant.addToPrincipal({
      grantee,
      actions: ["execute-api:Invoke"],
      resourceArns: [routeArn("/verifications"), routeArn("/verifications/*")],
    });
    grant.assertSuccess(); // e.g. a service principal, which takes no identity policy
    if (Construct.isConstruct(principal)) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiIdInFinding}/${stage}/GET/verifications/*]`,
        reason:
          "The '*' stands for the {correlationId} path parameter of the one route GET /verifications/{correlationId} " +
          "of this stage: IAM cannot name a route with a path parameter otherwise.",
      });
    }
    return grant;
  }
}
