/** `kyc` help and mistakes, in-process and without a pipeline; the pure helpers behind the commands. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ROUTES } from "../../lambdas/core/contract.js";
import { DEFAULT_OPTIONS } from "../../lambdas/providers/types.js";
import { previousStatusOf } from "../../local/cli/commands/replay.js";
import { describeFailure } from "../../local/cli/io.js";
import { COMMANDS } from "../../local/cli/main.js";
import { startArguments, startBanner } from "../../local/cli/start-help.js";
import { secretsFromEnv } from "../../local/pipeline.js";
import { kyc, recordingServer } from "../support/cli.js";

describe("help", () => {
  it("every command has --help (and kyc help <command>), exit 0", async () => {
    for (const command of COMMANDS) {
      const run = await kyc([command.name, "--help"]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(new RegExp(`^Usage: kyc ${command.name}`));
      expect(run.stdout).toContain("-h, --help");
      expect((await kyc(["help", command.name])).stdout).toBe(run.stdout);
    }
  });

  it("tail --help says that reading deletes by default", async () => {
    expect((await kyc(["tail", "--help"])).stdout).toContain("Reading DELETES each message once it is printed");
  });

  it("kyc alone prints the overview and exits 2", async () => {
    const run = await kyc([]);
    expect(run.code).toBe(2);
    expect(run.stdout).toContain("Usage: kyc <command> [options]");
  });
});

describe("mistakes: one line on stderr, exit 2", () => {
  const cases: [string[], string][] = [
    [
      ["frobnicate"],
      'kyc: unknown command "frobnicate"; commands: send, sign, tail, dlq, replay-publisher-failures, status, list, reconcile (see kyc --help)',
    ],
    [["send"], "kyc send: which provider? veriff | idngo | idbeyond | neurovision (see kyc send --help)"],
    [["send", "acme", "approved"], 'kyc send: unknown provider "acme"; one of veriff | idngo | idbeyond | neurovision'],
    [["send", "veriff", "approved", "--at", "yesterday"], 'kyc send: --at "yesterday" is not a date'],
    [["send", "veriff", "approved", "--port"], "kyc send: --port needs a value <n> (see kyc send --help)"],
    [["tail", "--json=yes"], "kyc tail: --json takes no value (see kyc tail --help)"],
    [["tail", "--port", "abc"], 'kyc: --port must be a whole number from 1 to 65535, got "abc"'],
    [["tail", "--max", "0"], 'kyc: --max must be a whole number from 1 to 9007199254740991, got "0"'],
    [["tail", "--forward-to", "localhost:8080"], 'kyc tail: --forward-to needs an http(s) URL, got "localhost:8080"'],
    [["tail", "--region", "eu-west-1"], "kyc: --region is for a deployed stack: pass --stack or --stage with it"],
    [["status", "x", "--stack", "A", "--stage", "dev"], "kyc: --stack and --stage name the same thing: pass one of them"],
    [["status"], "kyc status: which verification? kyc status <correlationId>, e.g. veriff:<session id>"],
    [["list"], "kyc list: --subject <key> is required"],
    [["reconcile", "--older-than", "yesterday"], 'kyc reconcile: --older-than takes an age like 24h, 90m or 2d, got "yesterday"'],
    [
      ["reconcile", "--older-than", "30m"],
      "kyc reconcile: --older-than must be at least an hour (the index keeps the hour of the last change)",
    ],
    [
      ["reconcile", "--older-than", "30d"],
      "kyc reconcile: --older-than must be under 30 days (719h at most): older verifications are left alone",
    ],
    [["reconcile", "--provider", "acme"], 'kyc: --provider must be one of veriff, idngo, idbeyond, neurovision, got "acme"'],
    [["reconcile", "now"], 'kyc reconcile: unexpected argument "now"'],
    [
      ["sign", "veriff", "--file", "package.json", "--digest-alg", "md5"],
      'kyc: --digest-alg must be one of sha256, sha512, sha1, got "md5"',
    ],
  ];
  it.each(cases)("kyc %j", async (args, message) => {
    const run = await kyc(args, { PORT: "1" });
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: `${message}\n` });
  });

  it("a bad environment variable names itself", async () => {
    expect(await kyc(["status", "x"], { PORT: "70000" })).toMatchObject({
      code: 2,
      stderr: 'kyc: PORT must be a whole number from 0 to 65535, got "70000"\n',
    });
  });

  it("PORT=65535 without SQS_PORT: the default SQS port (PORT + 1) is no port, and the line says to set SQS_PORT", async () => {
    for (const args of [["tail"], ["dlq", "list", "--queue", "events"], ["tail", "--port", "65535"]]) {
      expect(await kyc(args, { PORT: "65535" })).toMatchObject({
        code: 2,
        stdout: "",
        stderr: "kyc: SQS_PORT is not set and its default, the HTTP port + 1, would be 65536: set SQS_PORT\n",
      });
    }
  });

  it("port 0 (npm start picks a free one) cannot be guessed: the line says to pass the port npm start printed", async () => {
    const http = `kyc: PORT is 0, so npm start picked a free port: pass it with --port (see npm start's "running on" line)\n`;
    const sqs = "kyc: the SQS port is 0, so npm start picked a free port: pass it with --sqs-port (see npm start's AWS_ENDPOINT_URL_SQS)\n";
    expect(await kyc(["status", "veriff:x"], { PORT: "0" })).toMatchObject({ code: 2, stdout: "", stderr: http });
    expect(await kyc(["reconcile"], { PORT: "0" })).toMatchObject({ code: 2, stdout: "", stderr: http });
    expect(await kyc(["tail"], { PORT: "0" })).toMatchObject({ code: 2, stdout: "", stderr: sqs });
    expect(await kyc(["tail"], { PORT: "3000", SQS_PORT: "0" })).toMatchObject({ code: 2, stdout: "", stderr: sqs });
  });
});

describe("mistakes found before anything is sent: exit 2, one line, no request made", () => {
  // The pipeline's HTTP and SQS ports both lead here: any request a command made would be recorded.
  let server: Awaited<ReturnType<typeof recordingServer>>;
  const env = () => ({ PORT: new URL(server.url).port, SQS_PORT: new URL(server.url).port });
  beforeAll(async () => {
    server = await recordingServer();
  });
  afterAll(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
  });

  const cases: [string[], Record<string, string>, string][] = [
    // An invalid provider option in the environment, found once the webhook was sent and applied.
    [
      ["send", "veriff", "approved"],
      { VERIFF_LEGACY_SIGNATURE: "maybe" },
      'kyc: VERIFF_LEGACY_SIGNATURE must be true or false, got "maybe"',
    ],
    [
      ["send", "neurovision", "approved"],
      { NEUROVISION_KEY_DERIVATION: "xx" },
      'kyc: NEUROVISION_KEY_DERIVATION must be one of any, sha256, sha256-hex-prefix, got "xx"',
    ],
    // Empty values: sent as they are, or taken for the default, or turning the request into another.
    [["send", "veriff", "approved", "--session", ""], {}, 'kyc send: --session needs a value <id>, got "" (see kyc send --help)'],
    [["send", "veriff", "approved", "--user", " "], {}, 'kyc send: --user needs a value <key>, got " " (see kyc send --help)'],
    [["send", "veriff", "approved", "--secret", ""], {}, 'kyc send: --secret needs a value <secret>, got "" (see kyc send --help)'],
    [["send", "veriff", "approved", "--port", ""], {}, 'kyc send: --port needs a value <n>, got "" (see kyc send --help)'],
    [["send", "veriff", "approved", "--stack", ""], {}, 'kyc send: --stack needs a value <name>, got "" (see kyc send --help)'],
    [
      ["sign", "veriff", "--file", "package.json", "--secret", ""],
      {},
      'kyc sign: --secret needs a value <secret>, got "" (see kyc sign --help)',
    ],
    [["status", ""], {}, 'kyc status: the verification id is empty, got ""'],
    [["status", "  "], {}, 'kyc status: the verification id is empty, got "  "'],
    [["list", "--subject", " "], {}, 'kyc list: --subject needs a value <key>, got " " (see kyc list --help)'],
    [["list", "--subject", "x", "--cursor", ""], {}, 'kyc list: --cursor needs a value <c>, got "" (see kyc list --help)'],
    [["dlq", "redrive", "--queue", ""], {}, 'kyc dlq: --queue needs a value <name>, got "" (see kyc dlq --help)'],
    [["tail", "--max", ""], {}, 'kyc tail: --max needs a value <n>, got "" (see kyc tail --help)'],
    [["reconcile", "--provider", ""], {}, 'kyc reconcile: --provider needs a value <p>, got "" (see kyc reconcile --help)'],
    [
      ["replay-publisher-failures", "--dynamodb-endpoint", ""],
      {},
      'kyc replay-publisher-failures: --dynamodb-endpoint needs a value <url>, got "" (see kyc replay-publisher-failures --help)',
    ],
    // A value found unusable only once messages were read.
    [["tail", "--forward-to", "http://local host:8080"], {}, 'kyc tail: --forward-to needs an http(s) URL, got "http://local host:8080"'],
    [
      ["replay-publisher-failures", "--dynamodb-endpoint", "127.0.0.1:8000"],
      {},
      'kyc replay-publisher-failures: --dynamodb-endpoint needs an http(s) URL like http://127.0.0.1:8000, got "127.0.0.1:8000"',
    ],
    [
      ["replay-publisher-failures"],
      { AWS_ENDPOINT_URL_DYNAMODB: "localhost:8000" },
      'kyc replay-publisher-failures: AWS_ENDPOINT_URL_DYNAMODB needs an http(s) URL like http://127.0.0.1:8000, got "localhost:8000"',
    ],
    // An option redrive does not have: it would move every message, not --max of them.
    [["dlq", "redrive", "--queue", "events", "--max", "5"], {}, "kyc dlq redrive: --max is for list (redrive moves every message)"],
  ];
  it.each(cases)("kyc %j with %j", async (args, extraEnv, message) => {
    const run = await kyc(args, { ...env(), ...extraEnv });
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: `${message}\n` });
    expect(server.requests).toEqual([]);
  });
});

describe("helpers", () => {
  it("describeFailure: a refused connection anywhere in the cause chain says to start the pipeline", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:3001"), {
      code: "ECONNREFUSED",
      address: "127.0.0.1",
      port: 3001,
    });
    expect(describeFailure(new TypeError("fetch failed", { cause: refused }))).toEqual({
      message: "nothing answers on 127.0.0.1:3001: start the local pipeline first with `npm start` (or pass --port / --sqs-port)",
      exitCode: 1,
    });
    expect(describeFailure(new Error("line one\n  line two"))).toEqual({ message: "Error: line one line two", exitCode: 1 });
  });

  it("previousStatusOf: the status before the current run of the same status, in processing order", () => {
    const h = (status: "created" | "submitted" | "approved" | null, outcome: string, processedAt: string) => ({
      status,
      outcome,
      processedAt,
    });
    expect(previousStatusOf([], "approved")).toBeNull();
    expect(
      previousStatusOf(
        [
          h("approved", "applied", "3"),
          h("created", "applied", "1"),
          h("submitted", "stale", "4"),
          h(null, "recorded", "5"),
          h("submitted", "applied", "2"),
        ],
        "approved",
      ),
    ).toBe("submitted");
    expect(previousStatusOf([h("created", "applied", "1"), h("approved", "applied", "2"), h("approved", "applied", "3")], "approved")).toBe(
      "created",
    );
  });

  it("npm start's arguments: --help prints the variables, anything else is a mistake, none starts", () => {
    expect(startArguments([])).toBeUndefined();
    expect(startArguments(["--help"])).toMatchObject({ exitCode: 0, stdout: expect.stringContaining("SQS_PORT") });
    expect(startArguments(["--port", "4000"])).toMatchObject({ exitCode: 2, stderr: expect.stringContaining('"--port"') });
  });

  it("npm start's banner names every route the local server serves and every kyc command", () => {
    const pipeline = {
      url: "http://127.0.0.1:3000",
      statusChangesQueueUrl: "http://127.0.0.1:3001/000000000000/status-changes.fifo",
      sqsEndpoint: "http://127.0.0.1:3001",
      publisherFailuresQueueUrl: "http://127.0.0.1:3001/000000000000/publisher-failures",
      dynamoEndpoint: "http://127.0.0.1:8000",
      secrets: secretsFromEnv({}),
    };
    const banner = startBanner(pipeline, DEFAULT_OPTIONS, 3000);
    for (const route of Object.values(ROUTES)) if (typeof route === "string") expect(banner).toContain(route);
    expect(banner).toMatch(/^ {2}POST \/reconcile +\S/m);
    expect(banner).toContain(`npm run kyc -- --help        (${COMMANDS.map((c) => c.name).join(", ")})`);
    expect(banner).toContain(", reconcile)");
  });
});
