import { isProviderId, type ProviderId } from "../core/event.js";
import { ConfigError, type Env, required } from "../core/config.js";
import {
  DEFAULT_OPTIONS,
  NEUROVISION_KEY_DERIVATIONS,
  type NeurovisionKeyDerivation,
  type ProviderOptions,
} from "../providers/types.js";

function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (value === undefined || value === "") return fallback;
  if (value === "true") return true;
  if (value === "false") return false;
  throw new ConfigError(`${name} must be "true" or "false"`);
}

function keyDerivation(env: Env): NeurovisionKeyDerivation {
  const value = env["NEUROVISION_KEY_DERIVATION"]?.trim();
  if (value === undefined || value === "") return DEFAULT_OPTIONS.neurovisionKeyDerivation;
  const known = NEUROVISION_KEY_DERIVATIONS.find((d) => d === value);
  if (known !== undefined) return known;
  throw new ConfigError(`NEUROVISION_KEY_DERIVATION must be one of ${NEUROVISION_KEY_DERIVATIONS.join(", ")}`);
}

/** Non-secret provider switches from the environment; unset means the safe default. */
export function optionsFromEnv(env: Env): ProviderOptions {
  return {
    veriffLegacySignature: flag(env, "VERIFF_LEGACY_SIGNATURE", DEFAULT_OPTIONS.veriffLegacySignature),
    idngoAllowSha1: flag(env, "IDNGO_ALLOW_SHA1", DEFAULT_OPTIONS.idngoAllowSha1),
    neurovisionKeyDerivation: keyDerivation(env),
  };
}

export function providerIdFromEnv(env: Env): ProviderId {
  const id = required(env, "PROVIDER_ID");
  if (!isProviderId(id)) throw new ConfigError(`PROVIDER_ID "${id}" is not a known provider`);
  return id;
}

/** Seconds a fetched secret list is reused before Secrets Manager is asked again. */
export function secretsMaxAge(env: Env): number {
  const raw = env["SECRETS_MAX_AGE_SECONDS"];
  if (raw === undefined || raw === "") return 300;
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 0) throw new ConfigError("SECRETS_MAX_AGE_SECONDS must be a whole number");
  return seconds;
}
