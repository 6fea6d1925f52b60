#!/usr/bin/env node
// `kyc` (package.json "bin", e.g. after `npm link` in a clone): runs local/cli/run.ts through tsx, a dev dependency of the clone.
import { register } from "tsx/esm/api";

register();
await import("../local/cli/run.ts");
