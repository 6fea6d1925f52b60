/**
 * `kyc reconcile`: one reconciliation pass (docs/reconciliation.md), against the running local
 * pipeline (`POST /reconcile`) or a deployed stack (a synchronous invoke of its reconciler). Prints
 * what was looked up and what changed; exits 1 if any lookup failed or a provider could not be reconciled.
 */
import { RECONCILER } from "../../../lambdas/core/contract.js";
import { PROVIDER_IDS, type ProviderId } from "../../../lambdas/core/event.js";
import type { ProviderReport, ReconcileReport } from "../../../lambdas/reconciler/reconcile.js";
import type { Command } from "../command.js";
import { CliError, usageError } from "../io.js";
import { HELP_OPTION, HTTP_TARGET_OPTIONS, JSON_OPTION } from "../options.js";

/** `24h`, `90m`, `2d` or a number of hours → whole hours (at least 1). */
export function parseAge(value: string): number {
  const match = /^(\d{1,5})\s*(m|h|d)?$/i.exec(value.trim());
  if (match === null) throw usageError(`kyc reconcile: --older-than takes an age like 24h, 90m or 2d, got "${value}"`);
  const n = Number(match[1]);
  const unit = (match[2] ?? "h").toLowerCase();
  const exact = unit === "d" ? n * 24 : unit === "m" ? n / 60 : n;
  if (exact < 1) throw usageError("kyc reconcile: --older-than must be at least an hour (the index keeps the hour of the last change)");
  const hours = Math.ceil(exact);
  const max = 24 * RECONCILER.maxAgeDays - 1;
  if (hours > max) {
    throw usageError(
      `kyc reconcile: --older-than must be under ${RECONCILER.maxAgeDays} days (${max}h at most): older verifications are left alone`,
    );
  }
  return hours;
}

function isReport(value: unknown): value is ReconcileReport {
  return typeof value === "object" && value !== null && Array.isArray((value as { providers?: unknown }).providers);
}

function summary(p: ProviderReport): string {
  if (p.error?.startsWith("candidates:")) return `${p.provider}: not reconciled, its stuck verifications could not be read (${p.error})`;
  if (p.error !== undefined) return `${p.provider}: ${p.stuck} stuck, not polled: ${p.error}`;
  if (!p.polled) return `${p.provider}: ${p.stuck} stuck, not polled (no API credentials or no status API)`;
  const skipped = p.notLookedUp > 0 ? `, ${p.notLookedUp} not identifiable in its API` : "";
  const deferred = p.deferred > 0 ? `, ${p.deferred} left for the next pass` : "";
  return `${p.provider}: ${p.stuck} stuck, ${p.lookedUp} looked up: ${p.changed} changed, ${p.unchanged} unchanged, ${p.failed} failed${skipped}${deferred}; ${p.stuckAfter} still stuck`;
}

export const reconcile: Command = {
  name: "reconcile",
  summary: "look stuck verifications up in the providers' status APIs (one reconciliation pass)",
  usage: ["reconcile [--older-than <age>] [--provider <p>] [--dry-run] [--json] [options]"],
  description: [
    "Looks every verification that is not in a final status and has not changed for --older-than",
    "(default 24h) up in its provider's status API, and puts what the provider reports on the events",
    "queue: the consumer applies it like a webhook. Locally it asks the running pipeline (npm start);",
    "with --stack / --stage it invokes the stack's reconciler. --dry-run looks up without enqueueing.",
    "Exits 1 if any lookup failed or a provider could not be reconciled (unusable credentials, unreadable index).",
  ].join("\n"),
  options: {
    "older-than": { type: "string", value: "age", describe: "how long unchanged: 24h, 90m, 2d (default: the reconciler's, 24h)" },
    provider: { type: "string", value: "p", describe: `only this provider: ${PROVIDER_IDS.join(", ")}` },
    "dry-run": { type: "boolean", describe: "look up and report, enqueue nothing" },
    ...JSON_OPTION,
    ...HTTP_TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    if (flags.positionals.length > 0) throw usageError(`kyc reconcile: unexpected argument "${flags.positionals[0]}"`);
    const age = flags.string("older-than");
    const provider = flags.string("provider") === undefined ? undefined : flags.oneOf<ProviderId>("provider", PROVIDER_IDS, "veriff");
    const request = {
      source: "cli",
      ...(age === undefined ? {} : { olderThanHours: parseAge(age) }),
      ...(provider === undefined ? {} : { provider }),
      ...(flags.boolean("dry-run") ? { dryRun: true } : {}),
    };
    const report = await context.target().reconcile(request);
    if (!isReport(report)) throw new CliError("the reconciler answered something that is not a report");
    const failed = report.providers.reduce((n, p) => n + p.failed + (p.error === undefined ? 0 : 1), 0);
    if (flags.boolean("json")) {
      context.out.json(report);
    } else {
      context.out.line(
        `Reconciliation pass (${context.target().label}): verifications unchanged for ${report.olderThanHours} h or more${report.dryRun ? ", dry run: nothing enqueued" : ""}`,
      );
      for (const p of report.providers) {
        context.out.line(`  ${summary(p)}`);
        for (const l of p.lookups) {
          context.out.line(
            `    ${l.result.padEnd(9)} ${l.correlationId}  ${l.status ?? "-"}${l.reason === undefined ? "" : `  (${l.reason})`}`,
          );
        }
      }
    }
    return failed > 0 ? 1 : 0;
  },
};
