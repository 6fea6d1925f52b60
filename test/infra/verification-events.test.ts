import { Stack } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { VerificationEvents } from "../../lib/verification-events.js";
import { VerificationsTable } from "../../lib/verifications-table.js";
import {
  expectNagClean,
  getAtt,
  logicalIdOf,
  roleIdOf,
  type StackTemplate,
  type Synthesized,
  synthWithNag,
  XRAY_STATEMENT,
} from "../support/cdk.js";

let synth: Synthesized;
let t: StackTemplate;
let verifications: VerificationsTable;
let events: VerificationEvents;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test");
    verifications = new VerificationsTable(stack, "VerificationsTable");
    events = new VerificationEvents(stack, "VerificationEvents", { table: verifications.table });
  });
  t = synth.template(Stack.of(events));
});

const ids = () => {
  const fn = events.consumerFunction;
  return {
    fn: logicalIdOf(fn),
    role: roleIdOf(fn),
    logGroup: logicalIdOf(fn.logGroup),
    table: logicalIdOf(verifications.table),
    queue: logicalIdOf(events.eventsQueue),
  };
};

describe("events queue", () => {
  it("is a high-throughput FIFO queue, SSE, TLS only, 14 days, redriving to the FIFO DLQ after 5 receives", () => {
    expect(events.queues.queue).toBe(events.eventsQueue);
    expect(events.queues.dlq).toBe(events.eventsDlq);
    // Visibility asserted against the consumer's timeout in "consumer function".
    t.expectFifoQueueWithDlq(events.queues, { visibilityTimeout: 6 * 30, retentionDays: 14, maxReceiveCount: 5 });
    t.template.resourceCountIs("AWS::SQS::Queue", 2);
  });

  it("outputs the events queue URL and ARN and the DLQ URL", () => {
    t.template.hasOutput("EventsQueueUrl", { Value: { Ref: logicalIdOf(events.eventsQueue) } });
    t.template.hasOutput("EventsQueueArn", { Value: getAtt(logicalIdOf(events.eventsQueue)) });
    t.template.hasOutput("EventsDlqUrl", { Value: { Ref: logicalIdOf(events.eventsDlq) } });
  });
});

describe("consumer function", () => {
  it("runs the bundled consumer handler for 30 s at most, with TABLE_NAME and nothing else of ours", () => {
    const { table } = ids();
    t.expectHouseFunction(events.consumerFunction, { timeout: 30, service: "kyc-consumer", env: { TABLE_NAME: { Ref: table } } });
  });

  it("is fed by the events queue: batches of 10, partial batch responses, at most 5 concurrent", () => {
    const { fn, queue } = ids();
    const mappings = t.mappingsOf(fn);
    expect(mappings).toHaveLength(1);
    expect(mappings[0]?.[1].Properties).toEqual({
      EventSourceArn: getAtt(queue),
      FunctionName: { Ref: fn },
      BatchSize: 10,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });

  it("leaves messages invisible for 6x its timeout, and the DLQ takes them after 5 receives", () => {
    const { fn, queue } = ids();
    const timeout = t.props(fn)["Timeout"];
    expect(typeof timeout).toBe("number");
    expect(t.props(queue)["VisibilityTimeout"]).toBe(6 * (timeout as number));
    expect(t.props(queue)["RedrivePolicy"]).toMatchObject({ maxReceiveCount: 5 });
  });

  it("has its own role allowed exactly: trace, write its logs, item actions on the table, consume the queue", () => {
    const { role, logGroup, table, queue } = ids();
    expect(t.roleStatements(role)).toEqual([
      XRAY_STATEMENT, // active tracing: acknowledged for cdk-nag on the role (X-Ray has no resource-level permissions)
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      {
        Effect: "Allow",
        // TransactWriteItems is authorized per item; no Scan, DeleteItem, batch actions or index ARN.
        Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
        Resource: getAtt(table),
      },
      {
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        Resource: getAtt(queue),
      },
    ]);
  });
});

describe("VerificationEvents and cdk-nag", () => {
  it("passes", () => {
    expectNagClean(synth);
  });
});
