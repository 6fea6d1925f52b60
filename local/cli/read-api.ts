/**
 * The read API as `kyc` calls it (`GET /verifications/{id}`, `GET /verifications?subject=…`):
 * the same requests locally and in AWS, where the target signs them.
 */
import type { Status } from "../../lambdas/core/event.js";
import { rfc3986 } from "../../lambdas/core/http.js";
import { CliError } from "./io.js";
import type { Target } from "./target.js";

export interface HistoryView {
  readonly eventId: string;
  readonly providerEventType?: string;
  readonly status: Status | null;
  readonly outcome: string;
  readonly reason: string;
  readonly occurredAt?: string | null;
  readonly processedAt?: string;
}

export interface VerificationView {
  readonly correlationId: string;
  readonly provider: string;
  readonly status: Status | null;
  readonly subject: Readonly<Record<string, string>>;
  readonly sandbox?: boolean;
  readonly updatedAt?: string;
  readonly version?: number;
  readonly history: readonly HistoryView[];
}

export interface ListView {
  readonly subject: string;
  readonly items: readonly VerificationView[];
  readonly next: string | null;
}

export interface ReadAnswer<T> {
  readonly status: number;
  /** The parsed body of a 200, else undefined. */
  readonly body: T | undefined;
  /** The raw body (the error text of a 4xx). */
  readonly text: string;
}

async function get<T>(target: Target, url: URL): Promise<ReadAnswer<T>> {
  const response = await target.readGet(url);
  const text = await response.text();
  if (response.status === 403 && target.kind === "aws") {
    throw new CliError(
      `the read API answered 403 (${url.origin}): these credentials may not call it; a reader role needs execute-api:Invoke on it (verificationReaderRoleArns)`,
    );
  }
  if (response.status !== 200) return { status: response.status, body: undefined, text };
  try {
    return { status: 200, body: JSON.parse(text) as T, text };
  } catch {
    throw new CliError(`the read API answered 200 with a body that is not JSON (${url.origin}${url.pathname})`);
  }
}

export async function readVerification(target: Target, correlationId: string): Promise<ReadAnswer<VerificationView>> {
  return get(target, new URL(`${await target.readApiBaseUrl()}/${rfc3986(correlationId)}`));
}

export async function listVerifications(
  target: Target,
  query: { readonly subject: string; readonly limit?: number; readonly cursor?: string },
): Promise<ReadAnswer<ListView>> {
  const parts = [`subject=${rfc3986(query.subject)}`];
  if (query.limit !== undefined) parts.push(`limit=${query.limit}`);
  if (query.cursor !== undefined) parts.push(`cursor=${rfc3986(query.cursor)}`);
  return get(target, new URL(`${await target.readApiBaseUrl()}?${parts.join("&")}`));
}

/** The read API's error text (`{"error":"…"}`), or the raw body. */
export function errorOf(answer: ReadAnswer<unknown>): string {
  try {
    const parsed = JSON.parse(answer.text) as { error?: unknown };
    if (typeof parsed.error === "string") return parsed.error;
  } catch {
    // not JSON: the raw text below
  }
  return answer.text.slice(0, 200) || `HTTP ${answer.status}`;
}

/** A verification as a few lines: its status, then its history. */
export function formatVerification(view: VerificationView): string[] {
  const subject = Object.entries(view.subject)
    .map(([key, value]) => `${key}=${value}`)
    .join(", ");
  return [
    `${view.correlationId}  ${view.status ?? "(no status)"}${view.sandbox ? "  [sandbox]" : ""}${subject ? `  (${subject})` : ""}`,
    ...view.history.map((h) => `  ${String(h.status).padEnd(24)} ${h.outcome.padEnd(10)} ${h.reason}`),
  ];
}
