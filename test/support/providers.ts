/**
 * The provider test kit: fixtures, signing through the same samples the CLI uses, receiving a
 * request exactly as ingest does (`receive`), and the "no personal data" helpers.
 */
import { readFileSync } from "node:fs";
import type { NormalizedEvent, ProviderId } from "../../lambdas/core/event.js";
import type { Headers } from "../../lambdas/core/http.js";
import { type Receipt, receive } from "../../lambdas/ingest/receive.js";
import { PROVIDERS } from "../../lambdas/providers/index.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../../lambdas/providers/types.js";
import { signWebhook } from "../../local/samples.js";

export const RECEIVED_AT = "2026-11-22T10:00:00.000Z";

/** The raw bytes of `test/fixtures/{provider}/{name}`. */
export function fixture(provider: ProviderId, name: string): Buffer {
  return readFileSync(new URL(`../fixtures/${provider}/${name}`, import.meta.url));
}

export type Json = Record<string, unknown>;

export function fixtureJson(provider: ProviderId, name: string): Json {
  return JSON.parse(fixture(provider, name).toString("utf8")) as Json;
}

export interface KitOptions {
  readonly secrets?: readonly string[];
  readonly options?: Partial<ProviderOptions>;
  readonly receivedAt?: string;
}

/** What ingest makes of a request to `provider`. */
export function receipt(provider: ProviderId, body: Buffer | string, headers: Headers, kit: KitOptions = {}): Receipt {
  return receive(
    PROVIDERS[provider],
    { body: Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8"), headers },
    { secrets: kit.secrets ?? ["kit-secret"], options: { ...DEFAULT_OPTIONS, ...kit.options } },
    kit.receivedAt ?? RECEIVED_AT,
  );
}

/** Signs `body` as the provider does (with the kit's default secret unless given) and receives it; throws unless accepted. */
export function receiveSigned(provider: ProviderId, body: Buffer | string | object, kit: KitOptions = {}): NormalizedEvent {
  const text = Buffer.isBuffer(body) ? body.toString("utf8") : typeof body === "string" ? body : JSON.stringify(body);
  const secret = kit.secrets?.[0] ?? "kit-secret";
  const request = signWebhook(provider, text, secret);
  const result = receipt(provider, request.body, request.headers, { ...kit, secrets: kit.secrets ?? [secret] });
  if (result.kind !== "accepted") throw new Error(`a correctly signed ${provider} request was not accepted: ${JSON.stringify(result)}`);
  return result.event;
}

/** The event for a fixture file, signed and received as the provider would send it. */
export function receiveFixture(provider: ProviderId, name: string, kit: KitOptions = {}): NormalizedEvent {
  return receiveSigned(provider, fixture(provider, name), kit);
}

/** Every string leaf of a value (short codes are skipped), for the "no personal data" checks. */
export function stringLeaves(value: unknown, minLength = 6): string[] {
  if (typeof value === "string") return value.length >= minLength ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((item) => stringLeaves(item, minLength));
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap((item) => stringLeaves(item, minLength));
  return [];
}

/** The value at a dotted path of a JSON object (for naming personal fields of a fixture). */
export function at(json: unknown, path: string): unknown {
  let value = json;
  for (const key of path.split(".")) {
    value = typeof value === "object" && value !== null ? (value as Json)[key] : undefined;
  }
  return value;
}

/** The string leaves of the personal parts of a payload, which must appear nowhere in an event. */
export function personalValues(json: unknown, paths: readonly string[]): string[] {
  return paths.flatMap((path) => stringLeaves(at(json, path)));
}
