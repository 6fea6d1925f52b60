import { describe, expect, it } from "vitest";
import { ConfigError, required } from "../../lambdas/core/config.js";
import { optionsFromEnv, providerIdFromEnv, secretsMaxAge } from "../../lambdas/ingest/config.js";
import { parseSecretCsv, parseSecretList, SecretFormatError } from "../../lambdas/ingest/secrets.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";

describe("Lambda configuration from the environment", () => {
  it("defaults every provider switch to the safe choice", () => {
    expect(optionsFromEnv({})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toEqual({ veriffLegacySignature: false, idngoAllowSha1: false, neurovisionKeyDerivation: "any" });
  });

  it("reads the switches and refuses values it does not know", () => {
    expect(optionsFromEnv({ VERIFF_LEGACY_SIGNATURE: "TRUE", IDNGO_ALLOW_SHA1: "false", NEUROVISION_KEY_DERIVATION: "sha256-hex-prefix" })).toEqual({
      veriffLegacySignature: true,
      idngoAllowSha1: false,
      neurovisionKeyDerivation: "sha256-hex-prefix",
    });
    expect(() => optionsFromEnv({ IDNGO_ALLOW_SHA1: "yes" })).toThrow(ConfigError);
    expect(() => optionsFromEnv({ NEUROVISION_KEY_DERIVATION: "md5" })).toThrow(ConfigError);
  });

  it("requires a known PROVIDER_ID and the variables the entry points need", () => {
    expect(providerIdFromEnv({ PROVIDER_ID: "idngo" })).toBe("idngo");
    expect(() => providerIdFromEnv({ PROVIDER_ID: "acme" })).toThrow(/not a known provider/);
    expect(() => required({ TABLE_NAME: " " }, "TABLE_NAME")).toThrow("TABLE_NAME is not set");
    expect(secretsMaxAge({})).toBe(300);
    expect(secretsMaxAge({ SECRETS_MAX_AGE_SECONDS: "60" })).toBe(60);
    expect(() => secretsMaxAge({ SECRETS_MAX_AGE_SECONDS: "-1" })).toThrow(ConfigError);
  });
});

describe("secret lists", () => {
  it("reads Secrets Manager's JSON list and never echoes the value in errors", () => {
    expect(parseSecretList('["new","old"]')).toEqual(["new", "old"]);
    expect(parseSecretList("[]")).toEqual([]);
    for (const bad of ["s3cr3t-plain", '{"secret":"s3cr3t-obj"}', '["s3cr3t-ok", ""]', "[42]"]) {
      expect(() => parseSecretList(bad)).toThrow(SecretFormatError);
      try {
        parseSecretList(bad);
      } catch (error) {
        expect(String(error)).not.toMatch(/s3cr3t/);
      }
    }
  });

  it("reads the local comma-separated lists, ignoring blanks", () => {
    expect(parseSecretCsv(" new, old ,,")).toEqual(["new", "old"]);
    expect(parseSecretCsv("")).toEqual([]);
  });
});
