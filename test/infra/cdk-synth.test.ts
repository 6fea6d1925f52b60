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

/** `npx cdk synth` exactly as an operator runs it (app command from cdk.json), offline, with context. */
beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), "kyc-cdk-synth-"));
  const args = ["cdk", "synth", "--quiet", "--no-notices", "--output", outdir];
  const context = [
    "logRetentionDays=90",
    "throttleBurstLimit=200",
    "idngoAllowSha1=true",
    "tableDeletionProtection=false",
    "consumerMaxConcurrency=20",
    `statusChangeConsumerRoleArns=${PARTNER_CONSUMER}`,
    `verificationReaderRoleArns=${REPORTING_READER}`,
  ];
  for (const c of context) args.push("-c", c);
  run = await new Promise((resolve, reject) => {
    const child = spawn("npx", args, {
      cwd: PROJECT_ROOT,
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1", CDK_DISABLE_CLI_TELEMETRY: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
  const templatePath = join(outdir, "KycWebhookPipeline.template.json");
  if (!existsSync(templatePath)) throw new Error(`no template written:\n${run.output}`);
  const template = JSON.parse(readFileSync(templatePath, "utf8")) as { Resources: Record<string, Resource> };
  resources = Object.values(template.Resources);
}, 180_000);

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("npx cdk synth (offline)", () => {
  it("exits 0", () => {
    expect(run.code, run.output).toBe(0);
  });

  it("synthesizes the four webhook routes and the two read routes, honouring the -c context", () => {
    const routeKeys = resources.filter((r) => r.Type === "AWS::ApiGatewayV2::Route").map((r) => r.Properties["RouteKey"]);
    expect(routeKeys.sort()).toEqual(
      [...PROVIDER_IDS.map((p) => `POST /webhooks/${p}`), "GET /verifications", "GET /verifications/{correlationId}"].sort(),
    );
    const retention = resources.filter((r) => r.Type === "AWS::Logs::LogGroup").map((r) => r.Properties["RetentionInDays"]);
    // One per ingest function, the consumer's, the publisher's, the read function's and the access log group.
    expect(retention).toEqual(Array(PROVIDER_IDS.length + 4).fill(90));
    expect(resources.filter((r) => r.Type === "AWS::Lambda::Function")).toHaveLength(PROVIDER_IDS.length + 3);
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
    // The four ingest functions share one bundle; the consumer, the publisher and the read function have their own.
    expect(assets).toHaveLength(4);
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

  it("passes cdk-nag: the validation report has no finding", () => {
    const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  });
});
