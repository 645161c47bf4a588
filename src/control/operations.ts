/**
 * The control socket's one table of operations. An operation is a name, a one-line summary and
 * `run(args, call)`; whatever it returns is the reply, whatever it throws becomes an error reply
 * (a ControlError's code, a StoreError's kind, or "failed"). Long operations stream with
 * `call.event()` before their reply (progress lines, chunks of a backup).
 *
 * Features add operations by adding entries (src/cli/control/*.ts builds the table `serve` uses);
 * the socket, the framing and the client need not change. docs/architecture.md ("The control
 * socket") describes the protocol for other clients.
 */

export class ControlError extends Error {
  constructor(
    /** Machine-readable: "unknown-op", "bad-args", "not-found", "unavailable", a StoreError kind… */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** What a connection keeps between requests (e.g. store handles), released when the client goes. */
export interface ControlSession {
  readonly values: Map<string, unknown>;
  /** Runs when the client disconnects (or the server closes). */
  onClose(release: () => void): void;
}

export interface ControlCall {
  /** Sends `{"id", "event": name, "data"}` before the reply; resolves once the socket took it (backpressure). */
  event(name: string, data: unknown): Promise<void>;
  readonly session: ControlSession;
}

export interface ControlOperation {
  readonly name: string;
  /** One line for `postroom control help` (what it does and its arguments). */
  readonly summary: string;
  run(args: Record<string, unknown>, call: ControlCall): Promise<unknown>;
}

export type ControlOperations = ReadonlyMap<string, ControlOperation>;

export function operationTable(...groups: ControlOperation[][]): Map<string, ControlOperation> {
  const table = new Map<string, ControlOperation>();
  for (const op of groups.flat()) {
    if (table.has(op.name)) throw new Error(`control operation "${op.name}" is defined twice`);
    table.set(op.name, op);
  }
  return table;
}

/** Argument readers for operations: each throws ControlError('bad-args') naming the argument. */
export const arg = {
  string(args: Record<string, unknown>, name: string): string {
    const v = args[name];
    if (typeof v !== 'string' || v.length === 0) throw new ControlError('bad-args', `argument "${name}" must be a non-empty string`);
    return v;
  },
  optionalString(args: Record<string, unknown>, name: string): string | undefined {
    return args[name] === undefined ? undefined : arg.string(args, name);
  },
  number(args: Record<string, unknown>, name: string): number {
    const v = args[name];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ControlError('bad-args', `argument "${name}" must be a number`);
    return v;
  },
};
