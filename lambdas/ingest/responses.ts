import { type HttpResult, json, jsonText } from "../core/http.js";

/** The answers of `POST /webhooks/{provider}` (README "HTTP answers"). */
export const responses = {
  /** 200, not 202: Veriff retries anything but 200. Also for a duplicate and an unmapped event. */
  // `{"accepted":true,"eventId":…}` on every accepted webhook: only the id is serialized, not an object.
  accepted: (eventId: string): HttpResult => jsonText(200, `{"accepted":true,"eventId":${JSON.stringify(eventId)}}`),
  /** One body for every authentication failure: the cause is logged, never revealed (no oracle). */
  unauthorized: (): HttpResult => json(401, { error: "unauthorized" }),
  /** Only for an authenticated body that is not JSON at all. */
  notJson: (): HttpResult => json(400, { error: "invalid payload", detail: "the body is not JSON" }),
  tooLarge: (limit: number): HttpResult => json(413, { error: "payload too large", limitBytes: limit }),
  notFound: (): HttpResult => json(404, { error: "unknown provider" }),
  unavailable: (): HttpResult => json(503, { error: "temporarily unavailable, retry later" }),
  internalError: (): HttpResult => json(500, { error: "internal error" }),
} as const;
