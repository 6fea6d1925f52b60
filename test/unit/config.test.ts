import { describe, expect, it } from "vitest";
import { ConfigError, parseBoolean, parseOneOf, parseWholeNumber, required } from "../../lambdas/core/config.js";
import { providerIdFromEnv, secretsMaxAge } from "../../lambdas/ingest/config.js";
import { buildIngestDeps } from "../../lambdas/ingest/deps.js";
import { parseSecretCsv, parseSecretList, SecretFormatError } from "../../lambdas/ingest/secrets.js";
import { optionEnvFor, optionsFromEnv } from "../../lambdas/providers/options.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";
import { recordingMetrics } from "../support/apigw.js";

describe("Lambda configuration from the environment", () => {
  it("defaults every provider switch to the safe choice", () => {
    expect(optionsFromEnv({})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toEqual({ veriffLegacySignature: false, idngoAllowSha1: false, neurovisionKeyDerivation: "any" });
  });

  it("reads the switches and refuses values it does not know", () => {
    expect(
      optionsFromEnv({ VERIFF_LEGACY_SIGNATURE: "TRUE", IDNGO_ALLOW_SHA1: "false", NEUROVISION_KEY_DERIVATION: "sha256-hex-prefix" }),
    ).toEqual({
      veriffLegacySignature: true,
      idngoAllowSha1: false,
      neurovisionKeyDerivation: "sha256-hex-prefix",
    });
    expect(() => optionsFromEnv({ IDNGO_ALLOW_SHA1: "yes" })).toThrow('IDNGO_ALLOW_SHA1 must be true or false, got "yes"');
    expect(() => optionsFromEnv({ NEUROVISION_KEY_DERIVATION: "md5" })).toThrow(
      "NEUROVISION_KEY_DERIVATION must be one of any, sha256, sha256-hex-prefix",
    );
  });

  it("gives each provider's function exactly its own switches", () => {
    expect(optionEnvFor("veriff", DEFAULT_OPTIONS)).toEqual({ VERIFF_LEGACY_SIGNATURE: "false" });
    expect(optionEnvFor("neurovision", DEFAULT_OPTIONS)).toEqual({ NEUROVISION_KEY_DERIVATION: "any" });
    expect(optionEnvFor("idbeyond", DEFAULT_OPTIONS)).toEqual({});
  });

  it("parses booleans, whole numbers and choices one way, naming the setting", () => {
    expect(parseBoolean("X", " TRUE ", false)).toBe(true);
    expect(parseBoolean("X", undefined, true)).toBe(true);
    expect(() => parseBoolean("X", "yes", false)).toThrow('X must be true or false, got "yes"');
    expect(parseWholeNumber("N", "42", 1)).toBe(42);
    expect(parseWholeNumber("N", "", 7)).toBe(7);
    for (const bad of ["abc", "1.5", "1e3", "-1", "0x10", "99999999999999999"])
      expect(() => parseWholeNumber("N", bad, 1, { max: 1000 })).toThrow(ConfigError);
    expect(parseOneOf("C", "b", ["a", "b"], "a")).toBe("b");
    expect(() => parseOneOf("C", "c", ["a", "b"], "a")).toThrow("C must be one of a, b");
  });

  it("builds the ingest dependencies the same way for Lambda and local mode: local secrets from {PROVIDER}_WEBHOOK_SECRET", async () => {
    const base = { PROVIDER_ID: "veriff", EVENTS_QUEUE_URL: "http://127.0.0.1:1/q.fifo" };
    const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const deps = buildIngestDeps(
      { ...base, VERIFF_WEBHOOK_SECRET: " new, old " },
      { sqs: {} as never, logger, metrics: recordingMetrics() },
    );
    expect(deps.provider.id).toBe("veriff");
    expect(await deps.secrets()).toEqual(["new", "old"]);
    expect(await buildIngestDeps(base, { sqs: {} as never, logger, metrics: recordingMetrics() }).secrets()).toEqual([]);
    expect(() => buildIngestDeps({ PROVIDER_ID: "veriff" }, { sqs: {} as never, logger, metrics: recordingMetrics() })).toThrow(
      "EVENTS_QUEUE_URL is not set",
    );
  });

  it("requires a known PROVIDER_ID and the variables the entry points need", () => {
    expect(providerIdFromEnv({ PROVIDER_ID: "idngo" })).toBe("idngo");
    expect(() => providerIdFromEnv({ PROVIDER_ID: "acme" })).toThrow(/not a known provider/);
    expect(() => required({ TABLE_NAME: " " }, "TABLE_NAME")).toThrow("TABLE_NAME is not set");
    expect(secretsMaxAge({})).toBe(300);
    expect(secretsMaxAge({ SECRETS_MAX_AGE_SECONDS: "60" })).toBe(60);
    expect(() => secretsMaxAge({ SECRETS_MAX_AGE_SECONDS: "-1" })).toThrow(ConfigError);
    expect(() => secretsMaxAge({ SECRETS_MAX_AGE_SECONDS: "5m" })).toThrow(ConfigError);
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
