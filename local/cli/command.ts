/** What every `kyc` command is: its help, its options, and what it does. */
import type { CliIo, Output } from "./io.js";
import type { Flags, OptionSpecs } from "./options.js";
import type { Target } from "./target.js";

export interface Context {
  readonly io: CliIo;
  readonly out: Output;
  /** The local pipeline or the stack the flags name (resolved on first use, closed after the command). */
  target(): Target;
}

export interface Command {
  readonly name: string;
  /** One line, for `kyc --help`. */
  readonly summary: string;
  /** Usage lines without the leading `kyc `. */
  readonly usage: readonly string[];
  readonly description: string;
  readonly options: OptionSpecs;
  /** Returns the exit code. */
  run(flags: Flags, context: Context): Promise<number>;
}
