/**
 * What the handlers log through; Powertools' Logger satisfies it. Callers pass ids and
 * outcomes only, never a body, a subject or personal data.
 */
export interface AppLogger {
  /** Per-webhook, per-event and per-change lines: off at the default level (the metrics count them; the table's history holds them). */
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}
