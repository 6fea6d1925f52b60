import type { ProviderId } from "../core/event.js";
import { idbeyond } from "./idbeyond.js";
import { idngo } from "./idngo.js";
import { neurovision } from "./neurovision.js";
import type { Provider } from "./types.js";
import { veriff } from "./veriff.js";

/** Every supported provider, by the path segment of its webhook URL. Adding one is one line here. */
export const PROVIDERS: Readonly<Record<ProviderId, Provider>> = { veriff, idngo, idbeyond, neurovision };
