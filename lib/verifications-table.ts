import { RemovalPolicy } from "aws-cdk-lib";
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { TABLE } from "../lambdas/core/contract.js";
import type { ProvisionedCapacity } from "./config.js";
import { stackOutput } from "./outputs.js";

export interface VerificationsTableProps {
  /**
   * DynamoDB deletion protection. The table is retained on stack deletion either way; turn this off
   * only to delete a stage's table on purpose. @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Keep the `bySubject` index of earlier versions (nothing reads it any more; it costs write
   * units on every state write). Upgrades deploy once with it (CloudFormation adds the new index
   * in that update), then retire it with `false` in a second deploy; a new stack can start with
   * `false`. @default true
   */
  readonly legacySubjectIndex?: boolean;
  /**
   * Create the reconciler's index of verifications that are not in a final status
   * (TABLE.pendingIndex). An upgrade from a version without `bySubjectCreated` deploys once with
   * `false` first (CloudFormation creates one index per update: docs/deploy.md, Upgrading). @default true
   */
  readonly pendingIndex?: boolean;
  /**
   * Provisioned capacity, auto scaled, for the table and each index (each scales on its own, between
   * the same minimum and maximum). Switching either way is an in-place update of the table: to
   * provisioned at any time, back to on demand up to four times in 24 hours (DynamoDB's rule). The
   * minimums are the template's capacity: what the switch starts with, and what CloudFormation sets
   * again on a deploy that changes them (auto scaling then takes over). @default on demand
   */
  readonly provisioned?: ProvisionedCapacity;
}

/**
 * The verifications table as lambdas/core/contract.ts `TABLE` describes it (keys, the subject and
 * pending GSIs, the stream feeding the publisher); the local twin is `createVerificationsTable` in local/.
 * On demand (or provisioned and auto scaled, `provisioned`), KMS with the AWS managed key aws/dynamodb (auditable in CloudTrail, no key to
 * administer), point-in-time recovery, retained. CloudFormation names it, like the queues: the
 * functions get TABLE_NAME, operators the `VerificationsTableName` output.
 *
 * Table (AWS::DynamoDB::Table), not TableV2 (AWS::DynamoDB::GlobalTable): one region, no replicas
 * planned; it is what CreateTable builds locally, and cdk-nag's PITR rule checks this resource type
 * only. Switching later would replace the resource, so the choice is made here on purpose.
 * The table is the `Default` child.
 */
export class VerificationsTable extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: VerificationsTableProps = {}) {
    super(scope, id);
    const { provisioned } = props;
    const initial = provisioned === undefined ? {} : { readCapacity: provisioned.minReadUnits, writeCapacity: provisioned.minWriteUnits };
    this.table = new Table(this, "Default", {
      partitionKey: { name: TABLE.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: AttributeType.STRING },
      billingMode: provisioned === undefined ? BillingMode.PAY_PER_REQUEST : BillingMode.PROVISIONED,
      ...initial,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: RemovalPolicy.RETAIN,
      // Old and new image: the publisher tells a status change from any other write.
      stream: StreamViewType[TABLE.streamViewType],
    });
    // CloudFormation adds or removes one index per update of a table: an upgraded stack keeps the
    // legacy index until a later deploy retires it, and adds the pending index in a deploy of its own.
    const indexes = [
      ...(props.legacySubjectIndex === false ? [] : [TABLE.legacySubjectIndex]),
      TABLE.subjectIndex,
      ...(props.pendingIndex === false ? [] : [TABLE.pendingIndex]),
    ];
    for (const index of indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType[index.projection],
        ...initial,
      });
    }
    if (provisioned !== undefined) {
      // Stated, not left to CloudFormation's default: an on-demand table's update then switches it in place.
      (this.table.node.defaultChild as CfnTable).billingMode = BillingMode.PROVISIONED;
      // Target tracking on consumed / provisioned capacity, through DynamoDB's service-linked role.
      const { targetUtilizationPercent } = provisioned;
      const reads = { minCapacity: provisioned.minReadUnits, maxCapacity: provisioned.maxReadUnits };
      const writes = { minCapacity: provisioned.minWriteUnits, maxCapacity: provisioned.maxWriteUnits };
      this.table.autoScaleReadCapacity(reads).scaleOnUtilization({ targetUtilizationPercent });
      this.table.autoScaleWriteCapacity(writes).scaleOnUtilization({ targetUtilizationPercent });
      for (const index of indexes) {
        this.table.autoScaleGlobalSecondaryIndexReadCapacity(index.name, reads).scaleOnUtilization({ targetUtilizationPercent });
        this.table.autoScaleGlobalSecondaryIndexWriteCapacity(index.name, writes).scaleOnUtilization({ targetUtilizationPercent });
      }
    }

    stackOutput(this, "VerificationsTableName", {
      description: "DynamoDB table of verifications (state and event history)",
      value: this.table.tableName,
    });
    stackOutput(this, "VerificationsTableArn", { value: this.table.tableArn });
  }
}
