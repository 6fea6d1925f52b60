/**
 * The `verifications` table: one state item and one history item per event (the key layout:
 * TABLE in lambdas/core/contract.ts; what is written: the pure model in
 * lambdas/model/verification.ts). This module only reads and writes.
 *
 * Two conditional writes, no transaction (a transaction costs twice the write units):
 * 1. the state item, when the event moves it, only if its `version` is still the one read (a
 *    concurrent or interrupted writer makes this event be read and decided again);
 * 2. the history item, only if it does not exist: if it does, the event was processed before
 *    and this is a redelivery.
 * Exactly-once effect without the transaction: the state only ever moves to a higher-precedence
 * event (lambdas/model/transition.ts), so a redelivered event can never move it again; and if a
 * first attempt wrote the state but not the history (a crash in between), its retry finds the
 * state set by this very event, writes nothing to it, and writes the history item as `applied`.
 * The state is first read eventually consistently (half the read units): a stale read can only
 * make write 1 fail on its version (an event that would not move the newer state would not move
 * the older one either), and the event is then decided again on a strongly consistent read.
 * One edge: if an event's interrupted first attempt moved the state and a later event moved it
 * further before the retry, the retry records the first event as `stale` (its status change was
 * published all the same: the stream carries every state write).
 */
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { DEFAULTS, TABLE } from "../core/contract.js";
import type { NormalizedEvent, Status } from "../core/event.js";
import { ALREADY_SET_BY_THIS_EVENT, type Outcome } from "../model/transition.js";
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

const conditionFailed = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;

export function dynamoStore(client: DynamoDBDocumentClient, options: StoreOptions): VerificationStore {
  const { tableName } = options;
  const now = options.now ?? (() => new Date());
  const maxAttempts = options.maxAttempts ?? DEFAULTS.storeMaxAttempts;

  async function attempt(event: NormalizedEvent, consistentRead: boolean): Promise<ApplyResult | "conflict"> {
    const read = await client.send(
      new GetCommand({ TableName: tableName, Key: stateKey(event.correlationId), ...(consistentRead ? { ConsistentRead: true } : {}) }),
    );
    const current = read.Item as VerificationState | undefined;
    const { transition, history, next, writeState } = applyEvent(current, event, now().toISOString());

    if (writeState) {
      try {
        await client.send(
          new PutCommand({
            TableName: tableName,
            Item: { ...next, ...stateKey(event.correlationId) },
            ...(current === undefined
              ? { ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": TABLE.partitionKey } }
              : {
                  ConditionExpression: "#v = :v",
                  ExpressionAttributeNames: { "#v": "version" },
                  ExpressionAttributeValues: { ":v": current.version },
                }),
          }),
        );
      } catch (error) {
        if (conditionFailed(error)) return "conflict";
        throw error;
      }
    }

    // The state already names this event but its history item may be missing: the completion of
    // an attempt interrupted between the two writes (if the item exists, this is a redelivery).
    const completing = transition.reason === ALREADY_SET_BY_THIS_EVENT;
    const recorded = completing
      ? { ...history, outcome: "applied" as const, reason: "applied (its history completed on a retry)" }
      : history;
    try {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: { [TABLE.partitionKey]: event.correlationId, [TABLE.sortKey]: `${TABLE.eventSortKeyPrefix}${event.eventId}`, ...recorded },
          ConditionExpression: "attribute_not_exists(#pk)",
          ExpressionAttributeNames: { "#pk": TABLE.partitionKey },
        }),
      );
    } catch (error) {
      if (!conditionFailed(error)) throw error;
      const status = current?.status ?? null;
      return { outcome: "duplicate", reason: "event already processed", redelivery: true, previousStatus: status, status };
    }
    return {
      outcome: recorded.outcome,
      reason: recorded.reason,
      redelivery: false,
      previousStatus: current?.status ?? null,
      status: next.status,
    };
  }

  return {
    async apply(event) {
      for (let i = 0; i < maxAttempts; i += 1) {
        // A conflict may come from a stale read: the next rounds read consistently.
        const result = await attempt(event, i > 0);
        if (result !== "conflict") return result;
      }
      throw new ConcurrentUpdateError(`state of ${event.correlationId} kept changing during ${maxAttempts} attempts`);
    },
  };
}
