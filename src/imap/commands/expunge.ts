/**
 * EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1).
 */
import type { CommandContext, CommandSpec, SelectedView, SequenceArgs } from './types.js';
import { ArgReader } from '../wire/args.js';
import { ImapError } from '../errors.js';
import { requireWritableView } from './mailbox-access.js';
import { markedChunksOf, WRITE_CHUNK } from './chunks.js';
import { DEFAULT_SLICE_MS } from '../../util/time-slice.js';
import { keepHighest } from './message-limit.js';
import type { ResponseCode } from '../wire/types.js';

/**
 * `pick` chooses the candidates; only \Deleted ones among them are removed. `limited`: UID EXPUNGE
 * under RFC 9738 MESSAGELIMIT — of the candidates this session knows as \Deleted, the highest
 * `maxMessagesPerCommand` (EXPUNGE and CLOSE are never limited).
 */
async function runExpunge(ctx: CommandContext, pick: (view: SelectedView) => number[], limited = false) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  requireWritableView(view, 'e');
  let candidates = pick(view);
  // UID EXPUNGE naming nothing that exists is a successful no-op.
  if (candidates.length === 0) return;
  let code: ResponseCode | undefined;
  if (limited) {
    const deleted = candidates.filter((uid) => view.hasFlag(uid, '\\Deleted'));
    const kept = keepHighest(deleted, ctx.server.limits.maxMessagesPerCommand);
    if (kept.code) ({ uids: candidates, code } = kept);
  }
  // One store call per chunk (chunks.ts), highest UIDs first so that the sequence numbers in the
  // untagged EXPUNGEs of the chunks still to come are not shifted by those already sent. A chunk
  // holds up to WRITE_CHUNK messages this session knows as \Deleted (what the store's work grows
  // with) among up to four times as many candidates; the store still decides which are \Deleted.
  // pick() hands out an array of its own: turned in place, not copied (8 KB a 1,000-message EXPUNGE).
  const sorted = highestFirst(candidates);
  let done = 0;
  ctx.progress(0, sorted.length);
  // Between chunks: before one with work in it (never after the last, where the tagged reply
  // follows at once). Not before one nothing of which this session knows as \Deleted — the store
  // answers that with a read, and a drain there yielded (the time slice counts the wait for the
  // previous chunk's fdatasync): the untagged EXPUNGEs went in one write and the tagged OK in
  // another, two wake-ups of the client instead of one (strace, bench/RESULTS.md "LIST p99 after the
  // list cache"). But such chunks still cost time and may remove what another session marked: after
  // a time slice of them, or WRITE_CHUNK untagged EXPUNGEs queued, drain anyway — a mailbox of
  // 200,000 messages with nothing \Deleted otherwise held the loop for 87 ms (review).
  let quietMs = 0;
  let unsent = 0;
  for (const chunk of markedChunksOf(sorted, (uid) => view.hasFlag(uid, '\\Deleted'))) {
    const work = knowsDeleted(view, chunk);
    if (done > 0 && (work || quietMs >= DEFAULT_SLICE_MS || unsent >= WRITE_CHUNK)) {
      await ctx.drain();
      quietMs = 0;
      unsent = 0;
    }
    const started = work ? 0 : performance.now();
    const removed = await mail.expunge(view.mailbox.id, chunk);
    if (!work) quietMs += performance.now() - started;
    // Only what quiet chunks removed: after a chunk with work the tagged OK should follow its lines.
    if (!work) unsent += removed.length;
    view.applyOwnExpunge(removed);
    ctx.progress((done += chunk.length), sorted.length);
  }
  if (code) return { code, text: `${ctx.command} completed, only the ${candidates.length} highest UIDs` };
}

/** Whether this session knows some UID of `uids` as \Deleted. */
function knowsDeleted(view: SelectedView, uids: readonly number[]): boolean {
  for (const uid of uids) if (view.hasFlag(uid, '\\Deleted')) return true;
  return false;
}

/**
 * `uids` highest first, in place. Candidates come in ascending order (the view's UID list, a
 * resolved UID set), and then reversing them is the same as sorting them; sorting with a
 * comparator was ~100 µs of a plain EXPUNGE of a 400-message mailbox under imaptest's mix.
 */
function highestFirst(uids: number[]): number[] {
  for (let i = 1; i < uids.length; i++) if (uids[i - 1]! > uids[i]!) return uids.sort((a, b) => b - a);
  return uids.reverse();
}

export const expungeCommand: CommandSpec<void> = {
  name: 'EXPUNGE',
  states: ['selected'],
  reportsProgress: true,
  parse(args) {
    new ArgReader(args).end();
  },
  // Only messages this session knows about: one that arrived unannounced must not vanish before
  // the client has been told it exists.
  run: (ctx) => runExpunge(ctx, (view) => [...view.uids()]),
};

export const uidExpungeCommand: CommandSpec<SequenceArgs> = {
  name: 'UID EXPUNGE',
  states: ['selected'],
  reportsProgress: true,
  capabilities: ['UIDPLUS'],
  parse(args) {
    const r = new ArgReader(args);
    const set = r.sequenceSet('UID set');
    r.end();
    return { set };
  },
  run: (ctx, args) => runExpunge(ctx, (view) => view.resolve(args.set, true), true),
};
