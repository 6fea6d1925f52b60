/**
 * Status changes for downstream consumers (pure). One message per applied transition: a state
 * item whose `status` differs from its previous image. Duplicates and stale events never
 * rewrite the status, so they produce nothing.
 */

import { TABLE } from "../core/contract.js";
import type { DecisionDetails, ProviderId, Status, Subject } from "../core/event.js";
import { toSqsId } from "../core/sqs-message.js";
import type { VerificationState } from "../model/verification.js";

/** Version 1 of the status-change message (the body on the status-changes queue). */
export interface StatusChange {
  readonly specVersion: "1";
  readonly correlationId: string;
  readonly provider: ProviderId;
  readonly subject: Subject;
  /** `null` for a verification's first status. */
  readonly previousStatus: Status | null;
  readonly status: Status;
  /** The event that caused the change: the downstream idempotency key. */
  readonly eventId: string;
  /** The provider's time of that event, or null. */
  readonly occurredAt: string | null;
  /** When the pipeline applied the change. */
  readonly changedAt: string;
  readonly decision: DecisionDetails | null;
  /** True when the verification ran in the provider's sandbox (test) environment: keep it out of production decisions. */
  readonly sandbox: boolean;
  /**
   * The verification's state version after this change: strictly increasing per verification, so
   * a consumer behind a fan-out that does not keep order can drop a message older than one it has.
   */
  readonly version: number;
}

export interface OutgoingChange {
  readonly change: StatusChange;
  /** SQS MessageGroupId: one group per verification, so changes stay in order. */
  readonly groupId: string;
  /** SQS MessageDeduplicationId: the state item's version identifies the transition. */
  readonly deduplicationId: string;
}

type StateImage = VerificationState & { readonly [key: string]: unknown };

/** The change between two images of an item, or null when the item is not a state item or its status did not change. */
export function statusChangeOf(oldImage: StateImage | undefined, newImage: StateImage | undefined): OutgoingChange | null {
  if (newImage === undefined || newImage[TABLE.sortKey] !== TABLE.stateSortKey) return null;
  const previousStatus = oldImage?.status ?? null;
  const { status } = newImage;
  if (status === null || status === previousStatus || newImage.appliedEventId === null) return null;
  return {
    change: {
      specVersion: "1",
      correlationId: newImage.correlationId,
      provider: newImage.provider,
      subject: newImage.subject,
      previousStatus,
      status,
      eventId: newImage.appliedEventId,
      occurredAt: newImage.occurredAt,
      changedAt: newImage.statusChangedAt ?? newImage.updatedAt,
      decision: newImage.decision,
      sandbox: newImage.sandbox ?? false,
      version: Number(newImage.version),
    },
    groupId: toSqsId(newImage.correlationId),
    deduplicationId: toSqsId(`${newImage.correlationId}#v${newImage.version}`),
  };
}
