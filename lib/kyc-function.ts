import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { CONSUMER_TABLE_ACTIONS, PIPELINE_SETTINGS } from "./settings.js";

/** The repository root (where package-lock.json is), independent of the working directory. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

export interface KycFunctionProps
  extends Omit<
    NodejsFunctionProps,
    "runtime" | "architecture" | "role" | "logGroup" | "logRetention" | "projectRoot" | "depsLockFilePath"
  > {
  /** Entry file, relative to the project root (or absolute). */
  readonly entry: string;
  /** POWERTOOLS_SERVICE_NAME. */
  readonly serviceName: string;
  /** Retention of the function's own log group. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /**
   * What happens to the log group when the function is removed. Logs hold no personal data and
   * expire with the retention anyway; keeping them keeps the audit trail of rejected webhooks.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

/**
 * The house Lambda: Node.js 22 on arm64, ESM bundle with source maps, an explicit log group with
 * retention and its own least-privilege role. Permissions are added with the `allow*` helpers,
 * each of which sets the environment variable the code reads and grants exactly one action.
 */
export class KycFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: KycFunctionProps) {
    const { serviceName, logRetention, logRemovalPolicy, bundling, environment, entry, ...rest } = props;
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
        POWERTOOLS_SERVICE_NAME: serviceName,
        POWERTOOLS_LOG_LEVEL: "INFO",
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
    Validations.of(this).acknowledge({
      id: "AwsSolutions-L1",
      reason: "The runtime is pinned to nodejs22.x by requirement (bundle target node22); upgrades are deliberate.",
    });
  }

  /** Sets `envName` to the queue URL and grants exactly sqs:SendMessage on that queue. */
  allowSendTo(queue: IQueue, envName = "EVENTS_QUEUE_URL"): this {
    this.addEnvironment(envName, queue.queueUrl);
    this.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
    return this;
  }

  /**
   * Sets `envName` to the table's name and grants exactly what the consumer's store does on the
   * table itself (not its indexes): GetItem (read the state), PutItem and ConditionCheckItem (the
   * two halves of its TransactWriteItems, which has no action of its own). No Query, Scan,
   * UpdateItem, DeleteItem or batch actions: deliberately narrower than grantReadWriteData.
   */
  allowWriteVerifications(table: ITable, envName = "TABLE_NAME"): this {
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
   * The queue's visibility timeout must be at least 6x the function's timeout (AWS's guidance for
   * SQS event sources): see `consumerVisibilityTimeout`.
   */
  consumeFrom(queue: IQueue, options: { readonly batchSize: number; readonly maxConcurrency: number }): this {
    this.addToRolePolicy(
      new PolicyStatement({
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        resources: [queue.queueArn],
      }),
    );
    queue.encryptionMasterKey?.grantDecrypt(this);
    // The mapping references the function, which depends on its role and that role's policy, so
    // CloudFormation creates the mapping only once the poller is allowed to read the queue.
    this.addEventSourceMapping(`From${queue.node.id}`, {
      eventSourceArn: queue.queueArn,
      batchSize: options.batchSize,
      reportBatchItemFailures: true,
      maxConcurrency: options.maxConcurrency,
    });
    return this;
  }

  /** The visibility timeout an SQS queue consumed by this function needs: 6x its timeout. */
  consumerVisibilityTimeout(): Duration {
    // Lambda's own default timeout is 3 s; KycFunction always sets one (10 s unless given).
    return Duration.seconds(PIPELINE_SETTINGS.visibilityTimeoutFactor * (this.timeout ?? Duration.seconds(3)).toSeconds());
  }

  /** Sets `envName` to the secret's ARN and grants exactly secretsmanager:GetSecretValue on it. */
  allowReadSecret(secret: ISecret, envName = "WEBHOOK_SECRETS_ARN"): this {
    this.addEnvironment(envName, secret.secretArn);
    this.addToRolePolicy(
      new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secret.secretArn] }),
    );
    return this;
  }
}
