/** Whatever a command threw → one NO or BYE line, in one place (RFC 5804 §1.3 response codes). */
import { isStoreError } from '../store/errors.js';
import { ManageSieveError } from './types.js';
import { SyntaxError } from './wire/tokens.js';

export interface Refusal {
  status: 'NO' | 'BYE';
  code?: string;
  text: string;
  /** A syntax or state error: counted against maxBadCommands. */
  bad: boolean;
  /** Not the client's fault: log it. */
  unexpected: boolean;
}

export function refusalOf(err: unknown): Refusal {
  if (err instanceof ManageSieveError) return { status: err.bye ? 'BYE' : 'NO', ...(err.code ? { code: err.code } : {}), text: err.message, bad: false, unexpected: false };
  if (err instanceof SyntaxError) return { status: 'NO', text: err.message, bad: true, unexpected: false };
  if (isStoreError(err)) {
    switch (err.kind) {
      case 'nonexistent':
        return { status: 'NO', code: 'NONEXISTENT', text: 'There is no script by that name', bad: false, unexpected: false };
      case 'alreadyexists':
        return { status: 'NO', code: 'ALREADYEXISTS', text: 'A script by that name exists', bad: false, unexpected: false };
      case 'inuse':
        return { status: 'NO', code: 'ACTIVE', text: 'The script is active; deactivate it first', bad: false, unexpected: false };
      case 'overquota':
      case 'limit':
        return { status: 'NO', code: 'QUOTA', text: err.message, bad: false, unexpected: false };
      case 'unavailable':
      case 'nospace':
        return { status: 'NO', code: 'TRYLATER', text: 'The server cannot do that now, try again later', bad: false, unexpected: true };
      case 'cannot':
      case 'noperm':
        return { status: 'NO', text: err.message, bad: false, unexpected: false };
      default:
        return { status: 'NO', code: 'TRYLATER', text: 'Internal error', bad: false, unexpected: true };
    }
  }
  return { status: 'NO', text: 'Internal error', bad: false, unexpected: true };
}
