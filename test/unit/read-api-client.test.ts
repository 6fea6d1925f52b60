import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readApiClient } from "../../docs/examples/read-api-client.js";

/** A stand-in for the read API that records what it was sent. */
let requests: { url: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  requests.push({ url: req.url ?? "", headers: req.headers });
  const found = req.url?.startsWith("/verifications/idngo%3Aknown");
  res.writeHead(req.url?.includes("subject=") || found ? 200 : 404, { "content-type": "application/json" });
  res.end(
    JSON.stringify(
      req.url?.includes("subject=")
        ? { items: [], next: null }
        : found
          ? { correlationId: "idngo:known", history: [] }
          : { error: "verification not found" },
    ),
  );
});
const saved = { ...process.env };

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY: "secret-example",
    AWS_SESSION_TOKEN: "token-example",
  });
});
afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("the read API client example (docs/examples/read-api-client.ts)", () => {
  it("signs every request with SigV4 for execute-api, with the default credential chain", async () => {
    requests = [];
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/verifications`;
    const client = readApiClient({ baseUrl, region: "eu-west-1" });
    expect(await client.verification("idngo:known")).toMatchObject({ correlationId: "idngo:known" });
    expect(await client.verification("idngo:unknown")).toBeUndefined();
    expect(await client.bySubject("user 42", { limit: 5 })).toEqual({ items: [], next: null });
    expect(requests.map((r) => r.url)).toEqual([
      "/verifications/idngo%3Aknown",
      "/verifications/idngo%3Aunknown",
      "/verifications?subject=user+42&limit=5",
    ]);
    for (const { headers } of requests) {
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
      );
      expect(headers["x-amz-security-token"]).toBe("token-example");
      expect(headers["x-amz-date"]).toMatch(/^\d{8}T\d{6}Z$/);
    }
  });
});
