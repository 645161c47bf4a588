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
 * dedicated worker thread. It only ever blocks in fdatasync(2) (or waits for the next request).
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
 * A request and its answer pass through memory shared with the thread, not messages: the loop
 * writes the descriptor into the thread's ring and wakes it with Atomics.notify (a futex wake);
 * the thread, parked in Atomics.wait, syncs, writes the outcome beside the request, and wakes the
 * loop's Atomics.waitAsync. A postMessage each way cost more — structured-clone serialisation and a
 * MessagePort event: a round trip with nothing to sync took 9 against 5.5 µs of main-thread CPU and
 * 18 against 10 µs of the process's (2026-12-05, NOISY). Beside a real fdatasync under load the
 * difference was within the noise; most of what a profile charges to the handoff (postMessage then,
 * Atomics.notify now, 5-6 % of the busy main thread under imaptest's mix) is the woken thread taking
 * the core, which neither way avoids.
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
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';

/** Requests a thread's ring holds at once (a power of two); more wait in the loop's queue until some are answered. */
const RING = 64;
/** Int32 cells: [0] requests posted, [1] requests answered, then per ring slot fd, full (0/1), outcome (0 or errno). */
const POSTED = 0;
const ANSWERED = 1;
const SLOT = 3;
/**
 * The counts are Int32 cells and wrap after 2^31 requests (weeks of a busy server): both sides keep
 * them wrapped (`| 0`, as Atomics.store stores them), compare them only for equality, and find a
 * slot by the low bits, which a wrap does not disturb.
 */
const slotAt = (n: number): number => 2 + (n & (RING - 1)) * SLOT;
/** The outcome cell of a request that failed without an errno. */
const UNKNOWN_ERROR = -1;

// The thread never returns to its event loop: it parks in Atomics.wait until the posted count moves.
const THREAD_SOURCE = `
const { workerData } = require('node:worker_threads');
const { fdatasyncSync, fsyncSync } = require('node:fs');
const cells = new Int32Array(workerData);
let answered = Atomics.load(cells, ${ANSWERED});
for (;;) {
  if (Atomics.load(cells, ${POSTED}) === answered) {
    Atomics.wait(cells, ${POSTED}, answered);
    continue;
  }
  const at = 2 + (answered & ${RING - 1}) * ${SLOT};
  let outcome = 0;
  try {
    if (cells[at + 1] === 1) fsyncSync(cells[at]);
    else fdatasyncSync(cells[at]);
  } catch (e) {
    outcome = e && typeof e.errno === 'number' && e.errno < 0 ? -e.errno : ${UNKNOWN_ERROR};
  }
  cells[at + 2] = outcome;
  answered = (answered + 1) | 0;
  Atomics.store(cells, ${ANSWERED}, answered);
  Atomics.notify(cells, ${ANSWERED});
}
`;

/** Atomics.waitAsync (ES2024, in Node since 16), which TypeScript's ES2022 library does not declare. */
interface AsyncWaiting {
  waitAsync(cells: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}
const atomics = Atomics as unknown as AsyncWaiting;

/** errno number → its name (EIO, ENOSPC …), for the errors a failed sync rejects with. */
const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

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
  cells: Int32Array;
  /** Requests in the ring, oldest first: posted[0] is request number `answeredSeen`. */
  posted: Waiter[];
  /** Requests beyond the ring's RING, waiting for slots. */
  queued: Waiter[];
  postedCount: number;
  answeredSeen: number;
  /** An Atomics.waitAsync on the answered count is pending. */
  watching: boolean;
  /** Whether the worker is running (its 'online' event): until then a request to it would wait for its start. */
  up: boolean;
}

const pendingOf = (t: Thread): number => t.posted.length + t.queued.length;

export class SyncThread {
  private readonly threads: Thread[] = [];
  private broken = false;
  private closing = false;

  /** Requests run on libuv's pool because no thread was up yet (diagnostics and tests). */
  pooled = 0;

  constructor(
    private readonly onBroken?: (err: unknown) => void,
    /** Threads to spread syncs over (at least 1). */
    private readonly maxThreads = SYNC_THREADS,
    /** Where a new thread's request counts start (tests: just below their wrap at 2^31). */
    private readonly firstCount = 0,
  ) {}

  /**
   * Starts threads now, in the background, up to `count` (at most the thread limit), so that they
   * are up before the writes that need them instead of starting in the middle of one.
   */
  prestart(count = 1): void {
    while (this.threads.length < Math.min(count, Math.max(1, this.maxThreads)) && !this.broken) this.start();
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
    return this.threads.reduce((n, t) => n + pendingOf(t), 0);
  }

  private request(fd: number, full: boolean): Promise<void> {
    if (this.broken) return poolSync(fd, full);
    const thread = this.pick();
    if (!thread) {
      this.pooled++;
      return poolSync(fd, full);
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { fd, full, resolve, reject };
      // Only a request in flight keeps the process alive, as a pool request would.
      if (pendingOf(thread) === 0) thread.worker.ref();
      if (thread.posted.length < RING) this.post(thread, waiter);
      else thread.queued.push(waiter);
      this.watch(thread);
    });
  }

  /** Writes a request into the thread's ring and wakes the thread. */
  private post(thread: Thread, waiter: Waiter): void {
    const at = slotAt(thread.postedCount);
    thread.cells[at] = waiter.fd;
    thread.cells[at + 1] = waiter.full ? 1 : 0;
    thread.posted.push(waiter);
    thread.postedCount = (thread.postedCount + 1) | 0;
    Atomics.store(thread.cells, POSTED, thread.postedCount);
    Atomics.notify(thread.cells, POSTED);
  }

  /** Waits (without blocking the loop) for the thread to answer more requests. */
  private watch(thread: Thread): void {
    if (thread.watching || thread.posted.length === 0) return;
    thread.watching = true;
    const wait = atomics.waitAsync(thread.cells, ANSWERED, thread.answeredSeen);
    if (wait.async) {
      void wait.value.then(() => {
        thread.watching = false;
        this.answer(thread);
      });
    } else {
      // Answered already: settle on a microtask, never inside request() itself.
      queueMicrotask(() => {
        thread.watching = false;
        this.answer(thread);
      });
    }
  }

  /** Settles the requests the thread has answered since last time, and posts queued ones. */
  private answer(thread: Thread): void {
    if (!this.threads.includes(thread)) return; // the thread died: its requests went to the pool
    const answered = Atomics.load(thread.cells, ANSWERED);
    const settled: Array<[Waiter, number]> = [];
    while (thread.answeredSeen !== answered) {
      const waiter = thread.posted.shift()!;
      settled.push([waiter, thread.cells[slotAt(thread.answeredSeen) + 2]!]);
      thread.answeredSeen = (thread.answeredSeen + 1) | 0;
    }
    while (thread.queued.length > 0 && thread.posted.length < RING) this.post(thread, thread.queued.shift()!);
    if (pendingOf(thread) === 0) thread.worker.unref();
    else this.watch(thread);
    for (const [waiter, outcome] of settled) {
      if (outcome === 0) waiter.resolve();
      else waiter.reject(syncError(outcome, waiter.full ? 'fsync' : 'fdatasync'));
    }
  }

  /**
   * An idle thread that is up, else the up one with the fewest requests waiting — and then, if no
   * thread is idle and fewer than `maxThreads` exist, one more is started for later requests.
   * Undefined while no thread is up yet.
   */
  private pick(): Thread | undefined {
    let best: Thread | undefined;
    for (const t of this.threads) if (t.up && (!best || pendingOf(t) < pendingOf(best))) best = t;
    if ((best === undefined || pendingOf(best) !== 0) && this.threads.length < Math.max(1, this.maxThreads) && !this.threads.some((t) => !t.up)) this.start();
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
    const shared = new SharedArrayBuffer(4 * (2 + RING * SLOT));
    const cells = new Int32Array(shared);
    const first = this.firstCount | 0;
    cells[POSTED] = first;
    cells[ANSWERED] = first; // before the thread starts: it begins counting from here
    const worker = new Worker(THREAD_SOURCE, { eval: true, name: 'postroom-fsync', workerData: shared });
    const thread: Thread = { worker, cells, posted: [], queued: [], postedCount: first, answeredSeen: first, watching: false, up: false };
    worker.once('online', () => {
      thread.up = true;
    });
    const fail = (err: unknown): void => {
      const at = this.threads.indexOf(thread);
      if (at === -1 || this.closing) return; // closed on purpose
      this.threads.splice(at, 1);
      const first = !this.broken;
      // From now on every sync runs on the pool; the other threads answer what they were sent.
      this.broken = true;
      for (const w of [...thread.posted, ...thread.queued]) poolSync(w.fd, w.full).then(w.resolve, w.reject);
      thread.posted = [];
      thread.queued = [];
      if (first) this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the fsync thread exited with code ${code}`)));
    worker.unref();
    this.threads.push(thread);
    return thread;
  }
}

/** The error of a sync the thread answered with `outcome` (an errno, or UNKNOWN_ERROR). */
function syncError(outcome: number, syscall: 'fsync' | 'fdatasync'): Error {
  const code = ERRNO_NAMES.get(outcome);
  return Object.assign(new Error(code ? `${code}: ${syscall} failed` : `${syscall} failed`), code ? { code, errno: -outcome, syscall } : { syscall });
}

function poolSync(fd: number, full: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => (full ? fsync : fdatasync)(fd, (err) => (err ? reject(err) : resolve())));
}
