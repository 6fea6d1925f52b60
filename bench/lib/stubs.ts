/**
 * In-process stand-ins for the AWS endpoints, as SDK request handlers: the real SDK clients build,
 * serialize, sign and deserialize every request (and check SQS's MD5 of the body), only the
 * network round trip is replaced by an answer computed here. Used by the micro benchmarks.
 */
import { createHash } from "node:crypto";
import { TABLE } from "../../lambdas/core/contract.js";

export interface StubHttpRequest {
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

export interface StubHttpResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

/** What the SDK's `requestHandler` option takes: an object with `handle` (an HttpHandler). */
export type StubRequestHandler = {
  handle(request: StubHttpRequest): Promise<{ response: StubHttpResponse }>;
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
  destroy(): void;
};

/** Credentials shaped like a Lambda execution role's (a session token is signed into every request). */
export const BENCH_CREDENTIALS = {
  accessKeyId: "ASIAXEXAMPLEBENCH000",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  sessionToken: `IQoJb3JpZ2luX2VjEJr${"A".repeat(700)}==`,
} as const;

export const BENCH_REGION = "us-east-1";
export const ACCOUNT = "123456789012";

const REQUEST_ID = "b1f8e3a2-6c1d-4f5e-9a7b-3c2d1e0f9a8b";

function target(request: StubHttpRequest): string {
  const value = request.headers["x-amz-target"] ?? request.headers["X-Amz-Target"] ?? "";
  return value.slice(value.indexOf(".") + 1);
}

function bodyOf(request: StubHttpRequest): Record<string, unknown> {
  const raw = request.body;
  // A Uint8Array view, not Buffer.from(raw): the SDK's JSON bodies warn when converted through valueOf().
  const text =
    typeof raw === "string"
      ? raw
      : raw instanceof Uint8Array
        ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("utf8")
        : "{}";
  return JSON.parse(text === "" ? "{}" : text) as Record<string, unknown>;
}

function answer(value: unknown, contentType: string): { response: StubHttpResponse } {
  return {
    response: {
      statusCode: 200,
      headers: { "content-type": contentType, "x-amzn-requestid": REQUEST_ID },
      body: Buffer.from(JSON.stringify(value)),
    },
  };
}

function handler(handle: (request: StubHttpRequest) => { response: StubHttpResponse }): StubRequestHandler {
  return {
    handle: async (request) => handle(request),
    updateHttpClientConfig: () => undefined,
    httpHandlerConfigs: () => ({}),
    destroy: () => undefined,
  };
}

const md5Hex = (text: string): string => createHash("md5").update(text, "utf8").digest("hex");

/** SQS (JSON protocol): SendMessage and SendMessageBatch answered as SQS does, with the body's MD5; anything else `{}`. */
export function sqsStub(): StubRequestHandler & { readonly counts: Map<string, number> } {
  const counts = new Map<string, number>();
  let sequence = 18_000_000_000_000_000_000n;
  const base = handler((request) => {
    const operation = target(request);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    const input = bodyOf(request);
    switch (operation) {
      case "SendMessage":
        sequence += 1n;
        return answer(
          {
            MD5OfMessageBody: md5Hex(String(input["MessageBody"] ?? "")),
            MessageId: "5fea7756-0ea4-451a-a703-a558b933e274",
            SequenceNumber: sequence.toString(),
          },
          "application/x-amz-json-1.0",
        );
      case "SendMessageBatch": {
        const entries = (input["Entries"] ?? []) as { Id: string; MessageBody: string }[];
        return answer(
          {
            Successful: entries.map((e) => {
              sequence += 1n;
              return {
                Id: e.Id,
                MD5OfMessageBody: md5Hex(e.MessageBody),
                MessageId: "5fea7756-0ea4-451a-a703-a558b933e274",
                SequenceNumber: sequence.toString(),
              };
            }),
            Failed: [],
          },
          "application/x-amz-json-1.0",
        );
      }
      default:
        return answer({}, "application/x-amz-json-1.0");
    }
  });
  return { ...base, counts };
}

/** Secrets Manager: GetSecretValue answers the SecretString registered for its SecretId. */
export function secretsManagerStub(secrets: ReadonlyMap<string, string>): StubRequestHandler {
  return handler((request) => {
    const input = bodyOf(request);
    const id = String(input["SecretId"] ?? "");
    return answer(
      {
        ARN: id,
        Name: id.split(":").pop(),
        SecretString: secrets.get(id) ?? "[]",
        VersionId: "EXAMPLE1-90ab-cdef-fedc-ba987EXAMPLE",
        VersionStages: ["AWSCURRENT"],
        CreatedDate: 1_700_000_000,
      },
      "application/x-amz-json-1.1",
    );
  });
}

export type AttributeMap = Record<string, unknown>;

/** The key of an item (or of a `Key`) of the verifications table, as a string. */
export function itemKey(item: AttributeMap): string {
  const attr = (name: string) => JSON.stringify(item[name] ?? null);
  return `${attr(TABLE.partitionKey)}|${attr(TABLE.sortKey)}`;
}

export interface RecordedCall {
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/**
 * DynamoDB (JSON protocol) as a map of items. `live` mode applies every Put (conditions are not
 * evaluated: every write succeeds); `freeze()` takes a snapshot that GetItem answers from from then
 * on, writes being ignored, so that the same batch can be replayed with the same outcome.
 */
export function dynamoStub(): StubRequestHandler & { freeze(): void; readonly items: Map<string, AttributeMap> } {
  const items = new Map<string, AttributeMap>();
  let frozen: Map<string, AttributeMap> | undefined;
  const put = (item: unknown) => {
    if (frozen !== undefined || item === null || typeof item !== "object") return;
    items.set(itemKey(item as AttributeMap), item as AttributeMap);
  };
  const base = handler((request) => {
    const input = bodyOf(request);
    const store = frozen ?? items;
    switch (target(request)) {
      case "GetItem": {
        const found = store.get(itemKey((input["Key"] ?? {}) as AttributeMap));
        return answer(found === undefined ? {} : { Item: found }, "application/x-amz-json-1.0");
      }
      case "PutItem":
        put(input["Item"]);
        return answer({}, "application/x-amz-json-1.0");
      case "TransactWriteItems":
        for (const action of (input["TransactItems"] ?? []) as { Put?: { Item?: unknown } }[]) put(action.Put?.Item);
        return answer({}, "application/x-amz-json-1.0");
      case "BatchWriteItem":
        return answer({ UnprocessedItems: {} }, "application/x-amz-json-1.0");
      case "BatchGetItem": {
        const responses: Record<string, AttributeMap[]> = {};
        for (const [table, request] of Object.entries((input["RequestItems"] ?? {}) as Record<string, { Keys?: AttributeMap[] }>)) {
          responses[table] = (request.Keys ?? []).flatMap((key): AttributeMap[] => {
            const item = store.get(itemKey(key));
            return item === undefined ? [] : [item];
          });
        }
        return answer({ Responses: responses, UnprocessedKeys: {} }, "application/x-amz-json-1.0");
      }
      case "Query":
      case "Scan":
        return answer({ Items: [], Count: 0, ScannedCount: 0 }, "application/x-amz-json-1.0");
      default:
        return answer({}, "application/x-amz-json-1.0");
    }
  });
  return {
    ...base,
    items,
    freeze() {
      frozen = new Map(items);
    },
  };
}
