/**
 * A thread that runs users' Sieve scripts for the delivery filter while the event loop is busy.
 *
 * With many LMTP sessions delivering at once the event loop is the server's bottleneck, and a
 * scripted delivery's run of its rules (~20–30 µs of that loop's CPU per message at 10 sessions,
 * most of it cache misses: the same run takes ~4 µs when repeated hot) was what kept the scripted
 * rate below 90 % of the unscripted one (issue 17, bench/RESULTS.md "Sieve at 10 sessions"). Here
 * the run is made on another core, in a thread that runs nothing else, so its code and data stay
 * in that core's caches; the loop pays a message each way per turn of its event loop (structured
 * clones of the header sections, and the thread's wake-up). Measured at 10 sessions (NOISY): the
 * script's extra main-thread CPU per delivery 8–18 µs lower (of ~+35), the thread using 16–24 µs
 * of the other core per delivery. A message per run instead of per turn saved nothing: waking the
 * sleeping thread for every delivery cost what the run had.
 *
 * Only scripts whose run needs nothing but the envelope, the header section, the time and the
 * recipient's address come here (runsSelfContained) — no body, size, redirect, header edits or
 * `mailboxexists` — and the actions come back as data for the filter to carry out on the loop, as
 * after a run of its own. The filter uses the thread only when several deliveries are in progress
 * (SieveFilterOptions.threadFrom): one delivery at a time gains nothing from a second core and
 * would wait for the trip.
 *
 * The thread is started on first use, off the critical path: a run asked for before it is online
 * is made on the loop. Should it fail or exit, its pending runs and every later one are made on
 * the loop (and said once in the log) — never a lost or refused message.
 */
import { Worker } from 'node:worker_threads';
import type { SieveLimits, SieveOutcome, SieveScript } from '../sieve/types.js';

/** A run asked of the thread. `source` only the first time the thread is sent script `script` (or when it asks again). */
export interface SieveThreadRequest {
  id: number;
  script: number;
  source?: string;
  header: Uint8Array;
  from: string;
  to: string;
  now: number;
  separator?: string;
}

export type SieveThreadReply = { id: number; outcome: SieveOutcome; missing?: undefined } | { id: number; missing: true; outcome?: undefined };

interface Pending {
  request: SieveThreadRequest;
  source: string;
  resolve: (outcome: SieveOutcome) => void;
  reject: (error: unknown) => void;
}

/** The run a delivery asks for: the compiled script (for its id) and its text (for the thread). */
export interface ThreadRun {
  script: SieveScript;
  source: string;
  header: Buffer;
  from: string;
  to: string;
  now: Date;
  separator?: string;
}

/** The thread's module: compiled JavaScript beside this file, or (tests, `tsx`) the TypeScript source. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './sieve-thread-worker.ts' : './sieve-thread-worker.js', import.meta.url);

/** A thread running the TypeScript source registers tsx's loader first (a worker does not inherit the one of `--import tsx`). */
function newWorker(workerData: unknown): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { name: 'postroom-sieve', workerData });
  const boot = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL.href)}); });`;
  return new Worker(boot, { eval: true, name: 'postroom-sieve', workerData });
}

export class SieveThread {
  private worker: Worker | null = null;
  private online = false;
  private broken = false;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  /** The id each script goes by on the thread, and whether the thread was sent its text. */
  private readonly ids = new WeakMap<SieveScript, number>();
  private nextScript = 0;
  private readonly sent = new WeakSet<SieveScript>();

  constructor(
    private readonly limits: SieveLimits,
    /** Compiled scripts the thread keeps (least recently run forgotten first; it asks again for one it forgot). */
    private readonly maxScripts: number,
    private readonly onBroken?: (error: unknown) => void,
  ) {}

  /** True when a run can go to the thread now (started, online, not broken); starts it otherwise. */
  ready(): boolean {
    if (this.online) return true;
    if (!this.broken && !this.worker) this.start();
    return false;
  }

  /** The run's outcome from the thread; rejects only if the thread failed (the caller then runs it itself). */
  run(r: ThreadRun): Promise<SieveOutcome> {
    if (!this.worker || this.broken) return Promise.reject(new Error('the Sieve thread is not running'));
    let script = this.ids.get(r.script);
    if (script === undefined) this.ids.set(r.script, (script = this.nextScript++));
    // A copy of the header's bytes alone: a Buffer is often a view of a larger one (the chunk it
    // arrived in), and a structured clone copies the whole of what it views.
    const request: SieveThreadRequest = { id: this.nextId++, script, header: new Uint8Array(r.header), from: r.from, to: r.to, now: r.now.getTime() };
    if (r.separator !== undefined) request.separator = r.separator;
    if (!this.sent.has(r.script)) {
      request.source = r.source;
      this.sent.add(r.script);
    }
    return new Promise<SieveOutcome>((resolve, reject) => {
      // Held while a run is pending (a process with nothing else to do still waits for it); not otherwise.
      if (this.pending.size === 0) this.worker!.ref();
      this.pending.set(request.id, { request, source: r.source, resolve, reject });
      this.outbox.push(request);
      if (this.outbox.length === 1) setImmediate(this.sendOutbox);
    });
  }

  /**
   * The runs asked for in one turn of the event loop go in one message, and come back in one:
   * waking a sleeping thread is the expensive part of the trip (a futex wake, on a VM an
   * interrupt to the other core), so it is paid once per turn, not per delivery.
   */
  private outbox: SieveThreadRequest[] = [];
  private readonly sendOutbox = (): void => {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0) this.worker?.postMessage(batch);
  };

  /** Stops the thread; runs still pending there are failed (their callers run them themselves). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.broken = true;
    this.online = false;
    this.worker = null;
    this.outbox = [];
    this.failAll(new Error('the Sieve thread was closed'));
    await worker?.terminate();
  }

  private start(): void {
    const worker = newWorker({ limits: this.limits, maxScripts: this.maxScripts });
    this.worker = worker;
    worker.once('online', () => {
      if (this.worker === worker) this.online = true;
    });
    worker.on('message', (replies: SieveThreadReply[]) => {
      for (const reply of replies) this.answered(reply);
    });
    const fail = (err: unknown): void => {
      if (this.worker !== worker) return; // closed on purpose, or already failed
      this.broken = true;
      this.online = false;
      this.worker = null;
      this.outbox = [];
      this.failAll(err);
      this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the Sieve thread exited with code ${code}`)));
    worker.unref();
  }

  private answered(reply: SieveThreadReply): void {
    const p = this.pending.get(reply.id);
    if (!p) return;
    if (reply.missing) {
      // The thread forgot the script (more scripts than it keeps): the same request with its text.
      p.request.source = p.source;
      this.worker?.postMessage([p.request]);
      return;
    }
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    p.resolve(reply.outcome);
  }

  private failAll(err: unknown): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
