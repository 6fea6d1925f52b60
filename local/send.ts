/** `npm run send -- <provider> <status> [options]`: an alias of `kyc send` (local/cli/commands/webhooks.ts). */
import { run } from "./cli/process.js";

await run(["send", ...process.argv.slice(2)]);
