/**
 * fdatasync on a thread of the store's own, not on libuv's thread pool.
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
 * Descriptors are process-wide, so the thread syncs the caller's own descriptor; the caller keeps
 * it open until the reply. Requests run one after another, in order — syncs of the same file
 * would serialise in the kernel anyway.
 *
 * Should the thread die, its pending requests and every later one run on the thread pool instead
 * (and a log line says so): slower under load, never less durable.
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

export class SyncThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { fd: number; full: boolean; resolve: () => void; reject: (err: unknown) => void }>();
  private broken = false;

  constructor(private readonly onBroken?: (err: unknown) => void) {}

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

  private request(fd: number, full: boolean): Promise<void> {
    if (this.broken) return poolSync(fd, full);
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { fd, full, resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, fd, full });
    });
  }

  /** Stops the thread once nothing is pending. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setImmediate(r));
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'postroom-fsync' });
    worker.on('message', (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      // Only a request in flight keeps the process alive, as a pool request would.
      if (this.pending.size === 0) worker.unref();
      if (reply.code === undefined && reply.message === undefined) return waiter.resolve();
      const syscall = waiter.full ? 'fsync' : 'fdatasync';
      const err = Object.assign(new Error(reply.message ?? `${syscall} failed`), { code: reply.code, syscall });
      waiter.reject(err);
    });
    const fail = (err: unknown): void => {
      if (this.worker !== worker) return; // closed on purpose
      this.broken = true;
      this.worker = undefined;
      for (const w of this.pending.values()) poolSync(w.fd, w.full).then(w.resolve, w.reject);
      this.pending.clear();
      this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the fsync thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }
}

function poolSync(fd: number, full: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => (full ? fsync : fdatasync)(fd, (err) => (err ? reject(err) : resolve())));
}
