/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4, §6.4.8), with RFC 4731 ESEARCH result options, RFC 5182
 * SAVE ("$") and the RFC 7162 MODSEQ criterion. The grammar lives in ../search/.
 */
import type { CommandContext, CommandSpec } from './types.js';
import { ImapError, toErrorReply } from '../errors.js';
import { atom } from '../wire/types.js';
import type { SearchArgs } from '../search/keys.js';
import { parseSearchArgs } from '../search/parse.js';
import { toStoreQuery } from '../search/to-query.js';
import { enableCondstore } from '../search/condstore.js';
import { esearchResponse, modseqSubject, savedUids, searchResponse, wantsEsearch, type Found } from '../search/results.js';

/** Charsets whose strings arrive as UTF-8 text (US-ASCII is a subset). */
const CHARSETS = ['US-ASCII', 'UTF-8'];

async function runSearch(ctx: CommandContext, args: SearchArgs, byUid: boolean): Promise<void> {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  const save = args.returnOptions?.save ?? false;
  let found: Found;
  try {
    if (args.charset !== undefined && !CHARSETS.includes(args.charset)) {
      // RFC 3501 §6.4.4: an unsupported charset is NO [BADCHARSET (supported...)], not BAD.
      throw ImapError.no(`Charset ${args.charset} is not supported`, { name: 'BADCHARSET', args: [CHARSETS.map((c) => atom(c))] });
    }
    const query = toStoreQuery(args.key, view);
    if (args.usesModseq) enableCondstore(ctx, view);
    const matched = await mail.search(view.mailbox.id, query);
    found = { uids: [], seqs: [] };
    // The store also sees messages this session has not been told about yet; they do not count.
    for (const uid of matched) {
      const seq = view.seqOf(uid);
      if (seq === undefined) continue;
      found.uids.push(uid);
      found.seqs.push(seq);
    }
  } catch (err) {
    // RFC 5182 §2.1: a SEARCH with SAVE that fails with NO empties "$"; a BAD leaves it alone.
    if (save && toErrorReply(err).status === 'NO') view.savedResult = [];
    throw err;
  }

  let modseq: number | undefined;
  if (args.usesModseq) {
    const subject = modseqSubject(found, args.returnOptions);
    if (subject.length > 0) {
      const records = await mail.records(view.mailbox.id, subject);
      modseq = records.reduce((max, r) => Math.max(max, r.modseq), 0);
    }
  }

  const opts = args.returnOptions;
  if (!opts) {
    ctx.untagged(...searchResponse(found, byUid, modseq));
    return;
  }
  if (opts.save) view.savedResult = savedUids(found, opts);
  if (wantsEsearch(opts)) ctx.untagged(...esearchResponse(ctx.tag, found, byUid, opts, modseq));
}

export const searchCommand: CommandSpec<SearchArgs> = {
  name: 'SEARCH',
  states: ['selected'],
  // RFC 3501 §7.4.1: the answer is in sequence numbers, so no EXPUNGE may shift them meanwhile.
  noExpunge: true,
  capabilities: ['ESEARCH', 'SEARCHRES'],
  parse: parseSearchArgs,
  run: (ctx, args) => runSearch(ctx, args, false),
};

export const uidSearchCommand: CommandSpec<SearchArgs> = {
  name: 'UID SEARCH',
  states: ['selected'],
  parse: parseSearchArgs,
  run: (ctx, args) => runSearch(ctx, args, true),
};
