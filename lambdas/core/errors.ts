/**
 * How an error appears in a log line: its name and message, never a payload value. Our own
 * errors never put values in their messages; a JSON.parse SyntaxError would (it quotes the
 * input), so its message is dropped, and every message is cut to a bounded length.
 */
export function describeError(error: unknown): { readonly error: string; readonly errorMessage: string } {
  if (!(error instanceof Error)) return { error: typeof error, errorMessage: "" };
  const quotesInput = error instanceof SyntaxError;
  return { error: error.name, errorMessage: quotesInput ? "(not logged: may quote input)" : error.message.slice(0, 300) };
}
