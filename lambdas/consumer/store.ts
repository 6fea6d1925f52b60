/**
 * The `verifications` table: one state item and one history item per event, written together
 * in one transaction with conditions, so that concurrent and repeated deliveries cannot
 * double-apply (the key layout: TABLE in lambdas/core/contract.ts; what is written: the pure
 * model in lambdas/model/verification.ts). This module only reads and writes.
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULTS, TABLE } from "../core/contract.js";
import type { NormalizedEvent, Status } from "../core/event.js";
import type { Outcome } from "../model/transition.js";
import { applyEvent, type VerificationState } from "../model/verification.js";

export interface ApplyResult {
  readonly outcome: Outcome;
  readonly reason: string;
  /** True when this eventId had been processed before: nothing was written. */
  readonly redelivery: boolean;
  readonly previousStatus: Status | null;
  readonly status: Status | null;
}

/** Thrown when optimistic locking kept losing against concurrent writers; the record is retried. */
export class ConcurrentUpdateError extends Error {
  override readonly name = "ConcurrentUpdateError";
}

const stateKey = (correlationId: string) => ({ [TABLE.partitionKey]: correlationId, [TABLE.sortKey]: TABLE.stateSortKey });

export interface VerificationStore {
  apply(event: NormalizedEvent): Promise<ApplyResult>;
}

export interface StoreOptions {
  readonly tableName: string;
  readonly now?: () => Date;
  /** Read-decide-write rounds before giving up on a contended item (the record is then retried). */
  readonly maxAttempts?: number;
}

export function dynamoStore(client: DynamoDBDocumentClient, options: StoreOptions): VerificationStore {
  const { tableName } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? DEFAULTS.storeMaxAttempts;

  async function attempt(event: NormalizedEvent): Promise<ApplyResult | "conflict"> {
    const read = await client.send(new GetCommand({ TableName: tableName, Key: stateKey(event.correlationId), ConsistentRead: true }));
    const current = read.Item as VerificationState | undefined;
    const { transition, history, next, writeState } = applyEvent(current, event, now().toISOString());
    const historyItem = {
      [TABLE.partitionKey]: event.correlationId,
      [TABLE.sortKey]: `${TABLE.eventSortKeyPrefix}${event.eventId}`,
      ...history,
    };
    const stateCondition: {
      ConditionExpression: string;
      ExpressionAttributeNames: Record<string, string>;
      ExpressionAttributeValues?: Record<string, unknown>;
    } =
      current === undefined
        ? { ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": TABLE.partitionKey } }
        : {
            ConditionExpression: "#v = :v",
            ExpressionAttributeNames: { "#v": "version" },
            ExpressionAttributeValues: { ":v": current.version },
          };
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: historyItem,
                ConditionExpression: "attribute_not_exists(#pk)",
                ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
              },
            },
            writeState
              ? { Put: { TableName: tableName, Item: { ...next, ...stateKey(event.correlationId) }, ...stateCondition } }
              : { ConditionCheck: { TableName: tableName, Key: stateKey(event.correlationId), ...stateCondition } },
          ],
        }),
      );
    } catch (error) {
      if (!(error instanceof TransactionCanceledException)) throw error;
      const [historyReason, stateReason] = error.CancellationReasons ?? [];
      if (historyReason?.Code === "ConditionalCheckFailed") {
        const status = current?.status ?? null;
        return { outcome: "duplicate", reason: "event already processed", redelivery: true, previousStatus: status, status };
      }
      if (stateReason?.Code === "ConditionalCheckFailed") return "conflict";
      throw error;
    }
    return {
      outcome: transition.outcome,
      reason: transition.reason,
      redelivery: false,
      previousStatus: current?.status ?? null,
      status: next.status,
    };
  }

  return {
    async apply(event) {
      for (let i = 0; i < maxAttempts; i += 1) {
        const result = await attempt(event);
        if (result !== "conflict") return result;
      }
      throw new ConcurrentUpdateError(`state of ${event.correlationId} kept changing during ${maxAttempts} attempts`);
    },
  };
}
