/**
 * RFC 9738 MESSAGELIMIT and SAVELIMIT: how many messages one command processes
 * (limits.maxMessagesPerCommand) or saves (limits.maxMessagesPerSave).
 *
 * §3.1: a FETCH, SEARCH, STORE, MOVE or UID EXPUNGE (UID forms too) over more messages than
 * MESSAGELIMIT processes the `limit` messages with the highest UIDs and completes with
 * `[MESSAGELIMIT limit uid]`, uid the lowest UID it processed, so the client goes on with the UIDs
 * below it (UID FETCH 1:uid-1, or UIDBEFORE uid in a SEARCH, §3.2). When it cuts a command so, the
 * server processes the messages from the highest UID down ("REQUIRED to process messages from
 * highest to lowest UID", as its FETCH, STORE and SEARCH examples answer): processingOrder().
 * Within the limit nothing changes (ascending, as ever).
 * When the tagged OK has to carry another response code (STORE's MODIFIED here), MESSAGELIMIT goes
 * in an untagged NO before it (§3.1; an untagged NO is a warning, RFC 9051 §7.1.2): limitWarning().
 *
 * COPY and APPEND are all-or-nothing, so past SAVELIMIT they are refused with the same code and
 * nothing is saved (§3.1). SORT and THREAD cannot answer for part of a mailbox (their order and
 * threads depend on every message they cover), so past MESSAGELIMIT they are refused
 * `NO [MESSAGELIMIT limit]` (§3.3): refuseOverMessageLimit().
 *
 * The RFC's text could not be read from this machine (it is not in /work/shared/rfc and the stored
 * copies reachable here show its first page only); the rules above follow its abstract, the wording
 * quoted from §3.1 and §3.3 by another implementation, and RFC 9051. Neither Dovecot (2.4) nor Cyrus
 * implements MESSAGELIMIT to compare with (Cyrus lists it as not implemented).
 */
import type { ResponseCode } from '../wire/types.js';
import type { CommandContext } from './types.js';
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

/**
 * The order to process (and answer) keepHighest()'s UIDs in: ascending when nothing was left out;
 * from the highest down when the command was cut at MESSAGELIMIT (§3.1).
 */
export function processingOrder(uids: number[], code: ResponseCode | undefined): number[] {
  return code ? [...uids].reverse() : uids;
}

/**
 * MESSAGELIMIT for a command whose tagged OK carries another response code: an untagged NO with
 * it (§3.1), sent before the tagged line.
 */
export function limitWarning(ctx: CommandContext, code: ResponseCode, processed: number): void {
  ctx.untaggedStatus('NO', `Only the ${processed} highest UIDs were processed`, code);
}

/** SORT or THREAD of more messages than MESSAGELIMIT: refused whole (§3.3), nothing sent. */
export function refuseOverMessageLimit(count: number, limit: number, command: string): void {
  if (count <= limit) return;
  throw ImapError.no(`${command} of ${count} messages is over MESSAGELIMIT ${limit}; narrow it down with UIDAFTER or UIDBEFORE`, messageLimitCode(limit));
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
