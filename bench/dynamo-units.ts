/**
 * DynamoDB's size and capacity rules, pure, applied to the items the consumer really writes (as the
 * SDK sends them: attribute values in DynamoDB JSON) to get on-demand request units:
 *
 * - item size: the UTF-8 length of each attribute name plus its value's size (strings: UTF-8 bytes;
 *   numbers: about 1 byte per 2 significant digits + 1; binary: bytes; booleans and null: 1 byte;
 *   lists and maps: 3 bytes + 1 byte per element + the elements; sets: the elements);
 * - a write request unit per KiB written (a replaced item counts at the larger of its old and new
 *   size), at least 1; a transactional write counts twice; a failed conditional write still
 *   consumes units (the existing item's size, at least 1);
 * - a read request unit per 4 KiB read with strong consistency, half that eventually consistent,
 *   at least one request's worth; transactional reads twice;
 * - a global secondary index is written when a table write adds, changes or removes an item it holds:
 *   an index entry (its projection: the whole item for ALL, the keys for KEYS_ONLY) written, and one
 *   more to delete the previous entry when an index key value changed. Index writes are not doubled
 *   by transactions (assumption: the index is updated asynchronously, outside the transaction).
 */

export type AttributeValue = Readonly<Record<string, unknown>>;
export type Item = Readonly<Record<string, AttributeValue>>;

export interface IndexSpec {
  readonly name: string;
  /** The index's key attributes (partition, then sort). */
  readonly keys: readonly string[];
  readonly projection: string;
  readonly nonKeyAttributes: readonly string[];
}

const utf8 = (text: string): number => Buffer.byteLength(text, "utf8");

/** Significant digits of a DynamoDB number literal (leading and trailing zeros do not count). */
function significantDigits(literal: string): number {
  const digits = literal.replace(/[eE].*$/, "").replace(/[^0-9]/g, "");
  const trimmed = digits.replace(/^0+/, "").replace(/0+$/, "");
  return Math.max(1, trimmed.length);
}

/** The size of one attribute value, in bytes, by DynamoDB's rules. */
export function valueSize(value: AttributeValue): number {
  const [type, payload] = Object.entries(value)[0] ?? ["NULL", true];
  switch (type) {
    case "S":
      return utf8(String(payload));
    case "N":
      return Math.ceil(significantDigits(String(payload)) / 2) + 1;
    case "B":
      return typeof payload === "string" ? Buffer.from(payload, "base64").length : ((payload as Uint8Array | undefined)?.length ?? 0);
    case "BOOL":
    case "NULL":
      return 1;
    case "SS":
      return (payload as string[]).reduce((t, s) => t + utf8(s), 0);
    case "NS":
      return (payload as string[]).reduce((t, n) => t + Math.ceil(significantDigits(n) / 2) + 1, 0);
    case "BS":
      return (payload as string[]).reduce((t, b) => t + Buffer.from(b, "base64").length, 0);
    case "L":
      return 3 + (payload as AttributeValue[]).reduce((t, element) => t + 1 + valueSize(element), 0);
    case "M":
      return 3 + Object.entries(payload as Item).reduce((t, [name, element]) => t + 1 + utf8(name) + valueSize(element), 0);
    default:
      return 0;
  }
}

/** The size of an item: each attribute's name plus its value. */
export function itemSize(item: Item): number {
  return Object.entries(item).reduce((total, [name, value]) => total + utf8(name) + valueSize(value), 0);
}

export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

export function readUnits(bytes: number, consistency: "strong" | "eventual" | "transactional"): number {
  const units = Math.max(1, Math.ceil(bytes / 4096));
  return consistency === "eventual" ? units / 2 : consistency === "transactional" ? units * 2 : units;
}

/** Units of one table write: the larger of the old and new item, doubled in a transaction; a failed condition: the existing item. */
export function tableWriteUnits(options: {
  readonly newItem: Item | undefined;
  readonly oldItem: Item | undefined;
  readonly transactional: boolean;
  readonly succeeded: boolean;
}): number {
  const oldSize = options.oldItem === undefined ? 0 : itemSize(options.oldItem);
  const units = options.succeeded
    ? writeUnits(Math.max(oldSize, options.newItem === undefined ? 0 : itemSize(options.newItem)))
    : writeUnits(oldSize);
  return options.transactional ? units * 2 : units;
}

const hasKeys = (item: Item | undefined, index: IndexSpec): item is Item =>
  item !== undefined && index.keys.every((k) => item[k] !== undefined);

/** JSON with object keys sorted at every level: equal values, equal text, whatever the attribute order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
const same = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The entry an index holds for `item`: the table keys, the index keys and the projected attributes. */
export function indexEntry(item: Item, index: IndexSpec, tableKeys: readonly string[]): Item {
  if (index.projection === "ALL") return item;
  const names = new Set([...tableKeys, ...index.keys, ...(index.projection === "INCLUDE" ? index.nonKeyAttributes : [])]);
  return Object.fromEntries(Object.entries(item).filter(([name]) => names.has(name)));
}

/** Write units the indexes consume for a table write that replaced `oldItem` with `newItem` (undefined: absent). */
export function indexWriteUnits(
  oldItem: Item | undefined,
  newItem: Item | undefined,
  indexes: readonly IndexSpec[],
  tableKeys: readonly string[],
): number {
  let units = 0;
  for (const index of indexes) {
    const before = hasKeys(oldItem, index) ? indexEntry(oldItem, index, tableKeys) : undefined;
    const after = hasKeys(newItem, index) ? indexEntry(newItem, index, tableKeys) : undefined;
    if (before !== undefined && after !== undefined) {
      const keysChanged = index.keys.some((k) => !same(before[k], after[k]));
      if (keysChanged) units += writeUnits(itemSize(before)) + writeUnits(itemSize(after));
      else if (!same(before, after)) units += writeUnits(Math.max(itemSize(before), itemSize(after)));
    } else if (after !== undefined) {
      units += writeUnits(itemSize(after));
    } else if (before !== undefined) {
      units += writeUnits(itemSize(before));
    }
  }
  return units;
}
