import * as v from "valibot";
import { LIMITS } from "./canonical.js";
import { EVENT_ORIGINS, type NormalizedEvent, PROVIDER_IDS, SPEC_VERSION, STATUSES } from "./event.js";
import { isCanonicalTime } from "./time.js";

/**
 * Building blocks of the message schemas. Each carries what JSON Schema can express (patterns,
 * lengths, entries), so that the generated files under schemas/ say as much as they can, plus the
 * checks only code can make (byte lengths, calendar validity).
 */
export const schemaParts = {
  /** A canonical time: ISO 8601 UTC with milliseconds, a real calendar time within years 0000-9999. */
  time: v.pipe(
    v.string(),
    v.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, "a canonical ISO 8601 UTC time"),
    v.check(isCanonicalTime, "a real calendar time"),
  ),
  /** correlationId / eventId: 1-128 printable ASCII characters. */
  id: v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, "1-128 printable ASCII characters")),
  /** A string of at most `maxBytes` UTF-8 bytes (so at most that many characters). */
  bounded: (maxBytes: number) => v.pipe(v.string(), v.maxLength(maxBytes), v.maxBytes(maxBytes)),
  subject: v.pipe(
    v.record(v.string(), v.pipe(v.string(), v.maxLength(LIMITS.subjectValueBytes), v.maxBytes(LIMITS.subjectValueBytes))),
    v.maxEntries(LIMITS.subjectKeys),
  ),
  decision: v.pipe(
    v.record(
      v.string(),
      v.union([
        v.pipe(v.string(), v.maxLength(LIMITS.decisionStringBytes), v.maxBytes(LIMITS.decisionStringBytes)),
        v.pipe(v.number(), v.safeInteger()),
        v.boolean(),
        v.null(),
        v.pipe(
          v.array(v.pipe(v.string(), v.maxLength(LIMITS.decisionListItemBytes), v.maxBytes(LIMITS.decisionListItemBytes))),
          v.maxLength(LIMITS.decisionListItems),
        ),
      ]),
    ),
    v.maxEntries(LIMITS.decisionKeys),
  ),
} as const;

const { time, id, bounded } = schemaParts;

/** Version 1 of the normalized event (the events queue's message body): exactly what `canonicalEvent` produces. */
export const normalizedEventSchema = v.pipe(
  v.object({
    specVersion: v.literal(SPEC_VERSION),
    eventId: id,
    correlationId: id,
    provider: v.picklist(PROVIDER_IDS),
    providerEventType: bounded(LIMITS.providerEventTypeBytes),
    status: v.nullable(v.picklist(STATUSES)),
    occurredAt: v.nullable(time),
    receivedAt: time,
    subject: schemaParts.subject,
    decision: v.nullable(schemaParts.decision),
    attemptId: v.nullable(bounded(LIMITS.attemptIdBytes)),
    sandbox: v.boolean(),
    // Optional: events enqueued before the field existed have none (read as null).
    unmapped: v.optional(v.nullable(bounded(LIMITS.unmappedBytes)), null),
    // Optional: webhook events carry none (read as "webhook"); the parsed event keeps it absent.
    origin: v.optional(v.picklist(EVENT_ORIGINS)),
  }),
  v.title("KYC webhook pipeline: normalized event, version 1"),
  v.description("The body of every message on the verification-events queue (docs/architecture.md)."),
);

/** Thrown for a message that is not a version-1 event; the record fails and ends in the DLQ. */
export class MalformedEvent extends Error {
  override readonly name = "MalformedEvent";
}

export function parseNormalizedEvent(body: string): NormalizedEvent {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedEvent("message body is not JSON");
  }
  const result = v.safeParse(normalizedEventSchema, json);
  if (!result.success) {
    throw new MalformedEvent(`not a version-1 event: ${result.issues.map((i) => v.getDotPath(i) ?? "(root)").join(", ")}`);
  }
  return result.output;
}
