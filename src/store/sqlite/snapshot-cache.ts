/**
 * SELECT of a large mailbox needs every message's UID, flags and modseq. Reading 100,000 rows costs
 * ~40–60 ms; this cache keeps the last snapshot of recently selected mailboxes and brings it up to
 * date from the rows whose modseq grew, which is cheap because every change to a mailbox raises its
 * HIGHESTMODSEQ (appends, flag changes, expunges alike). Only this process writes the database (it
 * holds the exclusive lock), so nothing can change behind the cache's back. When the store closes,
 * the snapshots of large mailboxes changed since they were last saved are written to the database
 * (saved-snapshots.ts), and a mailbox not in memory starts from its saved snapshot instead.
 */
import { indexOfUid } from '../uid-index.js';
import type { Flag, MessageMeta } from '../types.js';
import type { MailboxRow, StoreContext } from './context.js';
import { parseFlags } from './flags.js';
import { loadSnapshot, savedModseq, saveSnapshot } from './saved-snapshots.js';
import { DEFAULT_SLICE_MS, TimeSlice } from '../../util/time-slice.js';

interface Entry {
  highestModseq: number;
  messages: MessageMeta[];
}

/** Mailboxes smaller than this are not saved at close: a full read of them is quick enough. */
const MIN_MESSAGES = 2_000;
/**
 * Mailboxes smaller than this are read directly and not kept in memory. A full read of 1,000
 * messages is quick but allocates ~75 KB (an object per message and the text they are parsed
 * from), and that garbage is what brings on the young-generation GC that lands in the next
 * command of a persistent client (bench/RESULTS.md, issue 23); catching a kept copy up allocates a
 * fraction of it. At most MAX_ENTRIES × ~60 KB kept for mailboxes of this size.
 */
const MIN_CACHED_MESSAGES = 512;
/** Rows of the first page of a read in pages; later pages are sized to half a time slice each. */
const FIRST_PAGE = 4_096;
const MIN_PAGE = 256;
const MAX_PAGE = 65_536;
/** Most mailboxes kept (least recently used dropped). */
const MAX_ENTRIES = 32;

export class SnapshotCache {
  private readonly entries = new Map<number, Entry>();
  /** Mailboxes written since the store opened: candidates for saving at close. */
  private readonly written = new Set<number>();

  /** Notes that a mailbox's messages changed (called by every message write). */
  noteWrite(mailboxId: number): void {
    this.written.add(mailboxId);
  }

  /** The messages of `box` in UID order; the array returned is the caller's to keep. */
  messages(ctx: StoreContext, box: MailboxRow): MessageMeta[] {
    return this.fromKept(ctx, box) ?? this.keep(box, readAll(ctx, box.id));
  }

  /**
   * As messages(), for SELECT: a mailbox with no snapshot kept that can be brought up to date (none
   * cached or saved, or a saved one older than expunges since) is read in pages, with the event
   * loop let go between time slices — one statement over 100,000 rows and its parse were one
   * stretch of 15–30 ms of CPU (issue 13: no command may hold the loop for more than a few
   * milliseconds). Other sessions may write between the pages, so the pages are not one state of
   * the mailbox; they are made one the way a kept snapshot is brought up to date: taken as of the
   * HIGHESTMODSEQ before the first page, then caught up from the rows whose modseq grew since (a
   * page that already saw a change gets it again, which changes nothing) and the expunges the
   * count reveals. `current` re-reads the mailbox's row after the last page; the snapshot answers
   * for that row, which is returned with it.
   */
  async messagesInSlices(ctx: StoreContext, box: MailboxRow, current: () => MailboxRow): Promise<{ box: MailboxRow; messages: MessageMeta[] }> {
    const kept = this.fromKept(ctx, box);
    if (kept) return { box, messages: kept };
    const read = await readInPages(ctx, box.id);
    if (!read.yielded) return { box, messages: this.keep(box, read.messages) };
    const now = current();
    const entry: Entry = { highestModseq: box.highest_modseq, messages: read.messages };
    const caughtUp = now.uid_validity === box.uid_validity && (now.highest_modseq === box.highest_modseq || this.catchUp(ctx, now, entry));
    // Pieces that do not add up (never seen so far): one read in full, as messages() does.
    return { box: now, messages: caughtUp ? this.keep(now, entry.messages) : this.messages(ctx, now) };
  }

  /** The cached or saved snapshot of `box` brought up to date, or undefined when there is none or it cannot be. */
  private fromKept(ctx: StoreContext, box: MailboxRow): MessageMeta[] | undefined {
    let entry = this.entries.get(box.id);
    if (!entry) {
      const saved = loadSnapshot(ctx, box.id);
      // A saved snapshot from the future (a database restored under it) is not a starting point.
      if (saved && saved.highestModseq <= box.highest_modseq) entry = saved;
    }
    if (!entry) return undefined;
    this.entries.delete(box.id);
    if (entry.highestModseq !== box.highest_modseq && !this.catchUp(ctx, box, entry)) return undefined;
    this.entries.set(box.id, entry);
    return entry.messages.slice();
  }

  /** Caches a mailbox read in full when it is large; the caller gets its own copy. */
  private keep(box: MailboxRow, messages: MessageMeta[]): MessageMeta[] {
    this.entries.delete(box.id);
    if (messages.length < MIN_CACHED_MESSAGES) return messages;
    this.entries.set(box.id, { highestModseq: box.highest_modseq, messages });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as number);
    return messages.slice();
  }

  /**
   * Saves the snapshots of large mailboxes that changed since their last save (store close). Stops
   * starting new ones after `budgetMs`, so shutting down never waits long: a mailbox left out is
   * read in full at its next SELECT, as before.
   */
  saveChanged(ctx: StoreContext, budgetMs: number): number {
    const started = performance.now();
    let saved = 0;
    for (const id of new Set([...this.entries.keys(), ...this.written])) {
      if (performance.now() - started > budgetMs) break;
      const box = ctx.sql.get('SELECT * FROM mailboxes WHERE id = ?').get(id) as MailboxRow | undefined;
      if (!box || box.noselect || savedModseq(ctx, id) === box.highest_modseq) continue;
      if (!this.entries.has(id)) {
        const count = ctx.sql.get('SELECT COUNT(*) FROM messages WHERE mailbox_id = ?').pluck().get(id) as number;
        if (count < MIN_MESSAGES) continue;
      }
      const messages = this.messages(ctx, box);
      if (messages.length < MIN_MESSAGES) continue;
      ctx.db.transaction(() => saveSnapshot(ctx, id, { highestModseq: box.highest_modseq, messages })).immediate();
      saved++;
    }
    this.written.clear();
    return saved;
  }

  /**
   * Applies the rows changed since the entry was taken. Expunges leave no row to find by modseq;
   * when the count shows some, the current UID list (one column, a fraction of a full read) says
   * which. Returns false when the pieces still do not add up; the caller then reads everything.
   */
  private catchUp(ctx: StoreContext, box: MailboxRow, entry: Entry): boolean {
    // Walked by the modseq index; put in UID order here so appended messages come in ascending.
    const changed = scanMetaLines(
      ctx.sql
        .get("SELECT group_concat(uid || ',' || modseq || ',' || flags, char(10)) FROM messages WHERE mailbox_id = ? AND modseq > ?")
        .pluck()
        .get(box.id, entry.highestModseq) as string | null,
    ).sort((a, b) => a.uid - b.uid);
    const list = entry.messages;
    for (const meta of changed) {
      const last = list.length ? list[list.length - 1]!.uid : 0;
      if (meta.uid > last) {
        list.push(meta);
        continue;
      }
      const i = indexOfUid(list, meta.uid);
      if (i < 0) return false; // a UID below the last one that we never saw: resync fully
      list[i] = meta;
    }
    const count = ctx.sql.get('SELECT COUNT(*) FROM messages WHERE mailbox_id = ?').pluck().get(box.id) as number;
    if (count !== list.length && !dropExpunged(ctx, box.id, entry, count)) return false;
    entry.highestModseq = box.highest_modseq;
    return true;
  }
}

/** Keeps only the messages whose UID is still in the mailbox; false if the result is not `count` long. */
function dropExpunged(ctx: StoreContext, mailboxId: number, entry: Entry, count: number): boolean {
  const text = ctx.sql.get('SELECT group_concat(uid) FROM messages WHERE mailbox_id = ?').pluck().get(mailboxId) as string | null;
  // Both ascending (the primary key's order) make one merge walk. Were they not, the walk would
  // keep too few and the count check below would send the caller to a full read: `kept` is a
  // subset of `present`, so equal sizes mean equal sets. The UIDs are read from the text in place
  // (no string and number per UID, as split and map made: most of what a catch-up allocated).
  const kept: MessageMeta[] = [];
  const n = text === null ? 0 : text.length;
  let at = 0;
  let present = 0;
  /** The next UID in the text, or -1 at its end. */
  const next = (): number => {
    if (at >= n) return -1;
    let uid = 0;
    let c: number;
    while (at < n && (c = text!.charCodeAt(at++)) !== 44 /* , */) uid = uid * 10 + (c - 48);
    present++;
    return uid;
  };
  let current = next();
  for (const meta of entry.messages) {
    while (current >= 0 && current < meta.uid) current = next();
    if (current === meta.uid) kept.push(meta);
  }
  while (current >= 0) current = next();
  if (kept.length !== count || present !== count) return false;
  entry.messages = kept;
  return true;
}

/**
 * Every message's UID, modseq and flags in one string ("uid,modseq,flags" lines) rather than
 * 100,000 rows: better-sqlite3's per-row cost dominated, and a hand scan of one string is several
 * times faster than JSON. The lines follow the primary key (mailbox_id, uid), which is the order
 * SQLite walks; an ORDER BY inside group_concat would sort again and double the cost, so the order
 * is checked instead and sorted only if it ever differs.
 */
function readAll(ctx: StoreContext, mailboxId: number): MessageMeta[] {
  const messages = scanMetaLines(
    ctx.sql.get("SELECT group_concat(uid || ',' || modseq || ',' || flags, char(10)) FROM messages WHERE mailbox_id = ?").pluck().get(mailboxId) as
      | string
      | null,
  );
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]!.uid < messages[i - 1]!.uid) return messages.sort((a, b) => a.uid - b.uid);
  }
  return messages;
}

/**
 * readAll() in pages of UIDs, each sized to take about half a time slice, with a yield whenever a
 * slice is used up. `yielded` false: nothing else ran between the pages, so they are one state.
 */
async function readInPages(ctx: StoreContext, mailboxId: number): Promise<{ messages: MessageMeta[]; yielded: boolean }> {
  const stmt = ctx.sql
    .get(
      `SELECT group_concat(uid || ',' || modseq || ',' || flags, char(10)), count(*), max(uid)
         FROM (SELECT uid, modseq, flags FROM messages WHERE mailbox_id = ? AND uid > ? ORDER BY uid LIMIT ?)`,
    )
    .raw();
  const slice = new TimeSlice();
  const sets = new Map<string, Flag[]>();
  let messages: MessageMeta[] = [];
  let yielded = false;
  let after = 0;
  let page = FIRST_PAGE;
  for (;;) {
    const started = performance.now();
    const [text, count, last] = stmt.get(mailboxId, after, page) as [string | null, number, number | null];
    // The page's row count is known before its lines are scanned: the first page's list is made
    // that long at once rather than grown by push (each growth copies it; for a SELECT of 1,000
    // messages the copies were ~15 KB of a ~155 KB command's garbage, bench/command-alloc.ts).
    messages = scanMetaLines(text, sets, messages, messages.length === 0 ? count : 0);
    const took = performance.now() - started;
    if (count < page || last === null) break;
    after = last;
    page = Math.max(MIN_PAGE, Math.min(MAX_PAGE, Math.round(took > 0 ? (page * DEFAULT_SLICE_MS) / 2 / took : page * 2)));
    if (slice.due) {
      await slice.yieldNow();
      yielded = true;
    }
  }
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]!.uid < messages[i - 1]!.uid) return { messages: messages.sort((a, b) => a.uid - b.uid), yielded };
  }
  return { messages, yielded };
}

/**
 * Parses "uid,modseq,flags" lines. Flags come last because a keyword may contain a comma (it is an
 * atom, RFC 3501 §9) but never a line break. Few distinct flag sets exist in a mailbox, so each is
 * one frozen array shared by every message that has it.
 */
function scanMetaLines(text: string | null, sets = new Map<string, Flag[]>(), messages: MessageMeta[] = [], expected = 0): MessageMeta[] {
  if (text === null) return messages;
  // `expected` (the lines' count, when the caller knows it and `messages` is empty): the list is
  // made that long up front and filled by index; trimmed should fewer lines come (not expected).
  const sized = expected > 0 && messages.length === 0;
  if (sized) messages = new Array<MessageMeta>(expected);
  let filled = 0;
  // The flag sets met so far, compared in place (length, then the characters) before any slice:
  // a slice per message was a fifth of what a SELECT of 1,000 messages allocated, and the garbage
  // of a SELECT lands as a young-generation GC in the commands after it (bench/RESULTS.md, issue 23).
  const known: Array<{ stored: string; flags: Flag[] }> = [...sets].map(([stored, flags]) => ({ stored, flags }));
  let i = 0;
  const n = text.length;
  while (i < n) {
    let uid = 0;
    let c: number;
    while ((c = text.charCodeAt(i++)) !== 44 /* , */) uid = uid * 10 + (c - 48);
    let modseq = 0;
    while ((c = text.charCodeAt(i++)) !== 44) modseq = modseq * 10 + (c - 48);
    let end = text.indexOf('\n', i);
    if (end < 0) end = n;
    let flags: Flag[] | undefined;
    const length = end - i;
    for (let k = 0; k < known.length && k < KNOWN_SETS_SCANNED; k++) {
      const set = known[k]!;
      if (set.stored.length === length && text.startsWith(set.stored, i)) {
        flags = set.flags;
        break;
      }
    }
    if (!flags) {
      const stored = text.slice(i, end);
      flags = sets.get(stored);
      if (!flags) {
        flags = Object.freeze(parseFlags(stored)) as Flag[];
        sets.set(stored, flags);
        known.push({ stored, flags });
      }
    }
    if (sized && filled < expected) messages[filled++] = { uid, flags, modseq };
    else {
      messages.push({ uid, flags, modseq });
      filled++;
    }
    i = end + 1;
  }
  if (sized && filled < expected) messages.length = filled;
  return messages;
}

/** Flag sets scanMetaLines compares in place before slicing; a mailbox has a handful in common use. */
const KNOWN_SETS_SCANNED = 16;
