/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8), with the RFC 7162 MODSEQ item and CHANGEDSINCE
 * modifier. Data is loaded per batch of messages and only as far as the requested items need it:
 * `UID FETCH 1:* (UID FLAGS)` touches nothing but the session's view.
 */
import { maySetSeen } from './mailbox-access.js';
import { catchUpStale } from './stale-view.js';
import { utf8Names } from './mailbox-name.js';
import { toRanges, vanishedLines, vanishedSince } from '../session/qresync.js';
import { resolveRanges } from '../wire/sequence-set.js';
import type { CommandContext, CommandSpec, ParseEnv, SelectedView } from './types.js';
import type { FlagChange, MessageExtras, MessageExtrasOptions, MessageHead, MessageRecord, UserMailbox } from '../../store/types.js';
import { messageHeads } from '../../store/message-heads.js';
import { threadIdOf, threadIdOfUnrelated } from '../../store/object-ids.js';
import { sortData } from '../../store/sort/sort-data.js';
import { indexOfUid } from '../../store/uid-index.js';
import { StoreError, isStoreError } from '../../store/errors.js';
import { messagesChangedSince } from '../../store/changed-since.js';
import { ArgReader, ParseError } from '../wire/args.js';
import { atom, type ImapValue, type Token } from '../wire/types.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import { ImapError } from '../errors.js';
import { parseFetchItems, type FetchItem } from '../fetch/items.js';
import { MessageSource } from '../fetch/message-source.js';
import { renderFetch, viewOnly, type RenderOptions } from '../fetch/render.js';
import { FetchLineWriter, FetchPageWriter, fetchHead } from '../wire/encoder.js';
import { enableCondstore } from '../search/condstore.js';
import { parsePartialRange } from '../search/parse.js';
import { partialWindow } from '../search/results.js';
import type { PartialRange } from '../search/keys.js';
import { keepHighest, processingOrder } from './message-limit.js';
import type { Completion } from './types.js';

export interface FetchArgs {
  set: SequenceSet;
  items: FetchItem[];
  /** RFC 7162 §3.1.4.1 CHANGEDSINCE: only messages whose mod-sequence is greater. */
  changedSince?: number;
  /** RFC 9394 §3.3 PARTIAL: only this window of the messages the set names (before CHANGEDSINCE, §3.4). */
  partial?: PartialRange;
  /** RFC 7162 §3.2.6 VANISHED (UID FETCH only, with CHANGEDSINCE, once QRESYNC is enabled). */
  vanished?: boolean;
  /**
   * Not from the wire: the session's own unsolicited FETCH of new messages (NOTIFY, RFC 5465
   * §5.2), which MESSAGELIMIT (a limit on what a client's command asks for) does not cut.
   */
  unsolicited?: boolean;
}

/** Messages handled per store round trip; output is drained between batches. */
const BATCH = 1000;
/** Message bytes queued before waiting for the client to read them, within a batch. */
const DRAIN_BYTES = 1024 * 1024;
/** Messages whose structures (and header blocks) one store call brings (messageHeads). */
const HEADS_SLICE = 100;
/** Messages rendered ahead of the one being written (runBatch). */
const LOOKAHEAD = 8;

/**
 * Bytes of message data a response's values may hold. A streamed literal counts in full: the store
 * may have pinned its bytes already (see UserMailbox.stream), so a FETCH of many medium messages
 * must wait for the client like one of many small ones.
 */
function heldBytes(values: ImapValue[]): number {
  let n = 0;
  for (const v of values) {
    if (Buffer.isBuffer(v)) n += v.length;
    else if (v !== null && typeof v === 'object' && !Array.isArray(v) && v.kind === 'literal') n += v.size;
  }
  return n;
}

const UID_ITEM: FetchItem = { kind: 'simple', name: 'UID' };
const FLAGS_ITEM: FetchItem = { kind: 'simple', name: 'FLAGS' };
const MODSEQ_ITEM: FetchItem = { kind: 'simple', name: 'MODSEQ' };

/** RFC 4466 §2.4 fetch-modifiers: "(name value ...)"; CHANGEDSINCE (RFC 7162) and PARTIAL (RFC 9394). */
function parseModifiers(r: ArgReader): { changedSince?: number; partial?: PartialRange; vanished?: boolean } {
  const list = r.list('fetch modifiers');
  const out: { changedSince?: number; partial?: PartialRange; vanished?: boolean } = {};
  if (list.remaining === 0) throw new ParseError('Empty fetch modifier list');
  while (list.remaining > 0) {
    const name = list.atom('fetch modifier').toUpperCase();
    if (name === 'CHANGEDSINCE') {
      if (out.changedSince !== undefined) throw new ParseError('CHANGEDSINCE given twice');
      out.changedSince = list.number('CHANGEDSINCE mod-sequence');
    } else if (name === 'VANISHED') {
      if (out.vanished) throw new ParseError('VANISHED given twice');
      out.vanished = true;
    } else if (name === 'PARTIAL') {
      if (out.partial) throw new ParseError('PARTIAL given twice');
      out.partial = parsePartialRange(list.atom('PARTIAL range'));
    } else {
      throw new ParseError(`Unknown fetch modifier ${name.slice(0, 40)}`);
    }
  }
  // RFC 7162 §3.2.6: VANISHED only together with CHANGEDSINCE.
  if (out.vanished && out.changedSince === undefined) throw new ParseError('VANISHED needs CHANGEDSINCE');
  return out;
}

export function parseFetchArgs(tokens: Token[], _env?: ParseEnv): FetchArgs {
  const r = new ArgReader(tokens);
  const set = r.sequenceSet();
  const items = parseFetchItems(r.next('fetch attributes'));
  const modifiers = r.isList() ? parseModifiers(r) : {};
  r.end();
  return { set, items, ...modifiers };
}

const has = (items: FetchItem[], name: string): boolean => items.some((i) => i.kind === 'simple' && i.name === name);

interface Plan {
  items: FetchItem[];
  byUid: boolean;
  /** Records are needed (dates, sizes, or modseqs not already brought up to date by CHANGEDSINCE). */
  records: boolean;
  /** Some item fetches a body without PEEK: \Seen is set (RFC 3501 §6.4.5, RFC 3516 §4.2 BINARY). */
  setsSeen: boolean;
  modseq: boolean;
  /** Messages whose flags the CHANGEDSINCE lookup brought into the view: they get FLAGS. */
  refreshed: Set<number>;
  /** RFC 8474 EMAILID / RFC 8970 PREVIEW: what messageExtras() is asked for, per batch. */
  extras?: MessageExtrasOptions;
  /** RFC 8474 THREADID: the sort keys are loaded per batch. */
  threadIds: boolean;
  /**
   * Structures ('structure') or structures and header blocks ('header') loaded per batch
   * (messageHeads): one store call for the range instead of one or two per message and item.
   */
  heads: false | 'structure' | 'header';
}

/** What the items read of every message: its structure, and its header block (HEADER, HEADER.FIELDS of the message itself). */
function headsNeeded(items: FetchItem[]): Plan['heads'] {
  let need: Plan['heads'] = false;
  for (const i of items) {
    if (i.kind === 'section') {
      if (i.section.path.length === 0 && i.section.text === 'all') continue;
      if (i.section.path.length === 0 && i.section.text !== 'text') return 'header';
      need = 'structure';
    } else if (i.kind === 'binary' || i.kind === 'binarySize' || (i.kind === 'simple' && (i.name === 'ENVELOPE' || i.name === 'BODY' || i.name === 'BODYSTRUCTURE'))) {
      need = 'structure';
    }
  }
  return need;
}

function makePlan(args: FetchArgs, byUid: boolean, refreshed: Set<number>): Plan {
  const items = args.items;
  const modseq = has(items, 'MODSEQ') || args.changedSince !== undefined;
  const records =
    // With CHANGEDSINCE the lookup by modseq has just brought the named messages' modseqs up to date.
    (has(items, 'MODSEQ') && args.changedSince === undefined) ||
    has(items, 'INTERNALDATE') ||
    has(items, 'RFC822.SIZE') ||
    has(items, 'SAVEDATE') ||
    items.some((i) => i.kind === 'section' && i.section.path.length === 0 && i.section.text === 'all');
  const setsSeen = items.some((i) => (i.kind === 'section' || i.kind === 'binary') && !i.peek);
  const previews = items.filter((i) => i.kind === 'preview');
  let extras: MessageExtrasOptions | undefined;
  // RFC 8970 §4.1: with LAZY the stored preview or NIL; without, one is computed when missing.
  if (previews.length > 0) extras = { preview: previews.every((p) => p.lazy) ? 'stored' : 'compute' };
  // THREADID of a message with no Message-ID or references comes from its EMAILID (object-ids.ts).
  else if (has(items, 'EMAILID') || has(items, 'THREADID')) extras = {};
  return { items, byUid, records, setsSeen, modseq, refreshed, ...(extras ? { extras } : {}), threadIds: has(items, 'THREADID'), heads: headsNeeded(items) };
}

/**
 * The flag-resync shape — UID, FLAGS and a last MODSEQ only — answered from the view and encoded
 * straight to text. (MODSEQ elsewhere in the list goes the general way, to keep the asked order.)
 */
function viewShape(items: FetchItem[]): boolean {
  const rest = items.length > 0 && has(items.slice(-1), 'MODSEQ') ? items.slice(0, -1) : items;
  return rest.length > 0 && viewOnly(rest);
}

/**
 * RFC 7162 §3.1.4.1 CHANGEDSINCE: of the named UIDs (ascending), those changed after `since`,
 * found by modseq in the store rather than by reading every named message. The view takes their
 * current flags and modseqs; the UIDs whose flags that changed are added to `refreshed`.
 */
async function changedAmong(mail: UserMailbox, view: SelectedView, named: readonly number[], since: number, refreshed: Set<number>): Promise<number[]> {
  const changed = await messagesChangedSince(mail, view.mailbox.id, since);
  const out: number[] = [];
  let i = 0;
  for (const meta of changed) {
    while (i < named.length && named[i]! < meta.uid) i++;
    if (i === named.length) break;
    if (named[i] !== meta.uid) continue;
    if (view.applyCurrent(meta)) refreshed.add(meta.uid);
    out.push(meta.uid);
  }
  return out;
}

/** Sets \Seen on the batch's messages that lack it; returns the changes (already applied to the view). */
async function markSeen(
  mail: UserMailbox,
  view: SelectedView,
  uids: number[],
  byUid: boolean,
  withModseq: boolean,
  refreshed: Set<number>,
): Promise<Map<number, FlagChange>> {
  const unseen = uids.filter((uid) => !view.flagsOf(uid).includes('\\Seen'));
  if (unseen.length === 0) return new Map();
  const result = await mail.updateFlags(view.mailbox.id, unseen, 'add', ['\\Seen']);
  // Silent: the FLAGS go out inside this command's own FETCH responses instead.
  view.applyOwnFlagChanges(result.changed, { silent: true, withUid: byUid, withModseq });
  const changed = new Map(result.changed.map((c) => [c.uid, c]));
  if (changed.size < unseen.length) {
    // \Seen already set, or the message gone, by another session whose event has not come yet
    // (another process: stale-view.ts): the flags the store holds go out with this FETCH.
    const current = await catchUpStale(mail, view, unseen.filter((uid) => !changed.has(uid)));
    for (const meta of current) if (view.applyCurrent(meta)) refreshed.add(meta.uid);
  }
  return changed;
}

/** The UIDs `records` holds, in their order (a loop, not a closure made per batch: see BatchRender). */
function present(uids: number[], records: Map<number, MessageRecord>): number[] {
  const out: number[] = [];
  for (const uid of uids) if (records.has(uid)) out.push(uid);
  return out;
}

/** The UIDs `records` lacks: expunged since the view last heard. */
function absent(uids: number[], records: Map<number, MessageRecord>): number[] {
  const out: number[] = [];
  for (const uid of uids) if (!records.has(uid)) out.push(uid);
  return out;
}

/** Answers `uids` in the order given (descending under MESSAGELIMIT); the store is asked in ascending order. */
async function runBatch(ctx: CommandContext, mail: UserMailbox, view: SelectedView, uids: number[], plan: Plan): Promise<void> {
  const mailboxId = view.mailbox.id;
  let records: Map<number, MessageRecord> | undefined;
  if (plan.records) {
    const list = await mail.records(mailboxId, ascendingCopy(uids));
    records = new Map();
    for (const rec of list) records.set(rec.uid, rec);
    // Gone meanwhile (expunged by another session): skipped silently — and queued for the view, in
    // case that session's event has not come yet (another process: stale-view.ts).
    const kept = present(uids, records);
    if (kept.length < uids.length) view.noteChangedElsewhere?.(absent(uids, records), []);
    uids = kept;
  }
  // Records carry the store's flags, which may be newer than the view's (another session's change
  // not reported yet): the view takes them, so FLAGS and MODSEQ agree and no keyword goes out
  // unannounced; messages whose flags changed so get FLAGS in this response.
  const refreshed = plan.refreshed;
  if (records) for (const uid of uids) if (view.applyCurrent(records.get(uid)!)) refreshed.add(uid);
  const withModseq = ctx.enabled.has('CONDSTORE');
  const uidOnly = ctx.enabled.has('UIDONLY');
  const qresyncUid = ctx.enabled.has('QRESYNC') && !uidOnly;
  const inStoreOrder = ascendingCopy(uids);
  const extras = plan.extras ? await loadExtras(mail, mailboxId, inStoreOrder, plan.extras) : undefined;
  const threadIds = plan.threadIds ? await loadThreadIds(mail, mailboxId, inStoreOrder) : undefined;
  let queued = 0;
  let rendered = 0;
  const seen = plan.setsSeen && maySetSeen(view) ? await markSeen(mail, view, inStoreOrder, plan.byUid, withModseq, refreshed) : new Map<number, FlagChange>();

  if (!plan.records && viewShape(plan.items)) {
    // The flag-resync shape: answered from the view, encoded straight to text, one write per batch.
    const named = plan.items.filter((i) => !(i.kind === 'simple' && i.name === 'MODSEQ'));
    // UID FETCH adds UID unasked (RFC 3501 §6.4.8), except under UIDONLY, where the UID is the
    // response's own number (`uid UIDFETCH`, RFC 9586) and UID comes only when asked for.
    const items = plan.byUid && !uidOnly && !has(named, 'UID') ? [UID_ITEM, ...named] : named;
    const order = items.map((i) => (i.kind === 'simple' && i.name === 'UID' ? 'UID' : 'FLAGS') as 'UID' | 'FLAGS');
    const withFlags = has(items, 'FLAGS') ? order : [...order, 'FLAGS' as const];
    // FLAGS added for a change made elsewhere: under QRESYNC with the UID too (RFC 7162 §3.2.4).
    const orderWithFlags = qresyncUid && !withFlags.includes('UID') ? ['UID' as const, ...withFlags] : withFlags;
    // Straight into bytes, in one synchronous loop (FetchLineWriter: nothing else is encoded meanwhile).
    const lines = new FetchLineWriter();
    for (const uid of uids) {
      const seq = view.seqOf(uid);
      if (seq === undefined) continue;
      // RFC 7162 §3.1: once CONDSTORE is on, every FETCH response carries MODSEQ.
      const modseq = withModseq || plan.modseq ? view.modseqOf(uid) : undefined;
      lines.line(seq, refreshed.has(uid) ? orderWithFlags : order, uid, view.flagsOf(uid), modseq, uidOnly);
    }
    ctx.untaggedLines(lines.done());
    return;
  }
  // What goes before and after the asked items is the same for every message but those whose
  // flags this FETCH changed or refreshed: built once, not per message.
  const uidAsked = has(plan.items, 'UID');
  const prepend = plan.byUid && !uidOnly && !uidAsked ? [UID_ITEM] : [];
  // RFC 7162 §3.2.4: under QRESYNC a response that reports flags this FETCH set (\Seen) or found
  // changed by another session carries the UID, as a UID FETCH's always does.
  const prependWithFlags = qresyncUid && !uidAsked ? [UID_ITEM] : prepend;
  const withModseqItem = (plan.modseq || withModseq) && !has(plan.items, 'MODSEQ');
  const flagsAsked = has(plan.items, 'FLAGS');
  const append: FetchItem[] = withModseqItem ? [MODSEQ_ITEM] : [];
  const appendWithFlags: FetchItem[] = flagsAsked ? append : withModseqItem ? [FLAGS_ITEM, MODSEQ_ITEM] : [FLAGS_ITEM];
  const batch = new BatchRender(mail, mailboxId, view, uids, plan, records, seen, extras, threadIds, {
    prepend,
    prependWithFlags,
    append,
    appendWithFlags,
    utf8: utf8Names(ctx.enabled),
  });
  // A few messages render ahead of the one being written, so their store calls overlap (a store on
  // another thread or host answers them together) while the responses still go out in order.
  const ahead = batch.ahead;
  // The responses go into one writer and out as one Buffer per run (FetchPageWriter), taken before
  // every await: the writer uses the encoder's shared scratch space, which another session may
  // use while this one waits.
  const page = new FetchPageWriter(utf8Names(ctx.enabled));
  try {
    for (batch.fill(); ahead.length > 0; batch.fill()) {
      const { uid, values: rendering } = ahead.shift()!;
      let values: ImapValue[];
      if (Array.isArray(rendering)) values = rendering;
      else {
        sendPage(ctx, page);
        try {
          values = await rendering;
        } catch (err) {
          if (isStoreError(err) && err.kind === 'nonexistent') continue;
          throw err;
        }
      }
      const seq = view.seqOf(uid);
      if (seq === undefined) continue;
      if (streams(values)) {
        // A streamed literal is a chunk untaggedLines() does not take: the general way, in order.
        sendPage(ctx, page);
        ctx.untagged(...fetchHead(seq, uid, uidOnly), values);
      } else {
        page.response(seq, uid, uidOnly, values);
      }
      queued += heldBytes(values);
      if (queued > DRAIN_BYTES || ++rendered % 16 === 0) {
        // Backpressure, and other sessions' turn: a FETCH of thousands of messages is many slices.
        sendPage(ctx, page);
        await ctx.drain();
        queued = 0;
      }
    }
  } finally {
    // The responses written before a failure go out, as they did one by one.
    sendPage(ctx, page);
  }
}

/** Queues what the page writer holds (nothing when it holds nothing). */
function sendPage(ctx: CommandContext, page: FetchPageWriter): void {
  const chunks = page.take();
  if (chunks.length > 0) ctx.untaggedLines(chunks);
}

/** True when a value is a streamed literal (a section past STREAM_THRESHOLD). */
function streams(values: ImapValue[]): boolean {
  for (const v of values) if (v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v) && v.kind === 'literal' && !Buffer.isBuffer(v.data)) return true;
  return false;
}

/** What goes before and after the asked items: with and without FLAGS this FETCH set or refreshed. */
interface Framing {
  prepend: FetchItem[];
  prependWithFlags: FetchItem[];
  append: FetchItem[];
  appendWithFlags: FetchItem[];
  utf8: boolean;
}

/** Stands in for a render whose rejection is awaited in turn (an earlier failure may end the loop first). */
function ignoreRejection(): undefined {
  return undefined;
}

/**
 * One batch's rendering state, with its steps as methods rather than closures made per batch: V8
 * keeps a closure's optimized code only while a closure of it lives, so per-batch closures were
 * compiled again by TurboFan after every full GC for as long as the server ran (bench/RESULTS.md,
 * bench/jit-compiles.ts); methods on the prototype are compiled once.
 */
class BatchRender {
  /** Messages rendered ahead of the one being written, in order (runBatch writes them). */
  readonly ahead: Array<{ uid: number; values: ImapValue[] | Promise<ImapValue[]> }> = [];
  /** Index into `uids` of the next message to render. */
  private next = 0;
  /**
   * Structures and header blocks, HEADS_SLICE messages per store call, asked for as the loop
   * reaches them: one call for a client's page, and a FETCH of thousands of messages is still many
   * short stretches (the store's work for a slice is one, between two drains).
   */
  private readonly headSlices = new Map<number, Map<number, MessageHead> | Promise<Map<number, MessageHead>>>();
  /** One function for the batch, not a closure per message. */
  private readonly flagsOf: (uid: number) => string[];

  constructor(
    private readonly mail: UserMailbox,
    private readonly mailboxId: string,
    private readonly view: SelectedView,
    private readonly uids: number[],
    private readonly plan: Plan,
    private readonly records: Map<number, MessageRecord> | undefined,
    private readonly seen: Map<number, FlagChange>,
    private readonly extras: Map<number, MessageExtras> | undefined,
    private readonly threadIds: Map<number, string | null> | undefined,
    private readonly framing: Framing,
  ) {
    this.flagsOf = view.flagsOf.bind(view);
  }

  /** Renders ahead up to LOOKAHEAD messages, skipping those no longer in the view. */
  fill(): void {
    const { ahead, uids, view } = this;
    while (ahead.length < LOOKAHEAD && this.next < uids.length) {
      const at = this.next++;
      const uid = uids[at]!;
      if (view.seqOf(uid) === undefined) continue;
      const values = this.render(uid, at);
      if (!Array.isArray(values)) values.catch(ignoreRejection);
      ahead.push({ uid, values });
    }
  }

  private render(uid: number, at: number): ImapValue[] | Promise<ImapValue[]> {
    if (!this.plan.heads) return this.renderWith(uid, undefined);
    const slice = this.headsAt(at);
    if (slice instanceof Map) {
      const head = slice.get(uid);
      return head ? this.renderWith(uid, head) : gone(uid);
    }
    return this.renderLoaded(uid, slice);
  }

  private async renderLoaded(uid: number, slice: Promise<Map<number, MessageHead>>): Promise<ImapValue[]> {
    const head = (await slice).get(uid);
    return head ? this.renderWith(uid, head) : gone(uid);
  }

  private headsAt(at: number): Map<number, MessageHead> | Promise<Map<number, MessageHead>> {
    const k = Math.floor(at / HEADS_SLICE);
    let slice = this.headSlices.get(k);
    if (!slice) this.headSlices.set(k, (slice = this.loadHeads(k)));
    return slice;
  }

  private async loadHeads(k: number): Promise<Map<number, MessageHead>> {
    const list = await messageHeads(this.mail, this.mailboxId, this.uids.slice(k * HEADS_SLICE, (k + 1) * HEADS_SLICE), { header: this.plan.heads === 'header' });
    const byUid = new Map<number, MessageHead>();
    for (const h of list) byUid.set(h.uid, h);
    this.headSlices.set(k, byUid);
    return byUid;
  }

  private renderWith(uid: number, head: MessageHead | undefined): ImapValue[] | Promise<ImapValue[]> {
    const { view, framing, extras, threadIds } = this;
    const flagsReported = this.seen.has(uid) || this.plan.refreshed.has(uid);
    const opts: RenderOptions = {
      flags: this.flagsOf,
      // MODSEQ goes with the FLAGS this session knows (RFC 7162 §3.1), from the view — which the
      // records (when loaded) and this FETCH's own \Seen have just brought up to date.
      modseq: view.modseqOf(uid),
      prepend: flagsReported ? framing.prependWithFlags : framing.prepend,
      append: flagsReported ? framing.appendWithFlags : framing.append,
      utf8: framing.utf8,
    };
    const extra = extras?.get(uid);
    if (extra) opts.extras = extra;
    if (threadIds) opts.threadId = threadIdFor(uid, threadIds, extras);
    return renderFetch(this.plan.items, new MessageSource(this.mail, this.mailboxId, uid, this.records?.get(uid), head), opts);
  }
}

/** Gone meanwhile (expunged by another session): the loop skips it silently, as without the batch. */
function gone(uid: number): Promise<never> {
  return Promise.reject(new StoreError('nonexistent', `no message with UID ${uid}`));
}

/** RFC 8474 EMAILID / RFC 8970 PREVIEW of a batch; a message missing from the answer went meanwhile. */
async function loadExtras(mail: UserMailbox, mailboxId: string, uids: number[], options: MessageExtrasOptions): Promise<Map<number, MessageExtras>> {
  const list = await mail.messageExtras!(mailboxId, uids, options);
  return new Map(list.map((e) => [e.uid, e]));
}

function threadIdFor(uid: number, threadIds: Map<number, string | null>, extras: Map<number, MessageExtras> | undefined): string | null {
  const id = threadIds.get(uid);
  if (id) return id;
  const emailId = extras?.get(uid)?.emailId;
  return emailId ? threadIdOfUnrelated(emailId) : null;
}

/**
 * RFC 8474 THREADID of a batch, from the SORT/THREAD keys (threadIdOf): a store's own sortData()
 * answers for the whole mailbox from what it keeps (found here by binary search); the fallback
 * reads only the batch's headers.
 */
async function loadThreadIds(mail: UserMailbox, mailboxId: string, uids: number[]): Promise<Map<number, string | null>> {
  // What threadIdOf() reads, which the store may read ahead in slices.
  const list = await sortData(mail, mailboxId, ascending(uids), ['messageId', 'references']);
  const out = new Map<number, string | null>();
  for (const uid of uids) {
    const i = indexOfUid(list, uid);
    const keys = list[i];
    if (keys && keys.uid === uid) out.set(uid, threadIdOf(keys));
  }
  return out;
}

/**
 * RFC 7162 §3.2.6: the UIDs of the set expunged since CHANGEDSINCE, as VANISHED (EARLIER), before
 * any FETCH response. BAD for FETCH, without CHANGEDSINCE, or before ENABLE QRESYNC.
 */
async function reportVanished(ctx: CommandContext, mail: UserMailbox, view: SelectedView, args: FetchArgs & { changedSince: number }, byUid: boolean): Promise<void> {
  if (!byUid) throw ImapError.bad('VANISHED is a UID FETCH modifier');
  if (!ctx.enabled.has('QRESYNC')) throw ImapError.bad('VANISHED needs ENABLE QRESYNC first');
  const known = args.set.saved ? toRanges(view.savedResult) : resolveRanges(args.set.ranges, view.uidNext - 1);
  const lines = vanishedLines(await vanishedSince(mail, view, args.changedSince, known), true);
  if (lines) ctx.untaggedLines(lines);
}

async function runFetch(ctx: CommandContext, args: FetchArgs, byUid: boolean): Promise<Completion | void> {
  const state = ctx.state;
  if (state.kind !== 'selected') throw ImapError.bad('No mailbox selected');
  const { mail, view } = state;
  if (args.vanished && args.changedSince !== undefined) await reportVanished(ctx, mail, view, { ...args, changedSince: args.changedSince }, byUid);
  const named = view.resolve(args.set, byUid);
  const windowed = args.partial ? partialWindow(named, args.partial) : named;
  // RFC 7162 §3.1: FETCH MODSEQ and CHANGEDSINCE turn CONDSTORE on.
  if (has(args.items, 'MODSEQ') || args.changedSince !== undefined) enableCondstore(ctx, view);
  const refreshed = new Set<number>();
  const wanted = args.changedSince === undefined ? windowed : await changedAmong(mail, view, ascending(windowed), args.changedSince, refreshed);
  // RFC 9738 §3.1: past MESSAGELIMIT only the highest UIDs are fetched, from the highest down
  // (processingOrder); within the limit the answer stays in ascending order.
  const { uids: kept, code } = keepHighest(wanted, args.unsolicited ? Infinity : ctx.server.limits.maxMessagesPerCommand);
  const uids = processingOrder(kept, code);
  const plan = makePlan(args, byUid, refreshed);
  // OBJECTID, SAVEDATE and PREVIEW are offered only over stores that keep them (capabilities).
  if ((plan.extras || has(args.items, 'SAVEDATE')) && !ctx.server.store.messageExtras) throw ImapError.bad('This server keeps no EMAILID, SAVEDATE or PREVIEW');
  for (let i = 0; i < uids.length; i += BATCH) {
    await runBatch(ctx, mail, view, uids.slice(i, i + BATCH), plan);
    await ctx.drain();
  }
  if (code) return { code, text: `${ctx.command} completed, only the ${uids.length} highest UIDs` };
}

/** `uids` in ascending order: the same array when it is, a sorted copy otherwise. */
function ascendingCopy(uids: number[]): number[] {
  for (let i = 1; i < uids.length; i++) if (uids[i - 1]! > uids[i]!) return [...uids].sort((a, b) => a - b);
  return uids;
}

function ascending(uids: readonly number[]): readonly number[] {
  for (let i = 1; i < uids.length; i++) if (uids[i - 1]! >= uids[i]!) return [...new Set(uids)].sort((a, b) => a - b);
  return uids;
}

export const fetchCommand: CommandSpec<FetchArgs> = {
  name: 'FETCH',
  sequenceNumbers: true,
  states: ['selected'],
  // RFC 3516: BINARY[]/BINARY.PEEK[]/BINARY.SIZE[] here, literal8 in APPEND (append.ts).
  capabilities: ['BINARY'],
  // RFC 3501 §7.4.1: responses carry sequence numbers, so no EXPUNGE may be sent meanwhile.
  noExpunge: true,
  parse: parseFetchArgs,
  run: (ctx, args) => runFetch(ctx, args, false),
};

export const uidFetchCommand: CommandSpec<FetchArgs> = {
  name: 'UID FETCH',
  states: ['selected'],
  parse: parseFetchArgs,
  run: (ctx, args) => runFetch(ctx, args, true),
};
