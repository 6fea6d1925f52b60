import { getSecret } from "@aws-lambda-powertools/parameters/secrets";

/** Returns every currently accepted webhook secret of one provider. */
export type SecretSource = () => Promise<readonly string[]>;

/** Thrown when the stored secret is not a JSON list of non-empty strings. The message never holds the value. */
export class SecretFormatError extends Error {
  override readonly name = "SecretFormatError";
}

/** The Secrets Manager value is a JSON list of accepted secrets: `["new", "old"]` during a rotation. */
export function parseSecretList(raw: unknown): readonly string[] {
  let value = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new SecretFormatError('the webhook secret must be a JSON list of strings, e.g. ["<secret>"]');
    }
  }
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string" && item.length > 0)) {
    throw new SecretFormatError("the webhook secret must be a JSON list of non-empty strings");
  }
  return value;
}

/** Local configuration: a comma-separated list (`VERIFF_WEBHOOK_SECRET=new,old`). */
export function parseSecretCsv(raw: string): readonly string[] {
  return raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Reads the secret from Secrets Manager through Powertools, which caches it for
 * `maxAgeSeconds` per container: one call per cold start and per expiry, not per request,
 * while a rotation still reaches running containers within that bound.
 */
export function secretsManagerSource(secretArn: string, maxAgeSeconds: number): SecretSource {
  // The list is parsed again only when Powertools' cache hands over a new value, not per request.
  let lastRaw: unknown;
  let lastList: readonly string[] | undefined;
  return async () => {
    const raw = await getSecret(secretArn, { maxAge: maxAgeSeconds });
    if (lastList === undefined || raw !== lastRaw) {
      lastList = parseSecretList(raw);
      lastRaw = raw;
    }
    return lastList;
  };
}

export function staticSource(secrets: readonly string[]): SecretSource {
  return async () => secrets;
}
