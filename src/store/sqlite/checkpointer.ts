/**
 * WAL checkpoints with their fsyncs off the event loop.
 *
 * A checkpoint copies the WAL's pages into mail.sqlite. Left to SQLite (wal_autocheckpoint), it runs
 * inside whichever COMMIT crosses 1,000 pages and, with synchronous=NORMAL, fsyncs the WAL before
 * copying and the database after — synchronously, on the event loop, where every session waits
 * (100–190 ms under the bench's load; the copying itself is page-cache work, a few milliseconds).
 *
 * Here, once a second while anything was written — at the first pause in writes after that (a look
 * every CHECK_MS that finds no WAL sync since the previous one), or, when writes never pause, one
 * `maxDeferMs` later — or sooner, once the database has grown by `growthPages` since the last
 * checkpoint (below). Why wait for a pause: a write arriving during steps 2–4 waits for the copy and
 * the database's fdatasync, and under one client's stream of APPENDs that made the checkpoint's
 * APPEND the slowest of its second (bench:append with --detail and strace, issue 23); in a pause
 * nobody waits. The steps:
 * 1. WalSync makes every committed frame durable — the order SQLite's own checkpoint keeps: no page
 *    reaches the database file before its WAL frame is on disk. Writes go on meanwhile; if one
 *    committed after the sync was asked for (total_changes() moved), its frames are not covered,
 *    so the sync is asked for again — after a few tries with writes held (below) instead;
 * 2. in the same synchronous step as the check that nothing committed since that sync, the
 *    store's writes are held back (group commit queues them; mailbox-tree writes wait in
 *    `GroupCommit.whenOpen()`); reads go on;
 * 3. `PRAGMA wal_checkpoint(PASSIVE)` runs with synchronous=OFF for its duration, so it only copies;
 * 4. the database file is fdatasynced off the loop (on the store's sync thread, sync-thread.ts);
 * 5. if the copy took every frame, the WAL is started over here, still with writes held (restartWal
 *    below), rather than by the next write — where SQLite, at synchronous=NORMAL, fsyncs the new
 *    WAL header synchronously on the event loop, 0.3–5 ms once a second landing on whichever
 *    command wrote first (bench/RESULTS.md, issue 23). Writes go on right after that write; the new
 *    header's fdatasync runs beside theirs, and each of their own syncs covers it too;
 * 6. writes go on. Without step 5, the first of them would start the WAL over from its first frame
 *    (https://sqlite.org/wal.html, "Checkpointing") — safe only because step 4 came first: the
 *    frames it overwrites are durable in the database file by then. That overwrite is why writes
 *    are held from the copy to the end of step 4: the kernel may write the new WAL header back at
 *    any moment, and a power cut would then leave neither the old frames nor their pages. (A
 *    PASSIVE checkpoint never waits for a writer, but with one connection nothing else keeps the
 *    next write from starting the WAL over.) Holding writes for step 1 too is not needed — a
 *    frame written during it is simply not copied until a later sync covers it — and would make a
 *    delivery that commits meanwhile wait for a sync it does not need.
 *
 * Why sooner under a fast stream of new bodies: the copy in step 3 is synchronous on the event loop,
 * and what it copies is mostly the pages added since the last checkpoint (the rest are the same
 * few hot pages — mailbox rows, index leaves — rewritten by every commit, copied once each). At
 * ~700 10 KB deliveries a second a once-a-second copy took ~16 ms, and the hold ~23 ms with the
 * database's fdatasync, landing on one delivery (bench/RESULTS.md). Checked every CHECK_MS, the
 * growth (`PRAGMA page_count`, which counts pages still in the WAL) starts a checkpoint as soon as
 * it passes `growthPages`, which bounds each copy — at the price of more fdatasyncs of the
 * database file, each writing fewer pages. Slow writers are not affected: below the growth bound,
 * checkpoints stay once per `intervalMs`.
 *
 * Why not a second connection on a worker thread: that needs locking_mode=NORMAL, and the shared-
 * memory locks it takes around every read transaction (about 16 fcntl calls per IMAP command,
 * measured with strace) cost about 10 % of throughput under the mixed load (bench/RESULTS.md).
 *
 * Should a checkpoint fail, SQLite's own autocheckpoint is switched back on: checkpoints return to
 * the loop, but the WAL never grows without bound. A full disk is the exception: the checkpoint is
 * tried again each tick until space is freed (the WAL grows meanwhile only if writes succeed).
 */
import type { Database, Statement } from 'better-sqlite3';
import { closeSync, fdatasync, openSync } from 'node:fs';
import type { GroupCommit } from './group-commit.js';
import type { SyncThread } from './sync-thread.js';
import type { FileSyncer, WalSync } from './wal-sync.js';

export interface CheckpointerOptions {
  /** How often to look for new writes to checkpoint (ms). */
  intervalMs?: number;
  /**
   * Checkpoint sooner than `intervalMs` once the database has grown by this many pages since the
   * last checkpoint (default 2,048, 8 MiB of 4 KiB pages): each copy on the event loop stays short.
   */
  growthPages?: number;
  /**
   * How much longer than `intervalMs` a due checkpoint may wait for a pause in writes (a look, every
   * CHECK_MS, that finds no WAL sync since the last one), so that its hold meets no write waiting
   * (default: `intervalMs`; 0: never wait). Under writes that never pause it runs at the latest then.
   */
  maxDeferMs?: number;
  /** Replaces the fdatasync of the database file (tests of the order only). */
  databaseSyncer?: FileSyncer;
  /** Where the database file's fdatasync runs (default: libuv's thread pool). */
  thread?: SyncThread;
  /**
   * The store's descriptor of the database file, kept open as long as the connection (store.ts):
   * syncing through a descriptor of our own would, once closed, drop SQLite's POSIX locks.
   */
  databaseFd?: number;
  onError?: (err: unknown) => void;
  /**
   * A failure that may go away (a full disk): told here, and the checkpoint is tried again at the
   * next tick instead of handing checkpoints back to SQLite for good.
   */
  onTransientError?: (err: unknown) => void;
  /**
   * Other processes write to the same database (`--sqlite-workers own-store`, context.ts): the
   * hold of step 2 cannot stop their writes, and any of them may start the WAL over once a
   * checkpoint copied it all. So the checkpoint is SQLite's own PASSIVE one at synchronous=NORMAL,
   * which fdatasyncs the WAL before the copy and the database file after it, both before it marks
   * the frames copied (https://sqlite.org/wal.html) — on the event loop of the process that
   * checkpoints, the primary, where no IMAP session runs. And it runs whenever any process wrote
   * (PRAGMA data_version moved) or this one did, once per `intervalMs`.
   */
  shared?: boolean;
}

/**
 * WAL syncs tried with writes going on before the checkpoint holds them for one more: one session's
 * commit may land in the first sync's window, rarely in three in a row.
 */
const UNHELD_SYNC_TRIES = 3;

/** How often the growth since the last checkpoint is looked at (ms), while writes happen. */
const CHECK_MS = 100;

/**
 * 8 MiB of 4 KiB pages: a copy of ~10 ms at most on the event loop. Not lower: under load the
 * hold is mostly the database's fdatasync, whatever the copy's size, so more checkpoints meant more
 * deliveries meeting one (bench/RESULTS.md, 512 pages at load 11–18).
 */
const DEFAULT_GROWTH_PAGES = 2_048;

/** Failures a later checkpoint may not meet: the disk was full (the WAL is intact meanwhile). */
function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

export class Checkpointer {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private seenWrites = 0;
  private failed = false;
  private fd: number | undefined;
  private changes: Statement | undefined;
  private pageCountStatement: Statement | undefined;
  /** When the last checkpoint started (performance.now()), and the database's pages after its copy. */
  private lastStart = performance.now();
  private pagesAfterCopy: number | undefined;
  /** Completed checkpoints (diagnostics and tests). */
  checkpoints = 0;

  constructor(
    private readonly db: Database,
    /** mail.sqlite */
    private readonly path: string,
    private readonly durable: WalSync,
    private readonly group: GroupCommit,
    private readonly options: CheckpointerOptions = {},
  ) {}

  start(): void {
    if (this.options.shared) return this.startShared();
    const interval = this.options.intervalMs ?? 1_000;
    const maxDefer = this.options.maxDeferMs ?? interval;
    const growth = this.options.growthPages ?? DEFAULT_GROWTH_PAGES;
    this.pagesAfterCopy = this.pageCount();
    let syncsAtLastLook = this.durable.syncs;
    this.timer = setInterval(
      () => {
        // No WAL sync since the last look: writes paused, and a hold now meets nobody waiting.
        const paused = this.durable.syncs === syncsAtLastLook;
        syncsAtLastLook = this.durable.syncs;
        if (this.inFlight || this.failed || this.durable.syncs === this.seenWrites) return;
        const since = performance.now() - this.lastStart;
        const due = since >= interval && (paused || since >= interval + maxDefer);
        if (!due && this.pageCount() - (this.pagesAfterCopy ?? 0) < growth) return;
        void this.checkpoint();
      },
      Math.min(interval, CHECK_MS),
    );
    this.timer.unref();
  }

  /** The timer of a shared database (CheckpointerOptions.shared): a look once per interval. */
  private startShared(): void {
    const interval = this.options.intervalMs ?? 1_000;
    this.dataVersionStatement ??= this.db.prepare('PRAGMA data_version').pluck();
    let seenVersion = this.dataVersionStatement.get() as number;
    this.timer = setInterval(() => {
      const version = this.dataVersionStatement!.get() as number;
      if (this.inFlight || this.failed || (version === seenVersion && this.durable.syncs === this.seenWrites)) return;
      seenVersion = version;
      void this.checkpoint();
    }, interval);
    this.timer.unref();
  }

  private dataVersionStatement: Statement | undefined;

  /** The last shared checkpoint left more than `growthPages` frames in the WAL: the next one restarts it. */
  private restartDue = false;

  /**
   * A checkpoint of a shared database: SQLite's own, with its fsyncs (CheckpointerOptions.shared).
   * PASSIVE never waits for anyone, but under other processes' steady writes the WAL is never all
   * copied at the moment a write begins — the only moment SQLite starts it over — and it would grow
   * without end. So once a WAL holds more than `growthPages` frames, the next checkpoint is a
   * RESTART: it takes the write lock (other processes' writes retry meanwhile, off their loops),
   * copies everything and has the next write start the WAL over. With no busy wait it takes the
   * lock only if it is free at that instant, and otherwise copies what it can as PASSIVE does.
   */
  private runShared(): void {
    this.seenWrites = this.durable.syncs;
    try {
      const mode = this.restartDue ? 'RESTART' : 'PASSIVE';
      const [row] = this.db.pragma(`wal_checkpoint(${mode})`) as Array<{ busy: number; log: number; checkpointed: number }>;
      this.restartDue = (row?.log ?? 0) > (this.options.growthPages ?? DEFAULT_GROWTH_PAGES);
      this.pagesAfterCopy = this.pageCount();
      if ((row?.checkpointed ?? 0) > 0) this.checkpoints++;
    } catch (err) {
      if (isTransient(err)) {
        this.seenWrites = -1;
        this.options.onTransientError?.(err);
        return;
      }
      this.failed = true;
      this.options.onError?.(err);
      this.db.pragma('wal_autocheckpoint = 1000');
    }
  }

  /** Runs one checkpoint now (after the one already running, if any). */
  async checkpoint(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failed) return;
    this.inFlight = (this.options.shared ? Promise.resolve().then(() => this.runShared()) : this.run()).finally(() => {
      this.inFlight = undefined;
    });
    await this.inFlight;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight) await this.inFlight;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private async run(): Promise<void> {
    let release: (() => void) | undefined;
    this.lastStart = performance.now();
    try {
      // Steps 1 and 2. The last tries run with writes held already, so a steady stream of commits
      // cannot keep a checkpoint from ever running.
      for (let tries = 1; ; tries++) {
        if (tries > UNHELD_SYNC_TRIES) release ??= this.group.hold();
        const before = this.totalChanges();
        await this.durable.sync();
        // A transaction runs synchronously (better-sqlite3), so an unchanged count means no
        // commit since the sync was asked for. Every write is an INSERT, UPDATE or DELETE once
        // the store is open (no DDL runs later), and each of those moves the count.
        if (this.totalChanges() === before) break;
      }
      // No await from the check above to the copy: nothing can commit in between (not even a
      // write whose whenOpen() resolved before the hold), so every frame copied is durable.
      release ??= this.group.hold();
      this.seenWrites = this.durable.syncs;
      const { copied, complete } = this.copy();
      this.pagesAfterCopy = this.pageCount();
      if (copied > 0) await this.syncDatabase();
      if (complete && copied > 0) {
        this.restartWal();
        // Writes go on before the new header is synced: a write's own WAL sync, asked for after its
        // COMMIT, covers the header written before it, so nothing is acknowledged before both are
        // on disk (restartWal). The hold used to last until this sync finished too: an APPEND
        // arriving during a checkpoint waited for two WAL fdatasyncs in a row (issue 23).
        release();
        const before = this.durable.syncs;
        await this.durable.sync();
        // That sync was the checkpointer's own: an idle store is not checkpointed again for it.
        if (this.durable.syncs === before + 1) this.seenWrites = this.durable.syncs;
      }
      this.checkpoints++;
    } catch (err) {
      if (isTransient(err)) {
        // Part of the WAL may have been copied: harmless, its frames still take precedence, and
        // the next checkpoint copies them again. Make sure the next tick due tries — once an
        // interval, as before: the growth bound does not make a full disk tried ten times a second.
        this.seenWrites = -1;
        this.pagesAfterCopy = Number.POSITIVE_INFINITY;
        this.options.onTransientError?.(err);
        return;
      }
      this.failed = true;
      this.options.onError?.(err);
      this.db.pragma('wal_autocheckpoint = 1000');
    } finally {
      release?.();
    }
  }

  /** Rows changed by this connection so far (SQLite's total_changes()). */
  private totalChanges(): number {
    this.changes ??= this.db.prepare('SELECT total_changes()').pluck();
    return this.changes.get() as number;
  }

  /** The database's size in pages, counting those still in the WAL. */
  private pageCount(): number {
    this.pageCountStatement ??= this.db.prepare('PRAGMA page_count').pluck();
    return this.pageCountStatement.get() as number;
  }

  /** Copies the WAL into the database without fsyncs: the frames copied so far, and whether that is all of them. */
  private copy(): { copied: number; complete: boolean } {
    this.db.pragma('synchronous = OFF');
    try {
      const [row] = this.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      const copied = row?.checkpointed ?? 0;
      return { copied, complete: row !== undefined && row.busy === 0 && row.log === copied };
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  /**
   * Starts the WAL over now, while writes are held and the database file is synced: one write of
   * the checkpointer's own row in `meta` at synchronous=OFF — so SQLite writes the new WAL header
   * and the row's frame without its header fsync (on the event loop) — and then (run()) a WAL
   * fdatasync on the sync thread. Writes go on meanwhile: SQLite syncs the header first so that no
   * frame after it can be durable without it, and here no write after it is acknowledged before a
   * WAL fdatasync that started after its COMMIT, which makes the header durable too. Should power
   * fail before such a sync, either header is harmless: with the old one, the new frames do not
   * match its salt and recovery ignores them (none was acknowledged as durable; a flag change's
   * 'soon' promise allows the loss); with the new one, recovery keeps the frames that made it to
   * disk up to the last whole commit, as after any crash. Every page before the restart is in the
   * synced database file either way.
   */
  private restartWal(): void {
    this.db.pragma('synchronous = OFF');
    try {
      this.restartStatement ??= this.db.prepare("INSERT INTO meta (key, value) VALUES ('wal_restarts', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1");
      this.restartStatement.run();
    } finally {
      this.db.pragma('synchronous = NORMAL');
    }
  }

  private restartStatement: Statement | undefined;

  private syncDatabase(): Promise<void> {
    if (this.options.databaseSyncer) return this.options.databaseSyncer(this.path);
    // mail.sqlite is never replaced while open, so one descriptor serves every checkpoint.
    const fd = this.options.databaseFd ?? (this.fd ??= openSync(this.path, 'r'));
    if (this.options.thread) return this.options.thread.fdatasync(fd);
    return new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }
}
