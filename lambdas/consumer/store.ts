/**
 * The `verifications` table: one state item and one history item per event, written together
 * in one transaction with conditions, so that concurrent and repeated deliveries cannot
 * double-apply (lambdas/core/table.ts has the key layout).
 */
import { TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DecisionDetails, NormalizedEvent, ProviderId, Status, Subject } from "../core/event.js";
import { subjectIndexKey } from "../core/canonical.js";
import { TABLE } from "../core/table.js";
import { type AppliedEvent, decide, type Outcome } from "./transition.js";

/** The state item of one verification (`sk = "STATE"`). */
export interface VerificationState {
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly status: Status | null;
  readonly subject: Subject;
  /** The GSI key: the integrator's user key (see `subjectKeyOf`); absent when the subject has none. */
  readonly subjectKey?: string;
  /** The event the status was set by, and that event's provider time. */
  readonly appliedEventId: string | null;
  readonly occurredAt: string | null;
  readonly decision: DecisionDetails | null;
  /** True once any event of the verification came from the provider's sandbox (test) environment. */
  readonly sandbox?: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** When `status` last changed. */
  readonly statusChangedAt: string | null;
  /** Optimistic lock: +1 on every write of the state item. */
  readonly version: number;
}

/** One history item per distinct event (`sk = "EVENT#{eventId}"`). No personal data: ids, times, outcome. */
export interface HistoryEntry {
  readonly eventId: string;
  readonly providerEventType: string;
  readonly status: Status | null;
  readonly occurredAt: string | null;
  readonly receivedAt: string;
  readonly processedAt: string;
  readonly outcome: Outcome;
  readonly reason: string;
  readonly attemptId: string | null;
  readonly sandbox: boolean;
}

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

/** The one user key of a subject that the `bySubject` index lists verifications by (bounded as the read API looks it up). */
export function subjectKeyOf(subject: Subject): string | undefined {
  const key = subject["externalUserId"] ?? subject["vendorData"] ?? subject["clientKey"] ?? subject["endUserId"];
  return key === undefined ? undefined : subjectIndexKey(key);
}

const stateKey = (correlationId: string) => ({ [TABLE.partitionKey]: correlationId, [TABLE.sortKey]: TABLE.stateSortKey });

function appliedOf(state: VerificationState | undefined): AppliedEvent | null {
  if (state?.status == null || state.appliedEventId === null) return null;
  return { eventId: state.appliedEventId, status: state.status, occurredAt: state.occurredAt };
}

function nextState(
  current: VerificationState | undefined,
  event: NormalizedEvent,
  next: AppliedEvent | undefined,
  now: string,
): VerificationState {
  const subject = Object.keys(event.subject).length > 0 ? event.subject : (current?.subject ?? {});
  const subjectKey = subjectKeyOf(subject);
  const status = next?.status ?? current?.status ?? null;
  const statusChanged = status !== (current?.status ?? null);
  return {
    correlationId: event.correlationId,
    provider: event.provider,
    status,
    subject,
    ...(subjectKey === undefined ? {} : { subjectKey }),
    appliedEventId: next?.eventId ?? current?.appliedEventId ?? null,
    occurredAt: next ? next.occurredAt : (current?.occurredAt ?? null),
    decision: next ? event.decision : (current?.decision ?? null),
    sandbox: event.sandbox || (current?.sandbox ?? false),
    createdAt: current?.createdAt ?? now,
    updatedAt: now,
    statusChangedAt: statusChanged ? now : (current?.statusChangedAt ?? null),
    version: (current?.version ?? 0) + 1,
  };
}

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
  const maxAttempts = options.maxAttempts ?? 5;

  async function attempt(event: NormalizedEvent): Promise<ApplyResult | "conflict"> {
    const read = await client.send(new GetCommand({ TableName: tableName, Key: stateKey(event.correlationId), ConsistentRead: true }));
    const current = read.Item as VerificationState | undefined;
    const decision = decide(appliedOf(current), event);
    const processedAt = now().toISOString();
    const history: HistoryEntry & Record<string, unknown> = {
      [TABLE.partitionKey]: event.correlationId,
      [TABLE.sortKey]: `${TABLE.eventSortKeyPrefix}${event.eventId}`,
      eventId: event.eventId,
      providerEventType: event.providerEventType,
      status: event.status,
      occurredAt: event.occurredAt,
      receivedAt: event.receivedAt,
      processedAt,
      outcome: decision.outcome,
      reason: decision.reason,
      attemptId: event.attemptId,
      sandbox: event.sandbox,
    };
    // The state item is written when the decision moves it, or created on a verification's first event.
    const writeState = decision.next !== undefined || current === undefined || (event.sandbox && current.sandbox !== true);
    const stateCondition: { ConditionExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: Record<string, unknown> } =
      current === undefined
        ? { ConditionExpression: "attribute_not_exists(#pk)", ExpressionAttributeNames: { "#pk": TABLE.partitionKey } }
        : { ConditionExpression: "#v = :v", ExpressionAttributeNames: { "#v": "version" }, ExpressionAttributeValues: { ":v": current.version } };
    const next = nextState(current, event, decision.next, processedAt);
    try {
      await client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: tableName,
                Item: history,
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
      outcome: decision.outcome,
      reason: decision.reason,
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
