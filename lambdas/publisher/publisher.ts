import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import * as v from "valibot";
import { PUBLISHER, TABLE } from "../core/contract.js";
import { describeError } from "../core/errors.js";
import { PROVIDER_IDS, STATUSES } from "../core/event.js";
import type { AppLogger } from "../core/logger.js";
import type { AppMetrics } from "../core/metrics.js";
import { sqsMessageBody } from "../core/sqs-message.js";
import { type OutgoingChange, statusChangeOf } from "./change.js";
import { decodeImage, formatPath, type ImageMap, type ImageProblem } from "./stream-image.js";

export type PublisherHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse>;

export interface PublisherDeps {
  readonly sqs: SQSClient;
  /** The status-changes FIFO queue. */
  readonly queueUrl: string;
  /** The standard queue that receives a notice for each stream record no message can be built from. */
  readonly failuresQueueUrl: string;
  readonly logger: AppLogger;
  readonly metrics: AppMetrics;
}

/**
 * What the publisher sends to the failure queue for a record it cannot turn into a message: the
 * record's identifiers, so that an operator can find the item and the stream record, never the images.
 */
export interface UndeliverableNotice {
  readonly reason: string;
  readonly eventSourceARN: string | null;
  readonly sequenceNumber: string | null;
  /** The table keys of the item (`correlationId`, `sk`). */
  readonly keys: Readonly<Record<string, string>>;
  /** Epoch seconds, as in the stream record. */
  readonly approximateCreationDateTime: number | null;
}

/** A record no message can ever be built from: retrying it would give the same answer. */
export class UndeliverableRecord extends Error {
  override readonly name = "UndeliverableRecord";
}

/** The state item's attributes a status change is built from (other attributes are ignored). */
const stateImageSchema = v.object({
  correlationId: v.pipe(v.string(), v.minLength(1)),
  [TABLE.sortKey]: v.literal(TABLE.stateSortKey),
  provider: v.picklist(PROVIDER_IDS),
  status: v.nullable(v.picklist(STATUSES)),
  subject: v.record(v.string(), v.string()),
  appliedEventId: v.nullable(v.pipe(v.string(), v.minLength(1))),
  occurredAt: v.nullish(v.string(), null),
  decision: v.nullish(v.record(v.string(), v.union([v.string(), v.number(), v.boolean(), v.null(), v.array(v.string())])), null),
  createdAt: v.string(),
  updatedAt: v.string(),
  statusChangedAt: v.nullish(v.string(), null),
  // Absent on items written before the flag existed.
  sandbox: v.optional(v.boolean(), false),
  // A number that a double can't hold exactly stays a string (stream-image.ts): still an id here.
  version: v.union([v.pipe(v.number(), v.integer()), v.pipe(v.string(), v.regex(/^\d+$/))]),
});
const USED_ATTRIBUTES: ReadonlySet<string> = new Set(Object.keys(stateImageSchema.entries));

/** The previous image only contributes its status. */
const previousImageSchema = v.object({ status: v.nullish(v.picklist(STATUSES), null) });

type NewState = Parameters<typeof statusChangeOf>[1];
type OldState = Parameters<typeof statusChangeOf>[0];

/** Names the first problem in an attribute the message needs: attribute names and problem kinds only, never values. */
function describeProblems(which: string, problems: readonly ImageProblem[], used: (name: string) => boolean): string | undefined {
  const relevant = problems.filter((p) => typeof p.path[0] !== "string" || used(p.path[0]));
  if (relevant.length === 0) return undefined;
  const shown = relevant.slice(0, 3).map((p) => `${formatPath(p.path.slice(0, 1))}: ${p.kind}`);
  return `${which} cannot be decoded (${shown.join("; ")}${relevant.length > 3 ? `; ${relevant.length - 3} more` : ""})`;
}

/** Names what does not fit the state item's shape: the top-level attribute and what was expected, never the value received. */
function describeIssues(which: string, issues: readonly v.BaseIssue<unknown>[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const attribute = issue.path?.[0]?.key;
    const name = typeof attribute === "string" ? attribute : "(image)";
    const nested = (issue.path?.length ?? 0) > 1 ? " (inside)" : "";
    return `${name}${nested}: expected ${issue.expected ?? "something else"}`;
  });
  return `${which} is not a verification state item (${shown.join("; ")}${issues.length > 3 ? `; ${issues.length - 3} more` : ""})`;
}

/**
 * The message a stream record stands for: null when it stands for none (not a state item, no
 * status change, an item removed). Throws UndeliverableRecord when no message can ever be built
 * from it (an image that does not decode, or lacks what a status change needs).
 */
export function outgoingChangeOf(record: DynamoDBRecord): OutgoingChange | null {
  const newDecoded = decodeImage(record.dynamodb?.NewImage);
  const newItem = newDecoded.item;
  if (newItem === undefined) {
    if (newDecoded.problems.length > 0) throw new UndeliverableRecord("NewImage is not an attribute map");
    return null; // a removal: no status change
  }
  if (newItem[TABLE.sortKey] !== TABLE.stateSortKey) return null; // a history item (the stream filter keeps them out in AWS)
  const newProblem = describeProblems("NewImage", newDecoded.problems, (name) => USED_ATTRIBUTES.has(name));
  if (newProblem !== undefined) throw new UndeliverableRecord(newProblem);
  const parsed = v.safeParse(stateImageSchema, newItem);
  if (!parsed.success) throw new UndeliverableRecord(describeIssues("NewImage", parsed.issues));

  const oldDecoded = decodeImage(record.dynamodb?.OldImage);
  let previous: OldState;
  if (oldDecoded.item !== undefined) {
    const oldProblem = describeProblems("OldImage", oldDecoded.problems, (name) => name === "status");
    if (oldProblem !== undefined) throw new UndeliverableRecord(oldProblem);
    const parsedOld = v.safeParse(previousImageSchema, oldDecoded.item);
    if (!parsedOld.success) throw new UndeliverableRecord(describeIssues("OldImage", parsedOld.issues));
    previous = parsedOld.output as unknown as OldState;
  } else if (oldDecoded.problems.length > 0) {
    throw new UndeliverableRecord("OldImage is not an attribute map");
  }
  return statusChangeOf(previous, parsed.output as unknown as NewState);
}

/** The item's table keys as strings, for logs and notices (ids only: correlationId and sk). */
function keysOf(record: DynamoDBRecord): Record<string, string> {
  const { item } = decodeImage(record.dynamodb?.Keys);
  const keys: Record<string, string> = {};
  for (const name of [TABLE.partitionKey, TABLE.sortKey]) {
    const value = (item as ImageMap | undefined)?.[name];
    if (typeof value === "string") keys[name] = value;
  }
  return keys;
}

/**
 * The status-change publisher, fed by the table's DynamoDB stream: the stream holds every
 * committed write, so a change written to the table reaches the queue even if this function
 * (or the consumer) dies in between. Records are handled in stream order:
 *
 * - the changes are sent with `SendMessageBatch`, up to 10 per call and never two of one
 *   verification in the same call (a new call starts instead), so that one entry failing cannot
 *   let a later change of its verification through ahead of it;
 * - a record a message cannot be built from (an undecodable image, a state item without what a
 *   status change needs) can never succeed: it is logged with its identifiers, a notice goes to
 *   the failure queue, and the publisher carries on with the next record, so one bad record
 *   never stalls its shard;
 * - a send that fails (status-changes or the failure queue unreachable) may succeed later: the
 *   record is reported as the batch's first failure and retried from there, in order (Lambda
 *   bounds this by the mapping's maximum record age, then reports the batch to the failure
 *   queue itself). Later records come again with the retry; the queue's deduplication drops any
 *   already sent.
 */
export function createPublisherHandler(deps: PublisherDeps): PublisherHandler {
  const { sqs, queueUrl, failuresQueueUrl, logger, metrics } = deps;

  /** Changes read but not yet sent: at most one per message group, in stream order. */
  interface Pending {
    readonly sequenceNumber: string;
    readonly outgoing: OutgoingChange;
    readonly body: string;
  }

  /**
   * Sends the pending changes in one SendMessageBatch call. Returns the sequence number of the
   * first one not sent (to report as the batch's first failure), or undefined when all were sent.
   * A batch holds one change per message group, so an entry that fails never lets a later change
   * of its verification overtake it; entries after it that were sent come again with the retry
   * and the queue's deduplication drops them.
   */
  async function sendPending(pending: readonly Pending[]): Promise<string | undefined> {
    const first = pending[0];
    if (first === undefined) return undefined;
    let failedIds: ReadonlySet<string>;
    let failure: Record<string, unknown> | undefined;
    try {
      const result = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map(({ outgoing, body }, index) => ({
            Id: String(index),
            MessageBody: body,
            MessageGroupId: outgoing.groupId,
            MessageDeduplicationId: outgoing.deduplicationId,
          })),
        }),
      );
      const failed = result.Failed ?? [];
      failedIds = new Set(failed.map((entry) => entry.Id ?? ""));
      const firstIndex = pending.findIndex((_, index) => failedIds.has(String(index)));
      const firstFailed = failed.find((entry) => entry.Id === String(firstIndex));
      // SQS's code for the entry (e.g. InternalError, ThrottlingException): never the message.
      if (firstFailed !== undefined) failure = { error: firstFailed.Code ?? "unknown", senderFault: firstFailed.SenderFault ?? null };
    } catch (error) {
      failedIds = new Set(pending.map((_, index) => String(index)));
      failure = describeError(error);
    }
    let firstFailure: string | undefined;
    pending.forEach(({ sequenceNumber, outgoing }, index) => {
      if (firstFailure !== undefined) return; // from here on, everything comes again with the retry
      if (failedIds.has(String(index))) {
        firstFailure = sequenceNumber;
        const { correlationId, eventId } = outgoing.change;
        logger.error("status change not published: retried from this record", { sequenceNumber, correlationId, eventId, ...failure });
        metrics.count("PublishFailures", {});
        return;
      }
      const { correlationId, previousStatus, status, eventId } = outgoing.change;
      logger.debug("status change published", { correlationId, previousStatus, status, eventId });
      metrics.count("StatusChangesPublished", { status });
    });
    return firstFailure;
  }

  /** Reports a record no message can be built from; false when the failure queue did not take the notice. */
  async function reportUndeliverable(record: DynamoDBRecord, error: unknown): Promise<boolean> {
    const sequenceNumber = record.dynamodb?.SequenceNumber ?? "";
    const keys = keysOf(record);
    const described = describeError(error);
    logger.error("stream record cannot become a status change: reported to the failure queue, not retried", {
      sequenceNumber,
      keys,
      ...described,
    });
    const notice: UndeliverableNotice = {
      reason: described.errorMessage,
      eventSourceARN: record.eventSourceARN ?? null,
      sequenceNumber: record.dynamodb?.SequenceNumber ?? null,
      keys,
      approximateCreationDateTime: record.dynamodb?.ApproximateCreationDateTime ?? null,
    };
    try {
      await sqs.send(new SendMessageCommand({ QueueUrl: failuresQueueUrl, MessageBody: sqsMessageBody(notice) }));
      metrics.count("UnpublishableRecords", {});
      return true;
    } catch (sendError) {
      logger.error("failure notice not sent: retried from this record", { sequenceNumber, keys, ...describeError(sendError) });
      return false;
    }
  }

  async function publish(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const failedAt = (sequenceNumber: string): DynamoDBBatchResponse => ({ batchItemFailures: [{ itemIdentifier: sequenceNumber }] });
    let pending: Pending[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<string | undefined> => {
      const sending = pending;
      pending = [];
      pendingBytes = 0;
      return sendPending(sending);
    };
    for (const record of event.Records) {
      const sequenceNumber = record.dynamodb?.SequenceNumber ?? "";
      let outgoing: OutgoingChange | null;
      try {
        outgoing = outgoingChangeOf(record);
      } catch (error) {
        // Building a message is deterministic: whatever threw here (UndeliverableRecord, or a bug)
        // would throw again on every retry, so the record is reported and the shard moves on. What
        // was read before it is sent first, so that a retry from this record loses nothing.
        const failed = await flush();
        if (failed !== undefined) return failedAt(failed);
        if (!(await reportUndeliverable(record, error))) return failedAt(sequenceNumber);
        continue;
      }
      if (outgoing === null) continue;
      const body = sqsMessageBody(outgoing.change);
      const bytes = Buffer.byteLength(body) + outgoing.groupId.length + outgoing.deduplicationId.length;
      const groupId = outgoing.groupId;
      if (
        pending.length === PUBLISHER.sendBatchSize ||
        pendingBytes + bytes > PUBLISHER.sendBatchMaxBytes ||
        pending.some((p) => p.outgoing.groupId === groupId)
      ) {
        const failed = await flush();
        if (failed !== undefined) return failedAt(failed);
      }
      pending.push({ sequenceNumber, outgoing, body });
      pendingBytes += bytes;
    }
    const failed = await flush();
    return failed === undefined ? { batchItemFailures: [] } : failedAt(failed);
  }

  return async (event) => {
    try {
      return await publish(event);
    } finally {
      metrics.flush();
    }
  };
}
