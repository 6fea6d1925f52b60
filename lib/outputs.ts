import { CfnOutput, type CfnOutputProps } from "aws-cdk-lib";
import type { Construct } from "constructs";

/**
 * A stack output named exactly `name`, wherever its construct sits: output names are the operators'
 * interface (README "Stack outputs", `cdk deploy --outputs-file`), not a construct path, and must not
 * gain a hash when a construct moves. Names must be unique in the stack (a duplicate fails the synth).
 */
export function stackOutput(scope: Construct, name: string, props: CfnOutputProps): CfnOutput {
  const output = new CfnOutput(scope, name, props);
  output.overrideLogicalId(name);
  return output;
}
