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

/**
 * `parent.child(bindings)`, made the first time something is logged through it. pino's child()
 * serialises its bindings when it is made; a hot path that gives each unit of work its own child
 * and usually logs nothing (the Sieve filter, once per delivery: a few µs each, seen in the
 * server's CPU profile — bench/RESULTS.md) should not pay for that.
 */
export function lazyChild(parent: Logger, bindings: Record<string, unknown>): Logger {
  return new LazyChild(parent, bindings);
}

class LazyChild implements Logger {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  child(bindings: Record<string, unknown>): Logger {
    return this.logger().child(bindings);
  }
  debug(obj: unknown, msg?: string): void {
    this.write('debug', obj, msg);
  }
  info(obj: unknown, msg?: string): void {
    this.write('info', obj, msg);
  }
  warn(obj: unknown, msg?: string): void {
    this.write('warn', obj, msg);
  }
  error(obj: unknown, msg?: string): void {
    this.write('error', obj, msg);
  }

  /** A lone object stays a lone argument: pino tells `log(obj)` from `log(obj, undefined)`. */
  private write(level: 'debug' | 'info' | 'warn' | 'error', obj: unknown, msg: string | undefined): void {
    const l = this.logger();
    if (msg === undefined) l[level](obj);
    else l[level](obj, msg);
  }

  private logger(): Logger {
    return (this.made ??= this.parent.child(this.bindings));
  }
}
