/** Environment reading shared by every Lambda entry point. */

export type Env = Readonly<Record<string, string | undefined>>;

/** A configuration mistake: thrown at cold start, so a broken deployment fails loudly, not per request. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

export function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new ConfigError(`${name} is not set`);
  return value;
}
