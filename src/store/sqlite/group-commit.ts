/**
 * Group commit for every message write (APPEND, STORE, COPY, MOVE, EXPUNGE, the \Recent claim).
 * Writes that arrive while the event loop is busy are queued and committed together in one
 * transaction, and each caller's promise resolves only after that COMMIT returned *and* the WAL
 * sync that follows it finished (wal-sync.ts) — so a tagged OK still means "on disk", while the
 * fsync itself runs off the event loop and is shared by every batch that committed meanwhile.
 * Each job runs in its own savepoint (better-sqlite3 nests transactions that way), so one failing
 * job rolls back alone and the others still commit.
 */
import type { Database } from 'better-sqlite3';
import type { WalSync } from './wal-sync.js';

interface Job {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
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
  ) {}

  /** Jobs queued or committed but not yet settled. */
  private unsettled = 0;

  run<T>(fn: () => T): Promise<T> {
    this.unsettled++;
    const settled = (): void => {
      this.unsettled--;
    };
    return new Promise<T>((resolve, reject) => {
      this.queue.push({
        run: fn,
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
    if (this.scheduled || this.holds > 0 || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Resolves when every queued write has settled (before the store closes its connection). */
  async drain(): Promise<void> {
    while (this.unsettled > 0) await new Promise((r) => setTimeout(r, 1));
  }

  private flush(): void {
    this.scheduled = false;
    if (this.holds > 0) return; // release() schedules again
    const batch = this.queue.splice(0, this.maxBatch);
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const started = performance.now();
    try {
      this.db
        .transaction(() => {
          for (const job of batch) {
            if (outcomes.length > 0 && performance.now() - started >= this.maxBatchMs) break;
            try {
              outcomes.push({ ok: true, value: this.db.transaction(job.run)() });
            } catch (error) {
              outcomes.push({ ok: false, error });
            }
          }
        })
        .immediate();
    } catch (error) {
      this.schedule();
      // The COMMIT itself failed (disk full, I/O error): nothing of the batch is durable.
      for (const job of batch) job.reject(error);
      return;
    }
    // The jobs the time bound left out go first in the next transaction.
    this.queue.unshift(...batch.splice(outcomes.length));
    this.schedule();
    const settle = (): void =>
      batch.forEach((job, i) => {
        const o = outcomes[i]!;
        if (o.ok) job.resolve(o.value);
        else job.reject(o.error);
      });
    if (!outcomes.some((o) => o.ok)) return settle();
    // Committed but not yet durable: nobody hears of it before the sync. If the sync fails the
    // change may still be on disk, but no one was told it is.
    this.durable.sync().then(settle, (error: unknown) => {
      for (const job of batch) job.reject(error);
    });
  }
}
