import { Arn, ArnFormat, Aws, type CfnElement, CfnRule, Fn, Stack, Token, TokenComparison, Validations } from "aws-cdk-lib";
import { type HttpApi, HttpMethod, type HttpRoute, type IHttpStage, PayloadFormatVersion } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Grant, type IGrantable, Role } from "aws-cdk-lib/aws-iam";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { ROUTES, SERVICES, TABLE } from "../lambdas/core/contract.js";
import type { LogLevel, TracingMode } from "./config.js";
import { KycFunction } from "./kyc-function.js";
import { stackOutput } from "./outputs.js";

export interface ReadApiProps {
  /** The verifications table: read-only for this API. */
  readonly table: ITable;
  /** The HTTP API that gets the read routes, and its stage (the grants name its routes there). */
  readonly api: HttpApi;
  readonly stage: IHttpStage;
  /** Retention of the read function's log group. @default KycFunction's */
  readonly logRetention?: RetentionDays;
  /** POWERTOOLS_LOG_LEVEL of its function. @default KycFunction's */
  readonly logLevel?: LogLevel;
  /** X-Ray tracing of its function(s) (KycFunctionProps.tracing). */
  readonly tracing?: TracingMode;
  /** Principals allowed to call the read API: see `grantReadVerifications`. */
  readonly readers?: readonly IGrantable[];
  /**
   * IAM roles, by ARN, allowed to call the read API. They must be in the deployment account: an
   * HTTP API has no resource policy, so the grant is a policy attached to the role itself.
   */
  readonly readerRoleArns?: readonly string[];
}

/** The read routes, and the same paths as IAM resources name them (`*` for a path parameter). */
const READ_PATHS = [ROUTES.verifications, ROUTES.verification] as const;
const iamPath = (path: string): string => path.replace(/\{[^}]+\}/g, "*");

/**
 * Your services → the table: the read function (read-only on the table) behind
 * `GET /verifications` and `GET /verifications/{correlationId}` on the given API, IAM-authorized
 * (SigV4-signed requests only), and `grantReadVerifications` to let principals call them.
 */
export class ReadApi extends Construct {
  readonly readFunction: KycFunction;
  /** `GET /verifications` and `GET /verifications/{correlationId}`, both IAM-authorized. */
  readonly routes: readonly HttpRoute[];
  private readonly api: HttpApi;
  private readonly stage: IHttpStage;
  /** The API id as other stacks import it, once one of their principals was granted the read API. */
  private apiIdImport: string | undefined;

  constructor(scope: Construct, id: string, props: ReadApiProps) {
    super(scope, id);
    this.api = props.api;
    this.stage = props.stage;
    this.readFunction = new KycFunction(this, "Read", {
      entry: "lambdas/read/handler.ts",
      serviceName: SERVICES.read,
      description: `Read API: GET ${ROUTES.verification} and GET ${ROUTES.verifications}?subject=`,
      logRetention: props.logRetention,
      logLevel: props.logLevel,
      tracing: props.tracing,
    }).allowReadVerifications(props.table, TABLE.subjectIndex.name);
    const integration = new HttpLambdaIntegration("ReadIntegration", this.readFunction, {
      payloadFormatVersion: PayloadFormatVersion.VERSION_2_0,
    });
    const authorizer = new HttpIamAuthorizer();
    this.routes = READ_PATHS.flatMap((path) => props.api.addRoutes({ path, methods: [HttpMethod.GET], integration, authorizer }));

    stackOutput(this, "ReadApiBaseUrl", {
      description: "Read API (SigV4, execute-api:Invoke): GET <url>/{correlationId}, GET <url>?subject=",
      value: `${props.api.apiEndpoint}${ROUTES.verifications}`,
    });

    for (const grantee of props.readers ?? []) this.grantReadVerifications(grantee);
    // Readers need a policy on the role itself, so only roles of the deployment account will do.
    const stack = Stack.of(this);
    const readerAccounts = new Set<string>();
    props.readerRoleArns?.forEach((arn, i) => {
      readerAccounts.add(Arn.split(arn, ArnFormat.SLASH_RESOURCE_NAME).account ?? "");
      this.grantReadVerifications(Role.fromRoleArn(this, `VerificationReaderRole${i}`, arn));
    });
    if (readerAccounts.size > 0 && Token.isUnresolved(stack.account)) {
      // Environment-agnostic stack: the account is known only at deploy time, so check it then,
      // before a policy is attached to a same-named role of the wrong account.
      new CfnRule(this, "VerificationReadersInThisAccount", {
        assertions: [...readerAccounts].map((account) => ({
          assert: Fn.conditionEquals(Aws.ACCOUNT_ID, account),
          assertDescription: `verificationReaderRoleArns: the roles must be in the deployment account (${account})`,
        })),
      });
    }
  }

  /**
   * Allows `grantee` to call the read API, exactly: execute-api:Invoke on `GET /verifications` and
   * `GET /verifications/*` (the `{correlationId}` route) of the API's stage, nothing else (not the
   * webhooks). HTTP APIs have no resource policy, so this is an identity policy: the grantee must be a
   * role, user or group of the deployment account (throws otherwise). A grantee in another stack of
   * the app gets the policy in its own stack, which then depends on this one.
   */
  grantReadVerifications(grantee: IGrantable): Grant {
    const stack = Stack.of(this);
    const principal = grantee.grantPrincipal;
    const account = principal.principalAccount;
    if (account !== undefined && Token.compareStrings(account, stack.account) === TokenComparison.DIFFERENT) {
      throw new Error(
        `grantReadVerifications: ${principal.toString()} is of account ${account}, not ${stack.account}; an HTTP API ` +
          "has no resource policy, so grant a role of this account and let the other account assume it",
      );
    }
    const home = Construct.isConstruct(principal) ? Stack.of(principal) : stack;
    let apiId = this.api.apiId;
    // How cdk-nag prints the API id in the grantee's policy: a Ref here, an import elsewhere. The
    // import has a name of ours (not CDK's generated one) so that the acknowledgement can name it.
    let apiIdInFinding = `<${stack.getLogicalId(this.api.node.defaultChild as CfnElement)}>`;
    if (home !== stack) {
      apiIdInFinding = `${stack.stackName}:ReadApiId`;
      this.apiIdImport ??= stack.exportValue(this.api.apiId, { name: apiIdInFinding });
      apiId = this.apiIdImport;
      home.addStackDependency(stack, "grantReadVerifications imports the read API's id");
    }
    const stage = this.stage.stageName;
    const routeArn = (path: string): string =>
      home.formatArn({
        service: "execute-api",
        resource: apiId,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        resourceName: `${stage}/${HttpMethod.GET}${iamPath(path)}`,
      });
    const grant = Grant.addToPrincipal({ grantee, actions: ["execute-api:Invoke"], resourceArns: READ_PATHS.map(routeArn) });
    grant.assertSuccess(); // e.g. a service principal, which takes no identity policy
    if (Construct.isConstruct(principal)) {
      Validations.of(principal).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${apiIdInFinding}/${stage}/GET${iamPath(ROUTES.verification)}]`,
        reason:
          "The '*' stands for the {correlationId} path parameter of the one route GET /verifications/{correlationId} " +
          "of this stage: IAM cannot name a route with a path parameter otherwise.",
      });
    }
    return grant;
  }
}
