import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { NormalizedEvent } from "../core/event.js";
import type { AppLogger } from "../core/logger.js";
import { InvalidPayload, type Provider, type ProviderOptions } from "../providers/types.js";
import { type HttpResult, responses } from "./responses.js";
import type { SecretSource } from "./secrets.js";

/** Largest accepted body, in bytes (SQS's classic message limit). */
export const MAX_BODY_BYTES = 256 * 1024;

export interface IngestDeps {
  readonly provider: Provider;
  readonly options: ProviderOptions;
  readonly secrets: SecretSource;
  /** Resolves only once SQS has durably accepted the event. */
  readonly enqueue: (event: NormalizedEvent) => Promise<void>;
  readonly logger: AppLogger;
  readonly now?: () => Date;
}

export type IngestHandler = (event: APIGatewayProxyEventV2) => Promise<HttpResult>;

/** The provider id the request was addressed to: the `{provider}` path parameter, else the last path segment. */
function requestedProvider(event: APIGatewayProxyEventV2): string | undefined {
  return event.pathParameters?.["provider"] ?? event.rawPath?.split("/").filter(Boolean).pop();
}

function rawBody(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined) return Buffer.alloc(0);
  return Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/**
 * The ingest Lambda for one provider: a thin adapter. Order of checks: provider (404), size
 * (413), authentication (401), shape (400), enqueue (503), then 202. Errors map to answers
 * here and nowhere else. Nothing from the body is logged.
 */
export function createIngestHandler(deps: IngestDeps): IngestHandler {
  const { provider, logger } = deps;
  const now = deps.now ?? (() => new Date());

  return async (event) => {
    if (requestedProvider(event) !== provider.id) return responses.notFound();

    const body = rawBody(event);
    if (body.length > MAX_BODY_BYTES) {
      logger.warn("webhook rejected: body too large", { provider: provider.id, bytes: body.length });
      return responses.tooLarge(MAX_BODY_BYTES);
    }

    let secrets: readonly string[];
    try {
      secrets = await deps.secrets();
    } catch (error) {
      logger.error("webhook secrets unavailable", { provider: provider.id, error: errorName(error) });
      return responses.unavailable();
    }
    if (secrets.length === 0) logger.warn("no webhook secret configured: every request is rejected", { provider: provider.id });

    const content = provider.authenticate({ body, headers: event.headers ?? {} }, { secrets, options: deps.options });
    if (content === null) {
      logger.warn("webhook rejected: authentication failed", { provider: provider.id });
      return responses.unauthorized();
    }

    let normalized: NormalizedEvent;
    try {
      normalized = provider.normalize(content, { receivedAt: now().toISOString() });
    } catch (error) {
      if (!(error instanceof InvalidPayload)) {
        logger.error("normalization failed unexpectedly", { provider: provider.id, error: errorName(error) });
        return responses.internalError();
      }
      if (provider.invalidPayloadIsAuthFailure) {
        logger.warn("webhook rejected: authentication failed", { provider: provider.id });
        return responses.unauthorized();
      }
      logger.warn("webhook rejected: invalid payload", { provider: provider.id, detail: error.message });
      return responses.badRequest(error.message);
    }

    const ids = {
      provider: provider.id,
      eventId: normalized.eventId,
      correlationId: normalized.correlationId,
      providerEventType: normalized.providerEventType,
      status: normalized.status,
    };
    try {
      await deps.enqueue(normalized);
    } catch (error) {
      logger.error("enqueue failed: answering 503 so the provider retries", { ...ids, error: errorName(error) });
      return responses.unavailable();
    }
    logger.info("webhook accepted", ids);
    return responses.accepted(normalized.eventId);
  };
}
