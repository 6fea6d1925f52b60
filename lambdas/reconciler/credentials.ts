/**
 * The providers' API credentials for the reconciler. In Lambda, one Secrets Manager secret per
 * provider (its own: API credentials are not the webhook secrets), read through Powertools' cache;
 * locally, environment variables. A secret that is `{}` (as the stack creates it) means "not
 * configured": the provider is not polled. A secret that is filled in but malformed is an error
 * (that provider's pass fails, loudly), never silently "not configured".
 */
import { getSecret } from "@aws-lambda-powertools/parameters/secrets";
import { ConfigError, type Env, text } from "../core/config.js";
import { ENV, RECONCILER, secretEnvOf } from "../core/contract.js";
import type { IdngoApiCredentials } from "./idngo-api.js";
import type { ReconcilableProvider } from "./types.js";
import type { VeriffApiCredentials } from "./veriff-api.js";

export interface ProviderCredentials {
  readonly idngo: IdngoApiCredentials;
  readonly veriff: VeriffApiCredentials;
}

/** One provider's credentials, or undefined when they are not configured. */
export type CredentialSource = <P extends ReconcilableProvider>(provider: P) => Promise<ProviderCredentials[P] | undefined>;

/** The two fields a credentials secret must hold, by provider. */
const FIELDS: { readonly [P in ReconcilableProvider]: readonly [string, string] } = {
  idngo: ["appToken", "appSecret"],
  veriff: ["apiKey", "apiSecret"],
};

/** The secret's two fields: undefined for `{}`, an error naming what is wrong (never a value) otherwise. */
export function parseCredentialsSecret(provider: ReconcilableProvider, raw: unknown): Readonly<Record<string, string>> | undefined {
  let value: unknown = raw;
  if (typeof raw === "string") {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new ConfigError(`the ${provider} API credentials secret is not JSON`);
    }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigError(`the ${provider} API credentials secret must be a JSON object`);
  }
  const object = value as Record<string, unknown>;
  if (Object.keys(object).length === 0) return undefined;
  const fields = FIELDS[provider];
  const missing = fields.filter((field) => typeof object[field] !== "string" || (object[field] as string).trim() === "");
  if (missing.length > 0) throw new ConfigError(`the ${provider} API credentials secret lacks ${missing.join(" and ")}`);
  return Object.fromEntries(fields.map((field) => [field, (object[field] as string).trim()]));
}

function withUrl<P extends ReconcilableProvider>(
  provider: P,
  baseUrl: string | undefined,
  fields: Readonly<Record<string, string>> | undefined,
): ProviderCredentials[P] | undefined {
  if (fields === undefined) return undefined;
  if (baseUrl === undefined) {
    throw new ConfigError(`${provider} API credentials are set but ${provider === "idngo" ? ENV.idngoApiUrl : ENV.veriffApiUrl} is not`);
  }
  return { baseUrl, ...fields } as unknown as ProviderCredentials[P];
}

const apiUrlOf = (env: Env, provider: ReconcilableProvider): string | undefined =>
  provider === "idngo" ? text(env[ENV.idngoApiUrl]) : (text(env[ENV.veriffApiUrl]) ?? RECONCILER.defaultVeriffApiUrl);

/**
 * Local mode: `IDNGO_API_URL`, `IDNGO_APP_TOKEN`, `IDNGO_APP_SECRET`; `VERIFF_API_URL` (default
 * Veriff's), `VERIFF_API_KEY`, `VERIFF_API_SECRET` (default: the first Veriff webhook secret, since
 * Veriff signs both with the integration's shared secret). A provider without its token or key is
 * not polled.
 */
export function credentialsFromEnv(env: Env): CredentialSource {
  const local: { readonly [P in ReconcilableProvider]: Readonly<Record<string, string>> | undefined } = {
    idngo: (() => {
      const [appToken, appSecret] = [text(env[ENV.idngoAppToken]), text(env[ENV.idngoAppSecret])];
      if (appToken === undefined && appSecret === undefined) return undefined;
      if (appToken === undefined || appSecret === undefined) {
        throw new ConfigError(`${ENV.idngoAppToken} and ${ENV.idngoAppSecret} go together: set both or neither`);
      }
      return { appToken, appSecret };
    })(),
    veriff: (() => {
      const apiKey = text(env[ENV.veriffApiKey]);
      if (apiKey === undefined) return undefined;
      const apiSecret = text(env[ENV.veriffApiSecret]) ?? text(env[secretEnvOf("veriff")]?.split(",")[0]);
      if (apiSecret === undefined) {
        throw new ConfigError(`${ENV.veriffApiKey} is set but neither ${ENV.veriffApiSecret} nor ${secretEnvOf("veriff")} is`);
      }
      return { apiKey, apiSecret };
    })(),
  };
  for (const provider of ["idngo", "veriff"] as const) withUrl(provider, apiUrlOf(env, provider), local[provider]); // fail at start
  return async (provider) => withUrl(provider, apiUrlOf(env, provider), local[provider]);
}

/** Lambda: each provider's secret (`IDNGO_API_SECRET_ARN`, `VERIFF_API_SECRET_ARN`), cached `maxAgeSeconds`. */
export function secretsManagerCredentials(env: Env, maxAgeSeconds: number): CredentialSource {
  const arns: { readonly [P in ReconcilableProvider]: string | undefined } = {
    idngo: text(env[ENV.idngoApiSecretArn]),
    veriff: text(env[ENV.veriffApiSecretArn]),
  };
  return async (provider) => {
    const arn = arns[provider];
    if (arn === undefined) return undefined;
    return withUrl(provider, apiUrlOf(env, provider), parseCredentialsSecret(provider, await getSecret(arn, { maxAge: maxAgeSeconds })));
  };
}
