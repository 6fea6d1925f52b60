/** `kyc status` and `kyc list`: the read API, locally (plain HTTP) or in AWS (SigV4-signed, `ReadApiBaseUrl`). */
import { DEFAULTS } from "../../../lambdas/core/contract.js";
import type { Command } from "../command.js";
import { CliError, usageError } from "../io.js";
import { HELP_OPTION, HTTP_TARGET_OPTIONS, JSON_OPTION } from "../options.js";
import { errorOf, formatVerification, listVerifications, readVerification } from "../read-api.js";

export const status: Command = {
  name: "status",
  summary: "one verification: its status and history (GET /verifications/{correlationId})",
  usage: ["status <correlationId> [--json] [options]"],
  description:
    "Prints the verification's status and its history, newest event last. The id is the one the pipeline uses: <provider>:<provider's id>.",
  options: { ...JSON_OPTION, ...HTTP_TARGET_OPTIONS, ...HELP_OPTION },
  async run(flags, context) {
    const [correlationId, extra] = flags.positionals;
    if (correlationId === undefined)
      throw usageError("kyc status: which verification? kyc status <correlationId>, e.g. veriff:<session id>");
    if (extra !== undefined) throw usageError(`kyc status: unexpected argument "${extra}"`);
    // An empty id would make the request the list route (`/verifications/`), not a lookup.
    if (correlationId.trim() === "") throw usageError(`kyc status: the verification id is empty, got ${JSON.stringify(correlationId)}`);
    const answer = await readVerification(context.target(), correlationId);
    if (answer.status === 404) throw new CliError(`no verification ${correlationId} (${context.target().label})`);
    if (answer.body === undefined) throw new CliError(`the read API answered ${answer.status}: ${errorOf(answer)}`);
    if (flags.boolean("json")) context.out.json(answer.body);
    else for (const line of formatVerification(answer.body)) context.out.line(line);
    return 0;
  },
};

export const list: Command = {
  name: "list",
  summary: "every verification of one of your users, newest first (GET /verifications?subject=…)",
  usage: ["list --subject <key> [--limit <n>] [--cursor <c>] [--json] [options]"],
  description: [
    "Lists the verifications of one of your user keys (vendorData / externalUserId / clientKey), newest",
    `first, a page at a time (--limit 1..${DEFAULTS.maxPageSize}, default ${DEFAULTS.pageSize}); the command for the next page follows the page.`,
  ].join("\n"),
  options: {
    subject: { type: "string", value: "key", describe: "your user key (required)" },
    limit: { type: "string", value: "n", describe: `page size, 1 to ${DEFAULTS.maxPageSize} (default ${DEFAULTS.pageSize})` },
    cursor: { type: "string", value: "c", describe: "the page after this cursor (printed with the previous page)" },
    ...JSON_OPTION,
    ...HTTP_TARGET_OPTIONS,
    ...HELP_OPTION,
  },
  async run(flags, context) {
    if (flags.positionals.length > 0)
      throw usageError(`kyc list: unexpected argument "${flags.positionals[0]}" (the user key goes in --subject)`);
    const subject = flags.string("subject");
    if (subject === undefined) throw usageError("kyc list: --subject <key> is required");
    const limit =
      flags.string("limit") === undefined
        ? undefined
        : flags.wholeNumber("limit", DEFAULTS.pageSize, { min: 1, max: DEFAULTS.maxPageSize });
    const cursor = flags.string("cursor");
    const answer = await listVerifications(context.target(), {
      subject,
      ...(limit === undefined ? {} : { limit }),
      ...(cursor === undefined ? {} : { cursor }),
    });
    if (answer.body === undefined) {
      throw new CliError(`the read API answered ${answer.status}: ${errorOf(answer)}`, answer.status === 400 ? 2 : 1);
    }
    const page = answer.body;
    if (flags.boolean("json")) {
      context.out.json(page);
      return 0;
    }
    if (page.items.length === 0)
      context.out.line(`No verification for subject ${subject}${cursor === undefined ? "" : " after this cursor"}.`);
    for (const item of page.items) {
      context.out.line(
        `${item.updatedAt ?? "?"}  ${item.correlationId}  ${item.status ?? "(no status)"}${item.sandbox ? "  [sandbox]" : ""}`,
      );
    }
    if (page.next !== null) context.out.line(`More: npm run kyc -- list --subject ${JSON.stringify(subject)} --cursor ${page.next}`);
    return 0;
  },
};
