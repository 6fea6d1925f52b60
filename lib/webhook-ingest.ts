import { SecretValue, Validations } from "aws-cdk-lib";
import { type HttpApi, HttpMethod, type HttpRoute, PayloadFormatVersion } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { ENV, ROUTES, SERVICES } from "../lambdas/core/contract.js";
import type { ProviderId } from "../lambdas/core/event.js";
import { optionEnvFor } from "../lambdas/providers/options.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../lambdas/providers/types.js";
import type { LogLevel, TracingMode } from "./config.js";
import { KycFunction } from "./kyc-function.js";
import { stackOutput } from "./outputs.js";

export interface WebhookIngestProps {
  readonly provider: ProviderId;
  /** The HTTP API that gets the provider's `POST /webhooks/{provider}` route. */
  readonly api: HttpApi;
  /** Where the normalized events go (the events FIFO queue). */
  readonly eventsQueue: IQueue;
  /** Non-secret provider switches; the function gets its provider's only. An absent key is the safe default. */
  readonly options?: Partial<ProviderOptions>;
  /** Retention of the function's log group. @default KycFunction's */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of its function. @default KycFunction's */
  readonly logLevel?: LogLevel;
  /** X-Ray tracing of its function(s) (KycFunctionProps.tracing). */
  readonly tracing?: TracingMode;
}

/** A provider's name in logical IDs and output names: `Veriff` (`VeriffWebhookUrl`, `VeriffIntegration`). */
export const providerName = (provider: ProviderId): string => provider.charAt(0).toUpperCase() + provider.slice(1);

/** `options` with every absent (or undefined) switch at its safe default (`DEFAULT_OPTIONS`). */
function withDefaults(options: Partial<ProviderOptions> = {}): ProviderOptions {
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  return { ...DEFAULT_OPTIONS, ...(given as Partial<ProviderOptions>) };
}

/**
 * Provider → events queue, for one provider: the secret holding its accepted webhook secrets, its
 * ingest function (reads that secret and nothing else, sends to the events queue, gets its options as
 * environment variables: `optionEnvFor`), its unauthenticated `POST /webhooks/{provider}` route (the
 * function authenticates the raw bytes), and the `{Provider}WebhookUrl` / `{Provider}SecretArn` outputs.
 */
export class WebhookIngest extends Construct {
  readonly provider: ProviderId;
  readonly secret: Secret;
  readonly ingestFunction: KycFunction;
  readonly routes: readonly HttpRoute[];

  constructor(scope: Construct, id: string, props: WebhookIngestProps) {
    super(scope, id);
    const { provider } = props;
    const name = providerName(provider);
    this.provider = provider;

    this.secret = new Secret(this, "WebhookSecrets", {
      description:
        `Accepted ${provider} webhook secrets: a JSON array of strings, e.g. ["<secret>"]. ` +
        `To rotate: add the new one (["<new>","<old>"]), switch the provider, remove the old. ` +
        `While the array is empty every ${provider} webhook is rejected with 401.`,
      // "[]" is a public placeholder, not a secret: it is visible in the template on purpose.
      // The operator writes the real list with put-secret-value; CloudFormation never sees it.
      secretStringValue: SecretValue.unsafePlainText("[]"),
    });
    Validations.of(this.secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Third-party webhook secrets are issued by the provider and cannot be rotated by a Lambda; " +
        "the operator rotates them through the accepted-secrets list (add new, switch provider, remove old).",
    });

    this.ingestFunction = new KycFunction(this, "Ingest", {
      entry: "lambdas/ingest/handler.ts",
      serviceName: SERVICES.ingest(provider),
      description: `Authenticates ${provider} webhooks and enqueues the normalized event`,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      tracing: props.tracing,
      environment: { [ENV.providerId]: provider, ...optionEnvFor(provider, withDefaults(props.options)) },
    })
      .allowReadSecret(this.secret)
      .allowSendTo(props.eventsQueue);

    this.routes = props.api.addRoutes({
      path: ROUTES.webhook(provider),
      methods: [HttpMethod.POST],
      integration: new HttpLambdaIntegration(`${name}Integration`, this.ingestFunction, {
        payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
      }),
    });
    for (const route of this.routes) {
      Validations.of(route).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "Webhook callers are the providers' servers, which cannot sign SigV4 or obtain tokens; every " +
          "request is authenticated in the Lambda by the provider's HMAC signature (AES for NeuroVision).",
      });
    }

    stackOutput(this, `${name}WebhookUrl`, {
      description: `Webhook URL to configure in the ${provider} dashboard`,
      value: `${props.api.apiEndpoint}${ROUTES.webhook(provider)}`,
    });
    stackOutput(this, `${name}SecretArn`, {
      description: `Secret holding the JSON list of accepted ${provider} webhook secrets`,
      value: this.secret.secretArn,
    });
  }
}
