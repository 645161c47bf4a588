/**
 * MOVE and UID MOVE (RFC 6851): an atomic copy + expunge. The COPYUID goes out in an untagged OK
 * before the EXPUNGE responses (RFC 6851 §4.3), so the client can map UIDs before they vanish.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { copyUidCode, keywordsOf, parseCopyArgs, targetMailbox, type CopyArgs } from './copy.js';
import { checkKeywords } from './mail-limits.js';
import { requireWritableView } from './mailbox-access.js';

async function runMove(ctx: CommandContext, args: CopyArgs, byUid: boolean) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  const uids = view.resolve(args.set, byUid);
  // Moving out removes messages, which a read-only session may not do (RFC 6851 §3.3).
  requireWritableView(view);
  const target = await targetMailbox(mail, args.mailbox);
  if (uids.length === 0) return { text: 'Nothing to move' };
  await checkKeywords(ctx, mail, target, keywordsOf(view, uids));
  const result = await mail.move(view.mailbox.id, uids, target.id);
  if (result.mapping.length === 0) return { text: 'Nothing to move' };
  ctx.untaggedStatus('OK', 'Moved', copyUidCode(result));
  view.applyOwnExpunge(result.mapping.map(([src]) => src));
  return { text: `${ctx.command} completed` };
}

export const moveCommand: CommandSpec<CopyArgs> = {
  name: 'MOVE',
  states: ['selected'],
  capabilities: ['MOVE'],
  parse: parseCopyArgs,
  run: (ctx, args) => runMove(ctx, args, false),
};

export const uidMoveCommand: CommandSpec<CopyArgs> = {
  name: 'UID MOVE',
  states: ['selected'],
  parse: parseCopyArgs,
  run: (ctx, args) => runMove(ctx, args, true),
};
