/**
 * fdatasync on threads of the store's own, not on libuv's thread pool.
 *
 * Node runs fs callbacks, crypto.scrypt, DNS lookups and zlib on one pool of four threads
 * (UV_THREADPOOL_SIZE), first come first served. Every acknowledged write waits for an fdatasync
 * of the WAL (wal-sync.ts), so when a login burst queued two dozen scrypt hashes of ~100 ms each,
 * every commit waited behind them: a STORE's acknowledgement went from ~2 ms to 1.7 s (median,
 * 24 sessions logging in continuously; test/e2e/login-burst-durability.test.ts). Durability must
 * not depend on what else the process is doing, so the syncs a commit waits for — the WAL, the
 * database file at a checkpoint, a large body's file before it is renamed into blobs/ — run on this
 * dedicated worker thread. It only ever blocks in fdatasync(2); a request costs two small messages.
 *
 * Descriptors are process-wide, so a thread syncs the caller's own descriptor; the caller keeps
 * it open until the reply. There are a few such threads (`threads`, default 3), each running its
 * requests one after another; a request goes to the thread with the fewest waiting. One thread was
 * not enough once large bodies are stored: a new body costs a file and a directory sync before its
 * transaction, and with one thread the WAL sync of a small write waited behind another session's
 * 1 MB fdatasync, and a body's file and directory syncs ran one after the other although both only
 * have to be done before the COMMIT (bench:lmtp, 1 MB rows, bench/RESULTS.md). Syncs of different
 * files run side by side in the kernel and the disk's queue; those of the same file serialise
 * there as they would here.
 *
 * Should the thread die, its pending requests and every later one run on the thread pool instead
 * (and a log line says so): slower under load, never less durable.
 *
 * No request waits for a thread to start. Starting one (a Node worker: a new isolate and its
 * bootstrap) takes tens of milliseconds of CPU, far more than an fdatasync, and a message posted to
 * a worker still starting waits for all of it. Threads used to start on demand, when two requests
 * overlapped — so the first large body after a start (its file and directory syncs side by side)
 * waited 40–300 ms for the second thread (bench:append, the slowest APPEND of each round, issue 23).
 * Now a request goes to a thread that is up: an idle one, else the one with the fewest waiting; a
 * thread is started in the background when none is idle, and the first one when the store opens
 * (`prestart`). Only while no thread is up at all (the first moments after opening) does a request
 * run on the thread pool, as when the threads are gone.
 */
import { fdatasync, fsync } from 'node:fs';
import { Worker } from 'node:worker_threads';

const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { fdatasyncSync, fsyncSync } = require('node:fs');
parentPort.on('message', ({ id, fd, full }) => {
  try {
    if (full) fsyncSync(fd);
    else fdatasyncSync(fd);
    parentPort.postMessage({ id });
  } catch (e) {
    parentPort.postMessage({ id, code: e && e.code, message: String(e && e.message) });
  }
});
`;

interface Reply {
  id: number;
  code?: string;
  message?: string;
}

/** Threads started at most (on demand: one until two requests overlap, and so on). */
export const SYNC_THREADS = 3;

interface Waiter {
  fd: number;
  full: boolean;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Waiter>;
  /** Whether the worker is running (its 'online' event): until then a message to it would wait for its start. */
  up: boolean;
}

export class SyncThread {
  private readonly threads: Thread[] = [];
  private nextId = 1;
  private broken = false;
  private closing = false;

  /** Requests run on libuv's pool because no thread was up yet (diagnostics and tests). */
  pooled = 0;

  constructor(
    private readonly onBroken?: (err: unknown) => void,
    /** Threads to spread syncs over (at least 1). */
    private readonly maxThreads = SYNC_THREADS,
  ) {}

  /** Starts the first thread now, in the background, so that it is up before the first write. */
  prestart(): void {
    if (this.threads.length === 0 && !this.broken) this.start();
  }

  /** Resolves once some thread is up (tests; a request never waits for this). */
  async ready(): Promise<void> {
    this.prestart();
    while (!this.broken && !this.threads.some((t) => t.up)) await new Promise((r) => setTimeout(r, 2));
  }

  /** fdatasync(fd): resolves when the file's data is on stable storage. */
  fdatasync(fd: number): Promise<void> {
    return this.request(fd, false);
  }

  /**
   * fsync(fd): data and metadata. For a directory after a rename into it, so that the new entry
   * survives a crash (fdatasync's promise covers a file's data, not a directory's entries).
   */
  fsync(fd: number): Promise<void> {
    return this.request(fd, true);
  }

  /** Threads started so far, up or starting (diagnostics and tests). */
  get started(): number {
    return this.threads.length;
  }

  /** Requests sent and not yet answered, over all threads. */
  get inFlight(): number {
    return this.threads.reduce((n, t) => n + t.pending.size, 0);
  }

  private request(fd: number, full: boolean): Promise<void> {
    if (this.broken) return poolSync(fd, full);
    const thread = this.pick();
    if (!thread) {
      this.pooled++;
      return poolSync(fd, full);
    }
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      thread.pending.set(id, { fd, full, resolve, reject });
      if (thread.pending.size === 1) thread.worker.ref();
      thread.worker.postMessage({ id, fd, full });
    });
  }

  /**
   * An idle thread that is up, else the up one with the fewest requests waiting — and then, if no
   * thread is idle and fewer than `maxThreads` exist, one more is started for later requests.
   * Undefined while no thread is up yet.
   */
  private pick(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of this.threads) if (t.up && (!best || t.pending.size < best.pending.size)) best = t;
    if (best?.pending.size !== 0 && this.threads.length < Math.max(1, this.maxThreads) && !this.threads.some((t) => !t.up)) this.start();
    return best;
  }

  /** Stops the threads once nothing is pending. */
  async close(): Promise<void> {
    while (this.inFlight > 0) await new Promise((r) => setImmediate(r));
    this.closing = true;
    const threads = this.threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
    this.closing = false;
  }

  private start(): Thread {
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'postroom-fsync' });
    const thread: Thread = { worker, pending: new Map(), up: false };
    worker.once('online', () => {
      thread.up = true;
    });
    worker.on('message', (reply: Reply) => {
      const waiter = thread.pending.get(reply.id);
      if (!waiter) return;
      thread.pending.delete(reply.id);
      // Only a request in flight keeps the process alive, as a pool request would.
      if (thread.pending.size === 0) worker.unref();
      if (reply.code === undefined && reply.message === undefined) return waiter.resolve();
      const syscall = waiter.full ? 'fsync' : 'fdatasync';
      const err = Object.assign(new Error(reply.message ?? `${syscall} failed`), { code: reply.code, syscall });
      waiter.reject(err);
    });
    const fail = (err: unknown): void => {
      const at = this.threads.indexOf(thread);
      if (at === -1 || this.closing) return; // closed on purpose
      this.threads.splice(at, 1);
      const first = !this.broken;
      // From now on every sync runs on the pool; the other threads answer what they were sent.
      this.broken = true;
      for (const w of thread.pending.values()) poolSync(w.fd, w.full).then(w.resolve, w.reject);
      thread.pending.clear();
      if (first) this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the fsync thread exited with code ${code}`)));
    worker.unref();
    this.threads.push(thread);
    return thread;
  }
}

function poolSync(fd: number, full: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => (full ? fsync : fdatasync)(fd, (err) => (err ? reject(err) : resolve())));
}
