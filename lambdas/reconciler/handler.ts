import { Logger } from "@aws-lambda-powertools/logger";
import { createDocumentClient } from "../core/document-client.js";
import { appLogger, withLambdaContext } from "../core/lambda.js";
import { powertoolsMetrics } from "../core/metrics.js";
import { createSqsClient } from "../core/sqs-client.js";
import { buildReconcilerDeps } from "./deps.js";
import { passAnswer, type ReconcileReport } from "./reconcile.js";
import { reconcileOptionsOf } from "./request.js";

// Once per container; the service name and log level come from the environment.
const logger = new Logger();
const log = appLogger(logger);
const deps = buildReconcilerDeps(process.env, {
  documents: createDocumentClient(),
  sqs: createSqsClient(),
  logger: log,
  metrics: powertoolsMetrics(),
});

/**
 * One pass: invoked by the schedule, or by `kyc reconcile --stack …` (its report is the answer).
 * A pass that could not reconcile a provider (unreadable index, unusable credentials) fails the
 * invocation once every provider has had its turn, so that the ReconcilerErrors alarm fires; asked
 * by the CLI, the report comes back instead and the CLI exits 1.
 */
export const handler = withLambdaContext(logger, async (event: unknown, context): Promise<ReconcileReport> => {
  const options = { ...reconcileOptionsOf(event, deps.defaults), remainingTimeMs: () => context.getRemainingTimeInMillis() };
  const report = await deps.reconcile(options);
  for (const { lookups: _lookups, ...counts } of report.providers) log.info("reconciliation pass", { ...counts, dryRun: report.dryRun });
  return passAnswer(report, options);
});
