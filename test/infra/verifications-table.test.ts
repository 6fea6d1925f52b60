import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { VerificationsTable } from "../../lib/verifications-table.js";
import { expectNagClean, getAtt, logicalIdOf, type StackTemplate, type Synthesized, synthWithNag } from "../support/cdk.js";

let synth: Synthesized;
let t: StackTemplate;
let verifications: VerificationsTable;
let unprotected: VerificationsTable;
let provisioned: VerificationsTable;
const CAPACITY = { minReadUnits: 2, maxReadUnits: 300, minWriteUnits: 10, maxWriteUnits: 900, targetUtilizationPercent: 60 };

beforeAll(() => {
  synth = synthWithNag((app) => {
    verifications = new VerificationsTable(new Stack(app, "Test"), "VerificationsTable");
    unprotected = new VerificationsTable(new Stack(app, "Unprotected"), "VerificationsTable", { deletionProtection: false });
    provisioned = new VerificationsTable(new Stack(app, "Provisioned"), "VerificationsTable", {
      legacySubjectIndex: false,
      provisioned: CAPACITY,
    });
  });
  t = synth.template(Stack.of(verifications));
});

describe("VerificationsTable", () => {
  it("has the keys and GSI of the contract's TABLE, on-demand, AWS-managed SSE, PITR, deletion protection, retained", () => {
    t.template.resourceCountIs("AWS::DynamoDB::Table", 1);
    const id = logicalIdOf(verifications.table);
    // Exact: also proves no TableName (CloudFormation names it) and no provisioned throughput.
    expect(t.props(id)).toEqual({
      KeySchema: [
        { AttributeName: "correlationId", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "correlationId", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "S" },
        { AttributeName: "subjectKey", AttributeType: "S" },
        { AttributeName: "updatedAt", AttributeType: "S" },
        { AttributeName: "createdAt", AttributeType: "S" },
        { AttributeName: "pendingKey", AttributeType: "S" },
        { AttributeName: "pendingSince", AttributeType: "S" },
      ],
      BillingMode: "PAY_PER_REQUEST",
      // SSEEnabled without SSEType/KMSMasterKeyId: KMS with the AWS managed key aws/dynamodb.
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      // Feeds the status-change publisher (test/infra/status-changes.test.ts).
      StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
      DeletionProtectionEnabled: true, // default; -c tableDeletionProtection=false: test/infra/cdk-synth.test.ts
      // The index of earlier versions stays (an upgrade adds one index per update), then the
      // keys-only index on the immutable createdAt that the read API uses.
      GlobalSecondaryIndexes: [
        {
          IndexName: "bySubject",
          KeySchema: [
            { AttributeName: "subjectKey", KeyType: "HASH" },
            { AttributeName: "updatedAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
        {
          IndexName: "bySubjectCreated",
          KeySchema: [
            { AttributeName: "subjectKey", KeyType: "HASH" },
            { AttributeName: "createdAt", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
        {
          // The reconciler's sparse index of verifications that are not in a final status.
          IndexName: "byPendingSince",
          KeySchema: [
            { AttributeName: "pendingKey", KeyType: "HASH" },
            { AttributeName: "pendingSince", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "KEYS_ONLY" },
        },
      ],
    });
    expect(t.resources[id]).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("retires the index of earlier versions with legacySubjectIndex: false (the second deploy of an upgrade), keeping the table", () => {
    const stack = new Stack();
    const retired = new VerificationsTable(stack, "VerificationsTable", { legacySubjectIndex: false });
    const props = Template.fromStack(stack).toJSON()["Resources"][logicalIdOf(retired.table)]["Properties"] as Record<string, unknown>;
    expect((props["GlobalSecondaryIndexes"] as { IndexName: string }[]).map((i) => i.IndexName)).toEqual([
      "bySubjectCreated",
      "byPendingSince",
    ]);
    expect(logicalIdOf(retired.table)).toBe(logicalIdOf(verifications.table));
  });

  it("the documented upgrade deploys change one index each (CloudFormation's limit per table update), never the table's logical ID", () => {
    const indexesOf = (props: ConstructorParameters<typeof VerificationsTable>[2]) => {
      const stack = new Stack();
      const table = new VerificationsTable(stack, "VerificationsTable", props);
      const template = Template.fromStack(stack).toJSON()["Resources"] as Record<string, { Properties: Record<string, unknown> }>;
      const indexes = (template[logicalIdOf(table.table)]?.Properties["GlobalSecondaryIndexes"] ?? []) as { IndexName: string }[];
      return { id: logicalIdOf(table.table), names: new Set(indexes.map((i) => i.IndexName)) };
    };
    // docs/deploy.md, Upgrading: the index set of each deploy, from a stack with only `bySubject`.
    const deploys = [
      { names: new Set(["bySubject"]), id: logicalIdOf(verifications.table) }, // versions before bySubjectCreated
      indexesOf({ pendingIndex: false }), // 1. adds bySubjectCreated
      indexesOf({}), // 2. adds byPendingSince
      indexesOf({ legacySubjectIndex: false }), // 3. retires bySubject
    ];
    for (const [before, after] of deploys.slice(0, -1).map((d, i) => [d, deploys[i + 1]] as const)) {
      if (after === undefined) continue;
      const changed = [...before.names, ...after.names].filter((n) => before.names.has(n) !== after.names.has(n));
      expect(changed).toHaveLength(1);
      expect(after.id).toBe(before.id);
    }
    expect([...(deploys.at(-1)?.names ?? [])]).toEqual(["bySubjectCreated", "byPendingSince"]);
  });

  it("is the construct's Default child: the logical ID of a table with the construct's id", () => {
    expect(verifications.node.defaultChild).toBe(verifications.table);
    expect(logicalIdOf(verifications.table)).toMatch(/^VerificationsTable[0-9A-F]{8}$/);
  });

  it("turns deletion protection off only when told, and is retained either way", () => {
    const other = synth.template(Stack.of(unprotected));
    const id = logicalIdOf(unprotected.table);
    expect(other.props(id)["DeletionProtectionEnabled"]).toBe(false);
    expect(other.resources[id]).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("outputs VerificationsTableName and VerificationsTableArn", () => {
    const id = logicalIdOf(verifications.table);
    t.template.hasOutput("VerificationsTableName", { Value: { Ref: id } });
    t.template.hasOutput("VerificationsTableArn", { Value: getAtt(id) });
  });

  it("provisioned: billed by capacity, starting at the minimums, for the table and each index; the same logical ID", () => {
    const p = synth.template(Stack.of(provisioned));
    const id = logicalIdOf(provisioned.table);
    expect(id).toBe(logicalIdOf(verifications.table));
    const props = p.props(id);
    // Stated (CloudFormation's default is PROVISIONED too): the update of an on-demand table switches it in place.
    expect(props["BillingMode"]).toBe("PROVISIONED");
    expect(props["ProvisionedThroughput"]).toEqual({ ReadCapacityUnits: 2, WriteCapacityUnits: 10 });
    const indexes = props["GlobalSecondaryIndexes"] as { IndexName: string; ProvisionedThroughput: unknown }[];
    expect(indexes.map((i) => [i.IndexName, i.ProvisionedThroughput])).toEqual([
      ["bySubjectCreated", { ReadCapacityUnits: 2, WriteCapacityUnits: 10 }],
      ["byPendingSince", { ReadCapacityUnits: 2, WriteCapacityUnits: 10 }],
    ]);
    expect(p.resources[id]).toMatchObject({ DeletionPolicy: "Retain", UpdateReplacePolicy: "Retain" });
  });

  it("provisioned: Application Auto Scaling tracks the target utilization of each, between the minimum and maximum, as DynamoDB's service-linked role", () => {
    const p = synth.template(Stack.of(provisioned));
    const table = { Ref: logicalIdOf(provisioned.table) };
    const resourceIds = [
      { "Fn::Join": ["", ["table/", table]] },
      { "Fn::Join": ["", ["table/", table, "/index/bySubjectCreated"]] },
      { "Fn::Join": ["", ["table/", table, "/index/byPendingSince"]] },
    ];
    const targets = p.ofType("AWS::ApplicationAutoScaling::ScalableTarget");
    const expected = resourceIds.flatMap((resourceId, i) =>
      (["Read", "Write"] as const).map((kind) => ({
        ServiceNamespace: "dynamodb",
        ResourceId: resourceId,
        ScalableDimension: `dynamodb:${i === 0 ? "table" : "index"}:${kind}CapacityUnits`,
        MinCapacity: kind === "Read" ? 2 : 10,
        MaxCapacity: kind === "Read" ? 300 : 900,
      })),
    );
    const sortKey = (t: Record<string, unknown>) => JSON.stringify([t["ResourceId"], t["ScalableDimension"]]);
    expect(
      targets
        .map(([, r]) => r.Properties)
        .map(({ RoleARN: _, ...rest }) => rest)
        .sort((a, b) => sortKey(a).localeCompare(sortKey(b))),
    ).toEqual(expected.sort((a, b) => sortKey(a).localeCompare(sortKey(b))));
    for (const [, target] of targets) {
      expect(JSON.stringify(target.Properties["RoleARN"])).toContain(
        ":role/aws-service-role/dynamodb.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_DynamoDBTable",
      );
    }
    // No role of its own: the service-linked role is DynamoDB's.
    expect(p.ofType("AWS::IAM::Role")).toEqual([]);
    const policies = p.ofType("AWS::ApplicationAutoScaling::ScalingPolicy").map(([, r]) => r.Properties);
    expect(policies).toHaveLength(targets.length);
    const metricOf = (dimension: string) =>
      dimension.endsWith("ReadCapacityUnits") ? "DynamoDBReadCapacityUtilization" : "DynamoDBWriteCapacityUtilization";
    for (const [targetId, target] of targets) {
      const policy = policies.filter((q) => JSON.stringify(q["ScalingTargetId"]) === JSON.stringify({ Ref: targetId }));
      expect(policy).toHaveLength(1);
      expect(policy[0]).toMatchObject({
        PolicyType: "TargetTrackingScaling",
        TargetTrackingScalingPolicyConfiguration: {
          TargetValue: 60,
          PredefinedMetricSpecification: { PredefinedMetricType: metricOf(String(target.Properties["ScalableDimension"])) },
        },
      });
    }
  });

  it("passes cdk-nag", () => {
    expectNagClean(synth);
  });
});
