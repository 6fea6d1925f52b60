/**
 * The reconciler's view of a provider's status API (pure parts). A verification that is not in a
 * final status and has not changed for a while is looked up in its provider's API; the answer
 * becomes a normalized event on the events queue, like a webhook's (docs/reconciliation.md).
 */
import type { EventDraft } from "../core/canonical.js";
import type { ProviderId } from "../core/event.js";

/** Providers whose public API documentation describes a status endpoint this pipeline can call. */
export const RECONCILABLE_PROVIDERS = ["idngo", "veriff"] as const satisfies readonly ProviderId[];
export type ReconcilableProvider = (typeof RECONCILABLE_PROVIDERS)[number];

export const isReconcilable = (provider: ProviderId): provider is ReconcilableProvider =>
  (RECONCILABLE_PROVIDERS as readonly ProviderId[]).includes(provider);

/** One request to a provider's status API, built and signed as the provider documents it. */
export interface ApiRequest {
  readonly method: "GET";
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The provider's answer as received: status, headers (lower-case names) and the body as text. */
export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/**
 * What one lookup found. Never the answer's body: only the status fields, mapped.
 * - `event`: the provider reports a status; `draft` is the event to enqueue (origin
 *   reconciliation, eventId derived from the status fields only, so asking twice gives the same
 *   id); `final` when that status is a final one (approved, rejected, expired, abandoned, deleted).
 * - `no-decision`: the provider has no status to report yet (Veriff `verification: null`).
 * - `not-found`: the provider does not know the verification (404).
 * - `rejected`: any other answer that retrying cannot fix (4xx other than 429, an answer that does
 *   not verify or does not parse); `reason` names it, never a value.
 */
export type LookupResult =
  | { readonly kind: "event"; readonly draft: EventDraft; readonly final: boolean }
  | { readonly kind: "no-decision" }
  | { readonly kind: "not-found" }
  | { readonly kind: "rejected"; readonly reason: string };

/** One provider's status API, with its credentials. Pure: no I/O, no clock (`now` is passed in). */
export interface StatusApi {
  readonly provider: ReconcilableProvider;
  /**
   * The provider's own id named by a correlationId of this provider (for an IDnGO action
   * `action:{actionId}`, which selects the action endpoint), or undefined when it names none the
   * API can look up (an attempt, transaction monitoring, an unidentified event, an id replaced by
   * its digest).
   */
  verificationIdOf(correlationId: string): string | undefined;
  /** The signed request for one verification. */
  request(verificationId: string, now: Date): ApiRequest;
  /** Maps a final (non-retryable) answer; `receivedAt` is when it arrived (ISO 8601). */
  parse(correlationId: string, verificationId: string, response: ApiResponse, receivedAt: string): LookupResult;
}
