/**
 * The one place where failures become POP3 replies.
 *   Pop3Error                → -ERR [CODE] text (and a hang-up when `close` is set)
 *   StoreError               → -ERR [IN-USE] / [SYS/TEMP] / [SYS/PERM] (RFC 2449 §8, RFC 3206)
 *   anything else            → -ERR [SYS/TEMP] and a log line with the stack
 */
import { StoreError, type StoreErrorKind } from '../store/errors.js';

/** Extended response codes POP3 knows (RFC 2449 §8.1, RFC 3206 §4-5). */
export type Pop3ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

export class Pop3Error extends Error {
  constructor(
    message: string,
    readonly code?: Pop3ResponseCode,
    /** Hang up after sending the reply (too many failures, a limit broken). */
    readonly close = false,
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

/**
 * RFC 3206: SYS/TEMP is a problem that may go away, so the client can try again later; SYS/PERM
 * will not go away without someone fixing it, so the client should stop and tell its user.
 */
const STORE_CODES: Record<StoreErrorKind, Pop3ResponseCode> = {
  nonexistent: 'SYS/PERM',
  alreadyexists: 'SYS/PERM',
  noperm: 'SYS/PERM',
  overquota: 'SYS/PERM',
  inuse: 'IN-USE',
  cannot: 'SYS/PERM',
  hasChildren: 'SYS/PERM',
  limit: 'SYS/PERM',
  toobig: 'SYS/PERM',
  unavailable: 'SYS/TEMP',
  // A full disk goes away once space is freed: the client may try again later.
  nospace: 'SYS/TEMP',
  // A damaged message stays damaged until someone repairs or removes it.
  damaged: 'SYS/PERM',
};

export interface Pop3ErrorReply {
  code?: Pop3ResponseCode;
  text: string;
  close: boolean;
  /** True when the error was not expected and should be logged with its stack. */
  unexpected: boolean;
}

export function toPop3ErrorReply(err: unknown): Pop3ErrorReply {
  if (err instanceof Pop3Error) return { code: err.code, text: err.message, close: err.close, unexpected: false };
  if (err instanceof StoreError) {
    return { code: STORE_CODES[err.kind], text: oneLine(err.message), close: false, unexpected: false };
  }
  return { code: 'SYS/TEMP', text: 'Internal server error, try again later', close: false, unexpected: true };
}

/** A reply is one line: never let a message with a line break reach the wire. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 400);
}
