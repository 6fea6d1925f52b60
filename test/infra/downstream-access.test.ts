import { App, Stack } from "aws-cdk-lib";
import { AccountRootPrincipal, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { beforeAll, describe, expect, it } from "vitest";
import { PipelineStack } from "../../lib/pipeline-stack.js";
import {
  expectNagClean,
  getAtt,
  logicalIdOf,
  SKIP_BUNDLING,
  type StackTemplate,
  type Statement,
  type Synthesized,
  synthWithNag,
} from "../support/cdk.js";

/**
 * How downstream consumers get access (README "Downstream consumers"): the stack props, the grant
 * methods and the context ARNs. One synth, with cdk-nag on every stack of the app.
 */

const PARTNER_CONSUMER = "arn:aws:iam::222222222222:role/partner/status-consumer";
const REPORTING_READER = "arn:aws:iam::111111111111:role/reporting";

let synth: Synthesized;
let stack: PipelineStack;
let consumers: Stack;
let pipeline: StackTemplate;
let consumerStack: StackTemplate;

beforeAll(() => {
  synth = synthWithNag((app) => {
    // An integrator's stack in the same app: its roles are passed as props.
    consumers = new Stack(app, "Consumers");
    const statusConsumer = new Role(consumers, "StatusConsumer", { assumedBy: new AccountRootPrincipal() });
    const reader = new Role(consumers, "Reader", { assumedBy: new AccountRootPrincipal() });
    stack = new PipelineStack(app, "KycWebhookPipeline", {
      statusChangeConsumers: [statusConsumer],
      verificationReaders: [reader],
      statusChangeConsumerRoleArns: [PARTNER_CONSUMER],
      verificationReaderRoleArns: [REPORTING_READER],
    });
    // A role of the pipeline stack itself, granted through the public methods.
    const testRole = new Role(stack, "TestRole", { assumedBy: new AccountRootPrincipal() });
    stack.grantConsumeStatusChanges(testRole);
    stack.grantReadVerifications(testRole);
  });
  pipeline = synth.template(stack);
  consumerStack = synth.template(consumers);
});

const CONSUME = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"];
/** The execute-api ARN of `GET <path>` on the $default stage, for an API id expression. */
const routeArn = (apiId: unknown, path: string) => ({
  "Fn::Join": [
    "",
    [
      "arn:",
      { Ref: "AWS::Partition" },
      ":execute-api:",
      { Ref: "AWS::Region" },
      ":",
      { Ref: "AWS::AccountId" },
      ":",
      apiId,
      `/$default/GET${path}`,
    ],
  ],
});
const readStatement = (apiId: unknown): Statement => ({
  Effect: "Allow",
  Action: "execute-api:Invoke",
  Resource: [routeArn(apiId, "/verifications"), routeArn(apiId, "/verifications/*")],
});

describe("grantConsumeStatusChanges and grantReadVerifications on a role of the stack", () => {
  it("allow exactly the four poller actions on the status-changes queue and GET on the two read routes", () => {
    const queue = logicalIdOf(stack.statusChangesQueue);
    const api = logicalIdOf(stack.api);
    expect(pipeline.statementsAttachedTo([{ Ref: pipeline.idWithPrefix("AWS::IAM::Role", "TestRole") }])).toEqual([
      { Effect: "Allow", Action: CONSUME, Resource: getAtt(queue) },
      readStatement({ Ref: api }),
    ]);
  });
});

describe("statusChangeConsumers and verificationReaders: roles of another stack of the app", () => {
  it("get the same statements in their own stack, which imports the queue ARN and the API id", () => {
    const consumer = consumerStack.idWithPrefix("AWS::IAM::Role", "StatusConsumer");
    const reader = consumerStack.idWithPrefix("AWS::IAM::Role", "Reader");
    expect(consumerStack.statementsAttachedTo([{ Ref: consumer }])).toEqual([
      {
        Effect: "Allow",
        Action: CONSUME,
        Resource: { "Fn::ImportValue": expect.stringMatching(/^KycWebhookPipeline:ExportsOutputFnGetAttStatusChanges/) as unknown },
      },
    ]);
    expect(consumerStack.statementsAttachedTo([{ Ref: reader }])).toEqual([
      readStatement({ "Fn::ImportValue": "KycWebhookPipeline:ReadApiId" }),
    ]);
    expect(consumers.dependencies.map((s) => s.stackName)).toEqual(["KycWebhookPipeline"]);
  });
});

describe("context ARNs (-c statusChangeConsumerRoleArns / verificationReaderRoleArns)", () => {
  it("let a consumer role of any account in through the queue policy, without touching the role", () => {
    const queue = logicalIdOf(stack.statusChangesQueue);
    const statements = pipeline.queuePolicyStatements(stack.statusChangesQueue);
    expect(statements).toEqual([
      expect.objectContaining({ Effect: "Deny", Action: "sqs:*" }) as unknown,
      { Effect: "Allow", Principal: { AWS: PARTNER_CONSUMER }, Action: CONSUME, Resource: getAtt(queue) },
    ]);
    expect(JSON.stringify(pipeline.resources)).not.toContain('"partner/status-consumer"');
    expect(JSON.stringify(pipeline.resources)).not.toContain('"status-consumer"');
  });

  it("attach the read statement to a reader role of this account, checked at deploy time", () => {
    const api = logicalIdOf(stack.api);
    expect(pipeline.statementsAttachedTo(["reporting"])).toEqual([readStatement({ Ref: api })]);
    expect(pipeline.rules["VerificationReadersInThisAccount"]).toEqual({
      Assertions: [
        {
          Assert: { "Fn::Equals": [{ Ref: "AWS::AccountId" }, "111111111111"] },
          AssertDescription: "verificationReaderRoleArns: the roles must be in the deployment account (111111111111)",
        },
      ],
    });
  });

  it("never reach the webhook routes or anything else of the pipeline", () => {
    const grants = [
      ...consumerStack.ofType("AWS::IAM::Policy").map(([, r]) => r),
      ...pipeline
        .ofType("AWS::IAM::Policy")
        .filter(([id]) => id.startsWith("TestRole") || id.startsWith("VerificationReader"))
        .map(([, r]) => r),
    ];
    expect(grants).toHaveLength(4);
    for (const grant of grants) {
      const document = JSON.stringify(grant.Properties["PolicyDocument"]);
      expect(document).not.toContain("webhooks");
      expect(document).not.toContain("POST");
      expect(document).not.toContain("dynamodb:");
      expect(document).not.toContain("sqs:SendMessage");
    }
  });
});

describe("cdk-nag on every stack of the app", () => {
  it("leaves no finding: the execute-api wildcard is acknowledged where each grant puts it", () => {
    expectNagClean(synth);
  });
});

describe("grants that cannot work are refused", () => {
  const pinned = () => {
    const pinnedApp = new App({ context: SKIP_BUNDLING });
    return new PipelineStack(pinnedApp, "Pinned", { env: { account: "111111111111", region: "eu-west-1" } });
  };

  it("grantReadVerifications throws for a role of another account (an HTTP API has no resource policy)", () => {
    const target = pinned();
    const foreign = Role.fromRoleArn(target, "Foreign", "arn:aws:iam::222222222222:role/foreign");
    expect(() => target.grantReadVerifications(foreign)).toThrow(/is of account 222222222222, not 111111111111/);
  });

  it("grantReadVerifications throws for a principal that takes no identity policy", () => {
    expect(() => pinned().grantReadVerifications(new ServicePrincipal("events.amazonaws.com"))).toThrow();
  });

  it("a reader ARN of another account fails the synth of an account-pinned stack", () => {
    const pinnedApp = new App({ context: SKIP_BUNDLING });
    expect(
      () =>
        new PipelineStack(pinnedApp, "Pinned", {
          env: { account: "111111111111", region: "eu-west-1" },
          verificationReaderRoleArns: ["arn:aws:iam::222222222222:role/foreign"],
        }),
    ).toThrow(/is of account 222222222222/);
  });
});
