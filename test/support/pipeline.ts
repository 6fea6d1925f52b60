/**
 * The local pipeline for an end-to-end test file: started once before its tests (free ports,
 * short visibility timeout, no long-poll wait) and stopped after them, with a recording logger.
 */
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll } from "vitest";
import { secretEnvOf } from "../../lambdas/core/contract.js";
import type { ProviderId, Status } from "../../lambdas/core/event.js";
import type { StatusChange } from "../../lambdas/publisher/change.js";
import { type LocalPipeline, type PipelineOptions, startPipeline } from "../../local/pipeline.js";
import { LOCAL_AWS } from "../../local/sqs.js";
import { recordingLogger, recordingMetrics } from "./apigw.js";

export interface TestPipeline {
  /** The running pipeline (available once the file's `beforeAll` hooks ran). */
  readonly pipeline: LocalPipeline;
  readonly logger: ReturnType<typeof recordingLogger>;
  /** What each function counted, by service name. */
  readonly metrics: Map<string, ReturnType<typeof recordingMetrics>>;
}

export function useLocalPipeline(
  secrets: Partial<Readonly<Record<ProviderId, string>>>,
  overrides: Partial<Omit<PipelineOptions, "env" | "logger">> = {},
  /** More environment, read when the pipeline starts (e.g. the URLs of fakes started by an earlier `beforeAll`). */
  moreEnv: () => Readonly<Record<string, string>> = () => ({}),
): TestPipeline {
  const logger = recordingLogger();
  const metrics = new Map<string, ReturnType<typeof recordingMetrics>>();
  const metricsFor = (service: string) => {
    const recorder = metrics.get(service) ?? recordingMetrics();
    metrics.set(service, recorder);
    return recorder;
  };
  let running: LocalPipeline | undefined;
  const env = Object.fromEntries(Object.entries(secrets).map(([provider, secret]) => [secretEnvOf(provider as ProviderId), secret]));
  beforeAll(async () => {
    running = await startPipeline({
      port: 0,
      sqsPort: 0,
      env: { ...env, ...moreEnv() },
      logger,
      metricsFor,
      visibilityTimeoutSeconds: 2,
      pollWaitSeconds: 0,
      ...overrides,
    });
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
  });
  return {
    logger,
    metrics,
    get pipeline(): LocalPipeline {
      if (running === undefined) throw new Error("the local pipeline is not running (used outside a test?)");
      return running;
    },
  };
}

/** What the local read route answers for one verification (the parts tests look at). */
export interface VerificationView {
  readonly status: Status | null;
  readonly subject: Readonly<Record<string, string>>;
  readonly sandbox: boolean;
  readonly history: readonly { eventId: string; outcome: string; status: Status | null; reason: string }[];
}

/** `GET /verifications/{correlationId}` on the local pipeline: the view, or undefined for a 404. */
export async function readVerification(pipeline: LocalPipeline, correlationId: string): Promise<VerificationView | undefined> {
  const res = await fetch(`${pipeline.url}/verifications/${encodeURIComponent(correlationId)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET /verifications answered ${res.status}`);
  return (await res.json()) as VerificationView;
}

/**
 * Reads (and deletes, as a downstream consumer would) the local status-changes queue until `done`
 * holds or `timeoutMs` pass, then keeps listening for `quietMs` so that a message too many is seen.
 */
export async function consumeStatusChanges(
  pipeline: LocalPipeline,
  done: (changes: readonly StatusChange[]) => boolean,
  options: { readonly timeoutMs?: number; readonly quietMs?: number } = {},
): Promise<StatusChange[]> {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: pipeline.sqsEndpoint });
  const queueUrl = pipeline.statusChangesQueueUrl;
  const changes: StatusChange[] = [];
  const receive = async (waitSeconds: number): Promise<number> => {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
    );
    changes.push(...Messages.map((m) => JSON.parse(m.Body ?? "{}") as StatusChange));
    if (Messages.length > 0) {
      const entries = Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" }));
      await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    }
    return Messages.length;
  };
  try {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    while (!done(changes) && Date.now() < deadline) await receive(1);
    const quietUntil = Date.now() + (options.quietMs ?? 2_000);
    while (Date.now() < quietUntil) await receive(1);
    return changes;
  } finally {
    client.destroy();
  }
}

/** Messages on a local queue, visible and in flight. */
export async function queueDepth(pipeline: LocalPipeline, queueUrl: string): Promise<number> {
  const client = new SQSClient({ ...LOCAL_AWS, endpoint: pipeline.sqsEndpoint });
  try {
    const { Attributes } = await client.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return Number(Attributes?.["ApproximateNumberOfMessages"] ?? 0) + Number(Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? 0);
  } finally {
    client.destroy();
  }
}
