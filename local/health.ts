/**
 * `GET /health` of the local pipeline: every part checked in parallel, each within its own time
 * limit, so the answer comes within about a second even when a part hangs (a frozen DynamoDB Local).
 */
import { describeError } from "../lambdas/core/errors.js";
import { type HttpResult, json } from "../lambdas/core/http.js";
import type { Poller } from "./poller.js";
import type { StreamPoller } from "./stream-poller.js";

export interface HealthSettings {
  /** Each check's own time limit; they run in parallel, so /health answers within about this long. */
  readonly checkTimeoutMs: number;
  /** A poller whose loop made no progress for this long is not working. */
  readonly staleAfterMs: number;
  /** A poller retrying the same record (or message) for this long is not working. */
  readonly stuckAfterMs: number;
}

interface CheckResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly [detail: string]: unknown;
}

/** `fn` within `timeoutMs` (aborted past it), as a check result; never throws. */
async function timed(timeoutMs: number, fn: (signal: AbortSignal) => Promise<Record<string, unknown>>): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ ok: false, error: "timeout" });
    }, timeoutMs);
  });
  const run = fn(controller.signal).then(
    (details): CheckResult => ({ ok: true, ...details }),
    (error: unknown): CheckResult => ({ ok: false, error: describeError(error).error }),
  );
  try {
    return await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface PollerState {
  readonly heartbeatAt: number;
  readonly retrying: { readonly attempts: number; readonly since: number } | null;
}

/** A poller works when its loop made progress lately and it is not stuck retrying one record (or message). */
function pollerCheck(
  state: PollerState,
  settings: HealthSettings,
  id: Record<string, string>,
  extra: Record<string, unknown> = {},
): CheckResult {
  const now = Date.now();
  const idleMs = now - state.heartbeatAt;
  const retryingMs = state.retrying === null ? 0 : now - state.retrying.since;
  const details = {
    lastProgressMsAgo: idleMs,
    ...extra,
    retrying: state.retrying === null ? null : { ...id, retries: state.retrying.attempts, forMs: retryingMs },
  };
  if (idleMs > settings.staleAfterMs) return { ok: false, error: `no progress for ${idleMs} ms`, ...details };
  if (retryingMs > settings.stuckAfterMs) return { ok: false, error: `retrying one record for ${retryingMs} ms`, ...details };
  return { ok: true, ...details };
}

/**
 * `GET /health`: every part checked in parallel, each within its own time limit, so the answer
 * comes within about `checkTimeoutMs` even when a part hangs (e.g. a frozen DynamoDB Local).
 * 200 when all work, else 503 naming the parts that do not. Also reports every queue's depth (the
 * events DLQ's on its own too) and the publisher's backlog.
 */
export function healthCheck(deps: {
  settings: HealthSettings;
  dynamo: (signal: AbortSignal) => Promise<unknown>;
  queueDepth: (queueUrl: string, signal: AbortSignal) => Promise<number>;
  queues: { events: string; eventsDlq: string; statusChanges: string; statusChangesDlq: string; publisherFailures: string };
  consumer: Poller;
  publisher: StreamPoller;
}): () => Promise<HttpResult> {
  const { settings, queues } = deps;
  return async () => {
    const [dynamodb, sqs] = await Promise.all([
      timed(settings.checkTimeoutMs, async (signal) => {
        await deps.dynamo(signal);
        return {};
      }),
      timed(settings.checkTimeoutMs, async (signal) => {
        const [events, eventsDlq, statusChanges, statusChangesDlq, publisherFailures] = await Promise.all(
          [queues.events, queues.eventsDlq, queues.statusChanges, queues.statusChangesDlq, queues.publisherFailures].map((url) =>
            deps.queueDepth(url, signal),
          ),
        );
        return { messages: { events, eventsDlq, statusChanges, statusChangesDlq, publisherFailures } };
      }),
    ]);
    const consumer = deps.consumer.status();
    const publisher = deps.publisher.status();
    const checks = {
      dynamodb,
      sqs,
      consumer: pollerCheck(consumer, settings, { messageId: consumer.retrying?.messageId ?? "" }),
      publisher: pollerCheck(
        publisher,
        settings,
        { sequenceNumber: publisher.retrying?.sequenceNumber ?? "" },
        {
          backlog: publisher.backlog,
          givenUp: publisher.givenUp,
        },
      ),
    };
    const ok = Object.values(checks).every((check) => check.ok);
    const messages = sqs["messages"] as { eventsDlq?: number; publisherFailures?: number } | undefined;
    return json(ok ? 200 : 503, {
      status: ok ? "ok" : "unavailable",
      checks,
      eventsDlqMessages: messages?.eventsDlq ?? null,
      publisherBacklog: publisher.backlog,
    });
  };
}
