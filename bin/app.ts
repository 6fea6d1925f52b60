import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks, ServerlessChecks } from "cdk-nag";
import { ConfigError } from "../lambdas/core/config.js";
import { configFromContext, type PipelineStackProps, pipelineStackName } from "../lib/config.js";
import { PipelineStack } from "../lib/pipeline-stack.js";

// Context: every key is optional, CONTEXT_KEYS in lib/config.ts lists them (README "Options"), and an
// unknown or invalid one fails the synth; e.g. `npx cdk synth -c idngoAllowSha1=true`.
// `-c stage=dev` deploys an independent instance, the stack KycWebhookPipeline-dev, with the stage's
// defaults (STAGE_DEFAULTS); without a stage, the stack is KycWebhookPipeline, as it always was.
const app = new App();

/** The configuration, or one line naming the context key and exit 1 (no stack trace for a typo). */
function configOrExit(): PipelineStackProps {
  try {
    return configFromContext(app.node);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

const config = configOrExit();
new PipelineStack(app, pipelineStackName(config.stage), {
  description:
    "KYC webhook pipeline: HTTP API -> per-provider Lambda -> SQS FIFO -> consumer -> DynamoDB -> status-changes SQS FIFO; IAM read API",
  ...config,
});
// cdk-nag v3 packs are policy validation plugins: unacknowledged errors fail the synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }), new ServerlessChecks(app, { verbose: true }));
