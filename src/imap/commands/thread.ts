/**
 * THREAD and UID THREAD (RFC 5256 §4): ORDEREDSUBJECT, REFERENCES and REFS
 * (draft-ietf-morg-inthread, as Dovecot offers it). The algorithms are in src/store/sort/thread.ts
 * (protocol-free); this file finds the messages, asks for their keys and writes the answer.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ImapError } from '../errors.js';
import { atom } from '../wire/types.js';
import { enableCondstore } from '../search/condstore.js';
import { checkCharset, findMatchingUids, storeQuery } from '../search/execute.js';
import { parseThreadArgs, type ThreadArgs } from '../search/sort-parse.js';
import { formatThreadsInSlices } from '../search/thread-format.js';
import { sortData } from '../../store/sort/sort-data.js';
import { keysReadBy, threadUidsInSlices } from '../../store/sort/thread.js';
import { TimeSlice } from '../../util/time-slice.js';
import { refuseOverMessageLimit } from './message-limit.js';

async function runThread(ctx: CommandContext, args: ThreadArgs, byUid: boolean): Promise<void> {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  checkCharset(args.charset);
  const query = await storeQuery(args.key, view, mail, ctx.server.store.messageExtras === true);
  if (args.usesModseq) enableCondstore(ctx, view);
  const found = await findMatchingUids(mail, view, query, (n, total) => ctx.progress(n, total));
  // RFC 9738 §3.3: threads over part of the messages would be wrong, so past MESSAGELIMIT THREAD is
  // refused whole, NO [MESSAGELIMIT n].
  refuseOverMessageLimit(found.length, ctx.server.limits.maxMessagesPerCommand, ctx.command);
  const list = await sortData(mail, view.mailbox.id, view.uids(), keysReadBy(args.algorithm));
  // Threaded with the loop let go between passes: a large mailbox would hold every session (issue 13).
  const slice = new TimeSlice();
  const threads = await threadUidsInSlices(list, found, args.algorithm, () => slice.pause());
  await slice.pause();
  const text = await formatThreadsInSlices(threads, byUid ? (uid) => uid : (uid) => view.seqOf(uid) ?? 0, () => slice.pause());
  ctx.untagged(atom(text === '' ? 'THREAD' : `THREAD ${text}`));
}

export const threadCommand: CommandSpec<ThreadArgs> = {
  name: 'THREAD',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  // RFC 5256 §4: no EXPUNGE while THREAD (with sequence numbers) answers.
  noExpunge: true,
  capabilities: ['THREAD=ORDEREDSUBJECT', 'THREAD=REFERENCES', 'THREAD=REFS'],
  parse: parseThreadArgs,
  run: (ctx, args) => runThread(ctx, args, false),
};

export const uidThreadCommand: CommandSpec<ThreadArgs> = {
  name: 'UID THREAD',
  states: ['selected'],
  reportsProgress: true,
  parse: parseThreadArgs,
  run: (ctx, args) => runThread(ctx, args, true),
};
