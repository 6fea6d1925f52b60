import type { SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Env, parseWholeNumber, required } from "../core/config.js";
import { DEFAULTS, ENV, RECONCILER } from "../core/contract.js";
import type { ProviderId } from "../core/event.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import { sqsEnqueuer } from "../ingest/enqueue.js";
import { indexCandidates } from "./candidates.js";
import { type CredentialSource, credentialsFromEnv, secretsManagerCredentials } from "./credentials.js";
import { idngoStatusApi } from "./idngo-api.js";
import { createPoliteFetcher, type PoliteFetchOptions } from "./polite-fetch.js";
import { type ConfiguredApi, createReconciler, type ReconcileOptions, type ReconcileReport } from "./reconcile.js";
import { isReconcilable } from "./types.js";
import { veriffStatusApi } from "./veriff-api.js";

export interface ReconcilerDeps {
  readonly reconcile: (options: ReconcileOptions) => Promise<ReconcileReport>;
  /** The pass's defaults from the environment (RECONCILE_OLDER_THAN_HOURS, RECONCILER). */
  readonly defaults: Pick<ReconcileOptions, "olderThanHours" | "maxAgeDays" | "maxLookups">;
}

/** The per-provider pacing of RECONCILER, for the fetcher (tests pass their own clocks and fetch). */
export const FETCH_OPTIONS: PoliteFetchOptions = {
  ratePerSecond: RECONCILER.ratePerSecond,
  concurrency: RECONCILER.concurrency,
  maxAttempts: RECONCILER.maxAttempts,
  timeoutMs: RECONCILER.requestTimeoutMs,
  maxRetryAfterMs: RECONCILER.maxRetryAfterMs,
};

/**
 * The reconciler's dependencies from its environment, the one way both Lambda (handler.ts) and
 * the local pipeline build them. Credentials: from Secrets Manager when the secrets' ARNs are set
 * (AWS), else from the environment (local mode). Each pass builds its fetchers afresh, one per
 * provider: a provider's pacing and failures never touch another's.
 */
export function buildReconcilerDeps(
  env: Env,
  clients: {
    readonly documents: DynamoDBDocumentClient;
    readonly sqs: SQSClient;
    readonly logger: AppLogger;
    readonly metrics: AppMetrics;
    /** Overrides the fetchers' options (tests: fake clocks); the pacing defaults are RECONCILER's. */
    readonly fetchOptions?: PoliteFetchOptions;
    /** The pass's clock (the age is counted from it, requests are signed with it). */
    readonly now?: () => Date;
  },
): ReconcilerDeps {
  const credentials: CredentialSource =
    env[ENV.idngoApiSecretArn] !== undefined || env[ENV.veriffApiSecretArn] !== undefined
      ? secretsManagerCredentials(env, DEFAULTS.secretsMaxAgeSeconds)
      : credentialsFromEnv(env);
  const fetchOptions = { ...FETCH_OPTIONS, ...clients.fetchOptions };
  async function api(provider: ProviderId): Promise<ConfiguredApi | undefined> {
    if (!isReconcilable(provider)) return undefined; // no public status API this pipeline calls (docs/reconciliation.md)
    const fetch = createPoliteFetcher(fetchOptions);
    if (provider === "idngo") {
      const idngo = await credentials("idngo");
      return idngo === undefined ? undefined : { api: idngoStatusApi(idngo), fetch };
    }
    const veriff = await credentials("veriff");
    return veriff === undefined ? undefined : { api: veriffStatusApi(veriff), fetch };
  }
  return {
    reconcile: createReconciler({
      candidates: indexCandidates(clients.documents, required(env, ENV.tableName)),
      api,
      enqueue: sqsEnqueuer(clients.sqs, required(env, ENV.eventsQueueUrl)),
      logger: clients.logger,
      metrics: clients.metrics,
      ...(clients.now === undefined ? {} : { now: clients.now }),
    }),
    defaults: {
      olderThanHours: parseWholeNumber(ENV.reconcileOlderThanHours, env[ENV.reconcileOlderThanHours], RECONCILER.olderThanHours, {
        min: 1,
        max: 24 * RECONCILER.maxAgeDays - 1,
      }),
      maxAgeDays: RECONCILER.maxAgeDays,
      maxLookups: RECONCILER.maxLookupsPerProvider,
    },
  };
}
