import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import {
  ApplicationLogLevel,
  Architecture,
  type FilterCriteria,
  type IEventSourceDlq,
  LoggingFormat,
  Runtime,
  StartingPosition,
  SystemLogLevel,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, type NodejsFunctionProps, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct, IConstruct } from "constructs";
import { ENV } from "../lambdas/core/contract.js";
import type { LogLevel, TracingMode } from "./config.js";
import { CONSUMER_TABLE_ACTIONS, READER_INDEX_ACTIONS, READER_TABLE_ACTIONS, SQS_POLLER_ACTIONS } from "./settings.js";

/** The repository root (where package-lock.json is), independent of the working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/** An environment variable the functions read: only the contract's names (lambdas/core/contract.ts). */
export type EnvName = (typeof ENV)[keyof typeof ENV];

/** A resource's name in the tree: its id, or its parent's for the `Default` child of a construct. */
const nameOf = (resource: IConstruct): string =>
  resource.node.id === "Default" ? (resource.node.scope?.node.id ?? resource.node.id) : resource.node.id;

export interface KycFunctionProps
  extends Omit<
    NodejsFunctionProps,
    "runtime" | "architecture" | "role" | "logGroup" | "logRetention" | "projectRoot" | "depsLockFilePath" | "tracing"
  > {
  /** Entry file, relative to the project root (or absolute). */
  readonly entry: string;
  /** POWERTOOLS_SERVICE_NAME: one of SERVICES (lambdas/core/contract.ts). */
  readonly serviceName: string;
  /** Retention of the function's own log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL and Lambda's application log level (the two must agree). @default "INFO" */
  readonly logLevel?: LogLevel;
  /**
   * `active`: Lambda samples invocations into X-Ray (and the role may write trace data);
   * `disabled`: no tracing, no X-Ray permission. @default "active"
   */
  readonly tracing?: TracingMode;
  /**
   * What happens to the log group when the function is removed. Logs hold no personal data and
   * expire with the retention anyway; keeping them keeps the audit trail of rejected webhooks.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/** How `KycFunction.consumeStream` reads a table's DynamoDB stream. */
export interface StreamConsumerOptions {
  /** Records per invocation (1–10000). */
  readonly batchSize: number;
  /**
   * Age after which a record that still fails is given up (sent to `onFailure`). At least 60 s;
   * the stream itself keeps records for 24 hours.
   */
  readonly maxRecordAge: Duration;
  /** Only records matching one of these patterns invoke the function (`FilterCriteria.filter`). */
  readonly filters: ReadonlyArray<ReturnType<typeof FilterCriteria.filter>>;
  /**
   * Standard SQS queue that receives, for each batch given up, its shard and sequence-number
   * range (not the records). Lambda's stream event sources accept a standard queue, an SNS topic
   * or an S3 bucket as on-failure destination, not a FIFO queue.
   */
  readonly onFailure: IQueue;
  /**
   * Also sets this environment variable to the `onFailure` queue's URL, for a function that reports
   * records it can never process there itself (instead of failing them until they are too old).
   * Its sqs:SendMessage on that queue is the grant the destination already has.
   */
  readonly onFailureEnv?: EnvName;
}

/**
 * The house Lambda: Node.js 22 on arm64, ESM bundle with source maps, active X-Ray tracing (unless disabled), an
 * explicit log group with retention and its own least-privilege role. Permissions are added with the
 * `allow*` helpers, each of which sets the environment variable the code reads and grants exactly one action.
 */
export class KycFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: KycFunctionProps) {
    const { serviceName, logRetention, logLevel, tracing, logRemovalPolicy, bundling, environment, entry, ...rest } = props;
    const traced = tracing !== "disabled";
    // Created before super() (which needs them), hence siblings of the function in `scope`.
    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Own role instead of the default one with AWSLambdaBasicExecutionRole (log writes on "*").
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${serviceName}`,
    });
    super(scope, id, {
      memorySize: 256,
      timeout: Duration.seconds(10),
      ...rest,
      entry: resolve(PROJECT_ROOT, entry),
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, "package-lock.json"),
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      role,
      logGroup,
      // JSON log format: Lambda filters by level. Our lines are Powertools' JSON with their level;
      // the metrics' EMF lines carry none and count as INFO (why LOG_LEVELS stops at INFO). The
      // platform's START/END/REPORT lines are INFO too: at WARN only its errors and timeouts are
      // logged (duration and memory stay in the function's CloudWatch metrics).
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: ApplicationLogLevel[logLevel ?? "INFO"],
      systemLogLevelV2: SystemLogLevel.WARN,
      // Lambda samples invocations into X-Ray (grants xray:PutTraceSegments and PutTelemetryRecords, below).
      tracing: traced ? Tracing.ACTIVE : Tracing.DISABLED,
      bundling: {
        format: OutputFormat.ESM,
        minify: true,
        sourceMap: true,
        target: "node22",
        mainFields: ["module", "main"],
        // ESM bundles of CommonJS dependencies still call require(); give them one.
        banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
        ...bundling,
      },
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        [ENV.serviceName]: serviceName,
        [ENV.logLevel]: logLevel ?? "INFO",
        ...environment,
      },
    });
    // The group's ARN attribute ends in ":*", i.e. its log streams: the only log permission needed.
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    // Tracing.ACTIVE added xray:PutTraceSegments and xray:PutTelemetryRecords on "*" to the role's policy.
    if (traced) {
      Validations.of(role).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "Active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions (the " +
          "Service Authorization Reference lists no resource type for them), so '*' is the only resource they take; they " +
          "only write trace data.",
      });
    } else {
      Validations.of(this).acknowledge({
        id: "Serverless-LambdaTracing",
        reason:
          "Tracing is off because the deployment chose `tracing: disabled` (context key `tracing`): a cost choice, no " +
          "X-Ray traces recorded. Logs, metrics and alarms are unchanged; docs/performance.md (Cost settings) states what it costs and loses.",
      });
    }
    const pinned = "The runtime is pinned to nodejs22.x by requirement (bundle target node22); upgrades are deliberate.";
    Validations.of(this).acknowledge(
      { id: "AwsSolutions-L1", reason: pinned },
      { id: "Serverless-LambdaLatestVersion", reason: pinned },
      {
        id: "Serverless-LambdaDLQ",
        reason:
          "A function's DeadLetterConfig only receives failed asynchronous invocations. API Gateway invokes " +
          "synchronously (a failure is the caller's 5xx), and event source mappings poll synchronously, with their own " +
          "failure paths: the SQS queue's redrive to its DLQ, the stream mapping's on-failure destination; both are " +
          "alarmed (lib/monitoring.ts). Only the reconciler's schedule invokes asynchronously, and its event " +
          '({"source":"schedule"}) holds nothing to keep: a failed pass is alarmed (ReconcilerErrors) and the next ' +
          "scheduled pass does the same work.",
      },
    );
  }

  /** Sets `envName` to the queue URL and grants exactly sqs:SendMessage on that queue. */
  allowSendTo(queue: IQueue, envName: EnvName = ENV.eventsQueueUrl): this {
    this.addEnvironment(envName, queue.queueUrl);
    this.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
    return this;
  }

  /**
   * Sets `envName` to the table's name and grants exactly what the consumer's store does on the
   * table itself (not its indexes): GetItem (read the state) and PutItem (its two conditional
   * writes: the state item and the history item). No Query, Scan, UpdateItem, DeleteItem,
   * ConditionCheckItem or batch actions: deliberately narrower than grantReadWriteData.
   */
  allowWriteVerifications(table: ITable, envName: EnvName = ENV.tableName): this {
    this.addEnvironment(envName, table.tableName);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: [...CONSUMER_TABLE_ACTIONS],
        resources: [table.tableArn],
      }),
    );
    return this;
  }

  /**
   * Makes the function the consumer of `queue` through an event source mapping that reports
   * partial batch failures (`ReportBatchItemFailures`), and grants exactly what the mapping's
   * poller uses on that queue: ReceiveMessage, DeleteMessage, ChangeMessageVisibility,
   * GetQueueAttributes (not GetQueueUrl, which SqsEventSource's grant adds). A KMS-encrypted queue
   * would also need kms:Decrypt on its key; SQS-managed encryption needs nothing more.
   * The queue's visibility timeout must be at least VISIBILITY_TIMEOUT_FACTOR (6) times the function's
   * timeout (AWS's guidance for SQS event sources): the contract's QUEUES derive it from CONSUMER.
   * The mapping's id is `From<queue name>` (for the `Default` child of a construct, that construct's id).
   */
  consumeFrom(queue: IQueue, options: { readonly batchSize: number; readonly maxConcurrency: number }): this {
    this.addToRolePolicy(new PolicyStatement({ actions: [...SQS_POLLER_ACTIONS], resources: [queue.queueArn] }));
    queue.encryptionMasterKey?.grantDecrypt(this);
    // The mapping references the function, which depends on its role and that role's policy, so
    // CloudFormation creates the mapping only once the poller is allowed to read the queue.
    const mapping = this.addEventSourceMapping(`From${nameOf(queue)}`, {
      eventSourceArn: queue.queueArn,
      batchSize: options.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: options.maxConcurrency,
    });
    Validations.of(mapping).acknowledge({
      id: "Serverless-LambdaEventSourceMappingDestination",
      reason:
        "Lambda takes on-failure destinations for stream and Kafka event sources, not for SQS: a message that keeps " +
        "failing goes to the queue's own dead-letter queue after its maxReceiveCount receives (its redrive policy), " +
        "which is alarmed when not empty.",
    });
    return this;
  }

  /**
   * Makes the function the consumer of the table's DynamoDB stream, one batch per shard at a time
   * (records of one item stay in order), from the oldest record still in the stream, reporting
   * partial batch failures (the stream record's SequenceNumber) and retrying without limit until
   * `maxRecordAge`; a failing batch is bisected to isolate the failing record. Grants exactly what
   * the mapping's poller uses: DescribeStream, GetRecords and GetShardIterator on the stream, and
   * ListStreams (which has no resource-level permissions: `*` is the only resource it takes). The
   * `onFailure` queue gets sqs:SendMessage, which is all Lambda needs to deliver there.
   * Not `DynamoEventSource`: it grants the same through `grantStreamRead`, but its on-failure
   * `SqsDlq` adds GetQueueAttributes and GetQueueUrl, which Lambda does not use.
   */
  consumeStream(table: ITable, options: StreamConsumerOptions): this {
    const streamArn = table.tableStreamArn;
    if (streamArn === undefined) throw new Error(`${table.node.path} has no stream: set its stream view type`);
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        resources: [streamArn],
      }),
    );
    this.addToRolePolicy(new PolicyStatement({ actions: ["dynamodb:ListStreams"], resources: ["*"] }));
    Validations.of(this.role ?? this).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "dynamodb:ListStreams is on '*': the action has no resource-level permissions (the Service " +
        "Authorization Reference lists no resource type for it), it returns stream ARNs only, and Lambda " +
        "documents it for DynamoDB stream event sources.",
    });
    this.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [options.onFailure.queueArn] }));
    if (options.onFailureEnv !== undefined) this.addEnvironment(options.onFailureEnv, options.onFailure.queueUrl);
    // Grants are explicit above: this destination only names the queue.
    const onFailure: IEventSourceDlq = { bind: () => ({ destination: options.onFailure.queueArn }) };
    this.addEventSourceMapping(`From${nameOf(table)}Stream`, {
      eventSourceArn: streamArn,
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: options.batchSize,
      parallelizationFactor: 1,
      reportBatchItemFailures: true,
      bisectBatchOnError: true,
      retryAttempts: -1, // infinite (CloudFormation's default too, written out on purpose)
      maxRecordAge: options.maxRecordAge,
      filters: [...options.filters],
      onFailure,
    });
    return this;
  }

  /**
   * Sets `envName` to the table's name and grants exactly what the read API does: GetItem (the
   * state item), Query (the history) and BatchGetItem (a subject's state items) on the table, and
   * Query on `indexName` (a subject's verifications). No Scan, no other index, nothing that writes.
   */
  allowReadVerifications(table: ITable, indexName: string, envName: EnvName = ENV.tableName): this {
    this.addEnvironment(envName, table.tableName);
    this.addToRolePolicy(new PolicyStatement({ actions: [...READER_TABLE_ACTIONS], resources: [table.tableArn] }));
    this.addToRolePolicy(new PolicyStatement({ actions: [...READER_INDEX_ACTIONS], resources: [`${table.tableArn}/index/${indexName}`] }));
    return this;
  }

  /**
   * Sets `envName` to the table's name and grants exactly dynamodb:Query on the index `indexName`:
   * nothing on the table itself, no other index (the reconciler's candidates).
   */
  allowQueryIndex(table: ITable, indexName: string, envName: EnvName = ENV.tableName): this {
    this.addEnvironment(envName, table.tableName);
    this.addToRolePolicy(new PolicyStatement({ actions: ["dynamodb:Query"], resources: [`${table.tableArn}/index/${indexName}`] }));
    return this;
  }

  /** Sets `envName` to the secret's ARN and grants exactly secretsmanager:GetSecretValue on it. */
  allowReadSecret(secret: ISecret, envName: EnvName = ENV.webhookSecretsArn): this {
    this.addEnvironment(envName, secret.secretArn);
    this.addToRolePolicy(new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secret.secretArn] }));
    return this;
  }
}
