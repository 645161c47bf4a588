/**
 * The durability barrier: fdatasync of the WAL file, run on libuv's thread pool instead of the event
 * loop.
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
 * Syncs coalesce: a caller that arrives while a sync is running waits for the next one (the running
 * one may have started before its frames were written), and one sync serves everyone who arrived
 * meanwhile — group commit for the fsync.
 */
import { closeSync, fdatasync, fstatSync, openSync, statSync } from 'node:fs';

/** Makes the file at `path` durable. Injected by tests; the default is open + fdatasync. */
export type FileSyncer = (path: string) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class WalSync {
  private running = false;
  private waiting: Waiter[] = [];
  private fd: number | undefined;
  private fdIno = -1;
  /** Completed syncs (diagnostics and tests). */
  syncs = 0;

  constructor(
    private readonly walPath: string,
    private readonly syncer?: FileSyncer,
  ) {}

  /** Resolves once everything committed before this call is on stable storage. */
  sync(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.startNext();
    });
  }

  async close(): Promise<void> {
    while (this.running) await new Promise((r) => setImmediate(r));
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private startNext(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    (this.syncer ? this.syncer(this.walPath) : this.syncWal()).then(
      () => {
        this.syncs++;
        for (const w of batch) w.resolve();
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    ).finally(() => {
      this.running = false;
      if (this.waiting.length > 0) this.startNext();
    });
  }

  private async syncWal(): Promise<void> {
    const fd = this.currentFd();
    if (fd === undefined) return; // no WAL file: nothing is waiting in one
    await new Promise<void>((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * One descriptor, kept open. SQLite deletes the WAL only after checkpointing all of it into the
   * (then synced) database file and may create a new one later, so when the path names another
   * inode the descriptor is reopened. stat/open run on the loop: they touch cached metadata only,
   * while the fdatasync — the part that waits for the disk — runs on the thread pool, one hop.
   */
  private currentFd(): number | undefined {
    const onDisk = statSync(this.walPath, { throwIfNoEntry: false });
    if (!onDisk) return undefined;
    if (this.fd !== undefined && onDisk.ino === this.fdIno) return this.fd;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = openSync(this.walPath, 'r');
    this.fdIno = fstatSync(this.fd).ino;
    return this.fd;
  }
}
