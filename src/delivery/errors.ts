/**
 * The one place where errors met during delivery become DeliveryFailures: the store's typed
 * errors through one table, disk-full and I/O errors from the file system and SQLite by their
 * codes, and anything unexpected as a temporary failure (the MTA keeps the message and retries,
 * which is the safe side when we do not know what happened).
 */
import { StoreError, type StoreErrorKind } from '../store/errors.js';
import type { DeliveryFailure, DeliveryFailureKind } from './types.js';

/** A failure the pipeline decided on itself (unknown user, NUL bytes, a filter's reject). */
export class DeliveryError extends Error {
  constructor(
    readonly kind: DeliveryFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Store error kinds → failure kinds. */
const STORE_FAILURES: Record<StoreErrorKind, DeliveryFailureKind> = {
  nonexistent: 'tempfail', // the mailbox went between choosing it and storing into it
  alreadyexists: 'tempfail',
  noperm: 'noperm',
  overquota: 'overquota',
  inuse: 'tempfail',
  cannot: 'tempfail',
  hasChildren: 'tempfail',
  limit: 'overquota', // a per-user limit such as a mailbox's message count
  toobig: 'toobig',
  unavailable: 'tempfail',
  nospace: 'diskfull', // 452 4.3.1: the MTA keeps the message and retries
  damaged: 'tempfail', // stored data is damaged; an operator must look (postroom check)
};

const FAILURE_TEXT: Record<DeliveryFailureKind, string> = {
  nouser: 'No such user',
  badaddress: 'Bad recipient address',
  toobig: 'Message too big',
  badcontent: 'Message content not accepted',
  noperm: 'Mailbox does not accept mail',
  rejected: 'Message rejected',
  deferred: 'Message deferred, try again later',
  overquota: 'Mailbox full, try again later',
  diskfull: 'Mail system full, try again later',
  tempfail: 'Temporary failure, try again later',
};

/** Errno codes (Node file system) and SQLite codes (better-sqlite3) that mean "no space left". */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** Whether the failure is unexpected enough to be logged with its stack. */
export function isUnexpected(err: unknown): boolean {
  return !(err instanceof DeliveryError) && !(err instanceof StoreError) && !DISK_FULL_CODES.has(errorCode(err) ?? '');
}

export function deliveryFailure(err: unknown): DeliveryFailure {
  if (err instanceof DeliveryError) return { kind: err.kind, message: oneLine(err.message) };
  if (err instanceof StoreError) {
    const kind = (STORE_FAILURES as Record<string, DeliveryFailureKind | undefined>)[err.kind] ?? 'tempfail';
    return { kind, message: FAILURE_TEXT[kind] };
  }
  if (DISK_FULL_CODES.has(errorCode(err) ?? '')) return { kind: 'diskfull', message: FAILURE_TEXT.diskfull };
  return { kind: 'tempfail', message: FAILURE_TEXT.tempfail };
}

/** The standard sentence for a kind (when there is nothing more specific to say). */
export function failureText(kind: DeliveryFailureKind): string {
  return FAILURE_TEXT[kind];
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Replies are single lines of printable text. */
function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 300);
}
