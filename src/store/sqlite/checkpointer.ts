/**
 * WAL checkpoints on a worker thread, so the event loop never waits for one.
 *
 * A checkpoint copies the WAL's pages into mail.sqlite and fsyncs it — tens to hundreds of
 * milliseconds on a busy disk. Left to SQLite (wal_autocheckpoint), it runs inside the COMMIT that
 * crosses the threshold, synchronously on the event loop, and every session waits. Here the main
 * connection has autocheckpoint off (database.ts) and a worker thread with a connection of its own
 * runs `PRAGMA wal_checkpoint(PASSIVE)` once a second when anything was written: PASSIVE takes no
 * lock the main connection's readers or writer wait for (https://sqlite.org/wal.html,
 * "Checkpointing"; https://sqlite.org/c3ref/wal_checkpoint_v2.html).
 *
 * The catch: the WAL starts over from its first frame only when a writer begins after a checkpoint
 * that copied *everything* (sqlite.org/wal.html, "Avoiding Excessively Large WAL Files"), and under
 * a steady stream of writes a concurrent checkpoint never catches up. So once the WAL has grown past
 * `holdWritesAboveFrames`, the next checkpoint runs with the store's writes held back (group commit
 * queues them; reads go on), which lets it finish and the next write restart the WAL. Writes then
 * wait for one checkpoint; everything else waits for none.
 *
 * Should the worker fail (it cannot load the driver, say), SQLite's own autocheckpoint is turned
 * back on: checkpoints return to the loop, but the WAL never grows without bound.
 */
import type { Database } from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

export interface CheckpointerOptions {
  /** How often to look for new writes to checkpoint (ms). */
  intervalMs?: number;
  /** WAL frames (pages) past which the next checkpoint holds writes back so the WAL can restart. */
  holdWritesAboveFrames?: number;
  onError?: (err: unknown) => void;
}

/** What the worker reports: the pragma's row (frames in the WAL, frames copied), or why it failed. */
type Reply = { busy: number; log: number; checkpointed: number } | { error: string };

// CommonJS, run with `eval`: no file to locate next to the compiled or the TypeScript sources.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
let db;
parentPort.on('message', (msg) => {
  if (msg === 'close') { if (db) db.close(); parentPort.close(); return; }
  try {
    if (!db) db = new Database(workerData.path, { fileMustExist: true, timeout: 0 });
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ busy: row.busy, log: row.log, checkpointed: row.checkpointed });
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
});
`;

const driverPath = (): string => createRequire(import.meta.url).resolve('better-sqlite3');

export class Checkpointer {
  private worker: Worker | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private seenWrites = 0;
  private failed = false;
  /** Frames in the WAL at the last checkpoint. */
  private walFrames = 0;
  /** Completed checkpoints (diagnostics and tests). */
  checkpoints = 0;
  /** Checkpoints that ran with writes held back. */
  heldCheckpoints = 0;
  private readonly intervalMs: number;
  private readonly holdAbove: number;

  constructor(
    private readonly db: Database,
    private readonly path: string,
    /** A counter that grows with every durable write (WalSync's completed syncs). */
    private readonly writes: () => number,
    /** Holds the store's writes back; the returned function lets them go. */
    private readonly holdWrites: () => () => void,
    private readonly options: CheckpointerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1_000;
    this.holdAbove = options.holdWritesAboveFrames ?? 8_192;
  }

  start(): void {
    this.timer = setInterval(() => {
      if (this.inFlight || this.failed || this.writes() === this.seenWrites) return;
      void this.checkpoint();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** Runs one checkpoint now (and waits for one already running first). */
  async checkpoint(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.failed) return;
    this.seenWrites = this.writes();
    const release = this.walFrames > this.holdAbove ? this.holdWrites() : undefined;
    this.inFlight = this.ask()
      .then((reply) => {
        if ('error' in reply) throw new Error(reply.error);
        this.walFrames = reply.log;
        this.checkpoints++;
        if (release) this.heldCheckpoints++;
      })
      .catch((err: unknown) => this.fail(err))
      .finally(() => {
        release?.();
        this.inFlight = undefined;
      });
    await this.inFlight;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    while (this.inFlight) await this.inFlight;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // closing: wait for its connection to close
    worker.postMessage('close');
    await exited;
  }

  private ask(): Promise<Reply> {
    const worker = (this.worker ??= this.spawn());
    return new Promise<Reply>((resolve, reject) => {
      const onMessage = (reply: Reply): void => {
        worker.off('error', onError);
        resolve(reply);
      };
      const onError = (err: unknown): void => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.once('message', onMessage);
      worker.once('error', onError);
      worker.postMessage('checkpoint');
    });
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      execArgv: [], // plain JavaScript: none of the parent's loaders (tsx) needed
      workerData: { driver: driverPath(), path: this.path },
    });
    worker.unref(); // an idle checkpointer never keeps the process alive
    return worker;
  }

  private fail(err: unknown): void {
    this.failed = true;
    this.options.onError?.(err);
    this.db.pragma('wal_autocheckpoint = 1000');
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}
