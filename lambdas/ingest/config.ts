import { ConfigError, type Env, parseWholeNumber, required } from "../core/config.js";
import { DEFAULTS, ENV, secretEnvOf } from "../core/contract.js";
import { isProviderId, type ProviderId } from "../core/event.js";

export function providerIdFromEnv(env: Env): ProviderId {
  const id = required(env, ENV.providerId);
  if (!isProviderId(id)) throw new ConfigError(`${ENV.providerId} "${id}" is not a known provider`);
  return id;
}

/** Seconds a fetched secret list is reused before Secrets Manager is asked again. */
export function secretsMaxAge(env: Env): number {
  return parseWholeNumber(ENV.secretsMaxAgeSeconds, env[ENV.secretsMaxAgeSeconds], DEFAULTS.secretsMaxAgeSeconds);
}

/** The environment variable with a provider's comma-separated secrets in local mode. */
export { secretEnvOf };
