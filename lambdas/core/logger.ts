/**
 * What the handlers log through; Powertools' Logger satisfies it. Callers pass ids and
 * outcomes only, never a body, a subject or personal data.
 */
export interface AppLogger {
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}
