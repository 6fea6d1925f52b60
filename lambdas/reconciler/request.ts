/**
 * What starts a pass: the schedule's input (`{"source": "schedule"}`), `kyc reconcile` in AWS
 * (through Lambda's Invoke) and locally (the local-only `POST /reconcile`): the same request.
 */
import * as v from "valibot";
import { RECONCILER } from "../core/contract.js";
import { PROVIDER_IDS } from "../core/event.js";
import type { ReconcileOptions } from "./reconcile.js";

export const reconcileRequestSchema = v.strictObject({
  /** Who asked: `schedule`, `cli`. Informational. */
  source: v.optional(v.pipe(v.string(), v.maxLength(32))),
  olderThanHours: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(24 * RECONCILER.maxAgeDays - 1))),
  provider: v.optional(v.picklist(PROVIDER_IDS)),
  dryRun: v.optional(v.boolean()),
});

/** Thrown for a request that is not one; names the fields, never their values. */
export class InvalidReconcileRequest extends Error {
  override readonly name = "InvalidReconcileRequest";
}

/** The pass a request asks for, over `defaults` (the environment's). */
export function reconcileOptionsOf(
  request: unknown,
  defaults: Pick<ReconcileOptions, "olderThanHours" | "maxAgeDays" | "maxLookups">,
): ReconcileOptions {
  // valibot's object schemas take an array as an object: `[]` is not a request either.
  if (Array.isArray(request)) throw new InvalidReconcileRequest("not a reconcile request: (root) is an array");
  const parsed = v.safeParse(reconcileRequestSchema, request ?? {});
  if (!parsed.success) {
    throw new InvalidReconcileRequest(`not a reconcile request: ${parsed.issues.map((i) => v.getDotPath(i) ?? "(root)").join(", ")}`);
  }
  const { source, olderThanHours, provider, dryRun } = parsed.output;
  const age = olderThanHours ?? defaults.olderThanHours;
  return {
    ...defaults,
    ...(source === undefined ? {} : { source }),
    olderThanHours: age,
    providers: provider === undefined ? PROVIDER_IDS : [provider],
    dryRun: dryRun === true,
    // The metrics (and the StuckVerifications alarm) measure one thing: the configured age, enqueued.
    recordMetrics: dryRun !== true && age === defaults.olderThanHours,
  };
}
