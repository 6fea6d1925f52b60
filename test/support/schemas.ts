/** The committed JSON Schemas (schemas/), compiled with Ajv: what an integrator would validate messages with. */
import { readFileSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";

const ajv = new Ajv({ allErrors: true, strict: true });

function compile(name: string): ValidateFunction {
  return ajv.compile(JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), "utf8")) as object);
}

export const validateNormalizedEvent = compile("normalized-event.v1.schema.json");
export const validateStatusChange = compile("status-change.v1.schema.json");

/** Throws with Ajv's errors unless `message` is valid. */
export function expectValid(validate: ValidateFunction, message: unknown): void {
  if (!validate(message)) throw new Error(`schema violation: ${ajv.errorsText(validate.errors)}`);
}
