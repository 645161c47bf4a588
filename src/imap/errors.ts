/**
 * The one place where failures become IMAP responses.
 *   ParseError            → tag BAD <reason>
 *   ImapError.bad/no/bye  → tag BAD / tag NO [CODE] / * BYE
 *   StoreError            → tag NO [NONEXISTENT|ALREADYEXISTS|NOPERM|OVERQUOTA|INUSE|UNAVAILABLE|CORRUPTION|...] (RFC 5530)
 *   anything else         → tag NO [SERVERBUG] (and a log line with the stack)
 */
import { ParseError } from './wire/args.js';
import { StoreError, type StoreErrorKind } from '../store/errors.js';
import type { ResponseCode } from './wire/types.js';

export class ImapError extends Error {
  constructor(
    readonly status: 'NO' | 'BAD' | 'BYE',
    message: string,
    readonly code?: ResponseCode,
  ) {
    super(message);
    this.name = 'ImapError';
  }
  static no(message: string, code?: string | ResponseCode): ImapError {
    return new ImapError('NO', message, typeof code === 'string' ? { name: code } : code);
  }
  static bad(message: string, code?: string | ResponseCode): ImapError {
    return new ImapError('BAD', message, typeof code === 'string' ? { name: code } : code);
  }
  /** Ends the connection after an untagged BYE. */
  static bye(message: string): ImapError {
    return new ImapError('BYE', message);
  }
}

const STORE_CODES: Record<StoreErrorKind, string | undefined> = {
  nonexistent: 'NONEXISTENT',
  alreadyexists: 'ALREADYEXISTS',
  noperm: 'NOPERM',
  overquota: 'OVERQUOTA',
  inuse: 'INUSE',
  cannot: 'CANNOT',
  hasChildren: 'HASCHILDREN',
  limit: 'LIMIT',
  toobig: 'TOOBIG',
  unavailable: 'UNAVAILABLE',
  // RFC 5530 §3: UNAVAILABLE is a temporary failure of a subsystem, which a full disk is; OVERQUOTA
  // (Dovecot's choice) would tell the user to delete mail over a problem only the operator can fix.
  nospace: 'UNAVAILABLE',
  // RFC 5530 §3: "some relevant data (e.g., the mailbox) are corrupt"; the store logs what and where.
  damaged: 'CORRUPTION',
};

export interface ErrorReply {
  status: 'NO' | 'BAD' | 'BYE';
  code?: ResponseCode;
  text: string;
  /** True when the error was not expected and should be logged with its stack. */
  unexpected: boolean;
}

export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof ParseError) return { status: 'BAD', text: err.message, unexpected: false };
  if (err instanceof ImapError) return { status: err.status, code: err.code, text: err.message, unexpected: false };
  if (err instanceof StoreError) {
    const name = STORE_CODES[err.kind];
    return { status: 'NO', code: name ? { name } : undefined, text: err.message, unexpected: false };
  }
  return { status: 'NO', code: { name: 'SERVERBUG' }, text: 'Internal server error', unexpected: true };
}
