/**
 * `npm run send -- <provider> <status> [options]`: posts a correctly signed (or encrypted) sample
 * webhook to a running local pipeline, waits for the consumer to process it, and prints the
 * verification. See `--help`.
 */
import { parseArgs } from "node:util";
import { ROUTES, secretEnvOf } from "../lambdas/core/contract.js";
import { isProviderId, STATUSES, type Status } from "../lambdas/core/event.js";
import { defaultSecretOf } from "./pipeline.js";
import { SAMPLE_STATUSES, sampleSessionId, sampleWebhook } from "./samples.js";

const HELP = `Usage: npm run send -- <provider> <status> [options]

Sends a sample webhook, signed as the provider signs it, to the local pipeline (npm start).

  provider   veriff | idngo | idbeyond | neurovision
  status     ${Object.entries(SAMPLE_STATUSES)
    .map(([p, s]) => `\n             ${p.padEnd(12)} ${s.join(", ")}`)
    .join("")}

Options:
  --session <id>   the provider's verification id, to continue a verification (default: a new one)
  --user <key>     your user key (vendorData / externalUserId / clientKey)   (default: user-42)
  --at <iso>       the provider's event time                                  (default: now)
  --port <n>       the local pipeline's port                                  (default: $PORT or 3000)
  --forge          sign with a wrong secret: the pipeline answers 401 and changes nothing
  --help

The secret is the first of $<PROVIDER>_WEBHOOK_SECRET (as for npm start), else the local default.
`;

function fail(message: string): never {
  console.error(`${message}\n\n${HELP}`);
  process.exit(2);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    session: { type: "string" },
    user: { type: "string", default: "user-42" },
    at: { type: "string" },
    port: { type: "string", default: process.env["PORT"] ?? "3000" },
    forge: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const [provider, status] = positionals;
if (!isProviderId(provider)) fail(`Unknown provider "${provider ?? ""}".`);
if (!(STATUSES as readonly string[]).includes(status ?? "") || !SAMPLE_STATUSES[provider].includes(status as Status)) {
  fail(`${provider} sends no webhook for status "${status ?? ""}"; it sends: ${SAMPLE_STATUSES[provider].join(", ")}.`);
}
const occurredAt = values.at === undefined ? new Date() : new Date(values.at);
if (Number.isNaN(occurredAt.getTime())) fail(`--at "${values.at}" is not a date.`);

const configured = process.env[secretEnvOf(provider)]
  ?.split(",")
  .map((s) => s.trim())
  .find((s) => s.length > 0);
const secret = values.forge ? "not-the-secret" : (configured ?? defaultSecretOf(provider));
const sessionId = values.session ?? sampleSessionId(provider);
const request = sampleWebhook(provider, status as Status, secret, { sessionId, userKey: values.user, occurredAt });
const base = `http://127.0.0.1:${values.port}`;

let response: Response;
try {
  response = await fetch(`${base}${ROUTES.webhook(provider)}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...request.headers },
    body: request.body,
  });
} catch {
  console.error(`Nothing answers on ${base}: start the local pipeline first with \`npm start\`.`);
  process.exit(1);
}
const answer = await response.text();
console.log(`POST ${ROUTES.webhook(provider)} (${status}${values.forge ? ", forged" : ""}) → ${response.status} ${answer}`);
if (response.status !== 200) process.exit(values.forge && response.status === 401 ? 0 : 1);

// Wait for the consumer to record the event, then show the verification.
const { eventId } = JSON.parse(answer) as { eventId: string };
const correlationId = `${provider}:${sessionId}`;
const viewUrl = `${base}${ROUTES.verifications}/${encodeURIComponent(correlationId)}`;
for (let i = 0; i < 50; i += 1) {
  const view = await fetch(viewUrl);
  if (view.status === 200) {
    const body = (await view.json()) as {
      status: string | null;
      history: { eventId: string; status: string | null; outcome: string; reason: string }[];
    };
    if (body.history.some((h) => h.eventId === eventId)) {
      console.log(`\n${correlationId} is now: ${body.status}`);
      for (const h of body.history) console.log(`  ${String(h.status).padEnd(24)} ${h.outcome.padEnd(10)} ${h.reason}`);
      console.log(`\nContinue it:  npm run send -- ${provider} <status> --session ${sessionId}`);
      console.log(`Look it up:   curl ${viewUrl}`);
      process.exit(0);
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
console.error(`Accepted, but not processed within 10 s: check the npm start output. curl ${viewUrl}`);
process.exit(1);
