import { Stack } from "aws-cdk-lib";
import { beforeAll, describe, expect, it } from "vitest";
import { StatusChanges } from "../../lib/status-changes.js";
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
let changes: StatusChanges;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test");
    verifications = new VerificationsTable(stack, "VerificationsTable");
    changes = new StatusChanges(stack, "StatusChanges", { table: verifications.table });
  });
  t = synth.template(Stack.of(changes));
});

const ids = () => {
  const fn = changes.publisherFunction;
  return {
    fn: logicalIdOf(fn),
    role: roleIdOf(fn),
    logGroup: logicalIdOf(fn.logGroup),
    table: logicalIdOf(verifications.table),
    queue: logicalIdOf(changes.statusChangesQueue),
    failures: logicalIdOf(changes.publisherFailuresQueue),
  };
};

describe("status-changes queue", () => {
  it("is a high-throughput FIFO queue, SSE, TLS only, 14 days, redriving to its FIFO DLQ after 5 receives", () => {
    expect(changes.queues.queue).toBe(changes.statusChangesQueue);
    expect(changes.queues.dlq).toBe(changes.statusChangesDlq);
    // The publisher sets the deduplication id; the visibility fits a downstream Lambda consumer with a timeout up to 30 s.
    t.expectFifoQueueWithDlq(changes.queues, { visibilityTimeout: 6 * 30, retentionDays: 14, maxReceiveCount: 5 });
  });

  it("is a standard queue, SSE, TLS only, 14 days, that takes the publisher's failed batches (FIFO can't be a stream on-failure destination)", () => {
    expect(t.props(ids().failures)).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    t.expectTlsOnly(changes.publisherFailuresQueue);
    // The status-changes queue and its DLQ, the failures queue.
    t.template.resourceCountIs("AWS::SQS::Queue", 3);
  });

  it("outputs the status-changes queue URL and ARN, its DLQ URL and the publisher failures URL", () => {
    const { queue, failures } = ids();
    t.template.hasOutput("StatusChangesQueueUrl", { Value: { Ref: queue } });
    t.template.hasOutput("StatusChangesQueueArn", { Value: getAtt(queue) });
    t.template.hasOutput("StatusChangesDlqUrl", {
      Value: { Ref: logicalIdOf(changes.statusChangesDlq) },
      Description: "Status changes a downstream consumer failed 5 times",
    });
    t.template.hasOutput("PublisherFailuresQueueUrl", { Value: { Ref: failures } });
  });
});

describe("status-change publisher", () => {
  it("runs the bundled publisher handler for 30 s at most, with the status-changes and failure queue URLs and nothing else of ours", () => {
    const { queue, failures } = ids();
    t.expectHouseFunction(changes.publisherFunction, {
      timeout: 30,
      service: "kyc-publisher",
      // The failure queue is the mapping's on-failure destination too: the one sqs:SendMessage grant below covers both.
      env: { STATUS_CHANGES_QUEUE_URL: { Ref: queue }, PUBLISHER_FAILURES_QUEUE_URL: { Ref: failures } },
    });
  });

  it("reads the table's stream: state items only, in order per shard, retried without limit up to 12 h, failures reported", () => {
    const { fn, table, failures } = ids();
    const mappings = t.mappingsOf(fn);
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.[1].Properties ?? {};
    expect(mapping).toEqual({
      EventSourceArn: getAtt(table, "StreamArn"),
      FunctionName: { Ref: fn },
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 100,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BisectBatchOnFunctionError: true,
      // -1 = retry until the record is too old (the default, written out); then the batch goes to the failure queue.
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 12 * 3600,
      FilterCriteria: { Filters: [{ Pattern: expect.any(String) as unknown }, { Pattern: expect.any(String) as unknown }] },
      DestinationConfig: { OnFailure: { Destination: getAtt(failures) } },
    });
    // Only writes of the state item that changed its status (or that predate the `statusChanged` attribute).
    const filters = (mapping["FilterCriteria"] as { Filters: { Pattern: string }[] }).Filters.map((f) => JSON.parse(f.Pattern) as unknown);
    expect(filters).toEqual([
      {
        eventName: ["INSERT", "MODIFY"],
        dynamodb: { Keys: { sk: { S: ["STATE"] } }, NewImage: { statusChanged: { BOOL: [true] } } },
      },
      {
        eventName: ["INSERT", "MODIFY"],
        dynamodb: { Keys: { sk: { S: ["STATE"] } }, NewImage: { statusChanged: { BOOL: [{ exists: false }] } } },
      },
    ]);
  });

  it("has its own role allowed exactly: trace, write its logs, send status changes, read the stream, report failures", () => {
    const { role, logGroup, table, queue, failures } = ids();
    expect(t.roleStatements(role)).toEqual([
      XRAY_STATEMENT, // active tracing: acknowledged for cdk-nag on the role (X-Ray has no resource-level permissions)
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) },
      {
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: getAtt(table, "StreamArn"),
      },
      // ListStreams has no resource-level permissions; acknowledged for cdk-nag on the role.
      { Effect: "Allow", Action: "dynamodb:ListStreams", Resource: "*" },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(failures) },
    ]);
  });
});

describe("StatusChanges and cdk-nag", () => {
  it("passes: ListStreams on '*' and the failure queue without DLQ are acknowledged", () => {
    expectNagClean(synth);
  });
});
