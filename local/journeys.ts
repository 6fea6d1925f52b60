/**
 * Real verification lifecycles per provider, as the providers deliver them (several per provider,
 * in the order they happen): what the load test and `npm run bench` play through the pipeline.
 * Includes Veriff sessions that expire without a decision time and an id beyond extraction
 * delivered after the decision.
 */
import type { ProviderId, Status } from "../lambdas/core/event.js";

export interface JourneyStep {
  readonly status: Status;
  /** Minutes after the verification's start. */
  readonly minute: number;
  /** Veriff: the attempt the step belongs to. */
  readonly attempt?: string;
}

export const JOURNEYS: Readonly<Record<ProviderId, readonly (readonly JourneyStep[])[]>> = {
  veriff: [
    [
      { status: "started", minute: 0, attempt: "a1" },
      { status: "submitted", minute: 1, attempt: "a1" },
      { status: "resubmission_requested", minute: 3, attempt: "a1" },
      { status: "started", minute: 4, attempt: "a2" },
      { status: "submitted", minute: 5, attempt: "a2" },
      { status: "approved", minute: 6, attempt: "a2" },
    ],
    // expired arrives with decisionTime null, after a timed resubmission request
    [
      { status: "started", minute: 0, attempt: "a1" },
      { status: "submitted", minute: 1, attempt: "a1" },
      { status: "resubmission_requested", minute: 3, attempt: "a1" },
      { status: "expired", minute: 9, attempt: "a1" },
    ],
  ],
  idngo: [
    [
      { status: "created", minute: 0 },
      { status: "submitted", minute: 1 },
      { status: "in_review", minute: 2 },
      { status: "approved", minute: 3 },
    ],
    [
      { status: "created", minute: 0 },
      { status: "submitted", minute: 1 },
      { status: "approved", minute: 3 },
      { status: "rejected", minute: 4 },
    ],
  ],
  idbeyond: [
    // an extraction (started) delivered after the decision, with a later timestamp
    [
      { status: "started", minute: 0 },
      { status: "submitted", minute: 1 },
      { status: "in_review", minute: 2 },
      { status: "approved", minute: 3 },
      { status: "started", minute: 8 },
    ],
  ],
  neurovision: [
    [
      { status: "submitted", minute: 0 },
      { status: "in_review", minute: 1 },
      { status: "approved", minute: 2 },
    ],
    [
      { status: "submitted", minute: 0 },
      { status: "rejected", minute: 2 },
    ],
  ],
};
