/**
 * Benchmark webhooks: the provider simulator's samples (local/samples.ts), padded to about 2 KiB the
 * way real deliveries are large (extracted document and person fields, device data) in places the
 * providers' normalizers never copy, then signed (or encrypted) as the provider does; and the API
 * Gateway payload-v2 event and Lambda context a deployed function would get.
 */
import { createDecipheriv, createHash, randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import type { ProviderId, Status } from "../../lambdas/core/event.js";
import { type SampleOptions, type SampleRequest, sampleWebhook, signWebhook } from "../../local/samples.js";
import { ACCOUNT, BENCH_REGION } from "./stubs.js";

/** The body size the ratios are measured at. */
export const BODY_BYTES = 2048;

const OCR_NAMES = [
  "documentNumber",
  "dateOfIssue",
  "dateOfExpiry",
  "issuingAuthority",
  "placeOfBirth",
  "nationality",
  "addressLine1",
  "addressLine2",
  "city",
  "postalCode",
  "country",
  "mrzLine1",
  "mrzLine2",
  "personalNumber",
  "gender",
  "height",
  "eyeColour",
  "documentSubtype",
] as const;

const OCR_VALUES: Readonly<Record<(typeof OCR_NAMES)[number], string>> = {
  documentNumber: "SAMPLE-0000",
  dateOfIssue: "2019-04-12",
  dateOfExpiry: "2029-04-11",
  issuingAuthority: "SAMPLE AUTHORITY",
  placeOfBirth: "SAMPLETOWN",
  nationality: "EST",
  addressLine1: "1 Sample Street",
  addressLine2: "Apartment 0",
  city: "Sampleville",
  postalCode: "00000",
  country: "EE",
  mrzLine1: "P<ESTPERSON<<SAMPLE<<<<<<<<<<<<<<<<<<<<<<<<<",
  mrzLine2: "SAMPLE00004EST0001012M2904117<<<<<<<<<<<<<<00",
  personalNumber: "00000000000",
  gender: "M",
  height: "180",
  eyeColour: "BLU",
  documentSubtype: "PASSPORT",
};

/** The i-th extracted field, as OCR results list them. */
function ocrField(i: number): { name: string; value: string; confidence: number; page: number } {
  const name = OCR_NAMES[i % OCR_NAMES.length] ?? "documentNumber";
  return { name, value: OCR_VALUES[name], confidence: 0.9 + (i % 10) / 100, page: Math.floor(i / OCR_NAMES.length) + 1 };
}

type Json = Record<string, unknown>;
const asJson = (value: unknown): Json => (value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Json) : {});

/** Adds `n` extracted fields where each provider carries such data, fields the normalizers never read. */
function pad(provider: ProviderId, payload: Json, n: number): Json {
  const fields = Array.from({ length: n }, (_, i) => ocrField(i));
  const device = { ip: "192.0.2.1", userAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)", platform: "ios" };
  switch (provider) {
    case "veriff": {
      const verification = asJson(payload["verification"]);
      if (payload["verification"] === undefined) return { ...payload, technicalData: { ...device, documentFields: fields } };
      return {
        ...payload,
        verification: { ...verification, document: { ...asJson(verification["document"]), extractedFields: fields } },
        technicalData: device,
      };
    }
    case "idngo":
      return {
        ...payload,
        info: { firstName: "SAMPLE", lastName: "PERSON", dob: "1900-01-01", idDocs: [{ idDocType: "PASSPORT", fields }] },
      };
    case "idbeyond":
      return { ...payload, extracted: { ...asJson(payload["extracted"]), fields }, metadata: { ...asJson(payload["metadata"]), device } };
    case "neurovision": {
      const results = Array.isArray(payload["results"]) ? [...(payload["results"] as unknown[])] : [];
      const first = asJson(results[0]);
      results[0] = { ...first, ocr: { ...asJson(first["ocr"]), fields } };
      return { ...payload, results };
    }
  }
}

/** NeuroVision's sample envelope back to its plaintext (the documented SHA-256 key recipe). */
function decryptNeurovision(body: string, secret: string): string {
  const data = Buffer.from(String(asJson(JSON.parse(body))["encrypted"] ?? ""), "base64");
  const key = createHash("sha256").update(secret).digest();
  const decipher = createDecipheriv("aes-256-cbc", key, data.subarray(0, 16));
  return Buffer.concat([decipher.update(data.subarray(16)), decipher.final()]).toString("utf8");
}

/**
 * The provider's webhook for `status`, padded until the request body is at least `bytes` long,
 * signed (or encrypted) with `secret`. `sign` re-signs a plaintext (NeuroVision: a fresh IV each time).
 */
export function paddedWebhook(
  provider: ProviderId,
  status: Status,
  secret: string,
  options: SampleOptions,
  bytes = BODY_BYTES,
): { readonly request: SampleRequest; readonly plaintext: string; readonly sign: () => SampleRequest } {
  const draft = sampleWebhook(provider, status, "pad-secret", options);
  const payload = asJson(JSON.parse(provider === "neurovision" ? decryptNeurovision(draft.body, "pad-secret") : draft.body));
  let n = 0;
  let plaintext = JSON.stringify(payload);
  let request = signWebhook(provider, plaintext, secret);
  while (Buffer.byteLength(request.body) < bytes && n < 500) {
    n += 1;
    plaintext = JSON.stringify(pad(provider, payload, n));
    request = signWebhook(provider, plaintext, secret);
  }
  return { request, plaintext, sign: () => signWebhook(provider, plaintext, secret) };
}

const USER_AGENTS: Readonly<Record<ProviderId, string>> = {
  veriff: "Veriff-Webhooks/1.0",
  idngo: "Sumsub-Webhooks/1.0",
  idbeyond: "uniicy-webhook/2.3",
  neurovision: "axios/1.6.8",
};

/** The API Gateway HTTP API (payload v2) event for `POST /webhooks/{provider}`, as a deployed stage builds it. */
export function apiGatewayEvent(provider: ProviderId, request: SampleRequest): APIGatewayProxyEventV2 {
  const now = new Date();
  const path = `/webhooks/${provider}`;
  return {
    version: "2.0",
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: "",
    headers: {
      accept: "*/*",
      "content-length": String(Buffer.byteLength(request.body)),
      "content-type": "application/json",
      host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
      "user-agent": USER_AGENTS[provider],
      "x-amzn-trace-id": "Root=1-6740f1a2-3b4c5d6e7f8091a2b3c4d5e6",
      "x-forwarded-for": "198.51.100.23",
      "x-forwarded-port": "443",
      "x-forwarded-proto": "https",
      ...request.headers,
    },
    requestContext: {
      accountId: ACCOUNT,
      apiId: "a1b2c3d4e5",
      domainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
      domainPrefix: "a1b2c3d4e5",
      http: { method: "POST", path, protocol: "HTTP/1.1", sourceIp: "198.51.100.23", userAgent: USER_AGENTS[provider] },
      requestId: "CvKx1hQ0IAMEbXw=",
      routeKey: `POST ${path}`,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body: request.body,
    isBase64Encoded: false,
  };
}

/** A Lambda context as the runtime passes it (what Powertools' `addContext` copies into every log line). */
export function lambdaContext(functionName: string, memoryMb = 256): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: "$LATEST",
    invokedFunctionArn: `arn:aws:lambda:${BENCH_REGION}:${ACCOUNT}:function:${functionName}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: "2026/11/22/[$LATEST]0123456789abcdef0123456789abcdef",
    getRemainingTimeInMillis: () => 9_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** `KycWebhookPipeline-VeriffIngest489D364A-AbCdEf123456`: how CloudFormation names a resource it names. */
export function physicalName(stackName: string, logicalId: string, suffix = ""): string {
  const random = createHash("sha256").update(logicalId).digest("base64url").replace(/[-_]/g, "x").slice(0, 12);
  return `${stackName}-${logicalId}-${random}${suffix}`;
}
