import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { configFromContext } from "../../lib/config.js";
import { PipelineStack } from "../../lib/pipeline-stack.js";

/**
 * The logical IDs of the stack's stateful resources, written out. CloudFormation replaces a resource
 * whose logical ID changes: the table is retained with deletion protection (the deploy would fail, or
 * orphan it and start an empty one), the secrets hold the operators' webhook secrets, the queues hold
 * messages not yet consumed, the log groups are retained with their history. Refactoring lib/ must keep
 * every one of these strings; a change here is a data migration, never a rename.
 */
const STATEFUL: Readonly<Record<string, readonly string[]>> = {
  "AWS::DynamoDB::Table": ["VerificationsTableAF850B0A"],
  "AWS::SecretsManager::Secret": [
    "VeriffWebhookSecrets9DBFC4B5",
    "IdngoWebhookSecretsC33D327E",
    "IdbeyondWebhookSecrets7BC3C484",
    "NeurovisionWebhookSecrets78D9B611",
    // New with the reconciler: the providers' API credentials, pinned from their first release on.
    "ReconciliationIdngoApiCredentialsE5B1FA01",
    "ReconciliationVeriffApiCredentialsC72BC6E3",
  ],
  "AWS::SQS::Queue": [
    "VerificationEvents1A555741", // events queue
    "VerificationEventsDlqEB458FCC", // its DLQ
    "StatusChanges5991DB60", // status-changes queue
    "StatusChangesDlqD52B5945", // its DLQ
    "PublisherFailures0443E673", // the publisher stream mapping's on-failure queue
  ],
  "AWS::Logs::LogGroup": [
    "VeriffIngestLogs32C12D6C",
    "IdngoIngestLogs50A2B823",
    "IdbeyondIngestLogs4E4F6682",
    "NeurovisionIngestLogs85F6BE22",
    "ConsumerLogsE1B78D1C",
    "PublisherLogsF6EE885C",
    "ReadLogs83AA0EF2",
    "ReconciliationReconcilerLogs496A2FA4",
    "WebhookApiAccessLogs52B66C6B",
  ],
};

let template: Template;
/** With both cost settings (no tracing, provisioned capacity): switching them must keep every stateful resource. */
let lean: Template;

// The default stack as bin/app.ts builds it (no context); the Lambda code is not bundled, it has no logical ID.
beforeAll(() => {
  const synth = (context: Record<string, unknown>) => {
    const app = new App({ context: { "aws:cdk:bundling-stacks": [], ...context } });
    return Template.fromStack(new PipelineStack(app, "KycWebhookPipeline", configFromContext(app.node)));
  };
  template = synth({});
  lean = synth({ tracing: "disabled", tableCapacity: "provisioned" });
});

describe("logical IDs of stateful resources", () => {
  it.each(Object.entries(STATEFUL))("%s: exactly these, unchanged", (type, ids) => {
    expect(Object.keys(template.findResources(type)).sort()).toEqual([...ids].sort());
  });

  it.each(Object.entries(STATEFUL))("%s: the same with tracing=disabled and tableCapacity=provisioned", (type, ids) => {
    expect(Object.keys(lean.findResources(type)).sort()).toEqual([...ids].sort());
  });
});
