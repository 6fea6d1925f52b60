/**
 * The local pipeline for an end-to-end test file: started once before its tests (free ports,
 * short visibility timeout, no long-poll wait) and stopped after them, with a recording logger.
 */
import { afterAll, beforeAll } from "vitest";
import type { ProviderId, Status } from "../../lambdas/core/event.js";
import { type LocalPipeline, type PipelineOptions, SECRET_ENV, startPipeline } from "../../local/pipeline.js";
import { recordingLogger } from "./apigw.js";

export interface TestPipeline {
  /** The running pipeline (available once the file's `beforeAll` hooks ran). */
  readonly pipeline: LocalPipeline;
  readonly logger: ReturnType<typeof recordingLogger>;
}

export function useLocalPipeline(
  secrets: Partial<Readonly<Record<ProviderId, string>>>,
  overrides: Partial<Omit<PipelineOptions, "env" | "logger">> = {},
): TestPipeline {
  const logger = recordingLogger();
  let running: LocalPipeline | undefined;
  const env = Object.fromEntries(Object.entries(secrets).map(([provider, secret]) => [SECRET_ENV[provider as ProviderId], secret]));
  beforeAll(async () => {
    running = await startPipeline({ port: 0, sqsPort: 0, env, logger, visibilityTimeoutSeconds: 2, pollWaitSeconds: 0, ...overrides });
  }, 60_000);
  afterAll(async () => {
    await running?.stop();
  });
  return {
    logger,
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
