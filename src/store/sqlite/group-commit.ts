/**
 * Group commit for every message write (APPEND, STORE, COPY, MOVE, EXPUNGE, the \Recent claim).
 * Writes that arrive while the event loop is busy are queued and committed together in one
 * transaction, and each caller's promise resolves only after that COMMIT returned *and* the WAL
 * sync that follows it finished (wal-sync.ts) — so a tagged OK still means "on disk", while the
 * fsync itself runs off the event loop and is shared by every batch that committed meanwhile.
 * Each job of a batch of several runs in its own savepoint, so one failing job rolls back alone and
 * the others still commit; a job alone in its transaction needs none (its failure rolls back all).
 *
 * Two exceptions to "resolves after the sync" (docs/sqlite.md, "What a tagged OK promises"):
 * - a batch that changed no row (an EXPUNGE chunk with nothing \Deleted in it) wrote nothing to
 *   sync, and resolves as soon as the earlier writes it must not overtake are acknowledged;
 * - a job run with durability 'soon' (flag and keyword changes, the \Recent mark) resolves right
 *   after its COMMIT — in order behind earlier writes still syncing — while the sync of its WAL
 *   frames runs in the background, within WalSync's short delay (flagSyncDelayMs). Its change is
 *   in the kernel from the COMMIT on, so a kill -9 of the server never loses it; a power cut
 *   within the next few milliseconds can. APPEND, COPY, MOVE, EXPUNGE and delivery keep the full promise.
 */
import type { Database, Statement } from 'better-sqlite3';
import type { WalSync } from './wal-sync.js';
import { isBusyError } from './database.js';
import { busyPause, busyTimeout } from './context.js';

/** What a job's resolution promises: its change on stable storage, or committed and syncing. */
export type Durability = 'durable' | 'soon';

export interface GroupCommitOptions {
  /** Where a failed background sync of a 'soon' batch is reported. */
  onBackgroundSyncError?: (error: unknown) => void;
  /**
   * True while every write must wait for its sync, 'soon' ones too: during a disk-full episode a
   * flag change is refused like any other write instead of being acknowledged and then lost.
   */
  syncEveryWrite?: () => boolean;
  /**
   * Set when other processes share the database (context.ts, SharedAccess): a BEGIN IMMEDIATE that
   * finds the write lock taken (SQLITE_BUSY at once: no busy handler sleeps on the event loop) puts
   * the batch back and tries again after a short pause; a job that has waited this long for the
   * lock fails with 'unavailable'. Unset: SQLITE_BUSY is an error like any other.
   */
  busyWaitMs?: number;
}

interface Job {
  run: () => unknown;
  /** performance.now() when queued: how long it has waited for the write lock is bounded (busyWaitMs). */
  queuedAt: number;
  durability: Durability;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface TransactionStatements {
  begin: Statement;
  commit: Statement;
  rollback: Statement;
  savepoint: Statement;
  release: Statement;
  rollbackTo: Statement;
}

function prepareTransactionStatements(db: Database): TransactionStatements {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    savepoint: db.prepare('SAVEPOINT group_commit_job'),
    release: db.prepare('RELEASE group_commit_job'),
    rollbackTo: db.prepare('ROLLBACK TO group_commit_job'),
  };
}

/** A job's function, which must not return a promise (its work would run after the COMMIT). */
function runJob(job: Job): unknown {
  const value = job.run();
  if (value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function') {
    throw new TypeError('a group commit job cannot return a promise');
  }
  return value;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Tells a committed batch's callers how their jobs went. Functions of the module, bound per batch,
 * rather than closures made in every flush(): V8 keeps a closure's optimized code only while one of
 * them lives, so closures made per transaction were compiled again after every full GC
 * (bench/RESULTS.md, issue 23).
 */
function settleBatch(batch: Job[], outcomes: Outcome[]): void {
  for (let i = 0; i < batch.length; i++) {
    const o = outcomes[i]!;
    if (o.ok) batch[i]!.resolve(o.value);
    else batch[i]!.reject(o.error);
  }
}

function rejectBatch(batch: Job[], error: unknown): void {
  for (const job of batch) job.reject(error);
}

export class GroupCommit {
  private queue: Job[] = [];
  private scheduled = false;
  /** Holds in force (checkpointer.ts): while any is, nothing commits and jobs wait in the queue. */
  private holds = 0;
  /** whenOpen() callers waiting for the holds to end. */
  private openWaiters: Array<() => void> = [];

  constructor(
    private readonly db: Database,
    private readonly durable: WalSync,
    /** Upper bound of jobs per transaction, so one commit never holds the loop for long. */
    private readonly maxBatch = 256,
    /**
     * And of the time one transaction's jobs may take: once they have run this long, the jobs not
     * yet started wait for the next transaction, after other sessions had their turn. Big
     * commands cut their work into jobs of a few milliseconds (src/imap/commands/chunks.ts), and
     * many sessions' chunks must not add up to one long stretch again.
     */
    private readonly maxBatchMs = 4,
    private readonly options: GroupCommitOptions = {},
  ) {
    // A job of a batch runs in a savepoint, and SQLite first copies each page a savepoint changes
    // to its sub-journal. That journal spills to a temporary file past 64 KiB, and under the
    // exclusive lock the file then stays for the connection's life: from the first big batch on,
    // every page of every later savepoint cost two pwrite(2)s — 9 per command under imaptest's
    // persistent mix at 50 clients, half of all the server's syscalls (bench/RESULTS.md, issue
    // 23). In memory (temp_store) the sub-journal is never written out; it holds the
    // original pages of one job at most, and is emptied at each RELEASE. The temporary b-trees a
    // statement needs (an IN list, DISTINCT, GROUP BY) live in memory too; the store's are no
    // larger than what those statements hand back.
    db.pragma('temp_store = MEMORY');
  }

  /** Jobs queued or committed but not yet settled. */
  private unsettled = 0;

  run<T>(fn: () => T, durability: Durability = 'durable'): Promise<T> {
    this.unsettled++;
    const settled = (): void => {
      this.unsettled--;
    };
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: fn,
        queuedAt: this.options.busyWaitMs === undefined ? 0 : performance.now(),
        durability,
        resolve: (v) => {
          settled();
          (resolve as (v: unknown) => void)(v);
        },
        reject: (e) => {
          settled();
          reject(e);
        },
      });
      this.schedule();
    });
  }

  /** Stops committing until the returned function is called; queued jobs then commit together. */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds === 0) for (const wake of this.openWaiters.splice(0)) wake();
      this.schedule();
    };
  }

  /**
   * Resolves when no hold is in force. Writes that commit on their own, outside the queue (the
   * mailbox tree, a new user), await this right before their transaction.
   */
  whenOpen(): Promise<void> {
    if (this.holds === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.openWaiters.push(resolve));
  }

  private schedule(): void {
    if (this.scheduled || this.busyTimer || this.holds > 0 || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Set while the batch waits to try BEGIN IMMEDIATE again (another process holds the write lock). */
  private busyTimer: NodeJS.Timeout | undefined;
  /** Consecutive busy BEGINs: the pause before the next try grows with them (busyPause). */
  private busyAttempts = 0;

  /**
   * BEGIN IMMEDIATE found the write lock taken: nothing of `batch` ran. Jobs past their wait fail;
   * the rest go back to the front of the queue and are tried again after a pause, off the loop.
   */
  private retryWhenFree(batch: Job[], error: unknown): void {
    const now = performance.now();
    const limit = this.options.busyWaitMs!;
    const waiting: Job[] = [];
    for (const job of batch) {
      if (now - job.queuedAt >= limit) job.reject(busyTimeout(now - job.queuedAt, error));
      else waiting.push(job);
    }
    this.queue.unshift(...waiting);
    if (this.queue.length === 0) {
      this.busyAttempts = 0;
      return;
    }
    this.busyAttempts++;
    this.busyTimer = setTimeout(() => {
      this.busyTimer = undefined;
      this.schedule();
    }, busyPause(this.busyAttempts));
  }

  /** Resolves when every queued write has settled (before the store closes its connection). */
  async drain(): Promise<void> {
    while (this.unsettled > 0) await new Promise((r) => setTimeout(r, 1));
  }

  private flush(): void {
    this.scheduled = false;
    if (this.holds > 0) return; // release() schedules again
    const batch = this.queue.splice(0, this.maxBatch);
    const outcomes: Outcome[] = [];
    const started = performance.now();
    const changesBefore = this.totalChanges();
    const sql = (this.statements ??= prepareTransactionStatements(this.db));
    // Statements of our own rather than db.transaction(): that builds four wrapper functions per
    // call, once for the batch and once per job — measurable at one transaction per command.
    try {
      try {
        sql.begin.run();
      } catch (error) {
        if (this.options.busyWaitMs === undefined || !isBusyError(error)) throw error;
        this.retryWhenFree(batch, error);
        return;
      }
      this.busyAttempts = 0;
      try {
        if (batch.length === 1) {
          // Alone in its transaction, a job needs no savepoint: its failure rolls back everything.
          try {
            outcomes.push({ ok: true, value: runJob(batch[0]!) });
          } catch (error) {
            if (this.db.inTransaction) sql.rollback.run();
            outcomes.push({ ok: false, error });
          }
        } else {
          for (const job of batch) {
            if (outcomes.length > 0 && performance.now() - started >= this.maxBatchMs) break;
            sql.savepoint.run();
            try {
              const value = runJob(job);
              sql.release.run();
              outcomes.push({ ok: true, value });
            } catch (error) {
              // SQLite ended the whole transaction on its own (an I/O error, a full disk): nothing
              // of the batch can commit any more.
              if (!this.db.inTransaction) throw error;
              sql.rollbackTo.run();
              sql.release.run();
              outcomes.push({ ok: false, error });
            }
          }
        }
        if (this.db.inTransaction) sql.commit.run();
      } catch (error) {
        if (this.db.inTransaction) sql.rollback.run();
        throw error;
      }
    } catch (error) {
      this.schedule();
      // The COMMIT itself failed (disk full, I/O error): nothing of the batch is durable.
      for (const job of batch) job.reject(error);
      return;
    }
    // The jobs the time bound left out go first in the next transaction.
    this.queue.unshift(...batch.splice(outcomes.length));
    this.schedule();
    // Bound to a module function rather than a closure made per transaction (see settleBatch).
    const settle = settleBatch.bind(null, batch, outcomes);
    if (!outcomes.some((o) => o.ok)) return settle();
    const wrote = this.totalChanges() !== changesBefore;
    const mustSync = wrote && (this.options.syncEveryWrite?.() === true || batch.some((job, i) => outcomes[i]!.ok && job.durability === 'durable'));
    if (!mustSync) {
      // Behind the earlier writes only: asked for first, so it does not wait for its own sync.
      const acknowledged = this.durable.afterPending();
      if (wrote) this.syncInBackground();
      void acknowledged.then(settle);
      return;
    }
    // Committed but not yet durable: nobody hears of it before the sync. If the sync fails the
    // change may still be on disk, but no one was told it is.
    this.durable.sync().then(settle, rejectBatch.bind(null, batch));
  }

  /** Rows changed by this connection so far (SQLite's total_changes()): a batch that moved it wrote WAL frames. */
  private totalChanges(): number {
    this.changesStatement ??= this.db.prepare('SELECT total_changes()').pluck();
    return this.changesStatement.get() as number;
  }

  private changesStatement: Statement | undefined;
  private statements: TransactionStatements | undefined;

  /**
   * The sync of a 'soon' batch: nobody waits for it, so a failure is reported to the store's log;
   * the next durable write's own sync fails too if the disk is really gone.
   */
  private syncInBackground(): void {
    this.durable.syncSoon(this.options.onBackgroundSyncError ?? (() => {}));
  }
}
