import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { type Env, required } from "../core/config.js";
import { ENV } from "../core/contract.js";
import type { AppLogger } from "../core/logger.js";
import type { ReadDeps } from "./read.js";

/** The read API's dependencies from its environment: the one way Lambda and the local pipeline build them. */
export function buildReadDeps(env: Env, clients: { readonly documents: DynamoDBDocumentClient; readonly logger: AppLogger }): ReadDeps {
  return { documents: clients.documents, tableName: required(env, ENV.tableName), logger: clients.logger };
}
