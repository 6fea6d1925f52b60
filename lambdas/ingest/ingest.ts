import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { DEFAULTS } from "../core/contract.js";
import { describeError } from "../core/errors.js";
import type { NormalizedEvent } from "../core/event.js";
import type { HttpResult } from "../core/http.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import { isoOfClock } from "../core/time.js";
import type { Bytes, Provider, ProviderOptions } from "../providers/types.js";
import { receive } from "./receive.js";
import { responses } from "./responses.js";
import type { SecretSource } from "./secrets.js";

/** Largest accepted body, in bytes (SQS's classic message limit). */
export const MAX_BODY_BYTES = DEFAULTS.maxBodyBytes;

export interface IngestDeps {
  readonly provider: Provider;
  readonly options: ProviderOptions;
  readonly secrets: SecretSource;
  /** Resolves only once SQS has durably accepted the event. */
  readonly enqueue: (event: NormalizedEvent) => Promise<void>;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
  readonly now?: () => Date;
}

export type IngestHandler = (event: APIGatewayProxyEventV2) => Promise<HttpResult>;

/** Whether the request was addressed to `id`: the `{provider}` path parameter, else the last path segment. */
function addressedTo(event: APIGatewayProxyEventV2, id: string): boolean {
  const parameter = event.pathParameters?.["provider"];
  if (parameter !== undefined) return parameter === id;
  const path = event.rawPath;
  if (path === undefined) return false;
  // `…/{id}` ends in that segment; anything else (e.g. a trailing slash) is split into segments.
  return path.endsWith(`/${id}`) || path.split("/").filter(Boolean).pop() === id;
}

/** The body's bytes: decoded when API Gateway base64-encoded them, else the text itself (no copy). */
function rawBody(event: APIGatewayProxyEventV2): Bytes {
  // No body: API Gateway leaves the key out; anything else that is not a string reads as none too.
  if (typeof event.body !== "string") return "";
  return event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body;
}

/** Size in bytes; a text's UTF-8 length is only counted when it could exceed `limit` (at most 3 bytes per UTF-16 unit). */
function exceeds(body: Bytes, limit: number): number | undefined {
  if (typeof body !== "string") return body.length > limit ? body.length : undefined;
  if (body.length * 3 <= limit) return undefined;
  const bytes = Buffer.byteLength(body, "utf8");
  return bytes > limit ? bytes : undefined;
}

/** The ids a log line about an accepted event carries (no object spread: V8 copies one through a slow path). */
function logIds(event: NormalizedEvent): Record<string, unknown> {
  return {
    provider: event.provider,
    eventId: event.eventId,
    correlationId: event.correlationId,
    status: event.status,
    unmapped: event.unmapped ?? null,
  };
}

/**
 * The ingest Lambda for one provider: a thin adapter around `receive`. Order of checks:
 * provider (404), size (413), secrets (503), authentication (401, its cause logged), JSON (400),
 * enqueue (503), then 200. Errors map to answers here and nowhere else. Nothing from the body
 * is logged; every rejection is logged with its cause.
 */
export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const { provider, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const id = { provider: provider.id };

  async function handle(event: APIGatewayProxyEventV2): Promise<HttpResult> {
    if (!addressedTo(event, provider.id)) return responses.notFound();

    const body = rawBody(event);
    const oversize = exceeds(body, MAX_BODY_BYTES);
    if (oversize !== undefined) {
      logger.warn("webhook rejected: body too large", { ...id, rejection: "too-large", bytes: oversize });
      metrics.count("WebhooksRejected", { ...id, cause: "too-large" });
      return responses.tooLarge(MAX_BODY_BYTES);
    }

    let secrets: readonly string[];
    try {
      secrets = await deps.secrets();
    } catch (error) {
      logger.error("webhook secrets unavailable: answering 503 so the provider retries", { ...id, ...describeError(error) });
      return responses.unavailable();
    }

    const receipt = receive(provider, { body, headers: event.headers ?? {} }, { secrets, options: deps.options }, isoOfClock(now()));
    switch (receipt.kind) {
      case "unauthenticated":
        logger.warn("webhook rejected: authentication failed", { ...id, rejection: "unauthenticated", cause: receipt.cause });
        metrics.count("WebhooksRejected", { ...id, cause: receipt.cause });
        metrics.count("AuthenticationFailures", id);
        return responses.unauthorized();
      case "not-json":
        logger.warn("webhook rejected: the authenticated body is not JSON", { ...id, rejection: "not-json" });
        metrics.count("WebhooksRejected", { ...id, cause: "not-json" });
        return responses.notJson();
      case "accepted":
        break;
    }

    const normalized = receipt.event;
    if (receipt.normalizationError !== undefined) {
      logger.error("normalization failed unexpectedly: recorded as unmapped", { ...id, ...receipt.normalizationError });
    }
    try {
      await deps.enqueue(normalized);
    } catch (error) {
      logger.error("enqueue failed: answering 503 so the provider retries", { ...logIds(normalized), ...describeError(error) });
      metrics.count("EnqueueFailures", id);
      return responses.unavailable();
    }
    metrics.count("WebhooksAccepted", id);
    if (normalized.unmapped !== null) {
      logger.warn("webhook accepted but not mapped: recorded without status", logIds(normalized));
      metrics.count("WebhooksUnmapped", id);
    } else {
      logger.debug("webhook accepted", logIds(normalized));
    }
    return responses.accepted(normalized.eventId);
  }

  return async (event) => {
    try {
      return await handle(event);
    } finally {
      metrics.flush();
    }
  };
}
