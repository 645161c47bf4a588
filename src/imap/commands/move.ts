/**
 * MOVE and UID MOVE (RFC 6851): an atomic copy + expunge. The COPYUID goes out in an untagged OK
 * before the EXPUNGE responses (RFC 6851 §4.3), so the client can map UIDs before they vanish.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { copyUidCode, keywordsOf, parseCopyArgs, targetMailbox, type CopyArgs } from './copy.js';
import { checkKeywords } from './mail-limits.js';
import { requireWritableView } from './mailbox-access.js';
import { chunksOf, WRITE_CHUNK } from './chunks.js';
import type { CopyResult } from '../../store/types.js';
import { keepHighest, processingOrder } from './message-limit.js';

async function runMove(ctx: CommandContext, args: CopyArgs, byUid: boolean) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  // RFC 9738 §3.1: MOVE is under MESSAGELIMIT, not SAVELIMIT; past it the highest UIDs are moved,
  // the chunks from the highest down (each chunk's store call in ascending order).
  const { uids, code: limitCode } = keepHighest(view.resolve(args.set, byUid), ctx.server.limits.maxMessagesPerCommand);
  // Moving out removes messages, which a read-only session may not do (RFC 6851 §3.3).
  requireWritableView(view, 'te');
  const target = await targetMailbox(mail, args.mailbox);
  if (uids.length === 0) return { text: 'Nothing to move' };
  await checkKeywords(ctx, mail, target, keywordsOf(view, uids));
  // One store call per chunk (chunks.ts), each an atomic move of its messages. RFC 6851 §3.3 lets a
  // MOVE fail part-way as long as each message is either moved or left alone, never in both
  // mailboxes nor in neither: that holds per chunk. The client hears one COPYUID for everything
  // moved and then the EXPUNGEs (§4.3), also when a later chunk fails.
  const moved: CopyResult = { uidValidity: 0, mapping: [] };
  let failure: unknown;
  ctx.progress(0, uids.length);
  for (const chunk of limitCode ? chunksOf(processingOrder(uids, limitCode)).map((c) => c.reverse()) : chunksOf(uids)) {
    try {
      const result = await mail.move(view.mailbox.id, chunk, target.id, { maxKeywords: ctx.server.limits.maxKeywordsPerMailbox });
      moved.uidValidity = result.uidValidity;
      for (const pair of result.mapping) moved.mapping.push(pair);
      ctx.progress(moved.mapping.length, uids.length);
    } catch (err) {
      failure = err;
      break;
    }
    await ctx.drain();
  }
  if (moved.mapping.length > 0) {
    // By source UID, each pair kept together: chunks moved from the highest down still give the
    // COPYUID of an ascending source set, its destination UIDs in the same order (RFC 4315 §3).
    if (limitCode) moved.mapping.sort((a, b) => a[0] - b[0]);
    ctx.untaggedStatus('OK', 'Moved', copyUidCode(moved));
    // The EXPUNGEs in pieces too (highest first, so the numbers still to be sent do not shift):
    // 50,000 of them and the view's arrays rebuilt at once were 100 ms on the loop.
    const gone = moved.mapping.map(([src]) => src).sort((a, b) => b - a);
    for (const chunk of chunksOf(gone, 4 * WRITE_CHUNK)) {
      view.applyOwnExpunge(chunk);
      await ctx.drain();
    }
  }
  if (failure !== undefined) throw failure;
  if (moved.mapping.length === 0) return { text: 'Nothing to move' };
  if (limitCode) return { code: limitCode, text: `${ctx.command} completed, only the ${uids.length} highest UIDs` };
  return { text: `${ctx.command} completed` };
}

export const moveCommand: CommandSpec<CopyArgs> = {
  name: 'MOVE',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  capabilities: ['MOVE'],
  parse: parseCopyArgs,
  run: (ctx, args) => runMove(ctx, args, false),
};

export const uidMoveCommand: CommandSpec<CopyArgs> = {
  name: 'UID MOVE',
  states: ['selected'],
  reportsProgress: true,
  parse: parseCopyArgs,
  run: (ctx, args) => runMove(ctx, args, true),
};
