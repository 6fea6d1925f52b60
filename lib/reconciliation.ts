import { type CfnElement, Duration, SecretValue, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Schedule, ScheduleExpression, ScheduleTargetInput } from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV, RECONCILER, SERVICES, TABLE } from "../lambdas/core/contract.js";
import type { LogLevel, TracingMode } from "./config.js";
import { KycFunction } from "./kyc-function.js";
import { stackOutput } from "./outputs.js";

export interface ReconciliationProps {
  readonly table: ITable;
  readonly eventsQueue: IQueue;
  /** Minutes between passes. @default RECONCILER.scheduleMinutes (60) */
  readonly scheduleMinutes?: number;
  /** Hours since the last status change after which a verification is looked up. @default RECONCILER.olderThanHours (24) */
  readonly olderThanHours?: number;
  /** IDnGO's API base URL (e.g. https://api.sumsub.com). @default none: IDnGO is not polled (its stuck verifications are counted) */
  readonly idngoApiUrl?: string;
  /** Veriff's API base URL. @default RECONCILER.defaultVeriffApiUrl */
  readonly veriffApiUrl?: string;
  readonly logRetention?: RetentionDays;
  readonly logLevel?: LogLevel;
  /** X-Ray tracing of its function(s) (KycFunctionProps.tracing). */
  readonly tracing?: TracingMode;
}

/**
 * Stuck verifications → provider status APIs → events queue (docs/reconciliation.md): the
 * reconciler function, the EventBridge Scheduler schedule that runs a pass every
 * `scheduleMinutes`, and the two secrets of API credentials (not the webhook secrets:
 * `{"appToken","appSecret"}` for IDnGO, `{"apiKey","apiSecret"}` for Veriff). Until a secret holds
 * credentials, its provider is not polled, and its stuck verifications are still counted.
 *
 * The function may query the table's pending index and nothing else of the table, read these two
 * secrets, and send to the events queue: what it finds is applied by the consumer like a webhook.
 */
export class Reconciliation extends Construct {
  readonly reconcilerFunction: KycFunction;
  readonly idngoCredentials: Secret;
  readonly veriffCredentials: Secret;
  readonly schedule: Schedule;
  readonly scheduleRole: Role;
  readonly scheduleMinutes: number;

  constructor(scope: Construct, id: string, props: ReconciliationProps) {
    super(scope, id);
    this.scheduleMinutes = props.scheduleMinutes ?? RECONCILER.scheduleMinutes;
    const credentialsSecret = (secretId: string, provider: string, shape: string) => {
      const secret = new Secret(this, secretId, {
        description:
          `${provider} API credentials for the reconciler: a JSON object ${shape}. These are API credentials, not ` +
          `webhook secrets. While it is {} (as created), ${provider} is not polled.`,
        // "{}" is a public placeholder, not a secret: the operator writes the credentials with put-secret-value.
        secretStringValue: SecretValue.unsafePlainText("{}"),
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason: `${provider} issues its API credentials in its own dashboard; a Lambda cannot rotate them. The operator replaces them.`,
      });
      return secret;
    };
    this.idngoCredentials = credentialsSecret("IdngoApiCredentials", "IDnGO", '{"appToken": "…", "appSecret": "…"}');
    this.veriffCredentials = credentialsSecret("VeriffApiCredentials", "Veriff", '{"apiKey": "…", "apiSecret": "…"}');

    this.reconcilerFunction = new KycFunction(this, "Reconciler", {
      entry: "lambdas/reconciler/handler.ts",
      serviceName: SERVICES.reconciler,
      description: "Looks stuck verifications up in the providers' status APIs and enqueues what they report",
      timeout: Duration.seconds(RECONCILER.timeoutSeconds),
      // The schedule invokes asynchronously, and Lambda would run a failed pass twice more: a pass
      // that failed (ReconcilerErrors) waits for the next one, like the schedule's own retries.
      retryAttempts: 0,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      tracing: props.tracing,
      environment: {
        [ENV.reconcileOlderThanHours]: String(props.olderThanHours ?? RECONCILER.olderThanHours),
        [ENV.veriffApiUrl]: props.veriffApiUrl ?? RECONCILER.defaultVeriffApiUrl,
        ...(props.idngoApiUrl === undefined ? {} : { [ENV.idngoApiUrl]: props.idngoApiUrl }),
      },
    })
      .allowQueryIndex(props.table, TABLE.pendingIndex.name)
      .allowReadSecret(this.idngoCredentials, ENV.idngoApiSecretArn)
      .allowReadSecret(this.veriffCredentials, ENV.veriffApiSecretArn)
      .allowSendTo(props.eventsQueue);

    Validations.of(this.reconcilerFunction).acknowledge({
      id: "Serverless-LambdaAsyncFailureDestination",
      reason:
        'The schedule\'s asynchronous event ({"source":"schedule"}) holds nothing a destination could keep or replay: a ' +
        "failed pass is alarmed (ReconcilerErrors, from the function's Errors) and the next scheduled pass does the same work.",
    });

    // Its own role (not the target's shared default), trusted by EventBridge Scheduler for this account only.
    const stack = Stack.of(this);
    this.scheduleRole = new Role(this, "ScheduleRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", { conditions: { StringEquals: { "aws:SourceAccount": stack.account } } }),
      description: "Lets EventBridge Scheduler start a reconciliation pass",
    });
    this.schedule = new Schedule(this, "Schedule", {
      description: `A reconciliation pass every ${this.scheduleMinutes} minutes (docs/reconciliation.md)`,
      schedule: ScheduleExpression.rate(Duration.minutes(this.scheduleMinutes)),
      target: new LambdaInvoke(this.reconcilerFunction, {
        role: this.scheduleRole,
        // The pass's own defaults (RECONCILE_OLDER_THAN_HOURS, every provider).
        input: ScheduleTargetInput.fromObject({ source: "schedule" }),
        // A pass that failed is not retried: the next one comes within the hour and finds the same candidates.
        retryAttempts: 0,
      }),
    });

    Validations.of(this.scheduleRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.reconcilerFunction.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason:
        "The schedule target's grant (Function.grantInvoke) also names the function's versions and aliases " +
        "(`<function ARN>:*`); the role may only invoke this one function, and the schedule invokes $LATEST.",
    });

    stackOutput(this, "ReconcilerFunctionName", {
      description: "The reconciler function (npm run kyc -- reconcile --stack … invokes it)",
      value: this.reconcilerFunction.functionName,
    });
    stackOutput(this, "IdngoApiCredentialsArn", {
      description: 'Secret for IDnGO API credentials: {"appToken": "…", "appSecret": "…"}',
      value: this.idngoCredentials.secretArn,
    });
    stackOutput(this, "VeriffApiCredentialsArn", {
      description: 'Secret for Veriff API credentials: {"apiKey": "…", "apiSecret": "…"}',
      value: this.veriffCredentials.secretArn,
    });
  }
}
