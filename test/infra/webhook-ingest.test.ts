import { Stack } from "aws-cdk-lib";
import { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { beforeAll, describe, expect, it } from "vitest";
import { QUEUES } from "../../lambdas/core/contract.js";
import { PROVIDER_IDS, type ProviderId } from "../../lambdas/core/event.js";
import { FifoQueueWithDlq } from "../../lib/fifo-queue-with-dlq.js";
import { WebhookIngest } from "../../lib/webhook-ingest.js";
import {
  expectNagClean,
  getAtt,
  logicalIdOf,
  roleIdOf,
  type StackTemplate,
  type Synthesized,
  synthWithNag,
  XRAY_STATEMENT,
} from "../support/cdk.js";

/**
 * One WebhookIngest per provider on one HTTP API and events queue. Options: one non-default flag,
 * one default flag, a non-default key derivation.
 */
let synth: Synthesized;
let t: StackTemplate;
let api: HttpApi;
let events: FifoQueueWithDlq;
const ingest = {} as Record<ProviderId, WebhookIngest>;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test");
    api = new HttpApi(stack, "Api", { createDefaultStage: false });
    events = new FifoQueueWithDlq(stack, "Events", QUEUES.events);
    for (const provider of PROVIDER_IDS) {
      ingest[provider] = new WebhookIngest(stack, provider, {
        provider,
        api,
        eventsQueue: events.queue,
        options: { veriffLegacySignature: true, neurovisionKeyDerivation: "sha256-hex-prefix" },
      });
    }
  });
  t = synth.template(Stack.of(api));
});

const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);

describe.each(PROVIDER_IDS)("WebhookIngest of %s", (provider) => {
  const ids = () => {
    const fn = ingest[provider].ingestFunction;
    return {
      fn: logicalIdOf(fn),
      role: roleIdOf(fn),
      logGroup: logicalIdOf(fn.logGroup),
      secret: logicalIdOf(ingest[provider].secret),
      queue: logicalIdOf(events.queue),
    };
  };

  it("has the house defaults, PROVIDER_ID, its resources and only its own option variable", () => {
    const { secret, queue } = ids();
    const options: Record<ProviderId, Record<string, string>> = {
      veriff: { VERIFF_LEGACY_SIGNATURE: "true" },
      idngo: { IDNGO_ALLOW_SHA1: "false" },
      idbeyond: {},
      neurovision: { NEUROVISION_KEY_DERIVATION: "sha256-hex-prefix" },
    };
    t.expectHouseFunction(ingest[provider].ingestFunction, {
      timeout: 10,
      service: `kyc-ingest-${provider}`,
      env: { PROVIDER_ID: provider, WEBHOOK_SECRETS_ARN: { Ref: secret }, EVENTS_QUEUE_URL: { Ref: queue }, ...options[provider] },
    });
  });

  it("has its own role allowed exactly: trace, write its logs, read its secret, send to the queue", () => {
    const { role, logGroup, secret, queue } = ids();
    const statements = t.roleStatements(role);
    expect(statements).toEqual([
      XRAY_STATEMENT, // active tracing: acknowledged for cdk-nag on the role (X-Ray has no resource-level permissions)
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: { Ref: secret } },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) },
    ]);
    for (const other of PROVIDER_IDS.filter((p) => p !== provider)) {
      expect(JSON.stringify(statements)).not.toContain(logicalIdOf(ingest[other].secret));
    }
  });

  it(`is the target of POST /webhooks/${provider} (payload v2, no authorizer, no other route)`, () => {
    const { fn } = ids();
    const route = t.route(`POST /webhooks/${provider}`);
    expect(route["AuthorizationType"]).toBe("NONE");
    expect(route["Target"]).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: t.integrationOf(fn) }]] });
    expect(ingest[provider].routes).toHaveLength(1);
    // API Gateway may invoke the function only for its own route.
    t.expectInvokePermission(fn, `/webhooks/${provider}`);
  });

  it("has a secret initialised to an empty list, and outputs for the operator", () => {
    const { secret } = ids();
    expect(t.props(secret)["SecretString"]).toBe("[]");
    expect(t.props(secret)["Description"]).toMatch(/JSON array/);
    t.template.hasOutput(`${pascal(provider)}WebhookUrl`, {
      Value: { "Fn::Join": ["", [getAtt(logicalIdOf(api), "ApiEndpoint"), `/webhooks/${provider}`]] },
    });
    t.template.hasOutput(`${pascal(provider)}SecretArn`, { Value: { Ref: secret } });
  });
});

describe("WebhookIngest and cdk-nag", () => {
  it("passes: the unauthorized route and the provider-issued secret are acknowledged", () => {
    expectNagClean(synth);
  });
});
