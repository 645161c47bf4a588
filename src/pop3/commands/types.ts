/**
 * A POP3 command is a small declarative spec: the states it may run in, a pure parse of its
 * arguments, and run(ctx, args) that talks to the session only through ctx. Only the dispatcher
 * writes "+OK"/"-ERR": run returns a reply or throws a Pop3Error.
 */
import type { Logger } from '../../util/logger.js';
import type { CommandLine } from '../wire/command-line.js';
import type { Pop3State, Pop3StateName } from '../session/state.js';
import type { Pop3Services } from '../session/services.js';
import type { Pop3ConnectionInfo } from '../options.js';

export type Pop3Body =
  /** Short multi-line answers (LIST, UIDL, CAPA): each line is dot-stuffed by the encoder. */
  | { kind: 'lines'; lines: string[] }
  /** A message or its top (RETR, TOP), streamed; `bodyLines` cuts it for TOP. */
  | { kind: 'message'; content: AsyncIterable<Buffer>; bodyLines?: number; onSent?: () => void };

export interface Pop3Reply {
  /** Text after "+OK". */
  text: string;
  body?: Pop3Body;
  /** What happens after the reply is written: hang up (QUIT) or start TLS (STLS). */
  then?: 'close' | 'starttls';
}

export interface Pop3Context {
  readonly connection: Pop3ConnectionInfo;
  readonly services: Pop3Services;
  readonly state: Pop3State;
  setState(state: Pop3State): void;
  /** The greeting's APOP timestamp ("<...>"), when APOP is offered. */
  readonly timestamp?: string;
  /** Failed logins so far on this connection. */
  authFailures: number;
  /** True once a SASL exchange succeeded: RFC 5034 §4 forbids a second AUTH. */
  authenticated: boolean;
  /** SASL continuation: writes "+ <base64>" and resolves with the client's next line (null if it hung up). */
  continuation(challenge: Buffer): Promise<string | null>;
  /** The server's logger with this connection's `conn` and `remote` bound (as IMAP's); absent without a logger. */
  readonly logger?: Logger;
}

export interface Pop3Command<A = unknown> {
  /** Upper-case keyword. */
  readonly name: string;
  readonly states: readonly Pop3StateName[];
  /** Keep the arguments out of logs (passwords, SASL data). */
  readonly sensitive?: boolean;
  /** Pure: arguments → typed args, or throws CommandSyntaxError. */
  parse(line: CommandLine): A;
  run(ctx: Pop3Context, args: A): Promise<Pop3Reply>;
}
