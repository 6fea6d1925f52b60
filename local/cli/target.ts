/**
 * Where a command runs. Local by default: the pipeline of `npm start` on 127.0.0.1 (ports from
 * --port / --sqs-port, else PORT / SQS_PORT as `npm start` reads them), with local-only
 * credentials. AWS with `--stack` or `--stage` (and `--region`): the queues, table and URLs come
 * from the stack's outputs, the SDK's default credential chain signs, and read API calls are
 * SigV4-signed. Commands see only this interface, so both paths run the same code.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SignatureV4 } from "@smithy/signature-v4";
import { text } from "../../lambdas/core/config.js";
import { QUEUES, ROUTES, TABLE } from "../../lambdas/core/contract.js";
import type { ProviderId } from "../../lambdas/core/event.js";
import { localPort, localSqsPort, PUBLISHER_FAILURES_QUEUE_NAME, STATUS_CHANGES_QUEUE_NAME } from "../pipeline.js";
import { LOCAL_AWS } from "../sqs.js";
import {
  describeStackOutputs,
  executeApiSigner,
  invokeFunction,
  OUTPUTS,
  outputOf,
  post,
  regionOfApiUrl,
  type StackOutputs,
  signedGet,
  signerFor as sigV4Signer,
  stackNameFrom,
} from "./aws.js";
import { CliError, type CliIo, usageError } from "./io.js";
import type { Flags } from "./options.js";

export type QueueKey = "events" | "eventsDlq" | "statusChanges" | "statusChangesDlq" | "publisherFailures";

export interface Target {
  readonly kind: "local" | "aws";
  /** For messages: `the local pipeline (http://127.0.0.1:3000)`, `stack KycWebhookPipeline`. */
  readonly label: string;
  webhookUrl(provider: ProviderId): Promise<string>;
  /** `…/verifications`. */
  readApiBaseUrl(): Promise<string>;
  /** A GET on the read API: plain HTTP locally, SigV4-signed (`execute-api`) in AWS. */
  readGet(url: URL): Promise<Response>;
  queueUrl(queue: QueueKey): Promise<string>;
  /**
   * One reconciliation pass: locally `POST /reconcile` on the running pipeline, in AWS a
   * synchronous invoke of the stack's reconciler. Answers the pass's report.
   */
  reconcile(request: Readonly<Record<string, unknown>>): Promise<unknown>;
  tableName(): Promise<string>;
  sqs(): SQSClient;
  dynamo(): DynamoDBClient;
  streams(): DynamoDBStreamsClient;
  /** Releases the SDK clients (their sockets would keep the process alive). */
  close(): void;
}

const LOCAL_QUEUE_NAMES: Readonly<Record<QueueKey, string>> = {
  events: `${QUEUES.events.nameStem}.fifo`,
  eventsDlq: `${QUEUES.events.nameStem}-dlq.fifo`,
  statusChanges: STATUS_CHANGES_QUEUE_NAME,
  statusChangesDlq: `${QUEUES.statusChanges.nameStem}-dlq.fifo`,
  publisherFailures: PUBLISHER_FAILURES_QUEUE_NAME,
};

const STACK_QUEUE_OUTPUTS: Readonly<Record<QueueKey, string>> = {
  events: OUTPUTS.eventsQueueUrl,
  eventsDlq: OUTPUTS.eventsDlqUrl,
  statusChanges: OUTPUTS.statusChangesQueueUrl,
  statusChangesDlq: OUTPUTS.statusChangesDlqUrl,
  publisherFailures: OUTPUTS.publisherFailuresQueueUrl,
};

/** Memoizes a lazily created value (clients are only built when a command uses them). */
function lazy<T>(create: () => T): { get: () => T; peek: () => T | undefined } {
  let value: T | undefined;
  return { get: () => (value ??= create()), peek: () => value };
}

interface Clients {
  readonly sqs: () => SQSClient;
  readonly dynamo: () => DynamoDBClient;
  readonly streams: () => DynamoDBStreamsClient;
  readonly close: () => void;
}

/** What the SDK clients of one target share: a region, and locally an endpoint and the local-only credentials. */
interface ClientConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  readonly maxAttempts?: number;
}

function clients(config: () => ClientConfig): Clients {
  const sqs = lazy(() => new SQSClient(config()));
  const dynamo = lazy(() => new DynamoDBClient(config()));
  const streams = lazy(() => new DynamoDBStreamsClient(config()));
  return {
    sqs: sqs.get,
    dynamo: dynamo.get,
    streams: streams.get,
    close: () => {
      for (const client of [sqs.peek(), dynamo.peek(), streams.peek()]) client?.destroy();
    },
  };
}

/** The target a command's flags name. `--dynamodb-endpoint` (or AWS_ENDPOINT_URL_DYNAMODB) is DynamoDB Local's address, for the commands that read the table locally. */
export function resolveTarget(flags: Flags, io: CliIo): Target {
  const stackName = stackNameFrom(flags.string("stack"), flags.string("stage"));
  if (stackName === undefined) {
    if (flags.string("region") !== undefined) throw usageError("--region is for a deployed stack: pass --stack or --stage with it");
    return localTarget(flags, io);
  }
  for (const local of ["port", "sqs-port", "dynamodb-endpoint"]) {
    if (flags.string(local) !== undefined) throw usageError(`--${local} is for the local pipeline, not with --stack / --stage`);
  }
  return stackTarget(stackName, flags.string("region"), io);
}

function localTarget(flags: Flags, io: CliIo): Target {
  const portFlag = flags.string("port");
  const port = portFlag === undefined ? localPort(io.env) : flags.wholeNumber("port", 0, { min: 1, max: 65_535 });
  // Each address is checked when a command first uses it (`kyc tail` needs no HTTP port, `kyc send` no SQS one).
  // Port 0 is npm start's "pick a free one": which one it picked is only in what it printed.
  const base = lazy(() => {
    if (port === 0) {
      throw usageError('PORT is 0, so npm start picked a free port: pass it with --port (see npm start\'s "running on" line)');
    }
    return `http://127.0.0.1:${port}`;
  });
  const sqsEndpoint = lazy(() => {
    const sqsPort =
      flags.string("sqs-port") === undefined
        ? localSqsPort({ ...io.env, PORT: String(port) })
        : flags.wholeNumber("sqs-port", 0, { min: 1, max: 65_535 });
    if (sqsPort === 0) {
      throw usageError(
        "the SQS port is 0, so npm start picked a free port: pass it with --sqs-port (see npm start's AWS_ENDPOINT_URL_SQS)",
      );
    }
    return `http://127.0.0.1:${sqsPort}`;
  });
  const dynamoEndpoint = text(flags.string("dynamodb-endpoint")) ?? text(io.env["AWS_ENDPOINT_URL_DYNAMODB"]);
  const sqs = lazy(() => new SQSClient({ ...LOCAL_AWS, endpoint: sqsEndpoint.get(), maxAttempts: 1 }));
  const dynamoClients = clients(() => {
    if (dynamoEndpoint === undefined) {
      throw new CliError(
        "reading the table locally needs DynamoDB Local's address (npm start picks a free port for it): pass --dynamodb-endpoint http://127.0.0.1:<port> or set AWS_ENDPOINT_URL_DYNAMODB",
        2,
      );
    }
    return { ...LOCAL_AWS, endpoint: dynamoEndpoint, maxAttempts: 1 };
  });
  const queueUrls = new Map<QueueKey, Promise<string>>();
  return {
    kind: "local",
    label: port === 0 ? "the local pipeline" : `the local pipeline (http://127.0.0.1:${port})`,
    webhookUrl: async (provider) => `${base.get()}${ROUTES.webhook(provider)}`,
    readApiBaseUrl: async () => `${base.get()}${ROUTES.verifications}`,
    readGet: (url) => fetch(url, io.signal === undefined ? {} : { signal: io.signal }),
    queueUrl: (queue) => {
      let url = queueUrls.get(queue);
      if (url === undefined) {
        url = sqs
          .get()
          .send(new GetQueueUrlCommand({ QueueName: LOCAL_QUEUE_NAMES[queue] }))
          .then((answer) => answer.QueueUrl ?? "");
        queueUrls.set(queue, url);
      }
      return url;
    },
    tableName: async () => TABLE.name,
    reconcile: async (request) => {
      // Not `fetch`: a long pass would outlast its 300 s wait for the answer's headers.
      const answer = await post(
        new URL(`${base.get()}${ROUTES.reconcile}`),
        { "content-type": "application/json" },
        JSON.stringify(request),
        io.signal,
      );
      let body: { error?: unknown } | undefined;
      try {
        body = JSON.parse(answer.body) as { error?: unknown };
      } catch {
        body = undefined;
      }
      if (answer.status < 200 || answer.status > 299)
        throw new CliError(`the local pipeline answered ${answer.status}: ${String(body?.error ?? "?")}`, answer.status === 400 ? 2 : 1);
      return body;
    },
    sqs: sqs.get,
    dynamo: dynamoClients.dynamo,
    streams: dynamoClients.streams,
    close: () => {
      sqs.peek()?.destroy();
      dynamoClients.close();
    },
  };
}

function stackTarget(stackName: string, region: string | undefined, io: CliIo): Target {
  const config = () => (region === undefined ? {} : { region });
  const cloudFormation = lazy(() => new CloudFormationClient(config()));
  let outputs: Promise<StackOutputs> | undefined;
  const output = async (key: string) => {
    outputs ??= describeStackOutputs(cloudFormation.get(), stackName);
    return outputOf(await outputs, stackName, key);
  };
  const aws = clients(config);
  let signer: Promise<SignatureV4> | undefined;
  const signerFor = (url: URL) => {
    signer ??= (async () =>
      executeApiSigner(regionOfApiUrl(url) ?? region ?? (await cloudFormation.get().config.region()), io.aws?.credentials))();
    return signer;
  };
  return {
    kind: "aws",
    label: `stack ${stackName}`,
    webhookUrl: (provider) => output(OUTPUTS.webhookUrl(provider)),
    readApiBaseUrl: () => output(OUTPUTS.readApiBaseUrl),
    readGet: async (url) => signedGet(await signerFor(url), url, io.signal),
    queueUrl: (queue) => output(STACK_QUEUE_OUTPUTS[queue]),
    tableName: () => output(OUTPUTS.tableName),
    reconcile: async (request) => {
      const functionName = await output(OUTPUTS.reconcilerFunctionName);
      const invokeRegion = region ?? (await cloudFormation.get().config.region());
      const endpoint = new URL(text(io.env["AWS_ENDPOINT_URL_LAMBDA"]) ?? `https://lambda.${invokeRegion}.amazonaws.com`);
      return invokeFunction(sigV4Signer("lambda", invokeRegion, io.aws?.credentials), endpoint, functionName, request, io.signal);
    },
    sqs: aws.sqs,
    dynamo: aws.dynamo,
    streams: aws.streams,
    close: () => {
      cloudFormation.peek()?.destroy();
      aws.close();
    },
  };
}
