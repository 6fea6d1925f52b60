import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { VerificationsTable } from "../../lib/verifications-table.js";
import { expectNagClean, getAtt, logicalIdOf, type StackTemplate, type Synthesized, synthWithNag } from "../support/cdk.js";

let synth: Synthesized;
let t: StackTemplate;
let verifications: VerificationsTable;
let unprotected: VerificationsTable;

beforeAll(() => {
  synth = synthWithNag((app) => {
    verifications = new VerificationsTable(new Stack(app, "Test"), "VerificationsTable");
    unprotected = new VerificationsTable(new Stack(app, "Unprotected"), "VerificationsTable", { deletionProtection: false });
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

  it("passes cdk-nag", () => {
    expectNagClean(synth);
  });
});
