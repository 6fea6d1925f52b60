import * as v from "valibot";
import { PROVIDER_IDS, STATUSES } from "../core/event.js";
import { schemaParts } from "../core/event-schema.js";
import type { StatusChange } from "./change.js";

/** Version 1 of the status-change message (the status-changes queue's message body), as integrators read it. */
export const statusChangeSchema = v.pipe(
  v.object({
    specVersion: v.literal("1"),
    correlationId: schemaParts.id,
    provider: v.picklist(PROVIDER_IDS),
    subject: schemaParts.subject,
    previousStatus: v.nullable(v.picklist(STATUSES)),
    status: v.picklist(STATUSES),
    eventId: schemaParts.id,
    occurredAt: v.nullable(schemaParts.time),
    changedAt: schemaParts.time,
    decision: v.nullable(schemaParts.decision),
    sandbox: v.boolean(),
    version: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  }),
  v.title("KYC webhook pipeline: status change, version 1"),
  v.description(
    "The body of every message on the status-changes queue: one per applied status change, grouped per verification, " +
      "deduplicated per transition; `version` increases strictly per verification (docs/architecture.md).",
  ),
);

// The schema and the type describe the same message: what the schema accepts is a StatusChange,
// and both have exactly the same fields (checked by the compiler).
type SchemaOutput = v.InferOutput<typeof statusChangeSchema>;
type SameKeys = [keyof SchemaOutput] extends [keyof StatusChange]
  ? [keyof StatusChange] extends [keyof SchemaOutput]
    ? true
    : never
  : never;
const _sameShape: [SchemaOutput extends StatusChange ? true : never, SameKeys] = [true, true];
void _sameShape;
