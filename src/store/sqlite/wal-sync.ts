/**
 * The durability barrier: fdatasync of the WAL file, run on the store's own sync thread
 * (sync-thread.ts) instead of the event loop — and not on libuv's thread pool either, where it
 * would queue behind password hashes.
 *
 * The connection runs with synchronous=NORMAL, so a COMMIT only write()s its WAL frames: from that
 * moment the change survives kill -9 (the bytes are in the kernel), but not yet a power loss. Every
 * write path then awaits `sync()` before it resolves — and so before a client hears OK. fsync works
 * on the file, not the descriptor, so syncing our own descriptor of `mail.sqlite-wal` makes every
 * frame SQLite wrote before the call durable; once they are, recovery replays the WAL up to the
 * last commit frame (https://sqlite.org/wal.html, "Durability"). Checkpoints and WAL resets keep
 * their own fsyncs inside SQLite.
 *
 * Why not synchronous=FULL: it fsyncs inside COMMIT, synchronously on the event loop, and every
 * other session waits those milliseconds (bench/RESULTS.md measured it as the top of the profile).
 *
 * Syncs coalesce: a sync covers only what was written before it started, so a caller that arrives
 * while one runs needs another. Up to MAX_IN_FLIGHT run at once — a caller does not wait for a sync
 * that cannot help it to finish first (under load most of a sync's time is the trip through the
 * thread pool and back to a busy event loop, not the disk) — and beyond that callers queue, and
 * one sync serves everyone who queued meanwhile: group commit for the fsync.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';
import type { SyncThread } from './sync-thread.js';

/** Makes the file at `path` durable. Injected by tests; the default is open + fdatasync. */
export type FileSyncer = (path: string) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  /** Nobody's acknowledgement waits for it (syncSoon): later writes need not queue behind it. */
  background?: true;
}

/** Whether a client's acknowledgement waits on one of these. */
const holdsAcks = (waiters: Waiter[]): boolean => waiters.some((w) => !w.background);

/** One started sync and the callers it answers, oldest first in `running`. */
interface Running {
  batch: Waiter[];
  settled: boolean;
}

/** Syncs running at once (each on its own thread-pool thread). */
const MAX_IN_FLIGHT = 2;

/**
 * How long the sync of a write nobody waits for (a flag change: syncSoon) may wait for a write that
 * does wait, whose sync then covers both (ms; SqliteStoreOptions.flagSyncDelayMs). A client's
 * STORE is mostly followed within a millisecond by its next command — the EXPUNGE after a STORE
 * \Deleted, an APPEND — and a flag change's sync started at once made that write's own sync run
 * beside it on the same file, where the two serialise in the kernel: the EXPUNGE waited for about
 * two fdatasyncs, and every STORE cost a trip to the sync thread and back (bench/RESULTS.md, issue
 * 23). Small, so that what a power cut may take stays "the last few milliseconds" (docs/sqlite.md).
 */
export const DEFAULT_SOON_SYNC_DELAY_MS = 2;

export class WalSync {
  private inFlight = 0;
  private waiting: Waiter[] = [];
  private running: Running[] = [];
  private fd: number | undefined;
  private fdIno = -1;
  /** Descriptors replaced while a sync may still be using them; closed once none runs. */
  private retired: number[] = [];
  /** Completed syncs (diagnostics and tests). */
  syncs = 0;

  /** A syncSoon() waiting for its delay to run out (or for a sync() to take it along). */
  private soonTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly walPath: string,
    private readonly syncer?: FileSyncer,
    /** Where the fdatasync runs; without one, on libuv's thread pool. */
    private readonly thread?: SyncThread,
    /** syncSoon()'s delay (ms, see DEFAULT_SOON_SYNC_DELAY_MS); 0 (the default here): at once. */
    private readonly soonDelayMs = 0,
  ) {}

  /** Resolves once everything committed before this call is on stable storage. */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (this.inFlight < MAX_IN_FLIGHT) this.startNext();
    });
  }

  /**
   * Resolves once every sync already asked for has settled, in the same order as their callers,
   * without asking for one itself: for a write whose own frames need no sync before its
   * acknowledgement (a flag change, or a transaction that changed nothing), but which must not be
   * announced before an earlier write still waiting for its sync. A failed earlier sync fails
   * the earlier writes, not this one.
   */
  afterPending(): Promise<void> {
    const waiter: Waiter = { resolve: () => {}, reject: () => waiter.resolve() };
    const acknowledged = new Promise<void>((resolve) => (waiter.resolve = resolve));
    if (holdsAcks(this.waiting)) {
      this.waiting.push(waiter);
      return acknowledged;
    }
    let last: Running | undefined;
    for (const r of this.running) if (!r.settled && holdsAcks(r.batch)) last = r;
    if (!last) return Promise.resolve();
    last.batch.push(waiter);
    return acknowledged;
  }

  /**
   * Starts (or joins) a sync that nobody waits for; a failure goes to `onError`. With a delay, the
   * sync starts when it runs out — or sooner, with the first sync() asked for meanwhile (or one
   * already queued), which covers this write too: its frames were written before that sync starts.
   */
  syncSoon(onError: (error: unknown) => void): void {
    this.waiting.push({ resolve: () => {}, reject: onError, background: true });
    if (this.soonDelayMs <= 0 || holdsAcks(this.waiting)) {
      if (this.inFlight < MAX_IN_FLIGHT) this.startNext();
      return;
    }
    this.soonTimer ??= setTimeout(() => {
      this.soonTimer = undefined;
      if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.startNext();
    }, this.soonDelayMs);
  }

  async close(): Promise<void> {
    this.startSoon();
    while (this.inFlight > 0 || this.waiting.length > 0) {
      if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.startNext();
      await new Promise((r) => setImmediate(r));
    }
    this.closeRetired();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** A delayed syncSoon() starts now (close). */
  private startSoon(): void {
    if (this.soonTimer === undefined) return;
    clearTimeout(this.soonTimer);
    this.soonTimer = undefined;
    if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT) this.startNext();
  }

  private startNext(): void {
    // Whatever waits is taken along, a delayed syncSoon() included: its timer has nothing left to start.
    if (this.soonTimer !== undefined) {
      clearTimeout(this.soonTimer);
      this.soonTimer = undefined;
    }
    const entry: Running = { batch: this.waiting, settled: false };
    this.waiting = [];
    this.running.push(entry);
    this.inFlight++;
    void this.runSync(entry);
  }

  /**
   * One sync and what follows it. A method, not callbacks made per sync: V8 keeps a closure's
   * optimized code only while one of them lives, so closures made for every write were compiled
   * again after every full GC (bench/RESULTS.md, issue 23).
   */
  private async runSync(entry: Running): Promise<void> {
    try {
      await (this.syncer ? this.syncer(this.walPath) : this.syncWal());
      this.syncs++;
      // A sync covers everything written before it started, so it also completes every earlier
      // sync's callers. Settling them first keeps acknowledgements — and so the change feed —
      // in commit order: a session told of UID 11 before UID 10 would never show UID 10.
      const upTo = this.running.indexOf(entry);
      for (const earlier of this.running.splice(0, upTo + 1)) {
        if (earlier.settled) continue;
        earlier.settled = true;
        for (const w of earlier.batch) w.resolve();
      }
    } catch (error: unknown) {
      if (!entry.settled) {
        entry.settled = true;
        this.running.splice(this.running.indexOf(entry), 1);
        for (const w of entry.batch) w.reject(error);
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.closeRetired();
      // Callers that queued while two syncs ran — but background ones whose delay has not run out
      // yet wait for it (or for a durable caller), as they would have with a sync free.
      if (this.waiting.length > 0 && this.inFlight < MAX_IN_FLIGHT && (this.soonTimer === undefined || holdsAcks(this.waiting))) this.startNext();
    }
  }

  private closeRetired(): void {
    for (const fd of this.retired.splice(0)) closeSync(fd);
  }

  private async syncWal(): Promise<void> {
    const fd = this.currentFd();
    if (fd === undefined) return; // no WAL file: nothing is waiting in one
    if (this.thread) return this.thread.fdatasync(fd);
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * One descriptor, kept open. SQLite deletes the WAL only after checkpointing all of it into the
   * (then synced) database file and may create a new one later, so when the path names another
   * inode the descriptor is reopened. stat/open run on the loop: they touch cached metadata only,
   * while the fdatasync — the part that waits for the disk — runs on the sync thread, one hop.
   */
  private currentFd(): number | undefined {
    const onDisk = statSync(this.walPath, { throwIfNoEntry: false });
    if (!onDisk) return undefined;
    if (this.fd !== undefined && onDisk.ino === this.fdIno) return this.fd;
    if (this.fd !== undefined) this.retired.push(this.fd);
    this.fd = openSync(this.walPath, 'r');
    this.fdIno = fstatSync(this.fd).ino;
    return this.fd;
  }
}
