/**
 * `kyc send` and `kyc sign`: play a provider. Both build the request with local/samples.ts, the
 * same simulator the tests use: a sample webhook for a status, or any payload of yours signed
 * (NeuroVision: encrypted) exactly as the provider does.
 */
import { readFileSync } from "node:fs";
import { secretEnvOf } from "../../../lambdas/core/contract.js";
import { isProviderId, PROVIDER_IDS, type ProviderId, STATUSES, type Status } from "../../../lambdas/core/event.js";
import { receive } from "../../../lambdas/ingest/receive.js";
import { parseSecretCsv } from "../../../lambdas/ingest/secrets.js";
import { PROVIDERS } from "../../../lambdas/providers/index.js";
import { optionsFromEnv } from "../../../lambdas/providers/options.js";
import type { NeurovisionKeyDerivation, ProviderOptions } from "../../../lambdas/providers/types.js";
import { defaultSecretOf } from "../../pipeline.js";
import { SAMPLE_STATUSES, type SampleRequest, sampleSessionId, sampleWebhook, signWebhook } from "../../samples.js";
import type { Command, Context } from "../command.js";
import { CliError, sleep, usageError } from "../io.js";
import { type Flags, HELP_OPTION, HTTP_TARGET_OPTIONS, JSON_OPTION, type OptionSpecs } from "../options.js";
import { formatVerification, readVerification, type VerificationView } from "../read-api.js";
import type { Target } from "../target.js";

const DIGEST_ALGORITHMS = ["sha256", "sha512", "sha1"] as const;
const KEY_DERIVATIONS = ["sha256", "sha256-hex-prefix"] as const;

const SIGNING_OPTIONS: OptionSpecs = {
  secret: {
    type: "string",
    value: "secret",
    describe: "sign with this secret (default: the first of $<PROVIDER>_WEBHOOK_SECRET, else the local default)",
  },
  "digest-alg": { type: "string", value: "alg", describe: "IDnGO only: the HMAC digest, sha256 (default), sha512 or sha1" },
  "key-derivation": {
    type: "string",
    value: "kind",
    describe: "NeuroVision only: the AES key, sha256 (default) or sha256-hex-prefix",
  },
};

const PROVIDER_LIST = PROVIDER_IDS.join(" | ");

function providerOf(raw: string | undefined, command: string): ProviderId {
  if (raw === undefined) throw usageError(`${command}: which provider? ${PROVIDER_LIST} (see ${command} --help)`);
  if (!isProviderId(raw)) throw usageError(`${command}: unknown provider "${raw}"; one of ${PROVIDER_LIST}`);
  return raw;
}

/** The secret to sign with, and where it came from (said on stderr, never mixed into the output). */
function secretFor(provider: ProviderId, flags: Flags, context: Context): { secret: string; source: string } {
  const given = flags.string("secret");
  if (given !== undefined) return { secret: given, source: "--secret" };
  const configured = parseSecretCsv(context.io.env[secretEnvOf(provider)] ?? "")[0];
  if (configured !== undefined) return { secret: configured, source: `the first secret of ${secretEnvOf(provider)}` };
  if (context.target().kind === "aws") {
    throw usageError(
      `pass --secret or set ${secretEnvOf(provider)}: the secret held in the stack's ${provider} secret (…SecretArn output)`,
    );
  }
  return { secret: defaultSecretOf(provider), source: `the local default (${secretEnvOf(provider)} is not set)` };
}

function signingOptions(flags: Flags): { idngoAlgorithm: (typeof DIGEST_ALGORITHMS)[number]; keyDerivation: NeurovisionKeyDerivation } {
  return {
    idngoAlgorithm: flags.oneOf("digest-alg", DIGEST_ALGORITHMS, "sha256"),
    keyDerivation: flags.oneOf("key-derivation", KEY_DERIVATIONS, "sha256"),
  };
}

/** A payload file as text, refusing bytes that would not survive as UTF-8 (the signature covers the exact bytes). */
function readPayload(path: string, option: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CliError(`${option} ${path}: cannot read it${typeof code === "string" ? ` (${code})` : ""}`, 2);
  }
  const text = bytes.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(bytes)) throw new CliError(`${option} ${path}: not UTF-8 text`, 2);
  return text;
}

/**
 * The provider options ingest would use, from the same environment variables (VERIFF_LEGACY_SIGNATURE, …):
 * read before anything is sent, so that an invalid value fails the command while it has done nothing.
 */
function ingestOptions(env: Context["io"]["env"]): ProviderOptions {
  return { ...optionsFromEnv(env), idngoAllowSha1: true, neurovisionKeyDerivation: "any" };
}

/** What ingest will make of the request: its verification and event ids (the same code as the Lambda). */
function expectedIds(provider: ProviderId, request: SampleRequest, secret: string, options: ProviderOptions) {
  const result = receive(
    PROVIDERS[provider],
    { body: Buffer.from(request.body, "utf8"), headers: request.headers },
    { secrets: [secret], options },
    new Date().toISOString(),
  );
  return result.kind === "accepted" ? { correlationId: result.event.correlationId, eventId: result.event.eventId } : undefined;
}

/** Polls the read API until the event is in the verification's history (the consumer applied it). */
async function waitForEvent(
  target: Target,
  correlationId: string,
  eventId: string,
  context: Context,
): Promise<VerificationView | undefined> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && !context.io.signal?.aborted) {
    const answer = await readVerification(target, correlationId);
    if (answer.body?.history.some((h) => h.eventId === eventId)) return answer.body;
    context.out.progress("waiting for the consumer to apply the event…", { afterMs: 3_000, everyMs: 3_000 });
    await sleep(200, context.io.signal);
  }
  return undefined;
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** `value` as one shell word: as is when nothing in it is special to the shell, else quoted. */
const shellWord = (value: string): string => (/^[\w@%+=:,./-]+$/.test(value) ? value : shellQuote(value));

export const send: Command = {
  name: "send",
  summary: "send a provider webhook, signed (or encrypted) as the provider does, and show what it did",
  usage: ["send <provider> <status> [options]", "send <provider> --body <file> [options]"],
  description: [
    "Posts a webhook to the pipeline's /webhooks/<provider>, waits for the consumer to apply it, and",
    "prints the verification with its history. Without --body, a sample webhook for <status>:",
    ...PROVIDER_IDS.map((p) => `  ${p.padEnd(12)} ${SAMPLE_STATUSES[p].join(", ")}`),
    "With --body, the file's exact bytes, signed (NeuroVision: encrypted) as the provider would send them.",
  ].join("\n"),
  options: {
    session: { type: "string", value: "id", describe: "the provider's verification id, to continue one (default: a new one)" },
    user: { type: "string", value: "key", describe: "your user key (vendorData / externalUserId / clientKey) (default: user-42)" },
    at: { type: "string", value: "iso", describe: "the provider's event time (default: now)" },
    body: { type: "string", value: "file", describe: "send this payload instead of a sample" },
    ...SIGNING_OPTIONS,
    forge: { type: "boolean", describe: "sign with a wrong secret: the pipeline answers 401 and changes nothing" },
    "no-wait": { type: "boolean", describe: "do not wait for the consumer; print the HTTP answer only" },
    ...JSON_OPTION,
    ...HTTP_TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    const provider = providerOf(flags.positionals[0], "kyc send");
    const bodyFile = flags.string("body");
    const statusArg = flags.positionals[1];
    if (flags.positionals.length > 2) throw usageError(`kyc send: unexpected argument "${flags.positionals[2]}"`);
    const signing = signingOptions(flags);
    const options = ingestOptions(context.io.env);
    const target = context.target();
    const { secret: realSecret, source } = secretFor(provider, flags, context);
    const forged = flags.boolean("forge");
    const secret = forged ? `not-${realSecret}` : realSecret;

    let request: SampleRequest;
    let label: string;
    let sessionId: string | undefined;
    if (bodyFile !== undefined) {
      if (statusArg !== undefined) throw usageError(`kyc send: with --body the payload says the status; drop "${statusArg}"`);
      for (const option of ["session", "user", "at"]) {
        if (flags.string(option) !== undefined) throw usageError(`kyc send: --${option} is for sample webhooks, not with --body`);
      }
      request = signWebhook(provider, readPayload(bodyFile, "--body"), secret, signing);
      label = bodyFile;
    } else {
      if (statusArg === undefined) throw usageError(`kyc send: which status? ${provider} sends: ${SAMPLE_STATUSES[provider].join(", ")}`);
      const status = STATUSES.find((s) => s === statusArg);
      if (status === undefined || !SAMPLE_STATUSES[provider].includes(status)) {
        throw usageError(
          `kyc send: ${provider} sends no webhook for status "${statusArg}"; it sends: ${SAMPLE_STATUSES[provider].join(", ")}`,
        );
      }
      const at = flags.string("at");
      const occurredAt = at === undefined ? new Date() : new Date(at);
      if (Number.isNaN(occurredAt.getTime())) throw usageError(`kyc send: --at "${at}" is not a date`);
      sessionId = flags.string("session") ?? sampleSessionId(provider);
      request = sampleWebhook(provider, status as Status, secret, {
        sessionId,
        userKey: flags.string("user") ?? "user-42",
        occurredAt,
        ...signing,
      });
      label = status;
    }

    const url = await target.webhookUrl(provider);
    if (!flags.boolean("json")) context.out.note(`signed with ${forged ? "a wrong secret (--forge)" : source}`);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...request.headers },
      body: request.body,
      ...(context.io.signal === undefined ? {} : { signal: context.io.signal }),
    });
    const answer = await response.text();
    const path = new URL(url).pathname;
    const ids = response.status === 200 && !flags.boolean("no-wait") ? expectedIds(provider, request, realSecret, options) : undefined;
    const verification = ids === undefined ? undefined : await waitForEvent(target, ids.correlationId, ids.eventId, context);

    if (flags.boolean("json")) {
      let body: unknown = answer;
      try {
        body = JSON.parse(answer);
      } catch {
        // kept as text
      }
      context.out.json({ provider, url, response: { status: response.status, body }, ...(ids ?? {}), verification: verification ?? null });
    } else {
      context.out.line(`POST ${path} (${label}${forged ? ", forged" : ""}) → ${response.status} ${answer}`);
      if (verification !== undefined) {
        context.out.line();
        for (const line of formatVerification(verification)) context.out.line(line);
        context.out.line();
        if (sessionId !== undefined)
          context.out.line(`Continue it:  npm run kyc -- send ${provider} <status> --session ${shellWord(sessionId)}`);
        context.out.line(`Look it up:   npm run kyc -- status ${shellWord(verification.correlationId)}`);
      }
    }
    if (response.status !== 200) return forged && response.status === 401 ? 0 : 1;
    if (ids !== undefined && verification === undefined) {
      context.out.note(
        `accepted, but not applied within 10 s: check the pipeline's logs; npm run kyc -- status ${shellWord(ids.correlationId)}`,
      );
      return 1;
    }
    return 0;
  },
};

export const sign: Command = {
  name: "sign",
  summary: "print the exact request (headers and body) a provider would send for a payload, or a curl command",
  usage: ["sign <provider> --file <payload.json> [--secret <secret>] [--curl] [options]"],
  description: [
    "Signs (NeuroVision: encrypts) the file's exact bytes as the provider does and prints the request:",
    "method and URL, headers, a blank line, the body. With --curl, a ready curl command for it.",
    "The secret defaults to the first of $<PROVIDER>_WEBHOOK_SECRET, then to the local default of npm start.",
  ].join("\n"),
  options: {
    file: { type: "string", value: "file", describe: "the payload to sign (required)" },
    ...SIGNING_OPTIONS,
    curl: { type: "boolean", describe: "print a curl command that sends it" },
    ...JSON_OPTION,
    ...HTTP_TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    const provider = providerOf(flags.positionals[0], "kyc sign");
    if (flags.positionals.length > 1) throw usageError(`kyc sign: unexpected argument "${flags.positionals[1]}"`);
    const file = flags.string("file");
    if (file === undefined) throw usageError("kyc sign: --file <payload.json> is required");
    const signing = signingOptions(flags);
    const payload = readPayload(file, "--file");
    const { secret, source } = secretFor(provider, flags, context);
    const request = signWebhook(provider, payload, secret, signing);
    const url = await context.target().webhookUrl(provider);
    const headers: Record<string, string> = { "content-type": "application/json", ...request.headers };

    if (flags.boolean("json")) {
      context.out.json({ method: "POST", url, headers, body: request.body });
      return 0;
    }
    context.out.note(`signed with ${source}`);
    if (flags.boolean("curl")) {
      const parts = ["curl -sS", shellQuote(url), ...Object.entries(headers).map(([k, v]) => `-H ${shellQuote(`${k}: ${v}`)}`)];
      context.out.line(`${parts.join(" ")} --data-binary ${shellQuote(request.body)}`);
      return 0;
    }
    context.out.line(`POST ${url}`);
    for (const [name, value] of Object.entries(headers)) context.out.line(`${name}: ${value}`);
    context.out.line();
    context.out.line(request.body);
    return 0;
  },
};
