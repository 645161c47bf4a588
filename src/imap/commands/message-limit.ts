/**
 * RFC 9738 MESSAGELIMIT and SAVELIMIT: how many messages one command processes
 * (limits.maxMessagesPerCommand) or saves (limits.maxMessagesPerSave).
 *
 * A command over more messages than MESSAGELIMIT processes those with the highest UIDs and
 * completes with `[MESSAGELIMIT limit uid]`, uid the lowest UID it processed: the client goes on
 * with the UIDs below it (UID FETCH 1:uid-1, or UIDBEFORE uid in a SEARCH). COPY and APPEND are
 * all-or-nothing, so past SAVELIMIT they are refused with the same code and nothing is saved.
 */
import type { ResponseCode } from '../wire/types.js';
import { ImapError } from '../errors.js';

/** `MESSAGELIMIT limit [uid]`. */
export function messageLimitCode(limit: number, lowestUid?: number): ResponseCode {
  return { name: 'MESSAGELIMIT', args: lowestUid === undefined ? [limit] : [limit, lowestUid] };
}

export interface Limited {
  /** The UIDs to process: all of them, or the `limit` highest. Ascending. */
  uids: number[];
  /** Set when some were left out: the code the command completes with. */
  code?: ResponseCode;
}

/** Keeps the `limit` highest of `uids` (ascending or not; returned ascending). */
export function keepHighest(uids: readonly number[], limit: number): Limited {
  const sorted = isAscending(uids) ? uids : [...new Set(uids)].sort((a, b) => a - b);
  if (sorted.length <= limit) return { uids: sorted as number[] };
  const kept = sorted.slice(sorted.length - limit);
  return { uids: kept, code: messageLimitCode(limit, kept[0]) };
}

/** COPY past SAVELIMIT: refused whole, naming the lowest UID a COPY of the limit could start at. */
export function refuseOverSaveLimit(uids: readonly number[], limit: number): void {
  if (uids.length <= limit) return;
  const { code } = keepHighest(uids, limit);
  throw ImapError.no(`Too many messages to save at once (SAVELIMIT ${limit}); copy fewer`, code);
}

/** APPEND (MULTIAPPEND) of more than SAVELIMIT messages: refused, nothing added. */
export function refuseAppendCount(count: number, limit: number): void {
  if (count > limit) throw ImapError.no(`Too many messages in one APPEND (SAVELIMIT ${limit})`, messageLimitCode(limit));
}

function isAscending(uids: readonly number[]): boolean {
  for (let i = 1; i < uids.length; i++) if (uids[i - 1]! >= uids[i]!) return false;
  return true;
}
