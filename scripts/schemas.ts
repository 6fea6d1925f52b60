/**
 * `npm run schemas`: writes the JSON Schemas of the two message contracts, generated from their
 * valibot schemas (@valibot/to-json-schema), to schemas/. A test fails when the committed files
 * differ from what this writes, so they cannot drift from the code.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { GenericSchema } from "valibot";
import { normalizedEventSchema } from "../lambdas/core/event-schema.js";
import { statusChangeSchema } from "../lambdas/publisher/change-schema.js";

/** The committed schema files, by name. */
export const MESSAGE_SCHEMAS: Readonly<Record<string, GenericSchema>> = {
  "normalized-event.v1.schema.json": normalizedEventSchema,
  "status-change.v1.schema.json": statusChangeSchema,
};

/**
 * The JSON Schema text of a message schema. Checks that JSON Schema cannot express (UTF-8 byte
 * lengths, calendar validity) are left out ("ignore"): the schema states the rest, and the code
 * (which produced the message) guarantees them.
 */
export function jsonSchemaText(schema: GenericSchema): string {
  const json = toJsonSchema(schema, { errorMode: "ignore", target: "draft-07" });
  return `${JSON.stringify(json, null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, schema] of Object.entries(MESSAGE_SCHEMAS)) {
    writeFileSync(new URL(`../schemas/${name}`, import.meta.url), jsonSchemaText(schema));
    console.log(`schemas/${name}`);
  }
}
