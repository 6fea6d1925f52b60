import type { App } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { QUEUES } from "../../lambdas/core/contract.js";
import { configFromContext, pipelineStackName, STAGE_DEFAULTS, stageDefaults } from "../../lib/config.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";
import { expectNagClean, logicalIdOf, type StackTemplate, type Synthesized, synthWithNag } from "../support/cdk.js";

/**
 * Stages (`-c stage=NAME`): the stack name, the per-stage defaults, and that two stages are independent
 * instances. Each app is built as bin/app.ts builds it: configFromContext, then pipelineStackName.
 */
interface Built {
  readonly synth: Synthesized;
  readonly stack: PipelineStack;
  readonly t: StackTemplate;
}

/** The stack bin/app.ts synthesizes for this context. */
function build(context: Record<string, unknown>): Built {
  let stack: PipelineStack | undefined;
  const synth = synthWithNag((app: App) => {
    const config = configFromContext(app.node);
    stack = new PipelineStack(app, pipelineStackName(config.stage), config);
  }, context);
  if (stack === undefined) throw new Error("no stack");
  return { synth, stack, t: synth.template(stack) };
}

let unnamed: Built;
let prod: Built;
let dev: Built;

beforeAll(() => {
  unnamed = build({});
  prod = build({ stage: "prod" });
  dev = build({ stage: "dev", alarmEmail: "ops@example.com" });
});

const functionsOf = (b: Built) => b.t.ofType("AWS::Lambda::Function").map(([, fn]) => fn.Properties);
const envOf = (fn: Record<string, unknown>) => (fn["Environment"] as { Variables: Record<string, unknown> }).Variables;
const thresholdsOf = (b: Built) =>
  Object.fromEntries(Object.entries(b.t.alarmsByName()).map(([name, a]) => [name.slice(b.stack.stackName.length + 1), a["Threshold"]]));

describe("pipelineStackName", () => {
  it("is KycWebhookPipeline without a stage (the original stack), KycWebhookPipeline-<stage> with one", () => {
    expect(pipelineStackName()).toBe("KycWebhookPipeline");
    expect(pipelineStackName("dev")).toBe("KycWebhookPipeline-dev");
    expect(pipelineStackName("pr-42")).toBe("KycWebhookPipeline-pr-42");
    expect(unnamed.stack.stackName).toBe("KycWebhookPipeline");
    expect(prod.stack.stackName).toBe("KycWebhookPipeline-prod");
    expect(dev.stack.stackName).toBe("KycWebhookPipeline-dev");
  });

  it.each(["Dev", "dev-", "-dev", "dev.1", "dev_1", "", "abcdefghij0123456789zz"])("rejects the stage %j", (stage) => {
    expect(() => pipelineStackName(stage)).toThrow(/^stage must be 1 to 21 lower-case letters, digits or hyphens/);
    expect(() => stageDefaults(stage)).toThrow(/^stage must be/);
  });
});

describe("per-stage defaults", () => {
  it("are production for the unnamed stack and prod, development for every other stage", () => {
    expect(STAGE_DEFAULTS).toEqual({
      production: {
        logRetention: 30,
        tableDeletionProtection: true,
        logLevel: "INFO",
        alarmThresholds: {
          eventsQueueMaxAgeSeconds: 1200,
          publisherMaxIteratorAgeSeconds: 300,
          functionErrors: 2,
          api5xx: 5,
          authenticationFailures: 5,
          unmappedWebhooks: 10,
          stuckVerifications: 25,
        },
      },
      development: {
        logRetention: 7,
        tableDeletionProtection: false,
        logLevel: "DEBUG",
        alarmThresholds: {
          eventsQueueMaxAgeSeconds: 3600,
          publisherMaxIteratorAgeSeconds: 3600,
          functionErrors: 10,
          api5xx: 20,
          authenticationFailures: 20,
          unmappedWebhooks: 50,
          stuckVerifications: 100,
        },
      },
    });
    // The events queue alarms on a backlog, not on one event on its way to the DLQ (5 receives x 180 s visibility).
    const poisonedLifetime = QUEUES.events.maxReceiveCount * QUEUES.events.visibilityTimeoutSeconds;
    for (const defaults of Object.values(STAGE_DEFAULTS)) {
      expect(defaults.alarmThresholds.eventsQueueMaxAgeSeconds).toBeGreaterThan(poisonedLifetime);
    }
    expect(stageDefaults()).toBe(STAGE_DEFAULTS.production);
    expect(stageDefaults("prod")).toBe(STAGE_DEFAULTS.production);
    for (const stage of ["dev", "test", "staging", "pr-42", "production"]) expect(stageDefaults(stage)).toBe(STAGE_DEFAULTS.development);
  });

  it.each([
    ["the unnamed stack", () => unnamed, 30, true, "INFO"],
    ["prod", () => prod, 30, true, "INFO"],
    ["dev", () => dev, 7, false, "DEBUG"],
  ] as const)(
    "%s: log retention, table deletion protection (retained either way), POWERTOOLS_LOG_LEVEL and Lambda's log level",
    (_, get, days, protection, level) => {
      const b = get();
      const retention = b.t.ofType("AWS::Logs::LogGroup").map(([, g]) => g.Properties["RetentionInDays"]);
      expect(retention).toEqual(Array(9).fill(days)); // eight functions and the API's access logs
      const [[, table] = []] = b.t.ofType("AWS::DynamoDB::Table");
      expect(table).toMatchObject({ Properties: { DeletionProtectionEnabled: protection }, DeletionPolicy: "Retain" });
      const functions = functionsOf(b);
      expect(functions).toHaveLength(8);
      for (const fn of functions) {
        expect(envOf(fn)["POWERTOOLS_LOG_LEVEL"]).toBe(level);
        expect(fn["LoggingConfig"]).toMatchObject({ LogFormat: "JSON", ApplicationLogLevel: level, SystemLogLevel: "WARN" });
        expect(fn["TracingConfig"]).toEqual({ Mode: "Active" });
      }
    },
  );

  it("alarm thresholds: production's for the unnamed stack and prod, development's for dev", () => {
    const production = thresholdsOf(unnamed);
    expect(production).toMatchObject({
      EventsDlqNotEmpty: 0,
      StatusChangesDlqNotEmpty: 0,
      PublisherFailuresNotEmpty: 0,
      EventsQueueOldestMessageAge: 1200,
      PublisherIteratorAge: 300_000,
      ConsumerErrors: 2,
      PublisherErrors: 2,
      Api5xx: 5,
      VeriffAuthenticationFailures: 5,
      NeurovisionWebhooksUnmapped: 10,
    });
    expect(thresholdsOf(prod)).toEqual(production);
    const development = thresholdsOf(dev);
    expect(Object.keys(development).sort()).toEqual(Object.keys(production).sort());
    expect(development).toMatchObject({
      EventsDlqNotEmpty: 0,
      StatusChangesDlqNotEmpty: 0,
      PublisherFailuresNotEmpty: 0,
      EventsQueueOldestMessageAge: 3600,
      PublisherIteratorAge: 3_600_000,
      ConsumerErrors: 10,
      PublisherErrors: 10,
      Api5xx: 20,
      IdngoAuthenticationFailures: 20,
      IdbeyondWebhooksUnmapped: 50,
    });
  });

  it("explicit props (and context keys) win over the stage's defaults", () => {
    const b = build({ stage: "dev", logRetentionDays: "90", tableDeletionProtection: "true", logLevel: "INFO" });
    expect(new Set(b.t.ofType("AWS::Logs::LogGroup").map(([, g]) => g.Properties["RetentionInDays"]))).toEqual(new Set([90]));
    expect(b.t.ofType("AWS::DynamoDB::Table")[0]?.[1].Properties["DeletionProtectionEnabled"]).toBe(true);
    expect(new Set(functionsOf(b).map((fn) => envOf(fn)["POWERTOOLS_LOG_LEVEL"]))).toEqual(new Set(["INFO"]));
  });
});

describe("alarmThresholds prop", () => {
  it("replaces the stage's thresholds it names, and only those", () => {
    let stack: PipelineStack | undefined;
    const synth = synthWithNag((app) => {
      stack = new PipelineStack(app, "KycWebhookPipeline-dev", {
        stage: "dev",
        alarmThresholds: { api5xx: 50, functionErrors: undefined },
      });
    });
    if (stack === undefined) throw new Error("no stack");
    const b = { synth, stack, t: synth.template(stack) };
    expect(thresholdsOf(b)).toEqual({ ...thresholdsOf(dev), Api5xx: 50 });
  });
});

describe("a stage is an independent instance", () => {
  it("has the same resources under the same logical IDs as the unnamed stack (the e-mail subscription aside)", () => {
    const ids = (b: Built) => Object.keys(b.t.resources).filter((id) => b.t.resources[id]?.Type !== "AWS::SNS::Subscription");
    expect(ids(dev).sort()).toEqual(ids(unnamed).sort());
    expect(ids(prod).sort()).toEqual(ids(unnamed).sort());
    expect(dev.t.ofType("AWS::SNS::Subscription")).toHaveLength(1);
  });

  it("names nothing that another stage's stack would also name: CloudFormation names the rest after the stack", () => {
    // Every property that names a resource in its account and region (or account: dashboards).
    const NAMES = ["TableName", "QueueName", "FunctionName", "RoleName", "Name", "LogGroupName", "TopicName", "AlarmName", "DashboardName"];
    for (const b of [unnamed, prod, dev]) {
      for (const [id, resource] of Object.entries(b.t.resources)) {
        for (const key of NAMES.filter((k) => k in resource.Properties)) {
          const value = resource.Properties[key];
          // A Ref or GetAtt names another resource of the stack (a mapping's FunctionName); an API's Name is a label.
          if (typeof value === "object" && value !== null && !("Fn::Join" in value)) continue;
          if (resource.Type === "AWS::ApiGatewayV2::Api" && key === "Name") continue;
          expect(JSON.stringify(value), `${id}.${key}`).toContain(`${b.stack.stackName}-`);
        }
      }
    }
    // The alarms name their stack's stage; the dashboards the stack and its region.
    expect(Object.keys(dev.t.alarmsByName()).every((name) => name.startsWith("KycWebhookPipeline-dev-"))).toBe(true);
    expect(dev.t.ofType("AWS::CloudWatch::Dashboard")[0]?.[1].Properties["DashboardName"]).toEqual({
      "Fn::Join": ["", ["KycWebhookPipeline-dev-", { Ref: "AWS::Region" }]],
    });
  });

  it("its alarm topic takes notifications from its own alarms only", () => {
    const policy = dev.t.ofType("AWS::SNS::TopicPolicy")[0]?.[1].Properties ?? {};
    expect(JSON.stringify(policy)).toContain(":alarm:KycWebhookPipeline-dev-*");
    expect(dev.t.props(logicalIdOf(dev.stack.monitoring.topic))["DisplayName"]).toBe("KycWebhookPipeline-dev alarms");
  });

  it("passes cdk-nag (AwsSolutions and Serverless) in every stage", () => {
    expectNagClean(unnamed.synth);
    expectNagClean(prod.synth);
    expectNagClean(dev.synth);
  });
});
