/**
 * STORE and UID STORE (RFC 3501 §6.4.6, §6.4.8), with the RFC 7162 UNCHANGEDSINCE modifier.
 */
import { keepHighest, limitWarning, processingOrder } from './message-limit.js';
import type { CommandContext, CommandSpec, ParseEnv } from './types.js';
import type { Flag, FlagOperation } from '../../store/types.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, type ImapValue, type Token } from '../wire/types.js';
import { formatNumberSet, type SequenceSet } from '../wire/sequence-set.js';
import { fetchHead } from '../wire/encoder.js';
import { ImapError } from '../errors.js';
import { flagsFromTokens } from '../search/flags.js';
import { enableCondstore } from '../search/condstore.js';
import { checkKeywords } from './mail-limits.js';
import { requireWritableView } from './mailbox-access.js';
import { chunksOf } from './chunks.js';
import { catchUpStale } from './stale-view.js';

export interface StoreArgs {
  set: SequenceSet;
  operation: FlagOperation;
  silent: boolean;
  flags: Flag[];
  /** RFC 7162 §3.1.3 UNCHANGEDSINCE. */
  unchangedSince?: number;
}

const OPERATIONS: Record<string, FlagOperation> = { FLAGS: 'set', '+FLAGS': 'add', '-FLAGS': 'remove' };

/** RFC 4466 §2.5 store-modifiers: "(name value ...)"; only UNCHANGEDSINCE is known. */
function parseModifiers(r: ArgReader): number | undefined {
  const list = r.list('store modifiers');
  let unchangedSince: number | undefined;
  if (list.remaining === 0) throw new ParseError('Empty store modifier list');
  while (list.remaining > 0) {
    const name = list.atom('store modifier').toUpperCase();
    if (name !== 'UNCHANGEDSINCE') throw new ParseError(`Unknown store modifier ${name.slice(0, 40)}`);
    if (unchangedSince !== undefined) throw new ParseError('UNCHANGEDSINCE given twice');
    unchangedSince = list.number('UNCHANGEDSINCE mod-sequence');
  }
  return unchangedSince;
}

export function parseStoreArgs(tokens: Token[], _env?: ParseEnv): StoreArgs {
  const r = new ArgReader(tokens);
  const set = r.sequenceSet();
  const unchangedSince = r.isList() ? parseModifiers(r) : undefined;
  const item = r.atom('store data item').toUpperCase();
  const silent = item.endsWith('.SILENT');
  const operation = OPERATIONS[silent ? item.slice(0, -'.SILENT'.length) : item];
  if (!operation) throw new ParseError(`Unknown store data item ${item.slice(0, 40)}`);
  let flagTokens: Token[];
  if (r.isList()) {
    const t = r.next();
    flagTokens = t.type === 'list' ? t.items : [];
    r.end();
  } else {
    // RFC 3501 §9 store-att-flags: a flag-list, or flags separated by spaces without parentheses.
    flagTokens = [];
    while (r.remaining > 0) flagTokens.push(r.next());
    if (flagTokens.length === 0) throw new ParseError('Missing flags');
  }
  return { set, operation, silent, flags: flagsFromTokens(flagTokens), unchangedSince };
}

/** Whether `operation` would change `current` (case-insensitively; \Recent is the session's own). */
function wouldChange(current: readonly string[], operation: StoreArgs['operation'], flags: readonly string[]): boolean {
  const have = new Set(current.map((f) => f.toLowerCase()).filter((f) => f !== '\\recent'));
  const given = new Set(flags.map((f) => f.toLowerCase()).filter((f) => f !== '\\recent'));
  if (operation === 'add') return [...given].some((f) => !have.has(f));
  if (operation === 'remove') return [...given].some((f) => have.has(f));
  return have.size !== given.size || [...given].some((f) => !have.has(f));
}

async function runStore(ctx: CommandContext, args: StoreArgs, byUid: boolean) {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  requireWritableView(view);
  // "7,3:9" names message 7 twice: it gets one FETCH and cannot fail its own second test (RFC 7162
  // §3.1.3, the note after Example 11).
  const named = [...new Set(view.resolve(args.set, byUid))].sort((a, b) => a - b);
  if (named.length === 0) return { text: 'Nothing to store' };
  // RFC 9738 §3.1: past MESSAGELIMIT only the messages with the highest UIDs are changed, from the
  // highest down (each chunk is written, and its FETCHes sent, in that order).
  const { uids, code: limitCode } = keepHighest(named, ctx.server.limits.maxMessagesPerCommand);
  const ordered = processingOrder(uids, limitCode);
  const conditional = args.unchangedSince !== undefined;
  if (conditional) enableCondstore(ctx, view);
  const withModseq = ctx.enabled.has('CONDSTORE');
  const uidOnly = ctx.enabled.has('UIDONLY');
  // RFC 7162 §3.2.4: with QRESYNC on, every untagged FETCH a STORE causes carries the UID as well
  // (as Dovecot does; imaptest's qresync mode checks it). CONDSTORE alone keeps RFC 7162's examples.
  const withUid = (byUid || ctx.enabled.has('QRESYNC')) && !uidOnly;
  if (args.operation !== 'remove') await checkKeywords(ctx, mail, view.mailbox, args.flags);

  // One store call per chunk, each reported before the next (chunks.ts): a STORE 1:* over a large
  // mailbox is many short transactions, not one long stretch on the event loop.
  const conflicts = new Set<number>();
  let written = 0;
  let done = 0;
  ctx.progress(0, uids.length);
  for (const chunk of chunksOf(ordered)) {
    // The store counts keywords again inside its write (checkKeywords above may miss what other
    // sessions are adding at the same moment). It is given the chunk in ascending order.
    const result = await mail.updateFlags(view.mailbox.id, limitCode ? [...chunk].reverse() : chunk, args.operation, args.flags, {
      unchangedSince: args.unchangedSince,
      maxKeywords: ctx.server.limits.maxKeywordsPerMailbox,
    });
    view.applyOwnFlagChanges(result.changed, { silent: true, withUid: byUid, withModseq });
    for (const uid of result.conflicts) conflicts.add(uid);
    const chunkConflicts = new Set(result.conflicts);
    const changedUids = new Set(result.changed.map((c) => c.uid));
    // Messages that failed UNCHANGEDSINCE get no FETCH from us: whatever changed them reached this
    // session through the change feed and is reported (with MODSEQ) right after the command. The same
    // holds for a message the store left alone although the operation would change the flags this
    // session knows: another session expunged it (or changed it) meanwhile, and reporting the flags we
    // hold would be reporting a change that did not happen (RFC 2180 §4.2.1 lets us say nothing).
    const stale: number[] = [];
    const targets = chunk.filter((uid) => {
      if (chunkConflicts.has(uid) || view.seqOf(uid) === undefined) return false;
      if (changedUids.has(uid) || !wouldChange(view.flagsOf(uid), args.operation, args.flags)) return true;
      stale.push(uid);
      return false;
    });
    // Its event may still be on the way from another process: what became of them is read now (stale-view.ts).
    await catchUpStale(mail, view, stale);

    // .SILENT still owes a CONDSTORE-aware client the new mod-sequences (RFC 7162 §3.1.3 and its
    // Example 14): with UNCHANGEDSINCE for every message that passed, otherwise for those that changed.
    let reported = targets;
    if (args.silent) {
      reported = !withModseq ? [] : conditional ? targets : targets.filter((uid) => changedUids.has(uid));
    }
    for (const uid of reported) {
      // STORE 1:* on a large mailbox is one FETCH per message: let a slow reader catch up.
      if (++written % 512 === 0) await ctx.drain();
      const items: ImapValue[] = [];
      // Under UIDONLY the UID is the response's own number (`uid UIDFETCH`), not an item.
      if (withUid) items.push(atom('UID'), uid);
      if (!args.silent) items.push(atom('FLAGS'), view.flagsOf(uid).map((f) => atom(f)));
      // The view holds the mod-sequence of exactly the flags it reports (just updated for the changed).
      if (withModseq) items.push(atom('MODSEQ'), [view.modseqOf(uid)]);
      ctx.untagged(...fetchHead(view.seqOf(uid) ?? 0, uid, uidOnly), items);
    }
    ctx.progress((done += chunk.length), uids.length);
    await ctx.drain();
  }

  if (conflicts.size > 0) {
    // RFC 7162 §3.1.3: MODIFIED lists sequence numbers for STORE, UIDs for UID STORE.
    const failed = byUid
      ? [...conflicts].sort((a, b) => a - b)
      : [...conflicts].map((uid) => view.seqOf(uid)).filter((s): s is number => s !== undefined).sort((a, b) => a - b);
    // RFC 9738 §3.1: the tagged line carries MODIFIED, so the limit goes in an untagged NO before it.
    if (limitCode) limitWarning(ctx, limitCode, uids.length);
    return { code: { name: 'MODIFIED', args: [atom(formatNumberSet(failed))] }, text: 'Conditional STORE failed' };
  }
  if (limitCode) return { code: limitCode, text: `${ctx.command} completed, only the ${uids.length} highest UIDs` };
  return undefined;
}

export const storeCommand: CommandSpec<StoreArgs> = {
  name: 'STORE',
  sequenceNumbers: true,
  states: ['selected'],
  reportsProgress: true,
  // RFC 3501 §7.4.1: the FETCH responses use sequence numbers.
  noExpunge: true,
  parse: parseStoreArgs,
  run: (ctx, args) => runStore(ctx, args, false),
};

export const uidStoreCommand: CommandSpec<StoreArgs> = {
  name: 'UID STORE',
  states: ['selected'],
  reportsProgress: true,
  parse: parseStoreArgs,
  run: (ctx, args) => runStore(ctx, args, true),
};
