/**
 * The pagination cursor of `GET /verifications?subject=…`: base64url (no padding) of the compact
 * JSON `{"correlationId","sk","subjectKey","createdAt"}`, exactly the subject index's key
 * attributes (lambdas/core/table.ts), in that order, each a bounded string.
 *
 * A cursor is accepted only if it is byte for byte what `encodeCursor` produces for a valid key
 * of the requested subject; everything else is `InvalidCursor` (400) before DynamoDB is called.
 * That bounds the work (length first, then one `JSON.parse` of at most a few KB, no numbers, no
 * nesting) and leaves nothing for DynamoDB or the SDK's marshaller to refuse.
 *
 * Not signed, on purpose: the cursor is a position in a list the caller is already allowed to
 * read in full (every read-API caller may query any subject), and every field in it is also in
 * the items of the page that produced it, so neither secrecy nor integrity protects anything. A
 * forged but well-formed cursor just starts the same caller's query at another position. An HMAC
 * would need a secret the read Lambda doesn't have (Secrets Manager, rotation, every cursor
 * invalidated on rotation) for no gain; strict validation is what removes the 500s.
 */
import { TABLE } from "../core/contract.js";
import { isCorrelationId, MAX_CORRELATION_ID_LENGTH } from "./input.js";
import { MAX_SUBJECT_KEY_BYTES } from "./subject-key.js";

/** The subject index's key attributes of the last item of a page: the next page's start. */
export interface CursorKey {
  readonly correlationId: string;
  readonly sk: string;
  readonly subjectKey: string;
  readonly createdAt: string;
}

const FIELDS = [TABLE.partitionKey, TABLE.sortKey, TABLE.subjectIndex.partitionKey, TABLE.subjectIndex.sortKey] as const;

/** `createdAt` as the consumer writes it (`Date.prototype.toISOString`). */
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ISO_INSTANT_LENGTH = "2026-01-01T00:00:00.000Z".length;

/**
 * Longest cursor `encodeCursor` can produce: the JSON's fixed part, a correlationId of printable
 * ASCII whose every character is escaped (`"` or `\`: 2 characters each), a subjectKey of 512
 * UTF-8 bytes each escaped as `\u00XX` (control characters: 6 bytes each), an ISO instant; then
 * base64url of those bytes. Anything longer is refused before it is decoded (about 4.5 KB).
 */
const MAX_CURSOR_JSON_BYTES =
  JSON.stringify({ correlationId: "", sk: TABLE.stateSortKey, subjectKey: "", createdAt: "" }).length +
  2 * MAX_CORRELATION_ID_LENGTH +
  6 * MAX_SUBJECT_KEY_BYTES +
  ISO_INSTANT_LENGTH;
export const MAX_CURSOR_LENGTH = Math.ceil((MAX_CURSOR_JSON_BYTES * 4) / 3);

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Thrown for a cursor that was not produced by `listBySubject` for the same subject. */
export class InvalidCursor extends Error {
  override readonly name = "InvalidCursor";
  constructor() {
    super("invalid cursor");
  }
}

export function encodeCursor(key: CursorKey): string {
  const json = JSON.stringify({ correlationId: key.correlationId, sk: key.sk, subjectKey: key.subjectKey, createdAt: key.createdAt });
  return Buffer.from(json, "utf8").toString("base64url");
}

/** The cursor of DynamoDB's `LastEvaluatedKey` of a `bySubject` query. */
export function cursorOf(lastEvaluatedKey: Readonly<Record<string, unknown>>): string {
  const [correlationId, sk, subjectKey, createdAt] = FIELDS.map((field) => lastEvaluatedKey[field]);
  if (typeof correlationId !== "string" || typeof sk !== "string" || typeof subjectKey !== "string" || typeof createdAt !== "string") {
    throw new TypeError("LastEvaluatedKey is not a bySubject key");
  }
  return encodeCursor({ correlationId, sk, subjectKey, createdAt });
}

/**
 * The start key in `cursor`, if it is a cursor of the list of `subjectKey` (the index key of the
 * requested subject); else throws `InvalidCursor`. Never calls anything, never throws anything else.
 */
export function decodeCursor(cursor: string, subjectKey: string): CursorKey {
  if (cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) throw new InvalidCursor();
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(Buffer.from(cursor, "base64url")));
  } catch {
    throw new InvalidCursor();
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new InvalidCursor();
  const record = parsed as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length !== FIELDS.length || !FIELDS.every((field) => typeof record[field] === "string")) throw new InvalidCursor();
  const key: CursorKey = {
    correlationId: record[TABLE.partitionKey] as string,
    sk: record[TABLE.sortKey] as string,
    subjectKey: record[TABLE.subjectIndex.partitionKey] as string,
    createdAt: record[TABLE.subjectIndex.sortKey] as string,
  };
  // Canonical form only: no other key order, whitespace, escapes, padding or trailing bits.
  if (encodeCursor(key) !== cursor) throw new InvalidCursor();
  if (
    key.subjectKey !== subjectKey ||
    key.sk !== TABLE.stateSortKey ||
    !isCorrelationId(key.correlationId) ||
    !ISO_INSTANT.test(key.createdAt)
  ) {
    throw new InvalidCursor();
  }
  return key;
}
