/**
 * What Postroom asks of a logger: a pino logger fits, and so does anything else with these five
 * methods (a console wrapper, winston through a small adapter). `obj` carries the structured fields
 * (pino's convention: fields first, message second); a lone string is the message.
 */
export interface Logger {
  child(bindings: Record<string, unknown>): Logger;
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
}

/** Says nothing: the default when no logger is given (pino is not loaded for it). */
export const SILENT_LOGGER: Logger = {
  child: () => SILENT_LOGGER,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
