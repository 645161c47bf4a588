/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with RFC 4731 ESEARCH result options, RFC 5182
 * SAVE ("$"), the RFC 7162 MODSEQ criterion, RFC 5032 WITHIN (OLDER/YOUNGER), RFC 9394 PARTIAL
 * and RFC 5267 CONTEXT/UPDATE. The grammar lives in ../search/.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { toErrorReply } from '../errors.js';
import type { SearchArgs } from '../search/keys.js';
import { parseSearchArgs } from '../search/parse.js';
import { enableCondstore } from '../search/condstore.js';
import { checkCharset, findMatches, findModseqMatches, storeQuery } from '../search/execute.js';
import { checkUpdateTag, startUpdates } from '../search/updates.js';
import { esearchResponseInSlices, modseqSubject, savedUids, searchResponseInSlices, wantsEsearch, type Found } from '../search/results.js';
import { TimeSlice } from '../../util/time-slice.js';
import { ImapError } from '../errors.js';
import { keepHighest } from './message-limit.js';
import type { Completion } from './types.js';

async function runSearch(ctx: CommandContext, args: SearchArgs, byUid: boolean): Promise<Completion | void> {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  const opts = args.returnOptions;
  const save = opts?.save ?? false;
  checkUpdateTag(ctx, opts?.update);
  let found: Found;
  let query;
  // Mod-sequences learnt while searching (MODSEQ alone is answered by modseq): no records needed.
  const known = new Map<number, number>();
  // The matches of a large mailbox are mapped and written in steps, letting the event loop run
  // between time slices (issue 13): 100,000 numbers were one stretch of 10–12 ms of CPU.
  const slice = new TimeSlice();
  const pause = (): Promise<void> => slice.pause();
  try {
    checkCharset(args.charset);
    query = await storeQuery(args.key, view, mail, ctx.server.store.messageExtras === true);
    if (args.usesModseq) enableCondstore(ctx, view);
    found = (await findModseqMatches(mail, view, query, known)) ?? (await findMatches(mail, view, query, (n, total) => ctx.progress(n, total), pause));
  } catch (err) {
    // RFC 5182 §2.1: a SEARCH with SAVE that fails with NO empties "$"; a BAD leaves it alone.
    if (save && toErrorReply(err).status === 'NO') view.savedResult = [];
    throw err;
  }

  // RFC 9738 §3.1: past MESSAGELIMIT the answer (and a SAVEd "$") holds the highest UIDs only; the
  // tagged OK names the lowest, so the client can go on with UIDBEFORE it (§3.2). A SEARCH
  // response then lists them from the highest down, as the messages are processed; ESEARCH's
  // sets, "$" and CONTEXT updates are sets and stay ascending.
  const limited = keepHighest(found.uids, ctx.server.limits.maxMessagesPerCommand);
  if (limited.code) {
    const from = found.uids.length - limited.uids.length;
    found = { uids: found.uids.slice(from), seqs: found.seqs.slice(from) };
  }
  const done = limited.code ? { code: limited.code, text: `${ctx.command} completed, only the ${found.uids.length} highest UIDs` } : undefined;

  let modseq: number | undefined;
  if (args.usesModseq) {
    const subject = modseqSubject(found, opts);
    if (subject.length > 0 && subject.every((uid) => known.has(uid))) {
      modseq = subject.reduce((max, uid) => Math.max(max, known.get(uid)!), 0);
    } else if (subject.length > 0) {
      const records = await mail.records(view.mailbox.id, subject);
      modseq = records.reduce((max, r) => Math.max(max, r.modseq), 0);
    }
  }

  if (!opts) {
    // RFC 9051 §6.4.4 (Appendix E item 4): after ENABLE IMAP4rev2 a SEARCH without RETURN is
    // answered as RETURN (ALL), with ESEARCH; SEARCH responses are IMAP4rev1's.
    if (ctx.enabled.has('IMAP4REV2')) ctx.untagged(...(await esearchResponseInSlices(ctx.tag, byUid ? found.uids : found.seqs, byUid, { ...NO_RETURN_OPTIONS, all: true }, modseq, pause)));
    else ctx.untagged(...(await searchResponseInSlices(limited.code ? { uids: [...found.uids].reverse(), seqs: [...found.seqs].reverse() } : found, byUid, modseq, pause)));
    return done;
  }
  if (opts.save) view.savedResult = savedUids(found, opts);
  if (wantsEsearch(opts)) ctx.untagged(...(await esearchResponseInSlices(ctx.tag, byUid ? found.uids : found.seqs, byUid, opts, modseq, pause)));
  if (opts.update) startUpdates(ctx, { tag: ctx.tag, byUid, query, results: found.uids, fetch: opts.updateFetch });
  return done;
}

const NO_RETURN_OPTIONS = { min: false, max: false, all: false, count: false, save: false } as const;

export const searchCommand: CommandSpec<SearchArgs> = {
  name: 'SEARCH',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  // RFC 3501 §7.4.1: the answer is in sequence numbers, so no EXPUNGE may shift them meanwhile.
  noExpunge: true,
  // I18NLEVEL=1 (RFC 5255 §4): text keys match with the i;unicode-casemap comparator (RFC 5051),
  // which SORT and THREAD must use too and which RFC 5256 §7 asks servers to advertise so; every
  // store answers as search-eval.ts's foldText does (docs/store.md, "Search").
  capabilities: ['ESEARCH', 'SEARCHRES', 'WITHIN', 'PARTIAL', 'CONTEXT=SEARCH', 'I18NLEVEL=1'],
  parse: parseSearchArgs,
  run: (ctx, args) => runSearch(ctx, args, false),
};

export const uidSearchCommand: CommandSpec<SearchArgs> = {
  name: 'UID SEARCH',
  states: ['selected'],
  reportsProgress: true,
  parse: parseSearchArgs,
  run: (ctx, args) => runSearch(ctx, args, true),
};
