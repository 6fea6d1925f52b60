/**
 * A TypeScript client for the read API (docs/operations.md, "Reading verifications"): every
 * request is signed with SigV4 for `execute-api`, with the default AWS credential chain. The
 * caller's role needs `execute-api:Invoke` on the read routes (grantReadVerifications, or
 * `-c verificationReaderRoleArns=…`). This file is type-checked with the project (`npm test`).
 *
 *   const client = readApiClient({ baseUrl: process.env.READ_API_BASE_URL ?? "", region: "eu-west-1" });
 *   const verification = await client.verification("idngo:5cb744200a975a67ed1798a4");
 *   const page = await client.bySubject("user-42", { limit: 20 });
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { SignatureV4 } from "@smithy/signature-v4";
import type { StatusChange } from "../../lambdas/publisher/change.js";

/** What `GET /verifications/{correlationId}` answers (the history is each event with its outcome). */
export interface Verification {
  readonly correlationId: string;
  readonly provider: string;
  readonly status: StatusChange["status"] | null;
  readonly subject: Readonly<Record<string, string>>;
  readonly sandbox: boolean;
  readonly version: number;
  readonly history: readonly {
    readonly eventId: string;
    readonly status: string | null;
    readonly outcome: string;
    readonly reason: string;
  }[];
}

export interface Page {
  readonly items: readonly Omit<Verification, "history">[];
  /** The cursor of the next page, or null on the last. */
  readonly next: string | null;
}

export function readApiClient(options: { readonly baseUrl: string; readonly region: string }) {
  const signer = new SignatureV4({ service: "execute-api", region: options.region, credentials: fromNodeProviderChain(), sha256: Sha256 });

  async function get(url: URL): Promise<Response> {
    const query: Record<string, string> = {};
    url.searchParams.forEach((value, key) => {
      query[key] = value;
    });
    const signed = await signer.sign({
      method: "GET",
      protocol: url.protocol,
      hostname: url.hostname,
      path: url.pathname,
      query,
      headers: { host: url.host },
    });
    return fetch(url, { headers: signed.headers });
  }

  return {
    /** One verification with its history, or undefined when the pipeline has none with that id. */
    async verification(correlationId: string): Promise<Verification | undefined> {
      const response = await get(new URL(`${options.baseUrl}/${encodeURIComponent(correlationId)}`));
      if (response.status === 404) return undefined;
      if (!response.ok) throw new Error(`read API answered ${response.status}`);
      return (await response.json()) as Verification;
    },
    /** Every verification of one of your users, newest first, a page at a time. */
    async bySubject(subject: string, page: { readonly limit?: number; readonly cursor?: string } = {}): Promise<Page> {
      const url = new URL(options.baseUrl);
      url.searchParams.set("subject", subject);
      if (page.limit !== undefined) url.searchParams.set("limit", String(page.limit));
      if (page.cursor !== undefined) url.searchParams.set("cursor", page.cursor);
      const response = await get(url);
      if (!response.ok) throw new Error(`read API answered ${response.status}`);
      return (await response.json()) as Page;
    },
  };
}
