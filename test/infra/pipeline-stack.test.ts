import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, type CfnElement, type PolicyValidationPluginReport, Validations } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import { FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT, VALIDATION_REPORT_FILE } from "aws-cdk-lib/cx-api";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDER_IDS, type ProviderId } from "../../lambdas/core/event.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";

interface CfnJson {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
}

let outdir: string;
let stack: PipelineStack;
let template: Template;
let resources: Record<string, CfnJson>;
let nagReport: PolicyValidationPluginReport;
let validationReport: { pluginReports: unknown[] };

// One synth for the whole file, with real esbuild bundling and the cdk-nag plugin attached.
// Options: one non-default flag, one default flag, a non-default key derivation, a partial throttle.
beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "kyc-infra-"));
  // Findings are asserted by the cdk-nag tests below rather than thrown by synth (as bin/app.ts does),
  // so that a missing acknowledgement fails those tests with the finding, not the whole file.
  const app = new App({ outdir, context: { [FAIL_SYNTH_ON_VALIDATION_ERRORS_CONTEXT]: false } });
  stack = new PipelineStack(app, "KycWebhookPipeline", {
    providerOptions: { veriffLegacySignature: true, neurovisionKeyDerivation: "sha256-hex-prefix" },
    throttle: { rateLimit: 20 },
  });
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  const assembly = app.synth();
  template = Template.fromJSON(assembly.getStackArtifact(stack.artifactId).template);
  resources = template.toJSON()["Resources"] as Record<string, CfnJson>;
  nagReport = nag.validateScope(app);
  validationReport = JSON.parse(readFileSync(join(assembly.directory, VALIDATION_REPORT_FILE), "utf8")) as typeof validationReport;
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const logicalId = (construct: IConstruct): string => stack.getLogicalId(construct.node.defaultChild as CfnElement);
const props = (id: string): Record<string, unknown> => {
  const resource = resources[id];
  if (!resource) throw new Error(`no resource ${id}`);
  return resource.Properties;
};
const ofType = (type: string): [string, CfnJson][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const getAtt = (id: string, attribute = "Arn") => ({ "Fn::GetAtt": [id, attribute] });

/**
 * The house defaults every KycFunction must have (nodejs22.x, arm64, bundled index.handler, 256 MB,
 * its own role and log group with 30 days' retention) and exactly the environment given.
 */
function expectHouseFunction(fn: string, expected: { role: string; logGroup: string; timeout: number; service: string; env: Record<string, unknown> }): void {
  expect(props(fn)).toMatchObject({
    Runtime: "nodejs22.x",
    Architectures: ["arm64"],
    Handler: "index.handler",
    MemorySize: 256,
    Timeout: expected.timeout,
    Role: getAtt(expected.role),
    LoggingConfig: { LogGroup: { Ref: expected.logGroup } },
  });
  expect(resources[expected.logGroup]).toMatchObject({ Properties: { RetentionInDays: 30 }, DeletionPolicy: "Retain" });
  expect(props(fn)["Environment"]).toEqual({
    Variables: { NODE_OPTIONS: "--enable-source-maps", POWERTOOLS_SERVICE_NAME: expected.service, POWERTOOLS_LOG_LEVEL: "INFO", ...expected.env },
  });
}

/** The event source mappings that invoke a function. */
const mappingsOf = (fn: string): [string, CfnJson][] =>
  ofType("AWS::Lambda::EventSourceMapping").filter(([, m]) => JSON.stringify(m.Properties["FunctionName"]) === JSON.stringify({ Ref: fn }));
const pascal = (id: string): string => id.charAt(0).toUpperCase() + id.slice(1);

interface Statement {
  readonly Effect: string;
  readonly Action: unknown;
  readonly Resource: unknown;
}
/** Every statement of every AWS::IAM::Policy, with the roles its policy is attached to (logical ids). */
const allStatements = (): { roles: string[]; statement: Statement }[] =>
  ofType("AWS::IAM::Policy").flatMap(([, policy]) => {
    const roles = ((policy.Properties["Roles"] ?? []) as unknown[]).map((r) =>
      typeof r === "object" && r !== null && "Ref" in r ? String(r.Ref) : String(r),
    );
    const { Statement } = policy.Properties["PolicyDocument"] as { Statement: Statement[] };
    return Statement.map((statement) => ({ roles, statement }));
  });
/** The statements of the one policy attached to a role, asserting there is exactly one and no inline/managed ones. */
const roleStatements = (role: string): Statement[] => {
  expect(props(role)).not.toHaveProperty("ManagedPolicyArns");
  expect(props(role)).not.toHaveProperty("Policies");
  const attached = ofType("AWS::IAM::Policy").filter(([, p]) => JSON.stringify(p.Properties["Roles"]).includes(`"${role}"`));
  expect(attached).toHaveLength(1);
  return (attached[0]?.[1].Properties["PolicyDocument"] as { Statement: Statement[] }).Statement;
};

describe("events queue", () => {
  it("is a high-throughput FIFO queue, SSE, 14 days, redriving to the FIFO DLQ after 5 receives", () => {
    // Exact: also proves no QueueName (CloudFormation names it) and no content-based dedup.
    expect(props(logicalId(stack.eventsQueue))).toEqual({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      VisibilityTimeout: 6 * 30, // asserted against the consumer's timeout in "consumer function"
      RedrivePolicy: { deadLetterTargetArn: getAtt(logicalId(stack.deadLetterQueue)), maxReceiveCount: 5 },
    });
    expect(props(logicalId(stack.deadLetterQueue))).toEqual({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    // Events queue and DLQ, status-changes queue and DLQ, publisher failures.
    template.resourceCountIs("AWS::SQS::Queue", 5);
  });

  it.each([
    ["events queue", () => stack.eventsQueue] as const,
    ["DLQ", () => stack.deadLetterQueue] as const,
    ["status-changes queue", () => stack.statusChangesQueue] as const,
    ["status-changes DLQ", () => stack.statusChangesDlq] as const,
    ["publisher failures queue", () => stack.publisherFailuresQueue] as const,
  ])(
    "%s denies every request without TLS",
    (_name, queue) => {
      const id = logicalId(queue());
      template.hasResourceProperties("AWS::SQS::QueuePolicy", {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: "Deny",
              Action: "sqs:*",
              Principal: { AWS: "*" },
              Resource: getAtt(id),
              Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
          ]),
        },
      });
    },
  );
});

describe.each(PROVIDER_IDS)("ingest function of %s", (provider) => {
  const ids = () => {
    const fn = stack.ingestFunctions[provider];
    return {
      fn: logicalId(fn),
      role: logicalId(fn.role ?? fn), // KycFunction always has its own role
      logGroup: logicalId(fn.logGroup),
      secret: logicalId(stack.webhookSecrets[provider]),
      queue: logicalId(stack.eventsQueue),
    };
  };

  it("has the house defaults, PROVIDER_ID, its resources and only its own option variable", () => {
    const { fn, role, logGroup, secret, queue } = ids();
    const options: Record<ProviderId, Record<string, string>> = {
      veriff: { VERIFF_LEGACY_SIGNATURE: "true" },
      idngo: { IDNGO_ALLOW_SHA1: "false" },
      idbeyond: {},
      neurovision: { NEUROVISION_KEY_DERIVATION: "sha256-hex-prefix" },
    };
    expectHouseFunction(fn, {
      role,
      logGroup,
      timeout: 10,
      service: `kyc-ingest-${provider}`,
      env: { PROVIDER_ID: provider, WEBHOOK_SECRETS_ARN: { Ref: secret }, EVENTS_QUEUE_URL: { Ref: queue }, ...options[provider] },
    });
  });

  it("has its own role allowed exactly: write its logs, read its secret, send to the queue", () => {
    const { role, logGroup, secret, queue } = ids();
    expect(props(role)).not.toHaveProperty("ManagedPolicyArns");
    expect(props(role)).not.toHaveProperty("Policies");
    const attached = ofType("AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties["Roles"]).includes(`"${role}"`),
    );
    expect(attached).toHaveLength(1);
    const statements = (attached[0]?.[1].Properties["PolicyDocument"] as { Statement: unknown }).Statement;
    expect(statements).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: { Ref: secret } },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) },
    ]);
    for (const other of PROVIDER_IDS.filter((p) => p !== provider)) {
      expect(JSON.stringify(statements)).not.toContain(logicalId(stack.webhookSecrets[other]));
    }
  });

  it("is the target of POST /webhooks/" + provider + " (payload v2, no other route)", () => {
    const { fn } = ids();
    const routes = ofType("AWS::ApiGatewayV2::Route").filter(([, r]) => r.Properties["RouteKey"] === `POST /webhooks/${provider}`);
    expect(routes).toHaveLength(1);
    const integrations = ofType("AWS::ApiGatewayV2::Integration").filter(
      ([, i]) => JSON.stringify(i.Properties["IntegrationUri"]) === JSON.stringify(getAtt(fn)),
    );
    expect(integrations).toHaveLength(1);
    const [integrationId, integration] = integrations[0] ?? [];
    expect(integration?.Properties).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    expect(routes[0]?.[1].Properties["Target"]).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: integrationId }]] });
    // API Gateway may invoke the function only for its own route.
    template.hasResourceProperties("AWS::Lambda::Permission", {
      FunctionName: getAtt(fn),
      Principal: "apigateway.amazonaws.com",
      SourceArn: { "Fn::Join": ["", Match.arrayWith([`/*/*/webhooks/${provider}`])] },
    });
  });

  it("has a secret initialised to an empty list, and outputs for the operator", () => {
    const { secret } = ids();
    expect(props(secret)["SecretString"]).toBe("[]");
    expect(props(secret)["Description"]).toMatch(/JSON array/);
    const api = logicalId(stack.api);
    template.hasOutput(`${pascal(provider)}WebhookUrl`, {
      Value: { "Fn::Join": ["", [getAtt(api, "ApiEndpoint"), `/webhooks/${provider}`]] },
    });
    template.hasOutput(`${pascal(provider)}SecretArn`, { Value: { Ref: secret } });
  });
});

describe("verifications table", () => {
  it("has the keys and GSI of lambdas/core/table.ts, on-demand, AWS-managed SSE, PITR, deletion protection, retained", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    const id = logicalId(stack.table);
    // Exact: also proves no TableName (CloudFormation names it) and no provisioned throughput.
    expect(props(id)).toEqual({
      KeySchema: [
        { AttributeName: "correlationId", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "correlationId", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
        { AttributeName: "subjectKey", AttributeType: "S" },
        { AttributeName: "updatedAt", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      // SSEEnabled without SSEType/KMSMasterKeyId: KMS with the AWS managed key aws/dynamodb.
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // Feeds the status-change publisher (see "status-change publisher").
      StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
      DeletionProtectionEnabled: true, // default; -c tableDeletionProtection=false: test/infra/cdk-synth.test.ts
      GlobalSecondaryIndexes: [
        {
          IndexName: "bySubject",
          KeySchema: [
            { AttributeName: "subjectKey", KeyType: "HASH" },
            { AttributeName: "updatedAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    });
    expect(resources[id]).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("is outputs' VerificationsTableName and VerificationsTableArn", () => {
    const id = logicalId(stack.table);
    template.hasOutput("VerificationsTableName", { Value: { Ref: id } });
    template.hasOutput("VerificationsTableArn", { Value: getAtt(id) });
  });
});

describe("consumer function", () => {
  const ids = () => {
    const fn = stack.consumerFunction;
    return {
      fn: logicalId(fn),
      role: logicalId(fn.role ?? fn),
      logGroup: logicalId(fn.logGroup),
      table: logicalId(stack.table),
      queue: logicalId(stack.eventsQueue),
    };
  };

  it("runs the bundled consumer handler for 30 s at most, with TABLE_NAME and nothing else of ours", () => {
    const { fn, role, logGroup, table } = ids();
    expectHouseFunction(fn, { role, logGroup, timeout: 30, service: "kyc-consumer", env: { TABLE_NAME: { Ref: table } } });
  });

  it("is fed by the events queue: batches of 10, partial batch responses, at most 5 concurrent", () => {
    const { fn, queue } = ids();
    const mappings = mappingsOf(fn);
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
    const timeout = props(fn)["Timeout"];
    expect(typeof timeout).toBe("number");
    expect(props(queue)["VisibilityTimeout"]).toBe(6 * (timeout as number));
    expect(props(queue)["RedrivePolicy"]).toMatchObject({ maxReceiveCount: 5 });
  });

  it("has its own role allowed exactly: write its logs, item actions on the table, consume the queue", () => {
    const { role, logGroup, table, queue } = ids();
    expect(props(role)).not.toHaveProperty("ManagedPolicyArns");
    expect(props(role)).not.toHaveProperty("Policies");
    const attached = ofType("AWS::IAM::Policy").filter(([, p]) =>
      JSON.stringify(p.Properties["Roles"]).includes(`"${role}"`),
    );
    expect(attached).toHaveLength(1);
    expect((attached[0]?.[1].Properties["PolicyDocument"] as { Statement: unknown }).Statement).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      {
        Effect: "Allow",
        // TransactWriteItems is authorized per item; no Scan, DeleteItem, batch actions or index ARN.
        Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:ConditionCheckItem"],
        Resource: getAtt(table),
      },
      {
        Effect: "Allow",
        Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        Resource: getAtt(queue),
      },
    ]);
  });

  it("is the only one allowed to write the table or to receive from the events queue", () => {
    const { role, queue } = ids();
    for (const { roles, statement } of allStatements()) {
      if (roles.includes(role)) continue;
      const actions = JSON.stringify(statement.Action);
      for (const write of ["PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem", "dynamodb:*"]) {
        expect(actions).not.toContain(write);
      }
      if (JSON.stringify(statement.Resource).includes(`"${queue}"`)) expect(actions).not.toContain("sqs:ReceiveMessage");
    }
  });
});

describe("status-changes queue", () => {
  it("is a high-throughput FIFO queue, SSE, 14 days, redriving to its FIFO DLQ after 5 receives", () => {
    // Exact: CloudFormation names it, and the publisher sets the deduplication id (no content-based dedup).
    expect(props(logicalId(stack.statusChangesQueue))).toEqual({
      FifoQueue: true,
      ContentBasedDeduplication: false,
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
      VisibilityTimeout: 6 * 30, // fits a downstream Lambda consumer with a timeout up to 30 s
      RedrivePolicy: { deadLetterTargetArn: getAtt(logicalId(stack.statusChangesDlq)), maxReceiveCount: 5 },
    });
    expect(props(logicalId(stack.statusChangesDlq))).toEqual({
      FifoQueue: true,
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("has no consumer in the stack itself: only the publisher may touch it, and only to send", () => {
    const queue = logicalId(stack.statusChangesQueue);
    const publisherRole = logicalId(stack.publisherFunction.role ?? stack.publisherFunction);
    const onQueue = allStatements().filter(({ statement }) => JSON.stringify(statement.Resource).includes(`"${queue}"`));
    expect(onQueue).toEqual([{ roles: [publisherRole], statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) } }]);
    // The queue policy only denies requests without TLS.
    const queuePolicies = ofType("AWS::SQS::QueuePolicy").filter(([, p]) => JSON.stringify(p.Properties["Queues"]) === JSON.stringify([{ Ref: queue }]));
    expect(queuePolicies).toHaveLength(1);
    const { Statement } = queuePolicies[0]?.[1].Properties["PolicyDocument"] as { Statement: { Effect: string }[] };
    expect(Statement.map((st) => st.Effect)).toEqual(["Deny"]);
  });

  it("is a standard queue that takes the publisher's failed batches (FIFO can't be a stream on-failure destination)", () => {
    expect(props(logicalId(stack.publisherFailuresQueue))).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });

  it("outputs the status-changes queue URL and ARN, its DLQ URL and the publisher failures URL", () => {
    template.hasOutput("StatusChangesQueueUrl", { Value: { Ref: logicalId(stack.statusChangesQueue) } });
    template.hasOutput("StatusChangesQueueArn", { Value: getAtt(logicalId(stack.statusChangesQueue)) });
    template.hasOutput("StatusChangesDlqUrl", { Value: { Ref: logicalId(stack.statusChangesDlq) } });
    template.hasOutput("PublisherFailuresQueueUrl", { Value: { Ref: logicalId(stack.publisherFailuresQueue) } });
  });
});

describe("status-change publisher", () => {
  const ids = () => {
    const fn = stack.publisherFunction;
    return {
      fn: logicalId(fn),
      role: logicalId(fn.role ?? fn),
      logGroup: logicalId(fn.logGroup),
      table: logicalId(stack.table),
      queue: logicalId(stack.statusChangesQueue),
      failures: logicalId(stack.publisherFailuresQueue),
    };
  };

  it("runs the bundled publisher handler for 30 s at most, with the status-changes and failure queue URLs and nothing else of ours", () => {
    const { fn, role, logGroup, queue, failures } = ids();
    expectHouseFunction(fn, {
      role,
      logGroup,
      timeout: 30,
      service: "kyc-publisher",
      // The failure queue is the mapping's on-failure destination too: the one sqs:SendMessage grant below covers both.
      env: { STATUS_CHANGES_QUEUE_URL: { Ref: queue }, PUBLISHER_FAILURES_QUEUE_URL: { Ref: failures } },
    });
  });

  it("reads the table's stream: state items only, in order per shard, retried without limit up to 12 h, failures reported", () => {
    const { fn, table, failures } = ids();
    const mappings = mappingsOf(fn);
    expect(mappings).toHaveLength(1);
    const mapping = mappings[0]?.[1].Properties ?? {};
    expect(mapping).toEqual({
      EventSourceArn: getAtt(table, "StreamArn"),
      FunctionName: { Ref: fn },
      StartingPosition: "TRIM_HORIZON",
      BatchSize: 10,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      BisectBatchOnFunctionError: true,
      // -1 = retry until the record is too old (the default, written out); then the batch goes to the failure queue.
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 12 * 3600,
      FilterCriteria: { Filters: [{ Pattern: expect.any(String) as unknown }] },
      DestinationConfig: { OnFailure: { Destination: getAtt(failures) } },
    });
    const [filter] = (mapping["FilterCriteria"] as { Filters: { Pattern: string }[] }).Filters;
    expect(JSON.parse(filter?.Pattern ?? "null")).toEqual({ dynamodb: { Keys: { sk: { S: ["STATE"] } } } });
  });

  it("has its own role allowed exactly: write its logs, send status changes, read the stream, report failures", () => {
    const { role, logGroup, table, queue, failures } = ids();
    expect(roleStatements(role)).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(queue) },
      {
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: getAtt(table, "StreamArn"),
      },
      // ListStreams has no resource-level permissions; acknowledged for cdk-nag below.
      { Effect: "Allow", Action: "dynamodb:ListStreams", Resource: "*" },
      { Effect: "Allow", Action: "sqs:SendMessage", Resource: getAtt(failures) },
    ]);
  });

  it("is the only one allowed to read the stream", () => {
    const { role } = ids();
    for (const { roles, statement } of allStatements()) {
      if (roles.includes(role)) continue;
      expect(JSON.stringify(statement.Resource)).not.toContain("StreamArn");
      for (const action of ["DescribeStream", "GetRecords", "GetShardIterator", "ListStreams"]) {
        expect(JSON.stringify(statement.Action)).not.toContain(action);
      }
    }
  });
});

describe("read API", () => {
  const ids = () => {
    const fn = stack.readFunction;
    return { fn: logicalId(fn), role: logicalId(fn.role ?? fn), logGroup: logicalId(fn.logGroup), table: logicalId(stack.table) };
  };

  it("runs the bundled read handler with TABLE_NAME and nothing else of ours", () => {
    const { fn, role, logGroup, table } = ids();
    expectHouseFunction(fn, { role, logGroup, timeout: 10, service: "kyc-read", env: { TABLE_NAME: { Ref: table } } });
  });

  it("has its own role allowed exactly: write its logs, GetItem and Query on the table, Query on bySubject", () => {
    const { role, logGroup, table } = ids();
    expect(roleStatements(role)).toEqual([
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: getAtt(table) },
      { Effect: "Allow", Action: "dynamodb:Query", Resource: { "Fn::Join": ["", [getAtt(table), "/index/bySubject"]] } },
    ]);
  });

  it("leaves the table to the consumer and the read function: no other role names it or its stream", () => {
    const table = logicalId(stack.table);
    const allowed = [logicalId(stack.consumerFunction.role ?? stack.consumerFunction), ids().role];
    const publisher = logicalId(stack.publisherFunction.role ?? stack.publisherFunction);
    for (const { roles, statement } of allStatements()) {
      if (roles.some((r) => allowed.includes(r))) continue;
      const resource = JSON.stringify(statement.Resource);
      if (roles.includes(publisher)) {
        // The publisher reads the stream (and lists streams): nothing on the table or its index.
        if (resource.includes(`"${table}"`)) expect(statement.Resource).toEqual(getAtt(table, "StreamArn"));
        continue;
      }
      expect(resource).not.toContain(table);
      expect(JSON.stringify(statement.Action)).not.toContain("dynamodb:");
    }
  });

  it.each([
    ["GET /verifications", "/verifications"],
    ["GET /verifications/{correlationId}", "/verifications/{correlationId}"],
  ])("routes %s to the read function behind IAM authorization (payload v2)", (routeKey, path) => {
    const { fn } = ids();
    const routes = ofType("AWS::ApiGatewayV2::Route").filter(([, r]) => r.Properties["RouteKey"] === routeKey);
    expect(routes).toHaveLength(1);
    const route = routes[0]?.[1].Properties ?? {};
    expect(route["AuthorizationType"]).toBe("AWS_IAM");
    const integrations = ofType("AWS::ApiGatewayV2::Integration").filter(
      ([, i]) => JSON.stringify(i.Properties["IntegrationUri"]) === JSON.stringify(getAtt(fn)),
    );
    expect(integrations).toHaveLength(1); // one integration for both routes
    const [integrationId, integration] = integrations[0] ?? [];
    expect(integration?.Properties).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    expect(route["Target"]).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: integrationId }]] });
    template.hasResourceProperties("AWS::Lambda::Permission", {
      FunctionName: getAtt(fn),
      Principal: "apigateway.amazonaws.com",
      SourceArn: { "Fn::Join": ["", Match.arrayWith([`/*/*${path}`])] },
    });
  });

  it("outputs the read API's base URL", () => {
    template.hasOutput("ReadApiBaseUrl", {
      Value: { "Fn::Join": ["", [getAtt(logicalId(stack.api), "ApiEndpoint"), "/verifications"]] },
    });
  });
});

describe("HTTP API", () => {
  it("has one webhook route per provider without authorization (the Lambda checks signatures), and the two IAM read routes", () => {
    const routes = ofType("AWS::ApiGatewayV2::Route").map(([, r]) => [r.Properties["RouteKey"], r.Properties["AuthorizationType"]]);
    expect(routes.sort()).toEqual(
      [
        ...PROVIDER_IDS.map((p) => [`POST /webhooks/${p}`, "NONE"]),
        ["GET /verifications", "AWS_IAM"],
        ["GET /verifications/{correlationId}", "AWS_IAM"],
      ].sort(),
    );
    // One ingest function per provider, the consumer and the publisher (no route), the read function.
    template.resourceCountIs("AWS::Lambda::Function", PROVIDER_IDS.length + 3);
    template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0); // IAM authorization needs no authorizer resource
  });

  it("has a single auto-deployed $default stage with throttling and minimal JSON access logs", () => {
    const stages = ofType("AWS::ApiGatewayV2::Stage");
    expect(stages).toHaveLength(1);
    const stage = stages[0]?.[1].Properties ?? {};
    expect(stage).toMatchObject({
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 100 },
    });
    const access = stage["AccessLogSettings"] as { DestinationArn: { "Fn::GetAtt": [string, string] }; Format: string };
    const [logGroupId] = access.DestinationArn["Fn::GetAtt"];
    expect(resources[logGroupId]).toMatchObject({ Type: "AWS::Logs::LogGroup", Properties: { RetentionInDays: 30 } });
    expect(JSON.parse(access.Format)).toEqual({
      requestId: "$context.requestId",
      routeKey: "$context.routeKey",
      status: "$context.status",
      responseLength: "$context.responseLength",
      requestTime: "$context.requestTime",
      integrationErrorMessage: "$context.integrationErrorMessage",
    });
  });
});

describe("IAM and outputs", () => {
  it("grants no wildcard action or resource anywhere but dynamodb:ListStreams on '*' (no resource-level permissions)", () => {
    const wildcards = allStatements().filter(
      ({ statement }) => JSON.stringify(statement.Action).includes("*") || JSON.stringify(statement.Resource).includes("*"),
    );
    expect(wildcards.map(({ roles, statement }) => ({ roles, statement }))).toEqual([
      {
        roles: [logicalId(stack.publisherFunction.role ?? stack.publisherFunction)],
        statement: { Effect: "Allow", Action: "dynamodb:ListStreams", Resource: "*" },
      },
    ]);
  });

  it("outputs the events queue URL and ARN and the DLQ URL", () => {
    template.hasOutput("EventsQueueUrl", { Value: { Ref: logicalId(stack.eventsQueue) } });
    template.hasOutput("EventsQueueArn", { Value: getAtt(logicalId(stack.eventsQueue)) });
    template.hasOutput("EventsDlqUrl", { Value: { Ref: logicalId(stack.deadLetterQueue) } });
  });

  it("has no principal outside the stack: no grantee policy, no queue policy Allow, no deploy-time rule", () => {
    for (const [, policy] of ofType("AWS::SQS::QueuePolicy")) {
      const { Statement } = policy.Properties["PolicyDocument"] as { Statement: { Effect: string }[] };
      expect(Statement.map((st) => st.Effect)).toEqual(["Deny"]);
    }
    expect(Object.keys(template.toJSON()["Rules"] as object)).toEqual(["CheckBootstrapVersion"]);
  });
});

describe("cdk-nag AwsSolutions", () => {
  it("leaves no unacknowledged error or warning", () => {
    const findings = nagReport.violations.map(
      (v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(", ")}`,
    );
    expect(findings).toEqual([]);
    // What synth reports (every validation plugin, after acknowledgements) is empty too.
    expect(validationReport.pluginReports).toEqual([]);
  });

  it("acknowledges only the expected rules, where expected, each with a reason", () => {
    const acknowledged = new Map<string, { paths: string[]; reasons: string[] }>();
    for (const construct of stack.node.findAll()) {
      for (const entry of construct.node.metadata) {
        if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
          const key = id.replace(/^annotation::/i, "");
          const seen = acknowledged.get(key) ?? { paths: [], reasons: [] };
          seen.paths.push(construct.node.path.replace(/^KycWebhookPipeline\//, ""));
          seen.reasons.push(reason);
          acknowledged.set(key, seen);
        }
      }
    }
    expect([...acknowledged.keys()].sort()).toEqual([
      "AwsSolutions-APIG4",
      "AwsSolutions-IAM5[Resource::*]",
      "AwsSolutions-L1",
      "AwsSolutions-SMG4",
      "AwsSolutions-SQS3",
    ]);
    // No authorization only on the webhook routes; '*' only on the publisher's role (ListStreams);
    // no DLQ only on the queue that is itself the publisher's failure destination.
    expect(acknowledged.get("AwsSolutions-APIG4")?.paths.sort()).toEqual(
      PROVIDER_IDS.map((p) => `WebhookApi/POST--webhooks--${p}`).sort(),
    );
    expect(acknowledged.get("AwsSolutions-IAM5[Resource::*]")?.paths).toEqual(["PublisherRole"]);
    expect(acknowledged.get("AwsSolutions-SQS3")?.paths).toEqual(["PublisherFailures"]);
    for (const { reasons } of acknowledged.values()) for (const reason of reasons) expect(reason.length).toBeGreaterThan(40);
  });
});
