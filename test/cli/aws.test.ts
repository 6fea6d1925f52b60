/**
 * The AWS path of `kyc`, without AWS: which stack (--stack / --stage), what its outputs resolve to
 * (a stubbed CloudFormation client), and SigV4 signing of read API calls, checked by a local HTTP
 * server that recomputes the signature as SigV4 defines it.
 */
import { readdirSync, readFileSync } from "node:fs";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { pipelineStackName } from "../../lib/config.js";
import { providerName } from "../../lib/webhook-ingest.js";
import { describeStackOutputs, OUTPUTS, regionOfApiUrl, stackNameFrom, stackNameOf } from "../../local/cli/aws.js";
import { checkSigV4, kyc, type Recorded, recordingServer } from "../support/cli.js";

const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "session-token-example",
};
const REGION = "eu-west-1";

const cloudFormation = mockClient(CloudFormationClient);
afterEach(() => cloudFormation.reset());

function stackWith(outputs: Record<string, string>): void {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: "KycWebhookPipeline",
        CreationTime: new Date(),
        StackStatus: "UPDATE_COMPLETE",
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
}

describe("which stack, and its outputs", () => {
  it("--stage names the stack exactly as the CDK app does", () => {
    for (const stage of [undefined, "dev", "pr-42"]) expect(stackNameOf(stage)).toBe(pipelineStackName(stage));
    expect(stackNameFrom(undefined, undefined)).toBeUndefined();
    expect(stackNameFrom("Custom", undefined)).toBe("Custom");
    expect(stackNameFrom(undefined, "dev")).toBe("KycWebhookPipeline-dev");
    expect(() => stackNameFrom("A", "dev")).toThrow(/one of them/);
    expect(() => stackNameFrom(undefined, "Dev_1")).toThrow(/--stage/);
  });

  it("every output kyc reads is one the stack declares (lib/)", () => {
    const sources = readdirSync(new URL("../../lib/", import.meta.url))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(new URL(`../../lib/${f}`, import.meta.url), "utf8"))
      .join("\n");
    const { webhookUrl, ...fixed } = OUTPUTS;
    for (const name of Object.values(fixed)) expect(sources).toContain(`stackOutput(this, "${name}"`);
    expect(sources).toContain(["stackOutput(this, `$", "{name}WebhookUrl`"].join("")); // the per-provider outputs, named from providerName
    for (const provider of PROVIDER_IDS) expect(webhookUrl(provider)).toBe(`${providerName(provider)}WebhookUrl`);
  });

  it("reads the outputs with DescribeStacks, and says which one is missing or that the stack does not exist", async () => {
    stackWith({ EventsDlqUrl: "https://sqs.eu-west-1.amazonaws.com/1/dlq" });
    const outputs = await describeStackOutputs(new CloudFormationClient({ region: REGION }), "KycWebhookPipeline-dev");
    expect(outputs.get("EventsDlqUrl")).toBe("https://sqs.eu-west-1.amazonaws.com/1/dlq");
    expect(cloudFormation.commandCalls(DescribeStacksCommand)[0]?.args[0].input).toEqual({ StackName: "KycWebhookPipeline-dev" });

    const missing = await kyc(["status", "veriff:x", "--stage", "dev", "--region", REGION]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      "kyc: stack KycWebhookPipeline-dev has no output ReadApiBaseUrl (deployed from an older version of this project?)\n",
    );

    cloudFormation.reset();
    const notFound = Object.assign(new Error("Stack with id KycWebhookPipeline-qa does not exist"), { name: "ValidationError" });
    cloudFormation.on(DescribeStacksCommand).rejects(notFound);
    const absent = await kyc(["status", "veriff:x", "--stage", "qa", "--region", REGION]);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toBe(
      `kyc: stack KycWebhookPipeline-qa does not exist in ${REGION} (deploy it, or pass --stack, --stage or --region)\n`,
    );
  });

  it("takes the webhook URL from the stack's outputs (sign --curl), and refuses local-only options with a stack", async () => {
    stackWith({ VeriffWebhookUrl: "https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/veriff" });
    const signed = await kyc(["sign", "veriff", "--file", "package.json", "--secret", "s", "--json", "--stack", "KycWebhookPipeline"]);
    expect(signed.code).toBe(0);
    expect(signed.json<{ url: string }>()[0]?.url).toBe("https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/veriff");

    const noSecret = await kyc(["sign", "veriff", "--file", "package.json", "--stack", "KycWebhookPipeline"]);
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toContain("pass --secret or set VERIFF_WEBHOOK_SECRET");

    const mixed = await kyc(["tail", "--stack", "KycWebhookPipeline", "--sqs-port", "3001"]);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toBe("kyc: --sqs-port is for the local pipeline, not with --stack / --stage\n");
  });

  it("knows an execute-api URL's region", () => {
    expect(regionOfApiUrl(new URL("https://abc123.execute-api.eu-west-1.amazonaws.com/verifications"))).toBe("eu-west-1");
    expect(regionOfApiUrl(new URL("http://127.0.0.1:3000/verifications"))).toBeUndefined();
  });
});

describe("the read API in AWS: SigV4-signed for execute-api", () => {
  const checks: ReturnType<typeof checkSigV4>[] = [];
  let api: Awaited<ReturnType<typeof recordingServer>>;
  const view = { correlationId: "idngo:5cb7/x y", provider: "idngo", status: "approved", subject: { externalUserId: "u" }, history: [] };

  beforeAll(async () => {
    api = await recordingServer((request: Recorded) => {
      const check = checkSigV4(request, { ...CREDENTIALS, region: REGION, service: "execute-api" });
      checks.push(check);
      if (!check.ok) return { status: 403, body: JSON.stringify({ message: check.problem }) };
      if (request.url.startsWith("/verifications?"))
        return { status: 200, body: JSON.stringify({ subject: "u", items: [view], next: null }) };
      return { status: 200, body: JSON.stringify(view) };
    });
  });
  afterAll(() => api.close());

  it("status and list send requests whose Authorization SigV4 verifies, signing exactly host, x-amz-date and the session token", async () => {
    stackWith({ ReadApiBaseUrl: `${api.url}/verifications` });
    const aws = { credentials: CREDENTIALS };
    const one = await kyc(["status", "idngo:5cb7/x y", "--json", "--stack", "KycWebhookPipeline", "--region", REGION], {}, { aws });
    expect(one.stderr).toBe("");
    expect(one.code).toBe(0);
    expect(one.json()).toEqual([view]);

    const many = await kyc(
      ["list", "--subject", "user 42/é+~*", "--limit", "5", "--cursor", "a=b", "--stack", "KycWebhookPipeline", "--region", REGION],
      {},
      { aws },
    );
    expect(many.code).toBe(0);
    expect(many.stdout).toContain("idngo:5cb7/x y  approved");

    expect(checks).toHaveLength(2);
    for (const check of checks) {
      expect(check).toMatchObject({ ok: true, signedHeaders: "host;x-amz-date;x-amz-security-token" });
      expect(check.credentialScope).toMatch(/^\d{8}\/eu-west-1\/execute-api\/aws4_request$/);
    }
    const [get, query] = api.requests;
    expect(get?.url).toBe("/verifications/idngo%3A5cb7%2Fx%20y");
    expect(get?.headers["x-amz-security-token"]).toBe(CREDENTIALS.sessionToken);
    expect(query?.url).toBe("/verifications?subject=user%2042%2F%C3%A9%2B~%2A&limit=5&cursor=a%3Db");
  });

  it("a wrong secret fails the server's check (the check is real), and a 403 becomes one line about permissions", async () => {
    stackWith({ ReadApiBaseUrl: `${api.url}/verifications` });
    const wrong = { credentials: { ...CREDENTIALS, secretAccessKey: "not-the-secret" } };
    const run = await kyc(["status", "veriff:x", "--stack", "KycWebhookPipeline", "--region", REGION], {}, { aws: wrong });
    expect(checks.at(-1)).toMatchObject({ ok: false, problem: "signature mismatch" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^kyc: the read API answered 403 .*execute-api:Invoke.*\n$/);
  });
});

describe("kyc reconcile in AWS: a synchronous Lambda Invoke of the stack's reconciler, SigV4-signed for lambda", () => {
  const report = {
    startedAt: "2026-11-22T12:00:00.000Z",
    olderThanHours: 48,
    dryRun: true,
    providers: [
      {
        provider: "veriff",
        polled: true,
        stuck: 1,
        lookedUp: 1,
        changed: 0,
        unchanged: 0,
        failed: 1,
        notLookedUp: 0,
        stuckAfter: 1,
        lookups: [],
      },
    ],
  };
  let lambda: Awaited<ReturnType<typeof recordingServer>>;
  const checks: ReturnType<typeof checkSigV4>[] = [];
  let functionError = false;

  beforeAll(async () => {
    lambda = await recordingServer((request: Recorded) => {
      const check = checkSigV4(request, { ...CREDENTIALS, region: REGION, service: "lambda" });
      checks.push(check);
      if (!check.ok) return { status: 403, body: JSON.stringify({ message: check.problem }) };
      if (functionError)
        return { status: 200, headers: { "x-amz-function-error": "Unhandled" }, body: JSON.stringify({ errorType: "ConfigError" }) };
      return { status: 200, body: JSON.stringify(report) };
    });
  });
  afterAll(() => lambda.close());

  it("invokes ReconcilerFunctionName with the pass's request, prints the report and exits 1 when a lookup failed", async () => {
    stackWith({ ReconcilerFunctionName: "KycWebhookPipeline-Reconciler-AbC" });
    const env = { AWS_ENDPOINT_URL_LAMBDA: lambda.url };
    const aws = { credentials: CREDENTIALS };
    const run = await kyc(
      [
        "reconcile",
        "--older-than",
        "2d",
        "--provider",
        "veriff",
        "--dry-run",
        "--json",
        "--stack",
        "KycWebhookPipeline",
        "--region",
        REGION,
      ],
      env,
      { aws },
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(run.json()).toEqual([report]);
    const [invoke] = lambda.requests;
    expect(invoke?.method).toBe("POST");
    expect(invoke?.url).toBe("/2015-03-31/functions/KycWebhookPipeline-Reconciler-AbC/invocations");
    expect(JSON.parse(invoke?.body ?? "{}")).toEqual({ source: "cli", olderThanHours: 48, provider: "veriff", dryRun: true });
    expect(checks.at(-1)).toMatchObject({ ok: true });
    expect(checks.at(-1)?.credentialScope).toMatch(/^\d{8}\/eu-west-1\/lambda\/aws4_request$/);

    functionError = true;
    const failed = await kyc(["reconcile", "--stack", "KycWebhookPipeline", "--region", REGION], env, { aws });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe("kyc: KycWebhookPipeline-Reconciler-AbC failed (Unhandled: ConfigError): see its log group\n");
  });
});
