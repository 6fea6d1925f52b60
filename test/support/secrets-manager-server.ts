import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A minimal Secrets Manager endpoint on 127.0.0.1 speaking the SDK's JSON protocol for
 * GetSecretValue only: enough to exercise the real client, Powertools' cache and our parsing.
 */
export async function startSecretsManager(secrets: Record<string, string>): Promise<{
  endpoint: string;
  requests: () => number;
  set: (arn: string, value: string) => void;
  close: () => Promise<void>;
}> {
  let count = 0;
  const server: Server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk: Buffer) => (raw += chunk.toString("utf8")));
    req.on("end", () => {
      count += 1;
      const { SecretId } = JSON.parse(raw) as { SecretId: string };
      const value = secrets[SecretId];
      res.setHeader("content-type", "application/x-amz-json-1.1");
      if (req.headers["x-amz-target"] !== "secretsmanager.GetSecretValue" || value === undefined) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: "ResourceNotFoundException", message: "not found" }));
        return;
      }
      res.end(JSON.stringify({ ARN: SecretId, Name: "webhook", SecretString: value, VersionId: "v1" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => count,
    set: (arn, value) => {
      secrets[arn] = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
