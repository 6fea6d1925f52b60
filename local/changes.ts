/**
 * `npm run changes [-- --follow]`: a small downstream consumer of the local status-changes
 * queue. Receives the messages, prints them, and deletes them (as your own consumer would).
 */
import { parseArgs } from "node:util";
import { DeleteMessageBatchCommand, GetQueueUrlCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { StatusChange } from "../lambdas/publisher/change.js";
import { localSqsPort, STATUS_CHANGES_QUEUE_NAME } from "./pipeline.js";
import { LOCAL_AWS } from "./sqs.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";

const HELP = `Usage: npm run changes -- [--follow] [--keep] [--sqs-port <n>]

Reads the local status-changes queue (npm start must be running) and prints each change.
  --follow         keep waiting for new changes (Ctrl-C to stop)
  --keep           leave the messages on the queue (default: delete them, as a consumer does)
  --sqs-port <n>   the local SQS port (default: $SQS_PORT, else $PORT + 1, i.e. 3001)
`;

const { values } = parseArgs({
  options: {
    follow: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "sqs-port": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}

const port = values["sqs-port"] ?? String(localSqsPort(process.env));
const sqs = new SQSClient({ ...LOCAL_AWS, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 });
let queueUrl: string;
try {
  queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: STATUS_CHANGES_QUEUE_NAME }))).QueueUrl ?? "";
} catch {
  console.error(`No local SQS server on 127.0.0.1:${port}: start the local pipeline first with \`npm start\`.`);
  process.exit(1);
}

let seen = 0;
for (;;) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: values.follow ? 10 : 1,
      VisibilityTimeout: 30,
    }),
  );
  for (const message of Messages) {
    const change = JSON.parse(message.Body ?? "{}") as StatusChange;
    seen += 1;
    console.log(
      `${change.changedAt}  ${change.correlationId}  ${change.previousStatus ?? "(new)"} → ${change.status}   (event ${change.eventId})`,
    );
    console.log(`  ${JSON.stringify(change)}`);
  }
  if (!values.keep && Messages.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? "" })),
      }),
    );
  }
  if (Messages.length === 0 && !values.follow) break;
}
if (seen === 0) console.log("No status change waiting. Send a webhook first: npm run send -- veriff approved");
