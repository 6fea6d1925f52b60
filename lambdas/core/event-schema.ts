import * as v from "valibot";
import { type NormalizedEvent, PROVIDER_IDS, SPEC_VERSION, STATUSES } from "./event.js";

const isoTime = v.pipe(v.string(), v.isoTimestamp());

/** Version 1 of the normalized event, as read back from the queue. */
const normalizedEventSchema = v.object({
  specVersion: v.literal(SPEC_VERSION),
  eventId: v.pipe(v.string(), v.minLength(1)),
  correlationId: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  provider: v.picklist(PROVIDER_IDS),
  providerEventType: v.string(),
  status: v.nullable(v.picklist(STATUSES)),
  occurredAt: v.nullable(isoTime),
  receivedAt: isoTime,
  subject: v.record(v.string(), v.string()),
  decision: v.nullable(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null(), v.array(v.string())]))),
  attemptId: v.nullable(v.string()),
  sandbox: v.boolean(),
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
