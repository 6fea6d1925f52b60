import * as v from "valibot";
import { LIMITS } from "./canonical.js";
import { type NormalizedEvent, PROVIDER_IDS, SPEC_VERSION, STATUSES } from "./event.js";
import { isCanonicalTime } from "./time.js";

const time = v.pipe(v.string(), v.check(isCanonicalTime, "a canonical ISO 8601 UTC time"));
const id = v.pipe(v.string(), v.regex(/^[\x21-\x7e]+$/, "printable ASCII"), v.minLength(1), v.maxLength(LIMITS.idChars));
const bounded = (maxBytes: number) => v.pipe(v.string(), v.maxBytes(maxBytes));

/** Version 1 of the normalized event, as read back from the queue: exactly what `canonicalEvent` produces. */
const normalizedEventSchema = v.object({
  specVersion: v.literal(SPEC_VERSION),
  eventId: id,
  correlationId: id,
  provider: v.picklist(PROVIDER_IDS),
  providerEventType: bounded(LIMITS.providerEventTypeBytes),
  status: v.nullable(v.picklist(STATUSES)),
  occurredAt: v.nullable(time),
  receivedAt: time,
  subject: v.pipe(
    v.record(v.string(), bounded(LIMITS.subjectValueBytes)),
    v.check((s) => Object.keys(s).length <= LIMITS.subjectKeys, "too many keys"),
  ),
  decision: v.nullable(
    v.pipe(
      v.record(
        v.string(),
        v.union([
          bounded(LIMITS.decisionStringBytes),
          v.pipe(v.number(), v.safeInteger()),
          v.boolean(),
          v.null(),
          v.pipe(v.array(bounded(LIMITS.decisionListItemBytes)), v.maxLength(LIMITS.decisionListItems)),
        ]),
      ),
      v.check((d) => Object.keys(d).length <= LIMITS.decisionKeys, "too many keys"),
    ),
  ),
  attemptId: v.nullable(bounded(LIMITS.attemptIdBytes)),
  sandbox: v.boolean(),
  // Optional: events enqueued before the field existed have none (read as null).
  unmapped: v.optional(v.nullable(bounded(LIMITS.unmappedBytes)), null),
});

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
