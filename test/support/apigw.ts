import type { APIGatewayProxyEventV2, SQSRecord } from "aws-lambda";
import type { AppMetrics, MetricDimensions, MetricName } from "../../lambdas/core/metrics.js";

/** An SQS FIFO record of the events queue as Lambda's event source hands it to the consumer (first receive). */
export function sqsRecord(body: string, messageId: string, groupId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `r-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: "0",
      SenderId: "local",
      ApproximateFirstReceiveTimestamp: "0",
      MessageGroupId: groupId,
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:events.fifo",
    awsRegion: "us-east-1",
  } as SQSRecord;
}

/** An API Gateway HTTP API (payload v2) event for `POST /webhooks/{provider}`, as API Gateway builds it. */
export function webhookEvent(
  provider: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  options: { base64?: boolean } = {},
): APIGatewayProxyEventV2 {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  const base64 = options.base64 ?? false;
  return {
    version: "2.0",
    routeKey: `POST /webhooks/${provider}`,
    rawPath: `/webhooks/${provider}`,
    rawQueryString: "",
    headers: { "content-type": "application/json", ...headers },
    requestContext: {
      accountId: "123456789012",
      apiId: "local",
      domainName: "127.0.0.1",
      domainPrefix: "127",
      http: { method: "POST", path: `/webhooks/${provider}`, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      requestId: "req-1",
      routeKey: `POST /webhooks/${provider}`,
      stage: "$default",
      time: "22/Nov/2026:10:00:00 +0000",
      timeEpoch: 1_795_341_600_000,
    },
    body: base64 ? bytes.toString("base64") : bytes.toString("utf8"),
    isBase64Encoded: base64,
  };
}

/** Records log calls so tests can assert what was (and was not) logged. */
export function recordingLogger(): {
  lines: string[];
  debug: (m: string, ...a: Record<string, unknown>[]) => void;
  info: (m: string, ...a: Record<string, unknown>[]) => void;
  warn: (m: string, ...a: Record<string, unknown>[]) => void;
  error: (m: string, ...a: Record<string, unknown>[]) => void;
} {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (message: string, ...attributes: Record<string, unknown>[]) => {
      lines.push(JSON.stringify({ level, message, ...Object.assign({}, ...attributes) }));
    };
  return { lines, debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
}

/** Records what a function counts, as the sum per metric and dimension set (and how often it flushed). */
export function recordingMetrics(): AppMetrics & {
  readonly counts: Map<string, number>;
  flushes: number;
  total(metric: MetricName): number;
} {
  const counts = new Map<string, number>();
  const recorder = {
    counts,
    flushes: 0,
    count<M extends MetricName>(metric: M, dimensions: MetricDimensions[M], value = 1) {
      const key = `${metric} ${JSON.stringify(dimensions)}`;
      counts.set(key, (counts.get(key) ?? 0) + value);
    },
    flush() {
      recorder.flushes += 1;
    },
    total(metric: MetricName) {
      let sum = 0;
      for (const [key, value] of counts) if (key.startsWith(`${metric} `)) sum += value;
      return sum;
    },
  };
  return recorder;
}
