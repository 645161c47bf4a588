/**
 * The SORT/THREAD keys of recently sorted mailboxes, in memory (UserMailbox.sortData).
 *
 * Kept by column and read lazily: a SORT (DATE) reads the sent dates of the mailbox and nothing
 * else, a THREAD the Message-IDs, References and subjects. Each column is one query over the
 * mailbox's messages joined to content_sort (the keys were computed at APPEND), read the first
 * time a command needs it; a 100,000-message mailbox holds only the columns its clients sort by.
 * The list handed out is one small object per message whose properties read those columns.
 *
 * When the mailbox changed, the cache is brought up to date cheaply: rows above the old UIDNEXT are
 * the new messages, and only when the count shows expunges is the list of UIDs read to drop them;
 * the loaded columns follow. Only this process writes the database (exclusive lock), so nothing
 * changes behind the cache. While a mailbox is unchanged the same array is returned, as the
 * contract asks, so the IMAP layer's caches of sorted orders and threads (keyed by it) stay valid
 * across commands and sessions. Bounded by the number of messages held (least recently used go).
 */
import type { SortableMessage, SortKeyNames } from '../types.js';
import type { MailboxRow, StoreContext } from './context.js';
import { decodeReferenceKeys } from './thread-keys.js';
import { DEFAULT_SLICE_MS, TimeSlice } from '../../util/time-slice.js';

export const DEFAULT_SORT_CACHE_MESSAGES = 500_000;

/** The table a column group is read from: content_sort's strings (s.), content_thread's integers (t.). */
const FROM = {
  m: 'FROM messages m',
  s: 'FROM messages m LEFT JOIN content_sort s ON s.content_id = m.content_id',
  t: 'FROM messages m LEFT JOIN content_thread t ON t.content_id = m.content_id',
} as const;

/** Columns read: the mailbox's UIDs (>= a first one, ascending) and, aligned with them, each column asked for. */
interface Loaded {
  uids: number[];
  columns: unknown[][];
}

/**
 * Reads `columns` (all from one FROM) for the messages of a mailbox with UID >= `fromUid`: one
 * plucked query per column, inside one transaction so that all see the same rows. A query per
 * column costs less than one returning rows: better-sqlite3 builds a JavaScript array for every
 * row of a raw() result, which for 100,000 rows cost more than SQLite's own work (measured: 5
 * columns of 100,000 rows in 240-360 ms of CPU as rows, about 130 ms as five plucked columns).
 */
function loadColumns(ctx: StoreContext, mailboxId: number, fromUid: number, from: string, columns: readonly string[]): Loaded {
  const where = 'WHERE m.mailbox_id = ? AND m.uid >= ? ORDER BY m.uid';
  return ctx.db.transaction(() => ({
    uids: ctx.sql.get(`SELECT m.uid ${FROM.m} ${where}`).pluck().all(mailboxId, fromUid) as number[],
    columns: columns.map((c) => ctx.sql.get(`SELECT ${c} ${from} ${where}`).pluck().all(mailboxId, fromUid)),
  }))();
}

/**
 * Rows of the first page of a read in pages; later pages are sized to take PAGE_AIM_MS each (at
 * most twice the last): a stretch is a slice and the page that ends it, so a page of half a slice
 * on a quiet machine made stretches of 5–7 ms under load.
 */
const PAGE_AIM_MS = DEFAULT_SLICE_MS / 4;
/** Small: the first page runs in the stretch the command began in, after its parsing and dispatch. */
const FIRST_PAGE = 1_024;
const MIN_PAGE = 256;
const MAX_PAGE = 65_536;

/**
 * loadColumns() for the UIDs in [fromUid, toUid), in pages of UIDs with the event loop let go
 * whenever a time slice is used up: the columns of 100,000 messages in one transaction were one
 * stretch of 40–80 ms of CPU (issue 13: no command may hold the loop for more than a few
 * milliseconds). Each page is one transaction, so its columns line up with its UIDs; pages may see
 * different moments of the mailbox. That is harmless for the keys — a UID names one content, whose
 * keys never change — but not for the set of UIDs: the caller (SortCache.listInSlices) makes that
 * one state by catching up from the mailbox row it began with.
 */
async function loadColumnsInPages(
  ctx: StoreContext,
  mailboxId: number,
  fromUid: number,
  toUid: number,
  from: string,
  columns: readonly string[],
): Promise<Loaded> {
  const where = 'WHERE m.mailbox_id = ? AND m.uid >= ? AND m.uid < ? ORDER BY m.uid LIMIT ?';
  const uidQuery = `SELECT m.uid ${FROM.m} ${where}`;
  const columnQueries = columns.map((c) => `SELECT ${c} ${from} ${where}`);
  const page = ctx.db.transaction((first: number, limit: number) => ({
    uids: ctx.sql.get(uidQuery).pluck().all(mailboxId, first, toUid, limit) as number[],
    columns: columnQueries.map((q) => ctx.sql.get(q).pluck().all(mailboxId, first, toUid, limit)),
  }));
  const slice = new TimeSlice();
  const out: Loaded = { uids: [], columns: columns.map(() => []) };
  let first = fromUid;
  let limit = FIRST_PAGE;
  for (;;) {
    const started = performance.now();
    const got = page(first, limit);
    for (let r = 0; r < got.uids.length; r++) out.uids.push(got.uids[r]!);
    got.columns.forEach((col, c) => {
      const into = out.columns[c]!;
      for (let r = 0; r < col.length; r++) into.push(col[r]);
    });
    const took = performance.now() - started;
    if (got.uids.length < limit) return out;
    first = got.uids[got.uids.length - 1]! + 1;
    // At most twice the last page: a small page's time says little about a large one's.
    limit = Math.max(MIN_PAGE, Math.min(MAX_PAGE, limit * 2, Math.round(took > 0 ? (limit * PAGE_AIM_MS) / took : limit * 2)));
    await slice.pause();
  }
}

/**
 * The messages of a mailbox with UID below `toUid`, counted in ranges of UIDs with yields between
 * time slices (a count(*) over 100,000 rows is one statement of a few milliseconds). Ranges of UIDs
 * rather than pages of rows (LIMIT in a subquery): a range is counted on the primary key directly,
 * so the pages together cost about what the one statement did (a LIMIT subquery cost three times
 * that). Each range is sized from the last one's time, at most twice as wide.
 */
async function countInPages(ctx: StoreContext, mailboxId: number, toUid: number, slice: TimeSlice): Promise<number> {
  const stmt = ctx.sql.get('SELECT count(*) FROM messages WHERE mailbox_id = ? AND uid >= ? AND uid < ?').pluck();
  let count = 0;
  let from = 0;
  let width = FIRST_PAGE;
  while (from < toUid) {
    const to = Math.min(toUid, from + width);
    const started = performance.now();
    count += stmt.get(mailboxId, from, to) as number;
    const took = performance.now() - started;
    from = to;
    width = Math.max(MIN_PAGE, Math.min(width * 2, Math.round(took > 0 ? (width * PAGE_AIM_MS) / took : width * 2)));
    await slice.pause();
  }
  return count;
}

/** Column groups, each read by one query: the SQL columns after m.uid, all from one table. */
const GROUPS = {
  sentDate: 's.sent_date',
  subject: 's.subject, s.reply',
  from: 's.from_key',
  to: 's.to_key',
  cc: 's.cc_key',
  displayFrom: 's.display_from',
  displayTo: 's.display_to',
  // THREAD without integer keys reads the subjects too (step 5): one pass for both rather than two.
  thread: 's.message_id, s.refs, s.subject, s.reply',
  // THREAD's integer keys (thread-keys.ts): a narrow row of numbers per message.
  threadKeys: 't.message_id, t.refs, t.subject, t.reply',
} as const;
type Group = keyof typeof GROUPS;

/** The group a key is read from, for the keys not read with the list itself (uid, dates, size). */
const GROUP_OF: Partial<Record<keyof SortableMessage, Group>> = {
  subject: 'subject',
  from: 'from',
  to: 'to',
  cc: 'cc',
  displayFrom: 'displayFrom',
  displayTo: 'displayTo',
  messageId: 'thread',
  references: 'thread',
  // replyOrForward is read from the integer keys' group first (SortRow.replyOrForward).
  replyOrForward: 'threadKeys',
  messageIdKey: 'threadKeys',
  referenceKeys: 'threadKeys',
  subjectKey: 'threadKeys',
};

const NO_REFERENCES: readonly string[] = Object.freeze([]);

/** The group an SQL column is read with. */
const groupOf = (name: string): Group => (Object.keys(GROUPS) as Group[]).find((g) => GROUPS[g].split(', ').includes(name))!;

type Pause = () => Promise<void>;

/** Entries copied, or rows made, between looks at the clock. */
const STEP = 8_192;

/** The entries of `xs` that `keep` marks (all when null), then `more`: in steps with `pause` between. */
async function pickInSlices<T>(xs: readonly T[], keep: Uint8Array | null, more: readonly T[], pause: Pause): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (!keep || keep[i] === 1) out.push(xs[i]!);
    if (i % STEP === STEP - 1) await pause();
  }
  for (const x of more) out.push(x);
  await pause();
  return out;
}

function sameUids(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** sameUids() letting the event loop run between time slices. */
async function sameUidsInSlices(a: readonly number[], b: readonly number[], slice: TimeSlice): Promise<boolean> {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return false;
    if (i % STEP === STEP - 1) await slice.pause();
  }
  return true;
}

/** One mailbox's keys by column, for the messages `uids` (ascending). */
class KeyTable {
  /** Loaded column values, by SQL column name, aligned with `uids`. */
  readonly values = new Map<string, unknown[]>();
  readonly rows: SortRow[];

  constructor(
    readonly uids: readonly number[],
    readonly internalDate: readonly number[],
    readonly size: readonly number[],
    /** Rows of (uid, ...columns) for the given SQL columns of one table, ascending by UID. */
    private readonly load: (from: string, columns: readonly string[]) => Loaded,
    /** As `load`, for UIDs below the second argument, in pages with yields between time slices. */
    private readonly loadInPages: (from: string, columns: readonly string[], toUid: number) => Promise<Loaded>,
    /** Leave the rows to makeRows() (in steps) rather than making them all here. */
    rowsLater = false,
  ) {
    this.rows = rowsLater ? [] : uids.map((_, i) => new SortRow(this, i));
  }

  /** Makes the rows of a table made with `rowsLater`, letting the event loop run between steps. */
  async makeRows(pause: Pause): Promise<void> {
    for (let i = this.rows.length; i < this.uids.length; i++) {
      this.rows.push(new SortRow(this, i));
      if (i % STEP === STEP - 1) await pause();
    }
  }

  /** The values of one SQL column of `group` (loading the group the first time). */
  column<T>(group: Group, name: string): T[] {
    let col = this.values.get(name);
    if (!col) {
      this.fill(group);
      col = this.values.get(name)!;
    }
    return col as T[];
  }

  private fill(group: Group): void {
    const names = this.missing(group);
    this.merge(names, this.load(FROM[names[0]!.startsWith('t.') ? 't' : 's'], names));
  }

  /** The columns of the group not read yet (THREAD's group shares the subjects with SORT's). */
  private missing(group: Group): string[] {
    return GROUPS[group].split(', ').filter((n) => !this.values.has(n));
  }

  /** As fill(), in pages with yields between time slices (loadColumnsInPages); nothing if loaded. */
  async prefetch(group: Group): Promise<void> {
    const names = this.missing(group);
    if (names.length === 0 || this.uids.length === 0) return;
    const loaded = await this.loadInPages(FROM[names[0]!.startsWith('t.') ? 't' : 's'], names, this.uids[this.uids.length - 1]! + 1);
    // The UIDs compared in steps (100,000 of them were a stretch of their own with the last page).
    const slice = new TimeSlice();
    const same = await sameUidsInSlices(loaded.uids, this.uids, slice);
    // A caller that read a column meanwhile (fill) keeps it: it may hold decoded references.
    const fresh = names.map((n, c) => [n, c] as const).filter(([n]) => !this.values.has(n));
    this.merge(
      fresh.map(([n]) => n),
      { uids: loaded.uids, columns: fresh.map(([, c]) => loaded.columns[c]!) },
      same,
    );
  }

  /**
   * Sets the columns `names` from `loaded`, matched by UID: `loaded` may hold messages added since
   * this table was made (left out) and lack messages gone since (their value stays empty; such a
   * table is stale, and the cache replaces it before handing it out again).
   */
  private merge(names: readonly string[], loaded: Loaded, same = sameUids(loaded.uids, this.uids)): void {
    if (same) {
      // The usual case (the mailbox is as when this table was made): the columns as read.
      names.forEach((n, c) => this.values.set(n, loaded.columns[c]!));
      return;
    }
    // Rows are matched by UID: a message gone since this table was made keeps the empty value.
    const cols = names.map(() => new Array<unknown>(this.uids.length).fill(null));
    let i = 0;
    for (let r = 0; r < loaded.uids.length; r++) {
      const uid = loaded.uids[r]!;
      while (i < this.uids.length && this.uids[i]! < uid) i++;
      if (this.uids[i] !== uid) continue;
      for (let c = 0; c < names.length; c++) cols[c]![i] = loaded.columns[c]![r];
    }
    names.forEach((n, c) => this.values.set(n, cols[c]!));
  }

  /**
   * next() letting the event loop run between steps (`pause`): at 100,000 messages carrying every
   * column over and making a row per message was one stretch of its own (issue 13). The added
   * messages' columns are read in pages first. The same table as next() makes.
   */
  async nextInSlices(keep: Uint8Array | null, added: KeyTable, pause: Pause): Promise<KeyTable> {
    const groups = new Set([...this.values.keys()].map(groupOf));
    for (const group of groups) await added.prefetch(group);
    const uids = await pickInSlices(this.uids, keep, added.uids, pause);
    const internalDate = await pickInSlices(this.internalDate, keep, added.internalDate, pause);
    const size = await pickInSlices(this.size, keep, added.size, pause);
    const table = new KeyTable(uids, internalDate, size, this.load, this.loadInPages, true);
    for (const [name, col] of this.values) table.values.set(name, await pickInSlices(col, keep, added.column(groupOf(name), name), pause));
    await table.makeRows(pause);
    return table;
  }

  /** A new table for the mailbox now: the kept messages, then `added`, with the loaded columns carried over. */
  next(keep: Uint8Array | null, added: KeyTable): KeyTable {
    const pick = <T>(xs: readonly T[]): T[] => (keep ? xs.filter((_, i) => keep[i] === 1) : [...xs]);
    const table = new KeyTable(
      [...pick(this.uids), ...added.uids],
      [...pick(this.internalDate), ...added.internalDate],
      [...pick(this.size), ...added.size],
      this.load,
      this.loadInPages,
    );
    for (const [name, col] of this.values) table.values.set(name, [...pick(col), ...added.column(groupOf(name), name)]);
    return table;
  }
}

/** One message's keys, read from its table's columns. */
class SortRow implements SortableMessage {
  constructor(
    private readonly t: KeyTable,
    private readonly i: number,
  ) {}
  get uid(): number {
    return this.t.uids[this.i]!;
  }
  get internalDate(): number {
    return this.t.internalDate[this.i]!;
  }
  get size(): number {
    return this.t.size[this.i]!;
  }
  get sentDate(): number | null {
    return this.t.column<number | null>('sentDate', 's.sent_date')[this.i]!;
  }
  get subject(): string {
    return this.t.column<string | null>('subject', 's.subject')[this.i] ?? '';
  }
  get replyOrForward(): boolean {
    // THREAD with integer keys has the flag in its own group: no subject strings are read for it.
    const keyed = this.t.values.get('t.reply') as Array<number | null> | undefined;
    if (keyed && keyed[this.i] !== null) return keyed[this.i] === 1;
    return this.t.column<number | null>('subject', 's.reply')[this.i] === 1;
  }
  get from(): string {
    return this.t.column<string | null>('from', 's.from_key')[this.i] ?? '';
  }
  get to(): string {
    return this.t.column<string | null>('to', 's.to_key')[this.i] ?? '';
  }
  get cc(): string {
    return this.t.column<string | null>('cc', 's.cc_key')[this.i] ?? '';
  }
  get displayFrom(): string {
    return this.t.column<string | null>('displayFrom', 's.display_from')[this.i] ?? '';
  }
  get displayTo(): string {
    return this.t.column<string | null>('displayTo', 's.display_to')[this.i] ?? '';
  }
  get messageId(): string | null {
    return this.t.column<string | null>('thread', 's.message_id')[this.i]!;
  }
  get references(): string[] {
    const refs = this.t.column<string | string[] | null>('thread', 's.refs');
    let v = refs[this.i];
    // Split on first use and kept split: THREAD reads every message's references.
    if (typeof v === 'string') refs[this.i] = v = v === '' ? (NO_REFERENCES as string[]) : v.split(' ');
    return (v ?? NO_REFERENCES) as string[];
  }
  // The integer keys: undefined for a message stored without them (THREAD then reads the strings).
  get messageIdKey(): number | undefined {
    return this.t.column<number | null>('threadKeys', 't.message_id')[this.i] ?? undefined;
  }
  get subjectKey(): number | undefined {
    // NULL exactly when the content has no integer keys (thread-keys.ts), like message_id.
    return this.t.column<number | null>('threadKeys', 't.subject')[this.i] ?? undefined;
  }
  get referenceKeys(): readonly number[] | undefined {
    if (this.messageIdKey === undefined) return undefined;
    const refs = this.t.column<Buffer | readonly number[] | null>('threadKeys', 't.refs');
    let v = refs[this.i] ?? null;
    // Decoded on first use and kept decoded, as the string references are split.
    if (v === null || Buffer.isBuffer(v)) refs[this.i] = v = decodeReferenceKeys(v);
    return v;
  }
}

interface Entry {
  highestModseq: number;
  uidNext: number;
  table: KeyTable;
}

export class SortCache {
  private readonly entries = new Map<number, Entry>();
  private held = 0;

  constructor(private readonly maxMessages = DEFAULT_SORT_CACHE_MESSAGES) {}

  list(ctx: StoreContext, box: MailboxRow): readonly SortableMessage[] {
    const entry = this.entries.get(box.id);
    if (entry) {
      this.entries.delete(box.id);
      this.entries.set(box.id, entry); // most recently used
      if (entry.highestModseq === box.highest_modseq) return entry.table.rows;
      const fresh = this.refresh(ctx, box, entry);
      this.replace(box.id, entry, fresh);
      return fresh.table.rows;
    }
    const created: Entry = { highestModseq: box.highest_modseq, uidNext: box.uid_next, table: this.read(ctx, box.id, 0) };
    this.replace(box.id, undefined, created);
    return created.table.rows;
  }

  /**
   * As list(), for a SORT or THREAD about to read `keys`: what is not cached yet is read in pages
   * with the event loop let go between time slices (loadColumnsInPages), then the list is brought
   * to the mailbox as it is after the last page. A new list is read as of `box` — the UIDs below
   * its UIDNEXT — and entered as if cached then: list() then catches it up exactly as it catches
   * up a cached list (new rows above the old UIDNEXT; when the count shows expunges, those dropped
   * by the list of UIDs present). The answer is therefore the mailbox of one moment, `current()`,
   * whatever landed between the pages: a message present now was present at every page (UIDs are
   * never reused), so the paged list holds every present UID below the old UIDNEXT, and the count
   * tells whether it holds more. Columns read later, also in pages, are matched by UID; a message
   * expunged meanwhile changed the mailbox, so list() drops it.
   */
  async listInSlices(ctx: StoreContext, box: MailboxRow, current: () => MailboxRow, keys: SortKeyNames): Promise<readonly SortableMessage[]> {
    let entry = this.entries.get(box.id);
    if (!entry) {
      const table = await this.readInPages(ctx, box.id, box.uid_next);
      const now = current();
      if (now.uid_validity !== box.uid_validity) return this.list(ctx, now);
      entry = { highestModseq: box.highest_modseq, uidNext: box.uid_next, table };
      this.replace(box.id, this.entries.get(box.id), entry);
    } else if (entry.highestModseq !== box.highest_modseq) {
      // Caught up in pages as of `box` (refreshInSlices); list() below then takes it to now.
      const old = entry;
      const fresh = await this.refreshInSlices(ctx, box, old);
      const now = current();
      if (now.uid_validity !== box.uid_validity) return this.list(ctx, now);
      // Another caller may have caught up meanwhile: its later state is kept.
      const cached = this.entries.get(box.id);
      if (cached === old || cached === undefined) this.replace(box.id, cached, (entry = fresh));
      else entry = cached;
    }
    const groups = new Set(keys.map((k) => GROUP_OF[k]).filter((g): g is Group => g !== undefined));
    for (const group of groups) await entry.table.prefetch(group);
    return this.list(ctx, current());
  }

  /** read() of the UIDs in [`fromUid`, `toUid`), in pages with yields between time slices. */
  private async readInPages(ctx: StoreContext, mailboxId: number, toUid: number, fromUid = 0): Promise<KeyTable> {
    const { uids, columns } = await loadColumnsInPages(ctx, mailboxId, fromUid, toUid, FROM.s, ['m.internal_date', 'm.size', GROUPS.sentDate]);
    const { load, loadInPages } = this.loaders(ctx, mailboxId, fromUid);
    const table = new KeyTable(uids, columns[0] as number[], columns[1] as number[], load, loadInPages, true);
    table.values.set(GROUPS.sentDate, columns[2]!);
    const slice = new TimeSlice();
    await table.makeRows(() => slice.pause());
    return table;
  }

  /**
   * refresh() in pages with yields between time slices: after an expunge it read the UIDs of the
   * whole mailbox in one statement and carried every column over in one go (issue 13). The
   * mailbox may change between the pages; the entry is marked as of `box` all the same, which is
   * what listInSlices() relies on: every message present now below `box`'s UIDNEXT was present at
   * every page (UIDs are never reused) and so is in the table, a message expunged meanwhile may be
   * too, but then the mailbox row moved on and list() catches the table up as it would any other.
   */
  private async refreshInSlices(ctx: StoreContext, box: MailboxRow, entry: Entry): Promise<Entry> {
    const slice = new TimeSlice();
    const pause = (): Promise<void> => slice.pause();
    const old = entry.table;
    const below = await countInPages(ctx, box.id, entry.uidNext, slice);
    if (entry.uidNext === box.uid_next && old.uids.length === below) return { ...entry, highestModseq: box.highest_modseq };
    const added = box.uid_next > entry.uidNext ? await this.readInPages(ctx, box.id, box.uid_next, entry.uidNext) : this.read(ctx, box.id, box.uid_next);
    let keep: Uint8Array | null = null;
    if (old.uids.length !== below) {
      // The UIDs still there, in pages; both lists ascending, so one walk marks the kept.
      const present = (await loadColumnsInPages(ctx, box.id, 0, entry.uidNext, FROM.m, [])).uids;
      keep = new Uint8Array(old.uids.length);
      let j = 0;
      for (let i = 0; i < old.uids.length; i++) {
        const uid = old.uids[i]!;
        while (j < present.length && present[j]! < uid) j++;
        if (present[j] === uid) keep[i] = 1;
        if (i % STEP === STEP - 1) await pause();
      }
    }
    return { highestModseq: box.highest_modseq, uidNext: box.uid_next, table: await old.nextInSlices(keep, added, pause) };
  }

  /** The column readers of a table holding the mailbox's UIDs >= `fromUid`. */
  private loaders(ctx: StoreContext, mailboxId: number, fromUid: number) {
    return {
      load: (from: string, columns: readonly string[]): Loaded => loadColumns(ctx, mailboxId, fromUid, from, columns),
      loadInPages: (from: string, columns: readonly string[], toUid: number): Promise<Loaded> =>
        loadColumnsInPages(ctx, mailboxId, fromUid, toUid, from, columns),
    };
  }

  /**
   * The messages of the mailbox with UID >= `fromUid`, with their sent dates (SORT DATE, and every
   * THREAD, need them; reading them in the same pass costs less than a second one). Other columns
   * are read later, when a command needs them.
   */
  private read(ctx: StoreContext, mailboxId: number, fromUid: number): KeyTable {
    const { load, loadInPages } = this.loaders(ctx, mailboxId, fromUid);
    // (SQLite leaves the join out of the queries that read only columns of messages.)
    const { uids, columns } = loadColumns(ctx, mailboxId, fromUid, FROM.s, ['m.internal_date', 'm.size', GROUPS.sentDate]);
    const table = new KeyTable(uids, columns[0] as number[], columns[1] as number[], load, loadInPages);
    table.values.set(GROUPS.sentDate, columns[2]!);
    return table;
  }

  /** The entry brought up to `box`: flag changes keep the list; appends and expunges make a new one. */
  private refresh(ctx: StoreContext, box: MailboxRow, entry: Entry): Entry {
    const count = ctx.sql.get('SELECT count(*) FROM messages WHERE mailbox_id = ?').pluck().get(box.id) as number;
    const old = entry.table;
    if (entry.uidNext === box.uid_next && old.uids.length === count) return { ...entry, highestModseq: box.highest_modseq };
    const added = this.read(ctx, box.id, entry.uidNext);
    let keep: Uint8Array | null = null;
    if (old.uids.length + added.uids.length !== count) {
      const present = new Set(ctx.sql.get('SELECT uid FROM messages WHERE mailbox_id = ? AND uid < ?').pluck().all(box.id, entry.uidNext) as number[]);
      keep = new Uint8Array(old.uids.length);
      old.uids.forEach((uid, i) => (keep![i] = present.has(uid) ? 1 : 0));
    }
    return { highestModseq: box.highest_modseq, uidNext: box.uid_next, table: old.next(keep, added) };
  }

  private replace(id: number, old: Entry | undefined, next: Entry): void {
    this.held += next.table.uids.length - (old?.table.uids.length ?? 0);
    this.entries.set(id, next);
    for (const [key, e] of this.entries) {
      if (this.held <= this.maxMessages || key === id) break;
      this.entries.delete(key);
      this.held -= e.table.uids.length;
    }
  }
}
