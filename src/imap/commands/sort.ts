/**
 * SORT and UID SORT (RFC 5256 §3) with the DISPLAYFROM/DISPLAYTO keys of RFC 5957, the RETURN
 * options of RFC 5267 (ESORT: MIN MAX COUNT ALL; CONTEXT=SORT: CONTEXT UPDATE PARTIAL) and
 * RFC 9394 PARTIAL, and the MODSEQ of RFC 7162 §3.1.5 in the answer. The ordering itself is in
 * src/store/sort/ (protocol-free); the keys come from the store (UserMailbox.sortData) or its
 * fallback.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ImapError, toErrorReply } from '../errors.js';
import { atom, type ImapValue } from '../wire/types.js';
import { enableCondstore } from '../search/condstore.js';
import { checkCharset, findMatchingUids, storeQuery } from '../search/execute.js';
import { esearchResponseInSlices, modseqSubject, numberListInSlices, savedUids, wantsEsearch, type Found } from '../search/results.js';
import { parseSortArgs, type SortArgs } from '../search/sort-parse.js';
import { checkUpdateTag, startUpdates } from '../search/updates.js';
import { sortData } from '../../store/sort/sort-data.js';
import { keysReadBy, sortIndexesInSlices } from '../../store/sort/sort.js';
import { TimeSlice } from '../../util/time-slice.js';
import { refuseOverMessageLimit } from './message-limit.js';
import type { SortableMessage } from '../../store/types.js';
import type { SelectedView } from './types.js';

/**
 * The sequence number of every entry of `list` in the view (0 when the view has not been told of
 * it), by walking both ascending UID lists once: no binary search per message. In steps with
 * `pause` between: at 100,000 messages one pass was a stretch of its own (issue 13).
 */
async function seqsOf(list: readonly SortableMessage[], view: SelectedView, pause: () => Promise<void>): Promise<Int32Array> {
  const uids = view.uids();
  const seqs = new Int32Array(list.length);
  let j = 0;
  for (let i = 0; i < list.length; i++) {
    const uid = list[i]!.uid;
    while (j < uids.length && uids[j]! < uid) j++;
    if (uids[j] === uid) seqs[i] = j + 1;
    if (i % ANSWER_STEP === ANSWER_STEP - 1) await pause();
  }
  return seqs;
}

/** Answer entries made between looks at the clock. */
const ANSWER_STEP = 16_384;

async function runSort(ctx: CommandContext, args: SortArgs, byUid: boolean): Promise<void> {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  const opts = args.returnOptions;
  checkUpdateTag(ctx, opts?.update);
  let found: readonly number[];
  let query;
  try {
    checkCharset(args.charset);
    query = await storeQuery(args.key, view, mail, ctx.server.store.messageExtras === true);
    if (args.usesModseq) enableCondstore(ctx, view);
    found = await findMatchingUids(mail, view, query, (n, total) => ctx.progress(n, total));
    // RFC 9738 §3.3: an order over part of the messages would be wrong, so past MESSAGELIMIT SORT
    // is refused whole, NO [MESSAGELIMIT n] (and a SAVE empties "$", as for any NO).
    refuseOverMessageLimit(found.length, ctx.server.limits.maxMessagesPerCommand, ctx.command);
  } catch (err) {
    // RFC 5182 §2.1 for SORT ... RETURN (SAVE): NO empties "$", BAD leaves it.
    if (opts?.save && toErrorReply(err).status === 'NO') view.savedResult = [];
    throw err;
  }
  const list = await sortData(mail, view.mailbox.id, view.uids(), keysReadBy(args.program));
  // Messages gone from the store meanwhile have no keys and are left out, as SEARCH leaves them.
  // Sorted in time slices: one sort of a large mailbox would hold every other session (issue 13).
  const slice = new TimeSlice();
  const pause = (): Promise<void> => slice.pause();
  const indexes = await sortIndexesInSlices(list, found, args.program, () => slice.pause());
  await slice.pause();
  const seqOfIndex = byUid ? null : await seqsOf(list, view, pause);
  await slice.pause();
  const sorted: Found = { uids: new Array<number>(indexes.length), seqs: new Array<number>(indexes.length) };
  for (let k = 0; k < indexes.length; k++) {
    const i = indexes[k]!;
    sorted.uids[k] = list[i]!.uid;
    sorted.seqs[k] = seqOfIndex ? seqOfIndex[i]! : 0;
    if (k % ANSWER_STEP === ANSWER_STEP - 1) await slice.pause();
  }
  await slice.pause();
  const numbers = byUid ? sorted.uids : sorted.seqs;

  let modseq: number | undefined;
  if (args.usesModseq) {
    const subject = modseqSubject(sorted, opts);
    if (subject.length > 0) modseq = (await mail.records(view.mailbox.id, subject)).reduce((max, r) => Math.max(max, r.modseq), 0);
  }
  if (!opts) {
    // One atom for the numbers: a mailbox can hold more messages than a spread call takes values.
    // Written in steps (numberListInSlices): 100,000 numbers as one join were one stretch.
    const values: ImapValue[] = [atom(numbers.length > 0 ? `SORT ${await numberListInSlices(numbers, pause)}` : 'SORT')];
    if (modseq !== undefined) values.push([atom('MODSEQ'), modseq]);
    ctx.untagged(...values);
    return;
  }
  // "$" is a set: kept in mailbox order whatever the sort order.
  if (opts.save) view.savedResult = savedUids(sorted, opts).sort((a, b) => a - b);
  if (wantsEsearch(opts)) ctx.untagged(...(await esearchResponseInSlices(ctx.tag, numbers, byUid, opts, modseq, pause)));
  if (opts.update) startUpdates(ctx, { tag: ctx.tag, byUid, query, program: args.program, results: sorted.uids, fetch: opts.updateFetch });
}

export const sortCommand: CommandSpec<SortArgs> = {
  name: 'SORT',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  // RFC 5256 §3: no EXPUNGE while SORT (with sequence numbers) answers.
  noExpunge: true,
  capabilities: ['SORT', 'SORT=DISPLAY', 'ESORT', 'CONTEXT=SORT'],
  parse: parseSortArgs,
  run: (ctx, args) => runSort(ctx, args, false),
};

export const uidSortCommand: CommandSpec<SortArgs> = {
  name: 'UID SORT',
  states: ['selected'],
  reportsProgress: true,
  parse: parseSortArgs,
  run: (ctx, args) => runSort(ctx, args, true),
};
