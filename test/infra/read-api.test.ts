import { Stack } from "aws-cdk-lib";
import { HttpApi, HttpStage } from "aws-cdk-lib/aws-apigatewayv2";
import { beforeAll, describe, expect, it } from "vitest";
import { ReadApi } from "../../lib/read-api.js";
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

/** ReadApi on an HTTP API and its $default stage; its grants: test/infra/downstream-access.test.ts. */
let synth: Synthesized;
let t: StackTemplate;
let verifications: VerificationsTable;
let api: HttpApi;
let read: ReadApi;

beforeAll(() => {
  synth = synthWithNag((app) => {
    const stack = new Stack(app, "Test");
    verifications = new VerificationsTable(stack, "VerificationsTable");
    api = new HttpApi(stack, "Api", { createDefaultStage: false });
    const stage = HttpStage.fromHttpStageAttributes(stack, "Stage", { api, stageName: "$default" });
    read = new ReadApi(stack, "ReadApi", { table: verifications.table, api, stage });
  });
  t = synth.template(Stack.of(read));
});

const ids = () => {
  const fn = read.readFunction;
  return { fn: logicalIdOf(fn), role: roleIdOf(fn), logGroup: logicalIdOf(fn.logGroup), table: logicalIdOf(verifications.table) };
};

describe("ReadApi", () => {
  it("runs the bundled read handler with TABLE_NAME and nothing else of ours", () => {
    const { table } = ids();
    t.expectHouseFunction(read.readFunction, { timeout: 10, service: "kyc-read", env: { TABLE_NAME: { Ref: table } } });
  });

  it("has its own role allowed exactly: trace, write its logs, GetItem, Query and BatchGetItem on the table, Query on the subject index", () => {
    const { role, logGroup, table } = ids();
    expect(t.roleStatements(role)).toEqual([
      XRAY_STATEMENT, // active tracing: acknowledged for cdk-nag on the role (X-Ray has no resource-level permissions)
      { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: getAtt(logGroup) },
      { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem"], Resource: getAtt(table) },
      { Effect: "Allow", Action: "dynamodb:Query", Resource: { "Fn::Join": ["", [getAtt(table), "/index/bySubjectCreated"]] } },
    ]);
  });

  it.each([
    ["GET /verifications", "/verifications"],
    ["GET /verifications/{correlationId}", "/verifications/{correlationId}"],
  ])("routes %s to the read function behind IAM authorization (payload v2)", (routeKey, path) => {
    const { fn } = ids();
    const route = t.route(routeKey);
    expect(route["AuthorizationType"]).toBe("AWS_IAM");
    // One integration for both routes.
    expect(route["Target"]).toEqual({ "Fn::Join": ["", ["integrations/", { Ref: t.integrationOf(fn) }]] });
    t.expectInvokePermission(fn, path);
  });

  it("adds only those two routes, and no authorizer resource (IAM authorization needs none)", () => {
    expect(read.routes).toHaveLength(2);
    t.template.resourceCountIs("AWS::ApiGatewayV2::Route", 2);
    t.template.resourceCountIs("AWS::ApiGatewayV2::Authorizer", 0);
  });

  it("outputs the read API's base URL", () => {
    t.template.hasOutput("ReadApiBaseUrl", {
      Value: { "Fn::Join": ["", [getAtt(logicalIdOf(api), "ApiEndpoint"), "/verifications"]] },
    });
  });

  it("passes cdk-nag", () => {
    expectNagClean(synth);
  });
});
