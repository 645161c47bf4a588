/**
 * The Sieve thread's side (sieve-thread.ts): compiles the scripts it is sent (kept by the id the
 * loop gave them) and runs them on copies of a delivery's envelope and header section. Only
 * scripts that need nothing else come here (runsSelfContained): no body, size, redirect, header
 * edits or mailbox lookups — so the environment below has none of those to give.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileSieve, runSieveNow } from '../sieve/index.js';
import type { SieveEnvironment, SieveLimits, SieveOutcome, SieveScript } from '../sieve/types.js';
import type { SieveThreadReply, SieveThreadRequest } from './sieve-thread.js';

const { limits, maxScripts } = workerData as { limits: SieveLimits; maxScripts: number };
/** Compiled scripts by the loop's id, least recently run first. */
const scripts = new Map<number, SieveScript | string>();

function scriptFor(request: SieveThreadRequest): SieveScript | string | undefined {
  let found = scripts.get(request.script);
  if (found !== undefined) {
    scripts.delete(request.script);
  } else {
    if (request.source === undefined) return undefined;
    const compiled = compileSieve(request.source, { limits });
    found = compiled.ok ? compiled.script : compiled.errors.map((e) => `line ${e.line}, column ${e.column}: ${e.message}`).join('; ');
  }
  scripts.set(request.script, found);
  if (scripts.size > maxScripts) scripts.delete(scripts.keys().next().value!);
  return found;
}

function notHere(what: string): never {
  throw new Error(`the message's ${what} is not available on the Sieve thread`);
}

/** What a run sees: the copies the loop sent, and nothing that needs the message or the store. */
class ThreadEnvironment implements SieveEnvironment {
  readonly envelope: { from: string; to: string };
  readonly userAddresses: readonly string[];
  readonly now: Date;
  readonly header: Buffer;
  readonly subaddressSeparator?: string;

  constructor(request: SieveThreadRequest) {
    this.envelope = { from: request.from, to: request.to };
    this.userAddresses = [request.to];
    this.now = new Date(request.now);
    const h = request.header;
    this.header = Buffer.from(h.buffer, h.byteOffset, h.byteLength);
    if (request.separator !== undefined) this.subaddressSeparator = request.separator;
  }

  body(): Promise<Buffer> {
    return notHere('body');
  }

  get size(): number {
    return notHere('size');
  }

  mailboxExists(): Promise<boolean> {
    return notHere('mailbox list');
  }
}

async function answer(request: SieveThreadRequest): Promise<SieveThreadReply> {
  const script = scriptFor(request);
  if (script === undefined) return { id: request.id, missing: true };
  if (typeof script === 'string') return { id: request.id, outcome: { actions: [{ type: 'keep' }], error: script } };
  let outcome: SieveOutcome;
  try {
    const ran = runSieveNow(script, new ThreadEnvironment(request), limits);
    outcome = ran instanceof Promise ? await ran : ran;
  } catch (err) {
    outcome = { actions: [{ type: 'keep' }], error: (err as Error).message };
  }
  return { id: request.id, outcome };
}

// A batch of the loop's requests (one turn of its event loop) is answered in one message.
parentPort!.on('message', (requests: SieveThreadRequest[]) => {
  // Every request is answered, even one whose compile or run threw here: a delivery waits for it.
  const settled = requests.map((r) => answer(r).catch((err: unknown): SieveThreadReply => ({ id: r.id, outcome: { actions: [{ type: 'keep' }], error: `the Sieve thread failed: ${(err as Error).message}` } })));
  void Promise.all(settled).then((replies) => parentPort!.postMessage(replies));
});
