/**
 * The AWS side of `kyc`: which stack, what its outputs say (CloudFormation DescribeStacks), and
 * SigV4 signing of read API requests (`execute-api`). Nothing else differs between local and
 * AWS runs: the commands use the same SQS, DynamoDB and HTTP calls against what target.ts
 * resolves here.
 */

import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { Sha256 } from "@aws-crypto/sha256-js";
import { type CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { SignatureV4 } from "@smithy/signature-v4";
import type { ProviderId } from "../../lambdas/core/event.js";
import { type AwsCredentials, CliError, usageError } from "./io.js";

/** The stack `bin/app.ts` deploys: `KycWebhookPipeline`, or `KycWebhookPipeline-<stage>` with `-c stage=<stage>`. */
export const STACK_NAME = "KycWebhookPipeline";

/** A stage name, as lib/config.ts accepts it (STAGE_NAME there; not imported: it would load the CDK). */
const STAGE_NAME = /^[a-z](?:[a-z0-9-]{0,19}[a-z0-9])?$/;

export const stackNameOf = (stage: string | undefined): string => (stage === undefined ? STACK_NAME : `${STACK_NAME}-${stage}`);

/** The stack outputs `kyc` reads (README "Stack outputs"; test/cli checks that lib/ still declares them). */
export const OUTPUTS = {
  eventsQueueUrl: "EventsQueueUrl",
  eventsDlqUrl: "EventsDlqUrl",
  statusChangesQueueUrl: "StatusChangesQueueUrl",
  statusChangesDlqUrl: "StatusChangesDlqUrl",
  publisherFailuresQueueUrl: "PublisherFailuresQueueUrl",
  tableName: "VerificationsTableName",
  readApiBaseUrl: "ReadApiBaseUrl",
  reconcilerFunctionName: "ReconcilerFunctionName",
  webhookUrl: (provider: ProviderId): string => `${provider.charAt(0).toUpperCase()}${provider.slice(1)}WebhookUrl`,
} as const;

export type StackOutputs = ReadonlyMap<string, string>;

/** The outputs of `stackName` (DescribeStacks), by output key. */
export async function describeStackOutputs(cloudFormation: CloudFormationClient, stackName: string): Promise<StackOutputs> {
  const answer = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName })).catch(async (error: unknown) => {
    if (error instanceof Error && error.name === "ValidationError" && /does not exist/.test(error.message)) {
      const region = await cloudFormation.config.region().catch(() => "?");
      throw new CliError(`stack ${stackName} does not exist in ${region} (deploy it, or pass --stack, --stage or --region)`);
    }
    throw error;
  });
  const stack = answer.Stacks?.[0];
  if (stack === undefined) throw new CliError(`stack ${stackName} was not found`);
  const outputs = new Map<string, string>();
  for (const output of stack.Outputs ?? []) {
    if (output.OutputKey !== undefined && output.OutputValue !== undefined) outputs.set(output.OutputKey, output.OutputValue);
  }
  return outputs;
}

/** One output, or an error that says which one is missing. */
export function outputOf(outputs: StackOutputs, stackName: string, key: string): string {
  const value = outputs.get(key);
  if (value === undefined) throw new CliError(`stack ${stackName} has no output ${key} (deployed from an older version of this project?)`);
  return value;
}

/** The stack a command names with `--stack` / `--stage`, or undefined for the local pipeline. */
export function stackNameFrom(stack: string | undefined, stage: string | undefined): string | undefined {
  if (stack !== undefined && stage !== undefined) throw usageError("--stack and --stage name the same thing: pass one of them");
  if (stage !== undefined && !STAGE_NAME.test(stage)) {
    throw usageError(
      `--stage must be 1 to 21 lower-case letters, digits or hyphens, starting with a letter (e.g. dev, pr-42), got "${stage}"`,
    );
  }
  if (stack !== undefined) return stack;
  return stage === undefined ? undefined : stackNameOf(stage);
}

/** The region of an `execute-api` URL (`https://{id}.execute-api.{region}.amazonaws.com/…`), if it is one. */
export function regionOfApiUrl(url: URL): string | undefined {
  return /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(url.hostname)?.[1];
}

/** A signer for the read API: SigV4, service `execute-api`, the default credential chain unless `credentials` is given. */
export function executeApiSigner(region: string, credentials?: AwsCredentials): SignatureV4 {
  return signerFor("execute-api", region, credentials);
}

/** SigV4 for `service` in `region`: the default credential chain unless `credentials` is given. */
export function signerFor(service: string, region: string, credentials?: AwsCredentials): SignatureV4 {
  // applyChecksum off: no x-amz-content-sha256 header (S3's), the payload hash is still part of the signature.
  return new SignatureV4({
    service,
    region,
    credentials: credentials ?? fromNodeProviderChain(),
    sha256: Sha256,
    applyChecksum: false,
  });
}

/**
 * A POST through node:http(s), not `fetch`: a reconciliation pass answers only when it ends (a
 * synchronous invoke: up to the function's 600 s timeout), and `fetch` gives up waiting for
 * response headers after 300 s.
 */
export function post(
  url: URL,
  headers: Readonly<Record<string, string>>,
  body: string,
  signal: AbortSignal | undefined,
): Promise<{ status: number; functionError: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "http:" ? httpRequest : httpsRequest;
    const request = send(url, { method: "POST", headers, ...(signal === undefined ? {} : { signal }) }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("error", reject);
      response.on("end", () => {
        const functionError = response.headers["x-amz-function-error"];
        resolve({
          status: response.statusCode ?? 0,
          functionError: Array.isArray(functionError) ? functionError[0] : functionError,
          body: Buffer.concat(chunks).toString("utf8"),
        });
      });
    });
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * Lambda's Invoke (synchronous, `RequestResponse`) of `functionName` with a JSON payload, SigV4-signed
 * for `lambda`: `POST {endpoint}/2015-03-31/functions/{name}/invocations`. The endpoint is Lambda's in
 * `region` unless AWS_ENDPOINT_URL_LAMBDA names another (as the SDKs read it). Answers the function's
 * JSON result; a function error (`X-Amz-Function-Error`) or a refused call is a CliError naming it.
 */
export async function invokeFunction(
  signer: SignatureV4,
  endpoint: URL,
  functionName: string,
  payload: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  const url = new URL(
    `${endpoint.pathname.replace(/\/$/, "")}/2015-03-31/functions/${encodeURIComponent(functionName)}/invocations`,
    endpoint,
  );
  const body = JSON.stringify(payload);
  const signed = await signer.sign({
    method: "POST",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === "" ? {} : { port: Number(url.port) }),
    path: url.pathname,
    headers: { host: url.host, "content-type": "application/json", "x-amz-invocation-type": "RequestResponse" },
    body,
  });
  const answer = await post(url, signed.headers, body, signal);
  const text = answer.body;
  if (answer.status < 200 || answer.status > 299) {
    const reason = answer.status === 403 ? " (does your role allow lambda:InvokeFunction on it?)" : "";
    throw new CliError(`Lambda refused to invoke ${functionName}: HTTP ${answer.status}${reason}`);
  }
  const functionError = answer.functionError ?? null;
  let result: unknown;
  try {
    result = JSON.parse(text);
  } catch {
    throw new CliError(`${functionName} answered something that is not JSON`);
  }
  if (functionError !== null) {
    const type = (result as { errorType?: unknown } | null)?.errorType;
    throw new CliError(`${functionName} failed (${functionError}${typeof type === "string" ? `: ${type}` : ""}): see its log group`);
  }
  return result;
}

/** A GET of `url`, SigV4-signed by `signer` (headers `host`, `x-amz-date`, and `x-amz-security-token` with temporary credentials). */
export async function signedGet(signer: SignatureV4, url: URL, signal?: AbortSignal): Promise<Response> {
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = value;
  const signed = await signer.sign({
    method: "GET",
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port === "" ? {} : { port: Number(url.port) }),
    path: url.pathname,
    query,
    headers: { host: url.host },
  });
  // fetch sets Host from the URL itself (the same value that was signed).
  const headers = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== "host"));
  return fetch(url, { headers, ...(signal === undefined ? {} : { signal }) });
}
