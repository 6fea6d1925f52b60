/**
 * The non-secret provider switches, described once: each option's provider, environment variable
 * (read by the ingest Lambda and `npm start`), CDK context key (its name), values and meaning.
 * The stack, the ingest config, the local pipeline's start banner and the README table derive
 * from this list.
 */
import { type Env, parseBoolean, parseOneOf } from "../core/config.js";
import type { ProviderId } from "../core/event.js";
import { DEFAULT_OPTIONS, NEUROVISION_KEY_DERIVATIONS, type ProviderOptions } from "./types.js";

export interface OptionSetting<K extends keyof ProviderOptions = keyof ProviderOptions> {
  readonly name: K;
  readonly provider: ProviderId;
  /** The environment variable the ingest function reads (the stack sets it from the context key `name`). */
  readonly env: string;
  readonly values: readonly string[];
  readonly describe: string;
  /** Parses a raw value; `label` names the setting in the error (the env variable, or the context key). */
  readonly parse: (raw: unknown, label: string) => ProviderOptions[K];
}

function booleanOption<K extends "veriffLegacySignature" | "idngoAllowSha1">(
  name: K,
  provider: ProviderId,
  env: string,
  describe: string,
): OptionSetting<K> {
  return {
    name,
    provider,
    env,
    values: ["true", "false"],
    describe,
    parse: (raw, label) => parseBoolean(label, raw, DEFAULT_OPTIONS[name]),
  };
}

export const OPTION_SETTINGS: readonly OptionSetting[] = [
  booleanOption(
    "veriffLegacySignature",
    "veriff",
    "VERIFF_LEGACY_SIGNATURE",
    "also accept Veriff's legacy `x-signature: sha256(body ‖ secret)`",
  ),
  booleanOption("idngoAllowSha1", "idngo", "IDNGO_ALLOW_SHA1", "also accept IDnGO's deprecated `HMAC_SHA1_HEX` digests"),
  {
    name: "neurovisionKeyDerivation",
    provider: "neurovision",
    env: "NEUROVISION_KEY_DERIVATION",
    values: NEUROVISION_KEY_DERIVATIONS,
    describe:
      "how the NeuroVision AES key is derived from the secret: `sha256` (its 32 raw bytes), `sha256-hex-prefix` (its first 32 hex characters as ASCII) or `any` (either)",
    parse: (raw, label) => parseOneOf(label, raw, NEUROVISION_KEY_DERIVATIONS, DEFAULT_OPTIONS.neurovisionKeyDerivation),
  } satisfies OptionSetting<"neurovisionKeyDerivation">,
];

/** The options from environment variables (unset: the safe default); invalid values throw. */
export function optionsFromEnv(env: Env): ProviderOptions {
  return Object.fromEntries(OPTION_SETTINGS.map((o) => [o.name, o.parse(env[o.env], o.env)])) as unknown as ProviderOptions;
}

/** The environment variables that carry `options` to one provider's function. */
export function optionEnvFor(provider: ProviderId, options: ProviderOptions): Record<string, string> {
  return Object.fromEntries(OPTION_SETTINGS.filter((o) => o.provider === provider).map((o) => [o.env, String(options[o.name])]));
}
