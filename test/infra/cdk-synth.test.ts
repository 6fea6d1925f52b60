import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { PROJECT_ROOT } from "../../lib/kyc-function.js";

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

const PARTNER_CONSUMER = "arn:aws:iam::222222222222:role/partner/status-consumer";
const REPORTING_READER = "arn:aws:iam::111111111111:role/reporting";
const BANNER = "import { createRequire } from 'module';const require = createRequire(import.meta.url);";

let outdir: string;
let run: { code: number | null; output: string };
let resources: Resource[];

/** `npx cdk synth` exactly as an operator runs it (app command from cdk.json), offline, with this context. */
function cdkSynth(output: string, context: readonly string[]): Promise<{ code: number | null; output: string }> {
  const args = ["cdk", "synth", "--quiet", "--no-notices", "--output", output];
  for (const c of context) args.push("-c", c);
  return new Promise((resolve, reject) => {
    const child = spawn("npx", args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1", CDK_DISABLE_CLI_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output: text }));
  });
}

/** A stage, an alarm e-mail and explicit keys that beat the stage's defaults (dev: 7 days, deletable table). */
beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "kyc-cdk-synth-"));
  run = await cdkSynth(outdir, [
    "stage=qa",
    "alarmEmail=ops@example.com",
    "logRetentionDays=90",
    "throttleBurstLimit=200",
    "idngoAllowSha1=true",
    "tableDeletionProtection=false",
    "consumerMaxConcurrency=20",
    `statusChangeConsumerRoleArns=${PARTNER_CONSUMER}`,
    `verificationReaderRoleArns=${REPORTING_READER}`,
  ]);
  const templatePath = join(outdir, "KycWebhookPipeline-qa.template.json");
  if (!existsSync(templatePath)) throw new Error(`no template written:\n${run.output}`);
  const template = JSON.parse(readFileSync(templatePath, "utf8")) as { Resources: Record<string, Resource> };
  resources = Object.values(template.Resources);
}, 180_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("npx cdk synth (offline)", () => {
  it("exits 0, with the stage's stack only", () => {
    expect(run.code, run.output).toBe(0);
    expect(readdirSync(outdir).filter((name) => name.endsWith(".template.json"))).toEqual(["KycWebhookPipeline-qa.template.json"]);
  });

  it("subscribes the alarm e-mail to the alarm topic, and names the alarms after the stage's stack", () => {
    const subscriptions = resources.filter((r) => r.Type === "AWS::SNS::Subscription").map((r) => r.Properties);
    expect(subscriptions).toEqual([{ Protocol: "email", Endpoint: "ops@example.com", TopicArn: expect.anything() as unknown }]);
    const alarms = resources.filter((r) => r.Type === "AWS::CloudWatch::Alarm").map((r) => String(r.Properties["AlarmName"]));
    expect(alarms.length).toBeGreaterThan(0);
    expect(alarms.every((name) => name.startsWith("KycWebhookPipeline-qa-"))).toBe(true);
    // DEBUG: the development stage's default; no key set it.
    const levels = resources
      .filter((r) => r.Type === "AWS::Lambda::Function")
      .map((r) => (r.Properties["Environment"] as { Variables: Record<string, unknown> }).Variables["POWERTOOLS_LOG_LEVEL"]);
    expect(new Set(levels)).toEqual(new Set(["DEBUG"]));
  });

  it("synthesizes the four webhook routes and the two read routes, honouring the -c context", () => {
    const routeKeys = resources.filter((r) => r.Type === "AWS::ApiGatewayV2::Route").map((r) => r.Properties["RouteKey"]);
    expect(routeKeys.sort()).toEqual(
      [...PROVIDER_IDS.map((p) => `POST /webhooks/${p}`), "GET /verifications", "GET /verifications/{correlationId}"].sort(),
    );
    const retention = resources.filter((r) => r.Type === "AWS::Logs::LogGroup").map((r) => r.Properties["RetentionInDays"]);
    // One per ingest function, the consumer's, the publisher's, the read function's, the reconciler's and the access log group.
    expect(retention).toEqual(Array(PROVIDER_IDS.length + 5).fill(90));
    expect(resources.filter((r) => r.Type === "AWS::Lambda::Function")).toHaveLength(PROVIDER_IDS.length + 4);
    const stage = resources.find((r) => r.Type === "AWS::ApiGatewayV2::Stage");
    expect(stage?.Properties["DefaultRouteSettings"]).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 200 });
    const env = Object.assign(
      {},
      ...resources
        .filter((r) => r.Type === "AWS::Lambda::Function")
        .map((r) => (r.Properties["Environment"] as { Variables: Record<string, unknown> }).Variables),
    ) as Record<string, unknown>;
    expect(env).toMatchObject({
      IDNGO_ALLOW_SHA1: "true",
      VERIFF_LEGACY_SIGNATURE: "false",
      NEUROVISION_KEY_DERIVATION: "any",
    });
  });

  it("honours tableDeletionProtection=false (still retained) and consumerMaxConcurrency=20", () => {
    const tables = resources.filter((r) => r.Type === "AWS::DynamoDB::Table");
    expect(tables).toHaveLength(1);
    expect(tables[0]?.Properties["DeletionProtectionEnabled"]).toBe(false);
    expect(tables[0]).toMatchObject({ DeletionPolicy: "Retain" });
    const mappings = resources.filter((r) => r.Type === "AWS::Lambda::EventSourceMapping");
    expect(mappings).toHaveLength(2); // the consumer's (SQS) and the publisher's (DynamoDB stream)
    const sqsMapping = mappings.find((r) => r.Properties["ScalingConfig"] !== undefined);
    expect(sqsMapping?.Properties["ScalingConfig"]).toEqual({ MaximumConcurrency: 20 });
  });

  it("bundles the handlers locally into an ESM index.mjs with the createRequire banner and a source map", () => {
    const assets = readdirSync(outdir).filter((name) => name.startsWith("asset."));
    // The four ingest functions share one bundle; the consumer, the publisher, the read function and the reconciler have their own.
    expect(assets).toHaveLength(5);
    for (const asset of assets) {
      expect(readFileSync(join(outdir, asset, "index.mjs"), "utf8").startsWith(BANNER)).toBe(true);
      expect(existsSync(join(outdir, asset, "index.mjs.map"))).toBe(true);
    }
  });

  it("grants the context's consumer role through the queue policy and the reader role by a policy on it", () => {
    const queuePolicies = resources.filter((r) => r.Type === "AWS::SQS::QueuePolicy").map((r) => JSON.stringify(r.Properties));
    expect(queuePolicies.filter((p) => p.includes(`{"AWS":"${PARTNER_CONSUMER}"}`))).toHaveLength(1);
    const readerPolicies = resources.filter(
      (r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties["Roles"]) === JSON.stringify(["reporting"]),
    );
    expect(readerPolicies).toHaveLength(1);
    expect(JSON.stringify(readerPolicies[0]?.Properties)).toContain('"execute-api:Invoke"');
  });

  it("passes cdk-nag (AwsSolutions and Serverless): the validation report has no finding", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  });
});

describe("npx cdk synth with a wrong context key or value", () => {
  it.each([
    [["stgae=dev"], /unknown context "stgae": the app reads .*stage/],
    [["stage=dev", "alarmEmial=ops@example.com"], /unknown context "alarmEmial": the app reads .*alarmEmail/],
    [["stage=Dev"], /context stage must be 1 to 21 lower-case letters, digits or hyphens.*got "Dev"/],
    [["alarmEmail=ops"], /context alarmEmail must be one e-mail address \(ops@example.com\), got "ops"/],
  ])(
    "%j fails the synth with a clear message, before any template",
    async (context, message) => {
      const out = mkdtempSync(join(tmpdir(), "kyc-cdk-synth-bad-"));
      try {
        const bad = await cdkSynth(out, context);
        expect(bad.code).not.toBe(0);
        expect(bad.output).toMatch(message);
        // One line naming the key: no stack trace, no source excerpt.
        expect(bad.output).not.toMatch(/^\s+at /m);
        expect(bad.output).not.toMatch(/ConfigError/);
        expect(readdirSync(out).filter((name) => name.endsWith(".template.json"))).toEqual([]);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
    120_000,
  );
});
