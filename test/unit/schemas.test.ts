import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PROVIDER_IDS } from "../../lambdas/core/event.js";
import { statusChangeOf } from "../../lambdas/publisher/change.js";
import { jsonSchemaText, MESSAGE_SCHEMAS } from "../../scripts/schemas.js";
import { receiveFixture } from "../support/providers.js";
import { expectValid, validateNormalizedEvent, validateStatusChange } from "../support/schemas.js";

describe("the committed JSON Schemas (schemas/)", () => {
  it("are exactly what `npm run schemas` generates from the code's valibot schemas", () => {
    for (const [name, schema] of Object.entries(MESSAGE_SCHEMAS)) {
      expect(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), "utf8"), `${name}: run npm run schemas`).toBe(
        jsonSchemaText(schema),
      );
    }
  });

  it("accept every normalized event of every fixture, and refuse what is not one", () => {
    let checked = 0;
    for (const provider of PROVIDER_IDS) {
      const dir = new URL(`../fixtures/${provider}/`, import.meta.url);
      for (const name of readdirSync(dir).filter((f) => f.endsWith(".json") && !f.startsWith("api-"))) {
        const body = readFileSync(new URL(name, dir), "utf8");
        const event = provider === "neurovision" && !body.includes("sessionId") ? undefined : receiveFixture(provider, name);
        if (event === undefined) continue;
        expectValid(validateNormalizedEvent, JSON.parse(JSON.stringify(event)));
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThan(60);
    const event = JSON.parse(JSON.stringify(receiveFixture("idngo", "seed-applicantReviewed-red.json"))) as Record<string, unknown>;
    for (const broken of [
      { ...event, status: "approvedish" },
      { ...event, occurredAt: "2020-02-21 13:23:19" },
      { ...event, correlationId: "x".repeat(129) },
      { ...event, decision: { code: 1.5 } },
      { ...event, specVersion: "2" },
      { ...event, sandbox: "false" },
    ]) {
      expect(validateNormalizedEvent(broken)).toBe(false);
    }
  });

  it("accept a status-change message, and refuse what is not one", () => {
    const state = {
      correlationId: "idngo:5cb744200a975a67ed1798a4",
      sk: "STATE",
      provider: "idngo" as const,
      status: "approved" as const,
      subject: { externalUserId: "12672" },
      appliedEventId: "idngo:req-2",
      occurredAt: "2020-02-21T13:23:19.129Z",
      decision: { answer: "GREEN", rejectType: null, labels: [] },
      createdAt: "2026-11-22T10:00:00.000Z",
      updatedAt: "2026-11-22T10:00:05.000Z",
      statusChangedAt: "2026-11-22T10:00:05.000Z",
      sandbox: true,
      version: 2,
    };
    const change = statusChangeOf({ ...state, status: "in_review", version: 1 }, state)?.change;
    expectValid(validateStatusChange, change);
    expect(validateStatusChange({ ...change, version: 0 })).toBe(false);
    expect(validateStatusChange({ ...change, status: null })).toBe(false);
    expect(validateStatusChange({ ...change, changedAt: "yesterday" })).toBe(false);
    const { sandbox: _dropped, ...withoutSandbox } = change ?? {};
    expect(validateStatusChange(withoutSandbox)).toBe(false);
  });
});
