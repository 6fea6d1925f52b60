/** `npm run changes [-- --follow]`: an alias of `kyc tail` (local/cli/commands/tail.ts). */
import { run } from "./cli/process.js";

await run(["tail", ...process.argv.slice(2)]);
