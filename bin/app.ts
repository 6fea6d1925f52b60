import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { configFromContext } from "../lib/config.js";
import { PipelineStack } from "../lib/pipeline-stack.js";

// Context: every key is optional, CONTEXT_KEYS in lib/config.ts lists them (README "Options"), and an
// unknown or invalid one fails the synth; e.g. `npx cdk synth -c idngoAllowSha1=true`.
const app = new App();
new PipelineStack(app, "KycWebhookPipeline", {
  description:
    "KYC webhook pipeline: HTTP API -> per-provider Lambda -> SQS FIFO -> consumer -> DynamoDB -> status-changes SQS FIFO; IAM read API",
  ...configFromContext(app.node),
});
// cdk-nag v3 is a policy validation plugin: unacknowledged errors fail the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
