/**
 * One session's view of its selected mailbox: its own sequence numbers, the flags it has been told,
 * the messages that are \Recent for it, and the changes made by others that it has not reported yet.
 *
 * Other sessions' changes arrive through the store's change feed at any moment and wait here; the
 * session reports them only where the protocol allows (RFC 3501 §5.2, §7.4.1): new messages and flag
 * changes after any command, EXPUNGE only after commands other than FETCH, STORE and SEARCH.
 */
import type { Flag, FlagChange, MailboxChange, MailboxInfo, MailboxSnapshot, MailStore, MessageMeta, UserMailbox } from '../../store/types.js';
import type { NewMessageFetch, SelectedView, ViewObserver } from '../commands/types.js';
import { permanentFlags } from '../commands/mailbox-access.js';
import { atom, type ImapValue, type ResponseCode } from '../wire/types.js';
import { formatNumberSet, resolveRanges, type SequenceSet } from '../wire/sequence-set.js';
import { ParseError } from '../wire/args.js';
import { fetchHead } from '../wire/encoder.js';
import { changeIsFor } from '../../store/metadata.js';
import { FlagColumns } from './flag-columns.js';

/** Own APPENDs remembered for announcing at most (noteOwnAppend); more is a store that never announced them. */
const MAX_OWN_APPENDED = 1_000;

export interface ViewOutput {
  untagged(...values: ImapValue[]): void;
  /** Untagged status responses (PERMANENTFLAGS when a new keyword appears). */
  status?(tag: '*', status: 'OK', text: string, code?: ResponseCode): void;
}

/**
 * What a view must remember while its session is hibernated (hibernation.ts): the messages the
 * client knows, by UID, and the marks from which to tell it what changed meanwhile. Flags are not
 * kept: on thaw the current ones are read, and those changed since `highestModseq` are reported.
 */
export interface FrozenView {
  mailboxId: string;
  mailboxName: string;
  readOnly: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** The UIDs the client knows, in sequence order; shared between sessions that know the same. */
  uids: Uint32Array;
  /**
   * The keywords FLAGS has announced to the client, space-separated: a FLAGS response after the
   * thaw must still name them while the client believes a message has one (RFC 3501 §7.2.6).
   */
  keywords: string;
  recentFrom: number;
  recentLater: number[] | null;
  /** A RESETKEY of the mailbox was heard and not yet reported (URLMECH, RFC 4467 §7). */
  urlmech?: boolean;
}

export interface ViewOptions {
  /** CONDSTORE is on: flag updates carry MODSEQ (RFC 7162 §3.1). */
  reportModseq: () => boolean;
  /** QRESYNC is on: expunges go out as `* VANISHED uid-set` instead of EXPUNGE (RFC 7162 §3.2.10.2). */
  vanished?: () => boolean;
  /**
   * IMAP4rev2 is enabled (RFC 9051 Appendix E item 12): no \Recent. The session claims none (so it
   * takes none from IMAP4rev1 sessions), no message is \Recent for it — FETCH FLAGS never shows
   * the flag, SEARCH RECENT and NEW match nothing, OLD everything — and no RECENT response is sent.
   */
  noRecent?: () => boolean;
  /** UIDONLY is on (RFC 9586 §3): flag updates go out as `* uid UIDFETCH (...)`. */
  uidOnly?: () => boolean;
}

/** The system flags, in the order FLAGS and PERMANENTFLAGS list them. */
export const SYSTEM_FLAG_LIST = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

export class SelectedMailboxView implements SelectedView {
  readonly mailbox: MailboxInfo;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  uidNext: number;
  highestModseq: number;
  savedResult: number[] = [];

  // Columns indexed by sequence number - 1: no per-message objects, so SELECT of a 100,000-message
  // mailbox costs one array of UIDs and two typed arrays (flag-columns.ts) rather than 100,000
  // allocations. The UIDs stay a plain array: uids() hands it out.
  private uidList: number[];
  private readonly columns: FlagColumns;
  /** Messages in the snapshot with uid in [recentFrom, snapshotMax] are \Recent for this session. */
  private readonly recentFrom: number;
  private readonly snapshotMax: number;
  /** Messages that arrived later and were claimed as \Recent by this session. */
  private recentLater = new Set<number>();
  /** This session's own APPENDs not yet announced: uid, flags and modseq as stored (noteOwnAppend). */
  private readonly ownAppended = new Map<number, MessageMeta>();
  /** UIDs claimed as \Recent for this session by its own APPEND (noteRecentClaim), not yet reported. */
  private preclaimed: { from: number; through: number } | null = null;
  /** Keywords in use, lower-cased → first spelling seen (atoms compare case-insensitively). */
  private readonly keywordSpelling = new Map<string, string>();

  /** Changes from other sessions waiting to be reported. */
  private pendingNew = new Set<number>();
  private pendingExpunge = new Set<number>();
  private pendingFlags = new Map<number, FlagChange>();
  /** The mailbox's URLAUTH key was reset by another session: `* OK [URLMECH INTERNAL]` is owed (RFC 4467 §7). */
  private pendingUrlmech = false;
  /** New messages flush() is reading from the store: changes to them must not be dropped meanwhile. */
  private arriving = new Set<number>();
  /** Highest UID this view has heard of (so a late 'exists' event for a known UID is ignored). */
  private maxKnownUid: number;

  /**
   * The store gave the mailbox a new UIDVALIDITY: every UID this session knows may now name another
   * message. Called once; the connection ends the session (see onChange).
   */
  onInvalidated?: () => void;
  invalidated = false;

  /** Called whenever something is waiting to be reported (lets IDLE push at once). */
  onPending?: () => void;

  /** Live RFC 5267 UPDATE contexts and anything else that follows what this view reports. */
  readonly observers = new Set<ViewObserver>();

  constructor(
    snapshot: MailboxSnapshot,
    readOnly: boolean,
    recentFrom: number,
    private readonly out: ViewOutput,
    private readonly origin: string,
    private readonly options: ViewOptions,
  ) {
    this.mailbox = snapshot.mailbox;
    this.readOnly = readOnly;
    this.uidValidity = snapshot.uidValidity;
    this.uidNext = snapshot.uidNext;
    this.highestModseq = snapshot.highestModseq;
    const n = snapshot.messages.length;
    this.uidList = new Array<number>(n);
    this.columns = new FlagColumns(n);
    for (let i = 0; i < n; i++) {
      const m = snapshot.messages[i]!;
      this.uidList[i] = m.uid;
      this.columns.push(m.flags, m.modseq);
    }
    this.maxKnownUid = n ? this.uidList[n - 1]! : 0;
    this.recentFrom = recentFrom;
    this.snapshotMax = this.maxKnownUid;
    // Once per distinct flag set, not once per message.
    for (const flags of this.columns.distinctSets()) this.noteKeywords(flags);
  }

  /**
   * The view's state for hibernation, or null when it cannot be frozen now: changes wait to be
   * reported, or a SEARCHRES result ($) would be lost.
   */
  freeze(): Omit<FrozenView, 'uids'> & { uids: readonly number[] } | null {
    // Live UPDATE contexts would be lost too: a session with one stays awake.
    if (this.hasPending() || this.savedResult.length > 0 || this.observers.size > 0) return null;
    return {
      mailboxId: this.mailbox.id,
      mailboxName: this.mailbox.name,
      readOnly: this.readOnly,
      uidValidity: this.uidValidity,
      uidNext: this.uidNext,
      highestModseq: this.highestModseq,
      uids: this.uidList,
      keywords: this.keywords().join(' '),
      ...this.frozenRecent(),
    };
  }

  /**
   * The recent messages in the shape a thawed view reads them: `recentFrom` covers every frozen UID
   * from there on, `recentLater` lists any others. Usually the recent messages are the last ones
   * (one number, nothing listed); when another session was first to see a later arrival they are
   * not, and they are listed, so the thawed view cannot take that arrival for its own.
   */
  private frozenRecent(): { recentFrom: number; recentLater: number[] | null } {
    const count = this.recentCount();
    const beyond = this.uidNext;
    if (count === 0) return { recentFrom: beyond, recentLater: null };
    let first = this.recentFrom <= this.snapshotMax ? this.uidList[this.lowerBound(this.recentFrom)] ?? beyond : beyond;
    for (const uid of this.recentLater) if (uid < first) first = uid;
    if (this.uidList.length - this.lowerBound(first) === count) return { recentFrom: first, recentLater: null };
    return { recentFrom: beyond, recentLater: this.uidList.filter((uid) => this.isRecent(uid)) };
  }

  /**
   * Rebuilds a frozen view against the mailbox as it is now: the client's sequence numbers are
   * the frozen UIDs, and everything that changed since — expunged, new, flags changed after the
   * frozen HIGHESTMODSEQ — waits to be reported, as if it had come through the change feed.
   */
  static thaw(
    frozen: FrozenView,
    current: MailboxSnapshot,
    out: ViewOutput,
    origin: string,
    options: ViewOptions,
  ): SelectedMailboxView {
    const now = new Map<number, MessageMeta>();
    for (const m of current.messages) now.set(m.uid, m);
    const known: MessageMeta[] = new Array<MessageMeta>(frozen.uids.length);
    for (let i = 0; i < frozen.uids.length; i++) {
      const uid = frozen.uids[i]!;
      const m = now.get(uid);
      // Unchanged since the freeze: the current flags are the ones the client was told. Changed or
      // gone: modseq 0 and no flags, so resync() reports the message.
      known[i] = m && m.modseq <= frozen.highestModseq ? m : { uid, flags: [], modseq: 0 };
    }
    const before: MailboxSnapshot = {
      mailbox: current.mailbox,
      uidValidity: frozen.uidValidity,
      uidNext: frozen.uidNext,
      highestModseq: frozen.highestModseq,
      messages: known,
    };
    const view = new SelectedMailboxView(before, frozen.readOnly, frozen.recentFrom, out, origin, options);
    for (const keyword of frozen.keywords ? frozen.keywords.split(' ') : []) view.noteKeywords([keyword]);
    for (const uid of frozen.recentLater ?? []) view.recentLater.add(uid);
    if (frozen.urlmech) view.noteUrlmech();
    view.resync(current);
    return view;
  }

  get exists(): number {
    return this.uidList.length;
  }

  uids(): readonly number[] {
    return this.uidList;
  }

  uidAt(seq: number): number {
    const uid = this.uidList[seq - 1];
    if (uid === undefined) throw new ParseError(`Invalid message sequence number ${seq}`);
    return uid;
  }

  seqOf(uid: number): number | undefined {
    let lo = 0;
    let hi = this.uidList.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.uidList[mid]!;
      if (v === uid) return mid + 1;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set.saved) return this.savedResult.filter((uid) => this.seqOf(uid) !== undefined);
    const n = this.uidList.length;
    if (byUid) {
      const max = n ? this.uidList[n - 1]! : 0;
      const out: number[] = [];
      for (const [a, b] of resolveRanges(set.ranges, max)) {
        // Walk only the part of the UID list inside [a, b].
        let i = this.lowerBound(a);
        while (i < n && this.uidList[i]! <= b) out.push(this.uidList[i++]!);
      }
      return out;
    }
    // RFC 3501 §9: "*" in an empty mailbox, or a number above EXISTS, is invalid.
    const ranges = resolveRanges(set.ranges, n);
    const out: number[] = [];
    for (const [a, b] of ranges) {
      if (a < 1 || b > n) throw new ParseError(n === 0 ? 'No messages in mailbox' : `Invalid message sequence number (mailbox has ${n})`);
      for (let s = a; s <= b; s++) out.push(this.uidList[s - 1]!);
    }
    return out;
  }

  flagsOf(uid: number): string[] {
    const seq = this.seqOf(uid);
    // The columns' shared frozen arrays, as a store's snapshot hands them out too.
    const flags = seq === undefined ? [] : (this.columns.flags(seq - 1) as Flag[]);
    return this.isRecent(uid) ? [...flags, '\\Recent'] : flags;
  }

  hasFlag(uid: number, flag: Flag): boolean {
    if (flag === '\\Recent') return this.isRecent(uid);
    const seq = this.seqOf(uid);
    return seq !== undefined && this.columns.flags(seq - 1).includes(flag);
  }

  modseqOf(uid: number): number {
    const seq = this.seqOf(uid);
    return seq === undefined ? 0 : this.columns.modseq(seq - 1);
  }

  claimsRecent(): boolean {
    return !this.readOnly && this.options.noRecent?.() !== true;
  }

  noteOwnAppend(meta: MessageMeta): void {
    if (meta.uid <= this.lastUid()) return; // announced already (read back by an earlier flush)
    // Consumed by the next flush; a session cannot append without commands ending, so this stays
    // small — the bound only guards against a store that never announces what it appended.
    if (this.ownAppended.size >= MAX_OWN_APPENDED) this.ownAppended.clear();
    this.ownAppended.set(meta.uid, meta);
  }

  noteRecentClaim(from: number, through: number): void {
    const p = this.preclaimed;
    // Claims of one session's APPENDs follow each other (the mark only moves up): one range.
    this.preclaimed = p ? { from: Math.min(p.from, from), through: Math.max(p.through, through) } : { from, through };
  }

  isRecent(uid: number): boolean {
    if (this.options.noRecent?.()) return false;
    return (uid >= this.recentFrom && uid <= this.snapshotMax) || this.recentLater.has(uid);
  }

  recentCount(): number {
    if (this.options.noRecent?.()) return 0;
    const fromSnapshot = this.recentFrom <= this.snapshotMax ? this.lowerBound(this.snapshotMax + 1) - this.lowerBound(this.recentFrom) : 0;
    return fromSnapshot + this.recentLater.size;
  }

  /** Distinct keywords in use, for the FLAGS response. */
  keywords(): string[] {
    return [...this.keywordSpelling.values()].sort();
  }

  /** Every flag the FLAGS response lists: the system flags, then the keywords in use. */
  definedFlags(): string[] {
    return [...SYSTEM_FLAG_LIST, ...this.keywords()];
  }

  /** Remembers keywords; true when one was new to this session. */
  private noteKeywords(flags: readonly string[]): boolean {
    let added = false;
    for (let j = 0; j < flags.length; j++) {
      const f = flags[j]!;
      if (f.charCodeAt(0) === 92 /* backslash: a system flag */) continue;
      const key = f.toLowerCase();
      if (!this.keywordSpelling.has(key)) {
        this.keywordSpelling.set(key, f);
        added = true;
      }
    }
    return added;
  }

  /**
   * A keyword this session has not seen before: tell the client before the FETCH that carries it
   * (RFC 3501 §7.2.6 FLAGS; clients such as Thunderbird build their tag lists from it).
   */
  private announceNewKeywords(flags: readonly string[]): void {
    if (!this.noteKeywords(flags)) return;
    const defined = this.definedFlags();
    this.out.untagged(atom('FLAGS'), defined.map(atom));
    if (!this.readOnly) this.out.status?.('*', 'OK', 'Flags permitted', { name: 'PERMANENTFLAGS', args: [permanentFlags(defined, this.mailbox).map(atom)] });
  }

  firstUnseenSeq(): number | undefined {
    const i = this.columns.firstWithout('\\Seen');
    return i < 0 ? undefined : i + 1;
  }

  private setEntry(seq: number, flags: readonly string[], modseq: number): void {
    this.columns.set(seq - 1, flags, modseq);
  }

  applyOwnFlagChanges(changes: FlagChange[], options: { silent: boolean; withUid: boolean; withModseq: boolean }): void {
    for (const c of changes) {
      const seq = this.seqOf(c.uid);
      if (seq === undefined) continue;
      this.takeNewer(seq, c);
      if (!options.silent) this.out.untagged(...fetchHead(seq, c.uid, this.options.uidOnly?.() === true), this.fetchFlagsItems(c.uid, options.withUid, options.withModseq));
    }
    if (changes.length > 0) for (const o of this.observers) o.flagsChanged(changes.map((c) => c.uid));
  }

  observe(observer: ViewObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  /**
   * The store's current flags of a message in the view, as this session's own command just read
   * them (FETCH loads records): when they are newer than what the view holds they become what it
   * reports from now on — a keyword new to the session is announced first (RFC 3501 §7.2.6) — and
   * true tells the command to report FLAGS with them.
   */
  applyCurrent(meta: MessageMeta): boolean {
    const seq = this.seqOf(meta.uid);
    if (seq === undefined || meta.modseq <= this.columns.modseq(seq - 1)) return false;
    const before = this.columns.flags(seq - 1);
    this.takeNewer(seq, meta);
    return before.length !== meta.flags.length || before.some((f, i) => f !== meta.flags[i]);
  }

  /**
   * Records flags and their mod-sequence for a message — unless the view already holds a later
   * state (a change is never undone by an older one). A change from others waiting to be reported
   * is dropped when this one supersedes it, and kept when it is later still.
   */
  private takeNewer(seq: number, c: MessageMeta): void {
    const pending = this.pendingFlags.get(c.uid);
    if (pending && pending.modseq <= c.modseq) this.pendingFlags.delete(c.uid);
    if (c.modseq < this.columns.modseq(seq - 1)) return;
    this.announceNewKeywords(c.flags);
    this.setEntry(seq, c.flags, c.modseq);
    if (c.modseq > this.highestModseq) this.highestModseq = c.modseq;
  }

  applyOwnExpunge(uids: number[]): void {
    // Reported in descending order: each EXPUNGE renumbers only the messages after it (RFC 3501
    // §7.4.1), so every number sent is still the message's number when the client reads it.
    const seqs: number[] = [];
    for (const uid of uids) {
      this.pendingExpunge.delete(uid);
      this.pendingFlags.delete(uid);
      this.recentLater.delete(uid);
      const seq = this.seqOf(uid);
      if (seq !== undefined) seqs.push(seq);
    }
    if (seqs.length === 0) return;
    // RFC 5267 §4.3.4: REMOVEFROM in sequence numbers goes out before the EXPUNGE that shifts them.
    if (this.observers.size > 0) {
      const gone = seqs.map((seq) => this.uidList[seq - 1]!);
      for (const o of this.observers) o.expunging(gone);
    }
    if (this.options.vanished?.()) {
      // UIDs, not sequence numbers: one response, ascending (the set syntax needs no order).
      const gone = [...new Set(seqs.map((seq) => this.uidList[seq - 1]!))].sort((a, b) => a - b);
      for (let i = 0; i < gone.length; i += 5000) this.out.untagged(atom('VANISHED'), atom(formatNumberSet(gone.slice(i, i + 5000))));
    } else this.sendExpunges(seqs);
    this.dropSeqs(seqs);
  }

  /** `* n EXPUNGE` for each sequence number, highest first. */
  private sendExpunges(seqs: number[]): void {
    seqs.sort((a, b) => b - a);
    let previous = 0;
    for (const seq of seqs) {
      if (seq === previous) continue;
      previous = seq;
      this.out.untagged(seq, atom('EXPUNGE'));
    }
  }

  private dropSeqs(seqs: number[]): void {
    // One pass over the arrays, not one splice per message (an EXPUNGE of 10,000 out of 100,000),
    // and no more allocation than the new UID list: three filter() copies grown element by element
    // were most of what an EXPUNGE in a 1,000-message mailbox allocated (bench/command-alloc.ts).
    const n = this.uidList.length;
    const gone = Int32Array.from(seqs).sort();
    let dropped = 0;
    for (let i = 0; i < gone.length; i++) if (gone[i]! >= 1 && gone[i]! <= n && (i === 0 || gone[i] !== gone[i - 1])) dropped++;
    if (dropped === 0) return;
    // The UID list is a new array: uids() hands it out, and a holder keeps the one it got. The
    // flag and modseq columns are this view's alone and close up in place (retain asks about each
    // index once, ascending); the kept UIDs go to the new list on the way.
    const uids = new Array<number>(n - dropped);
    let g = 0;
    let w = 0;
    this.columns.retain((r) => {
      while (g < gone.length && gone[g]! < r + 1) g++;
      if (g < gone.length && gone[g] === r + 1) return true;
      uids[w++] = this.uidList[r]!;
      return false;
    });
    this.uidList = uids;
  }

  /**
   * Reports, now, messages this session's own command just added to the mailbox (EXISTS, and
   * what else is pending except expunges) — for REPLACE, whose new message is announced before
   * the old one's EXPUNGE (RFC 8508 §3.2–3.3 examples: APPENDUID, EXISTS, EXPUNGE).
   */
  async reportOwnArrivals(mail: UserMailbox, uids: readonly number[]): Promise<void> {
    for (const uid of uids) {
      if (uid <= this.maxKnownUid) continue;
      this.pendingNew.add(uid);
      this.maxKnownUid = uid;
    }
    await this.flush(mail, false);
  }

  /** Feed listener: queue changes of this mailbox made elsewhere. */
  onChange(change: MailboxChange): void {
    if (change.kind === 'urlauth') {
      // RFC 4467 §7 RESETKEY: "Any current IMAP session logged in as the user that has the mailbox
      // selected will receive an untagged OK response with the URLMECH status response code". The
      // session that ran RESETKEY has it in its tagged OK already. No mailbox: all keys went.
      if (change.origin !== undefined && change.origin === this.origin) return;
      if (change.mailboxId !== undefined && change.mailboxId !== this.mailbox.id) return;
      this.pendingUrlmech = true;
      this.onPending?.();
      return;
    }
    // Annotation changes are NOTIFY's business (src/imap/notify/watcher.ts), not the selected view's.
    if (change.kind === 'mailboxes' || change.kind === 'sieve' || change.kind === 'metadata' || change.mailboxId !== this.mailbox.id) return;
    const own = change.origin === this.origin;
    switch (change.kind) {
      case 'exists':
        for (const uid of change.uids) {
          if (uid > this.maxKnownUid) {
            this.pendingNew.add(uid);
            this.maxKnownUid = uid;
          }
        }
        break;
      case 'expunge':
        if (own) return;
        for (const uid of change.uids) {
          if (this.pendingNew.delete(uid)) continue;
          if (this.arriving.has(uid) || this.seqOf(uid) !== undefined) this.pendingExpunge.add(uid);
        }
        break;
      case 'flags':
        if (own) return;
        for (const c of change.changes) {
          if (!this.pendingNew.has(c.uid) && !this.arriving.has(c.uid) && this.seqOf(c.uid) === undefined) continue;
          const known = this.pendingFlags.get(c.uid);
          if (!known || known.modseq < c.modseq) this.pendingFlags.set(c.uid, c);
        }
        break;
      case 'uidvalidity':
        // RFC 3501 §2.3.1.1 lets UIDs fail to persist only with a new UIDVALIDITY, and gives a
        // selected session no way to learn it but a new SELECT. Like Dovecot ("most clients would
        // get confused"), the session ends with BYE; the client reconnects and resynchronises.
        if (!this.invalidated) {
          this.invalidated = true;
          this.onInvalidated?.();
        }
        return;
    }
    if (this.hasPending()) this.onPending?.();
  }

  /** SelectedView.noteChangedElsewhere: what a change event would have said, queued the same way. */
  noteChangedElsewhere(gone: number[], current: MessageMeta[]): void {
    const mailboxId = this.mailbox.id;
    if (gone.length > 0) this.onChange({ kind: 'expunge', mailboxId, uids: gone });
    if (current.length > 0) this.onChange({ kind: 'flags', mailboxId, changes: current.map((m) => ({ uid: m.uid, flags: m.flags, modseq: m.modseq })) });
  }

  /** Changes held for the client (new, expunged, flag-changed messages). */
  pendingCount(): number {
    return this.pendingNew.size + this.pendingExpunge.size + this.pendingFlags.size;
  }

  /** Lets the observers (UPDATE contexts) finish what this session's own commands queued, without reporting anything held. */
  async settleObservers(): Promise<void> {
    for (const o of [...this.observers]) await o.settle();
  }

  hasPending(): boolean {
    return this.pendingNew.size > 0 || this.pendingExpunge.size > 0 || this.pendingFlags.size > 0 || this.pendingUrlmech;
  }

  /** A hibernated session that heard of a RESETKEY while parked (hibernation.ts) owes the URLMECH still. */
  noteUrlmech(): void {
    this.pendingUrlmech = true;
  }

  /**
   * UID, flags and modseq of newly announced messages (`uids` ascending), in ascending order: this
   * session's own APPENDs from what the store returned (noteOwnAppend), only the rest read back.
   * A flag change by someone else meanwhile is in pendingFlags with a higher modseq, as it would be
   * for a read that raced with it, so flush picks the newer either way.
   */
  private async readNew(mail: UserMailbox, uids: readonly number[]): Promise<MessageMeta[]> {
    if (this.ownAppended.size === 0) return mail.records(this.mailbox.id, [...uids]);
    const known: MessageMeta[] = [];
    const unknown: number[] = [];
    for (const uid of uids) {
      const meta = this.ownAppended.get(uid);
      if (meta) known.push(meta);
      else unknown.push(uid);
    }
    const read = unknown.length > 0 ? await mail.records(this.mailbox.id, unknown) : [];
    // Kept until the read succeeded (a failed flush reports them next time). Any entry up to the
    // highest UID announced now was announced or expunged before its announcement: done with.
    const through = uids[uids.length - 1] ?? 0;
    for (const uid of [...this.ownAppended.keys()]) if (uid <= through) this.ownAppended.delete(uid);
    if (known.length === 0) return read;
    return read.length === 0 ? known : [...known, ...read].sort((a, b) => a.uid - b.uid);
  }

  /**
   * Reports queued changes: EXPUNGE (only when allowed), then EXISTS/RECENT for new messages, then
   * FETCH FLAGS for changed ones.
   */
  async flush(mail: UserMailbox, allowExpunge: boolean, fetchNew?: NewMessageFetch): Promise<void> {
    if (this.pendingUrlmech) {
      this.pendingUrlmech = false;
      this.out.status?.('*', 'OK', 'URLAUTH key reset', { name: 'URLMECH', args: [atom('INTERNAL')] });
    }
    if (allowExpunge && this.pendingExpunge.size > 0) {
      const gone = [...this.pendingExpunge];
      this.pendingExpunge.clear();
      this.applyOwnExpunge(gone);
    }
    if (this.pendingNew.size > 0) {
      const uids = [...this.pendingNew].sort((a, b) => a - b);
      this.pendingNew.clear();
      for (const uid of uids) this.arriving.add(uid);
      const pre = this.preclaimed;
      if (pre && uids[uids.length - 1]! >= pre.through) this.preclaimed = null;
      let metas: MessageMeta[];
      let recentFrom: number;
      try {
        // \Recent (RFC 3501 §2.3.2): claim exactly the messages about to be reported, up to the
        // highest of them. The store moves its mark past that one atomically, so of two sessions
        // told of the same message only one gets it; a message that arrives meanwhile is not
        // among `uids` and stays claimable by whichever session reports it first.
        const through = uids[uids.length - 1]!;
        // Claimed by this session's own APPEND already (noteRecentClaim): no claim, no write.
        recentFrom = pre && through <= pre.through ? Infinity : await mail.claimRecent(this.mailbox.id, { peek: this.readOnly || this.options.noRecent?.() === true, through });
        metas = await this.readNew(mail, uids);
      } catch (err) {
        for (const uid of uids) this.pendingNew.add(uid); // reported at the next flush instead
        this.preclaimed ??= pre;
        throw err;
      } finally {
        for (const uid of uids) this.arriving.delete(uid);
      }
      const addedUids: number[] = [];
      for (const m of metas) {
        if (this.pendingExpunge.delete(m.uid)) continue; // expunged while we read it: never reported
        if (m.uid <= this.lastUid()) continue;
        // A flag change heard while reading may be older or newer than what the read returned.
        const pf = this.pendingFlags.get(m.uid);
        const cur = pf && pf.modseq > m.modseq ? pf : m;
        this.pendingFlags.delete(m.uid);
        this.announceNewKeywords(cur.flags);
        this.uidList.push(m.uid);
        this.columns.push(cur.flags, cur.modseq);
        if (m.uid >= recentFrom || (pre && m.uid >= pre.from && m.uid <= pre.through)) this.recentLater.add(m.uid);
        if (m.uid >= this.uidNext) this.uidNext = m.uid + 1;
        if (cur.modseq > this.highestModseq) this.highestModseq = cur.modseq;
        addedUids.push(m.uid);
      }
      // Announced but gone before it could be read: nothing to report, nothing to expunge later.
      for (const uid of uids) {
        if (this.seqOf(uid) !== undefined) continue;
        this.pendingFlags.delete(uid);
        this.pendingExpunge.delete(uid);
      }
      if (addedUids.length > 0) {
        this.out.untagged(this.uidList.length, atom('EXISTS'));
        if (!this.options.noRecent?.()) this.out.untagged(this.recentCount(), atom('RECENT'));
        for (const o of this.observers) o.added(addedUids);
      }
    }
    if (this.pendingFlags.size > 0) {
      const changes = [...this.pendingFlags.values()].sort((a, b) => a.uid - b.uid);
      this.pendingFlags.clear();
      for (const c of changes) {
        const seq = this.seqOf(c.uid);
        if (seq === undefined) continue;
        const known = this.columns.modseq(seq - 1);
        if (known >= c.modseq && known !== 0) continue;
        this.setEntry(seq, c.flags, c.modseq);
        if (c.modseq > this.highestModseq) this.highestModseq = c.modseq;
        this.announceNewKeywords(c.flags);
        this.out.untagged(...fetchHead(seq, c.uid, this.options.uidOnly?.() === true), this.fetchFlagsItems(c.uid, true, this.options.reportModseq()));
        for (const o of this.observers) o.flagsChanged([c.uid]);
      }
    }
    for (const o of [...this.observers]) await o.settle(fetchNew);
  }

  /**
   * For stores whose change feed cannot see other processes: compare a fresh snapshot with the view
   * and queue the differences as if they had arrived through the feed.
   */
  resync(snapshot: MailboxSnapshot): void {
    if (snapshot.uidValidity !== this.uidValidity) return this.onChange({ kind: 'uidvalidity', mailboxId: this.mailbox.id });
    const current = new Set(snapshot.messages.map((m) => m.uid));
    const gone = this.uidList.filter((uid) => !current.has(uid));
    if (gone.length) this.onChange({ kind: 'expunge', mailboxId: this.mailbox.id, uids: gone });
    const added = snapshot.messages.filter((m) => m.uid > this.maxKnownUid).map((m) => m.uid);
    if (added.length) this.onChange({ kind: 'exists', mailboxId: this.mailbox.id, uids: added });
    const changed: FlagChange[] = [];
    for (const m of snapshot.messages) {
      const seq = this.seqOf(m.uid);
      if (seq === undefined) continue;
      if (this.columns.modseq(seq - 1) !== m.modseq || this.columns.flags(seq - 1).join(' ') !== m.flags.join(' ')) {
        changed.push({ uid: m.uid, flags: m.flags, modseq: m.modseq });
      }
    }
    if (changed.length) this.onChange({ kind: 'flags', mailboxId: this.mailbox.id, changes: changed });
  }

  private fetchFlagsItems(uid: number, withUid: boolean, withModseq: boolean): ImapValue[] {
    const items: ImapValue[] = [];
    // Under UIDONLY the UID is the response's own number (`uid UIDFETCH`), not repeated as an item.
    if (withUid && this.options.uidOnly?.() !== true) items.push(atom('UID'), uid);
    items.push(atom('FLAGS'), this.flagsOf(uid).map(atom));
    if (withModseq) items.push(atom('MODSEQ'), [this.modseqOf(uid)]);
    return items;
  }

  private lastUid(): number {
    return this.uidList.length ? this.uidList[this.uidList.length - 1]! : 0;
  }

  private lowerBound(value: number): number {
    let lo = 0;
    let hi = this.uidList.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.uidList[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Builds a view with its change-feed subscription already running: the subscription starts
 * before `make` reads the snapshot, so no change can fall between them, and changes that arrive
 * meanwhile are applied once the view exists (it ignores what the snapshot already has). SELECT
 * and the waking of a hibernated session both open views this way.
 */
export async function watchedView(
  store: MailStore,
  user: string,
  mail: UserMailbox,
  mailboxId: string,
  make: () => Promise<SelectedMailboxView>,
): Promise<{ view: SelectedMailboxView; unwatch: () => void }> {
  const early: MailboxChange[] = [];
  let view: SelectedMailboxView | null = null;
  const listener = (change: MailboxChange): void => {
    if (view) view.onChange(change);
    else early.push(change);
  };
  // Another user's mailbox (the shared namespace) is watched on its owner's feed.
  const routed = (mail as UserMailbox & { watchFor?: (id: string, l: (c: MailboxChange) => void) => () => void }).watchFor;
  // Without it, the user's own feed — less what is another user's (their \Seen, /private
  // annotations, URLAUTH keys: changeIsFor), which the shared view's watchFor leaves out too.
  const unwatch = routed ? routed.call(mail, mailboxId, listener) : store.watch(user, (change) => changeIsFor(change, user) && listener(change));
  try {
    view = await make();
  } catch (err) {
    unwatch();
    throw err;
  }
  for (const change of early) view.onChange(change);
  return { view, unwatch };
}
