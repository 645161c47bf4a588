/**
 * The parse of a large new body (its MIME structure, search and sort columns, preview: derive.ts)
 * on a worker thread of the store's own, so that the event loop goes on with other sessions
 * meanwhile — about 0.4 ms of CPU per megabyte, the largest step of a 1 MB delivery left on the
 * loop once its hash moved to hash-thread.ts (bench/lmtp-steps.ts, bench/RESULTS.md).
 *
 * The bytes are copied into a buffer of this class's own and transferred (the kept bytes are a
 * reused buffer the caller releases after the parse: kept-bytes.ts); the thread transfers the buffer
 * back with the result, for the next body. The parse is the same code either side and depends on
 * nothing but the bytes, so a thread that fails costs no correctness: the bodies it was parsing,
 * and every later one, are parsed on the event loop instead (a log line says so).
 *
 * Running from TypeScript sources (tsx: the benchmarks, the tests), the thread registers tsx itself
 * before it loads parse-worker.ts — a worker does not inherit the parent's loader hooks.
 */
import { Worker } from 'node:worker_threads';
import { deriveContent, type Parsed } from './derive.js';

const ENTRY = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.url);
})().catch((err) => { throw err; });
`;

/** Buffers back from the thread kept for reuse, at most. */
const SPARE_MAX = 4;

interface Reply {
  id: number;
  parsed?: Parsed;
  error?: string;
  spare?: ArrayBuffer;
}

interface Pending {
  raw: Buffer;
  resolve: (parsed: Parsed) => void;
  reject: (err: unknown) => void;
}

export class ParseThread {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly spare: ArrayBuffer[] = [];
  private nextId = 1;
  private broken = false;
  private closing = false;

  constructor(private readonly onBroken?: (err: unknown) => void) {}

  /** deriveContent(raw), on the thread when it is up. `raw` must not change until this resolves. */
  derive(raw: Buffer): Promise<Parsed> {
    if (this.broken || this.closing) return Promise.resolve(deriveContent(raw));
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    const buffer = this.take(raw.length);
    new Uint8Array(buffer).set(raw);
    return new Promise<Parsed>((resolve, reject) => {
      this.pending.set(id, { raw, resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, bytes: buffer, length: raw.length }, [buffer]);
    });
  }

  /** Bodies being parsed on the thread. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** For tests: the thread stops as a crash would. */
  async crashForTest(): Promise<void> {
    await this.worker?.terminate();
  }

  /** Stops the thread once nothing is being parsed there. */
  async close(): Promise<void> {
    while (this.pending.size > 0) await new Promise((r) => setImmediate(r));
    this.closing = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private take(length: number): ArrayBuffer {
    for (let i = this.spare.length - 1; i >= 0; i--) if (this.spare[i]!.byteLength >= length) return this.spare.splice(i, 1)[0]!;
    // Room to grow: the next bodies are seldom exactly this size.
    return new ArrayBuffer(Math.max(length, 1024 * 1024) + 256 * 1024);
  }

  private start(): Worker {
    const fromSource = import.meta.url.endsWith('.ts');
    const url = new URL(fromSource ? './parse-worker.ts' : './parse-worker.js', import.meta.url).href;
    const tsx = fromSource ? import.meta.resolve('tsx/esm/api') : null;
    const worker = new Worker(ENTRY, { eval: true, name: 'postroom-parse', workerData: { tsx, url } });
    this.worker = worker;
    worker.on('message', (reply: Reply) => {
      if (reply.spare && this.spare.length < SPARE_MAX) this.spare.push(reply.spare);
      const job = this.pending.get(reply.id);
      if (!job) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      // A parse that threw there throws the same here (the code is the same).
      if (reply.parsed) job.resolve(reply.parsed);
      else this.parseHere(job);
    });
    const fail = (err: unknown): void => {
      if (this.worker !== worker || this.closing) return;
      this.worker = null;
      const first = !this.broken;
      this.broken = true;
      const jobs = [...this.pending.values()];
      this.pending.clear();
      for (const job of jobs) this.parseHere(job);
      if (first) this.onBroken?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the parse thread exited with code ${code}`)));
    worker.unref();
    return worker;
  }

  private parseHere(job: Pending): void {
    try {
      job.resolve(deriveContent(job.raw));
    } catch (err) {
      job.reject(err);
    }
  }
}
