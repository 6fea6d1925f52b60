/** The `kyc` entry point: `npm run kyc -- <command>`, `tsx local/cli/run.ts <command>`, bin/kyc.js. */
import { run } from "./process.js";

await run(process.argv.slice(2));
