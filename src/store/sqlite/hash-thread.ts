/**
 * The SHA-256 of a large new body, computed on a worker thread of the store's own while the event
 * loop goes on receiving it.
 *
 * Why: a body's digest names its file and deduplicates it, so every byte of every new body is
 * hashed — about 0.5 ms of CPU per megabyte, one of the largest items of a 1 MB LMTP delivery's
 * event-loop time (bench/lmtp-steps.ts). With several sessions delivering on a machine with spare
 * cores, the single event loop is what limits the rate; the hash is the one per-byte step that
 * needs nothing back until the body is complete, so it moves here. Not libuv's thread pool: that
 * pool also runs the file writes and scrypt (docs/sqlite.md), and a digest queued behind a login
 * burst would hold up the delivery as a sync once did (sync-thread.ts).
 *
 * How the bytes get there: TempBlob gathers a body's socket reads into pieces of a megabyte for
 * its file writes, and hands the same pieces to the hash; they are copied into a buffer of this
 * class's own (a memcpy, ~20–40 µs per megabyte on the event loop) and *transferred* to the thread,
 * which hashes them and transfers the buffer back for the next piece. So the thread never reads
 * memory the event loop may still change, nothing piles up in the thread's heap waiting for its
 * garbage collection (a 50 MB APPEND would have left 47 MB there), and the buffers are reused.
 * Not a SharedArrayBuffer for the kept bytes: the parse of a body read from shared memory cost
 * more than the hash saved (Buffer#indexOf takes V8's slow path for shared memory).
 *
 * Failure: should the thread die or fail, every job it had begun fails — its digest rejects with a
 * StoreError 'unavailable', so the write is refused as temporary (LMTP 451, APPEND NO), never
 * stored under a digest of the wrong bytes — and from then on digests are computed on the event
 * loop (a log line says so), as the sync threads fall back to the pool.
 */
import { createHash, type Hash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../errors.js';

const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.crash) throw new Error('asked to fail (test)');
    if (m.hold) { Atomics.wait(new Int32Array(m.hold), 0, 0); return; }
    if (m.drop) { jobs.delete(m.id); return; }
    let hash = jobs.get(m.id);
    if (!hash) jobs.set(m.id, (hash = createHash('sha256')));
    if (m.bytes) {
      hash.update(new Uint8Array(m.bytes, 0, m.length));
      parentPort.postMessage({ id: 0, spare: m.bytes }, [m.bytes]);
    }
    if (m.digest) {
      jobs.delete(m.id);
      const d = hash.digest();
      const out = d.buffer.slice(d.byteOffset, d.byteOffset + d.length);
      parentPort.postMessage({ id: m.id, digest: out }, [out]);
    }
  } catch (e) {
    jobs.delete(m.id);
    parentPort.postMessage({ id: m.id, error: String(e && e.message) });
    if (m.crash) process.exit(70);
  }
});
`;

/** A buffer for the pieces is made at least this large (TempBlob's pieces are about a megabyte). */
const SPARE_MIN = 1024 * 1024 + 128 * 1024;
/** Buffers back from the thread kept for reuse, at most. */
const SPARE_MAX = 8;

interface Reply {
  id: number;
  digest?: ArrayBuffer;
  /** A buffer of pieces, hashed and given back. */
  spare?: ArrayBuffer;
  error?: string;
}

/** A body's digest, fed its bytes in order. */
export interface BodyHash {
  /** The next bytes (read now: the caller may reuse the buffers afterwards). */
  update(pieces: readonly Buffer[]): void;
  /** The SHA-256 of everything given; rejects (StoreError 'unavailable') if the thread failed. */
  digest(): Promise<Buffer>;
  /** The body is abandoned: no digest will be asked for. */
  drop(): void;
}

/** On the event loop: the fallback, and what a store without a hash thread uses. */
export class LocalHash implements BodyHash {
  private readonly hash: Hash = createHash('sha256');

  update(pieces: readonly Buffer[]): void {
    for (const p of pieces) this.hash.update(p);
  }

  digest(): Promise<Buffer> {
    return Promise.resolve(this.hash.digest());
  }

  drop(): void {}
}

class ThreadJob implements BodyHash {
  failure: StoreError | null = null;
  waiter: { resolve: (d: Buffer) => void; reject: (e: unknown) => void } | null = null;
  private finished = false;

  constructor(
    private readonly owner: HashThread,
    readonly id: number,
    private readonly worker: Worker,
  ) {}

  update(pieces: readonly Buffer[]): void {
    if (this.finished || this.failure) return;
    let length = 0;
    for (const p of pieces) length += p.length;
    if (length === 0) return;
    const buffer = this.owner.spareBuffer(length);
    const into = new Uint8Array(buffer);
    let at = 0;
    for (const p of pieces) {
      into.set(p, at);
      at += p.length;
    }
    this.worker.postMessage({ id: this.id, bytes: buffer, length }, [buffer]);
  }

  digest(): Promise<Buffer> {
    if (this.finished) return Promise.reject(new Error('digest asked twice'));
    this.finished = true;
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Buffer>((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.owner.waiting(this);
      this.worker.postMessage({ id: this.id, digest: true });
    });
  }

  drop(): void {
    if (this.finished) return;
    this.finished = true;
    this.owner.forget(this);
    if (!this.failure) this.worker.postMessage({ id: this.id, drop: true });
  }
}

export class HashThread {
  private worker: Worker | null = null;
  /** Jobs begun on the worker and not yet answered or dropped. */
  private readonly jobs = new Map<number, ThreadJob>();
  private waitingDigests = 0;
  private nextId = 1;
  private broken = false;
  private closing = false;

  constructor(private readonly onBroken?: (err: unknown) => void) {}

  /** A new body's digest: on the thread, or on the event loop once the thread has failed. */
  begin(): BodyHash {
    if (this.broken || this.closing) return new LocalHash();
    const worker = this.worker ?? this.start();
    const job = new ThreadJob(this, this.nextId++, worker);
    this.jobs.set(job.id, job);
    return job;
  }

  /** Jobs begun and not finished. */
  get active(): number {
    return this.jobs.size;
  }

  /** @internal A job waits for its digest: the process stays up meanwhile, as for a pool request. */
  waiting(_job: ThreadJob): void {
    if (this.waitingDigests++ === 0) this.worker?.ref();
  }

  /** Buffers given back by the thread, for the next pieces. */
  private readonly spare: ArrayBuffer[] = [];

  /** @internal A buffer of at least `length` bytes to copy pieces into and transfer. */
  spareBuffer(length: number): ArrayBuffer {
    for (let i = this.spare.length - 1; i >= 0; i--) if (this.spare[i]!.byteLength >= length) return this.spare.splice(i, 1)[0]!;
    return new ArrayBuffer(Math.max(length, SPARE_MIN));
  }

  /** For tests: buffers waiting for reuse. */
  get spareBuffers(): number {
    return this.spare.length;
  }

  /** @internal */
  forget(job: ThreadJob): void {
    this.jobs.delete(job.id);
  }

  /** For tests: makes the thread fail as a crash would (its jobs fail, later digests are local). */
  crashForTest(): void {
    this.worker?.postMessage({ id: 0, crash: true });
  }

  /** For tests: the thread reads nothing until the returned function is called (a slow thread). */
  pauseForTest(): () => void {
    const flag = new Int32Array(new SharedArrayBuffer(4));
    (this.worker ?? this.start()).postMessage({ id: 0, hold: flag.buffer });
    return () => {
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    };
  }

  /** Stops the thread once no digest is awaited. */
  async close(): Promise<void> {
    while (this.waitingDigests > 0) await new Promise((r) => setImmediate(r));
    this.closing = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private start(): Worker {
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'postroom-sha256' });
    this.worker = worker;
    worker.on('message', (reply: Reply) => {
      if (reply.spare) {
        if (this.spare.length < SPARE_MAX) this.spare.push(reply.spare);
        return;
      }
      if (reply.id === 0) return;
      const job = this.jobs.get(reply.id);
      if (!job) return;
      this.jobs.delete(reply.id);
      const waiter = job.waiter;
      if (!waiter) {
        // An error for a job that has not asked for its digest yet: it fails when it does.
        job.failure = new StoreError('unavailable', `hashing the message failed: ${reply.error ?? 'no digest'}`);
        return;
      }
      job.waiter = null;
      if (--this.waitingDigests === 0) worker.unref();
      if (reply.digest) waiter.resolve(Buffer.from(reply.digest));
      else waiter.reject(new StoreError('unavailable', `hashing the message failed: ${reply.error ?? 'no digest'}`));
    });
    const fail = (err: unknown): void => {
      if (this.worker !== worker || this.closing) return; // closed on purpose
      this.worker = null;
      const first = !this.broken;
      this.broken = true;
      const failure = new StoreError('unavailable', 'the hashing thread stopped; the message was not stored');
      for (const job of this.jobs.values()) {
        job.failure = failure;
        const waiter = job.waiter;
        job.waiter = null;
        waiter?.reject(failure);
      }
      this.jobs.clear();
      this.waitingDigests = 0;
      if (first) this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the hashing thread exited with code ${code}`)));
    worker.unref();
    return worker;
  }
}
