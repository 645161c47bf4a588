/**
 * `npx tsx bench/inline-max-costs.ts [--inline-max BYTES,BYTES…] [--size BYTES] [--count N] [--skip N] [--rounds R] [--reads N]`
 *
 * What the SQLite store's inlineMax costs on either side of a body's size, in process (no IMAP):
 * for each inlineMax in turn (alternated round by round, so drift in the machine's load falls on
 * all), a fresh SqliteStore in a temp folder, `count` APPENDs of `size` bytes streamed in 64 KiB
 * chunks with their size announced (as an IMAP literal reaches the store), back to back. Reported
 * per inlineMax, over all but the first `skip` APPENDs:
 * - the APPEND's wall time p50/p90 (NOISY) and the main thread's and the other threads' CPU per
 *   APPEND (/proc schedstat: the sync threads' fdatasyncs and the thread pool's writes count there);
 * - the WAL syncs per APPEND (SqliteTimings.walSync), the body files' fdatasyncs and folder fsyncs
 *   (counted by wrapping fs.promises' FileHandle.sync/datasync) — what the APPEND waits for;
 * - the checkpoints: how many, and how long each one's copy (`wal_checkpoint(PASSIVE)`, on the
 *   event loop, where every session waits) and its hold on writes took, max and sum;
 * - the WAL file's largest size seen after an APPEND, and the database file's size at the end;
 * - then `reads` whole-body reads (store.stream, as FETCH BODY[] reads a body): main-thread CPU per
 *   read and the largest memory behind one chunk it yields (chunk.buffer.byteLength): an inline
 *   body is read whole from the database and held for the whole read, a file streams in pieces.
 *   The database's size is taken after the store closed (its last checkpoint done).
 * Wall clock is NOISY on a loaded machine; CPU and the counts are the figures.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BlobFiles } from '../src/store/sqlite/blob-files.js';
import { Checkpointer } from '../src/store/sqlite/checkpointer.js';
import { sizedMessage } from './load/sized-message.js';

const { values } = parseArgs({
  options: {
    'inline-max': { type: 'string', default: '262144,1048576' },
    size: { type: 'string', default: '330000' },
    count: { type: 'string', default: '80' },
    skip: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '2' },
    reads: { type: 'string', default: '40' },
  },
});
const SIZE = Number(values.size);
const COUNT = Number(values.count);
const SKIP = Number(values.skip);
const READS = Number(values.reads);
const limits = values['inline-max'].split(',').map(Number);

/** This thread's CPU (ms) and the whole process's, from /proc (schedstat: ns on CPU). */
function cpuMs(): { main: number; all: number } {
  const main = Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  const u = process.cpuUsage();
  return { main, all: (u.user + u.system) / 1000 };
}

// Checkpoint copies, timed where they run (synchronously, on the event loop).
let copies: number[] = [];
const proto = Checkpointer.prototype as unknown as { copy: () => unknown };
const copy = proto.copy;
proto.copy = function (this: unknown) {
  const t = performance.now();
  try {
    return copy.call(this);
  } finally {
    copies.push(performance.now() - t);
  }
};
// Body-file syncs asked for (install: the file's fdatasync and its folder's fsync).
let fileSyncs = 0;
const install = BlobFiles.prototype.install;
BlobFiles.prototype.install = function (this: BlobFiles, ...args: Parameters<typeof install>) {
  fileSyncs += 2;
  return install.apply(this, args);
};

interface Result {
  wall: number[];
  main: number;
  other: number;
  walSyncs: number;
  fileSyncs: number;
  holds: number[];
  copies: number[];
  walMax: number;
  dbSize: number;
  readMain: number;
  readExternal: number;
}

async function run(inlineMax: number, round: number): Promise<Result> {
  const directory = await mkdtemp(join(tmpdir(), 'postroom-inline-max-'));
  let walSyncs = 0;
  const holds: number[] = [];
  const store = await SqliteStore.open({
    directory,
    inlineMax,
    timings: { walSync: () => void walSyncs++, checkpoint: () => undefined, writesHeld: (s) => void holds.push(s * 1000) },
  });
  copies = [];
  fileSyncs = 0;
  const wall: number[] = [];
  let walMax = 0;
  let cpu0 = cpuMs();
  let syncs0 = 0;
  let files0 = 0;
  let holds0 = 0;
  let copies0 = 0;
  const uids: number[] = [];
  let closed = false;
  try {
    const user = await store.open('alice');
    const inbox = await user.get('INBOX');
    for (let i = 0; i < COUNT; i++) {
      if (i === SKIP) {
        cpu0 = cpuMs();
        syncs0 = walSyncs;
        files0 = fileSyncs;
        holds0 = holds.length;
        copies0 = copies.length;
      }
      const m = sizedMessage(round * 100_000 + i, SIZE);
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let o = 0; o < m.length; o += 65536) yield m.subarray(o, o + 65536);
      }
      const t = performance.now();
      const r = await user.append(inbox.id, { content: Object.assign(chunks(), { size: m.length }) });
      if (i >= SKIP) wall.push(performance.now() - t);
      uids.push(r.uid);
      const w = await stat(join(directory, 'mail.sqlite-wal')).catch(() => undefined);
      walMax = Math.max(walMax, w?.size ?? 0);
    }
    const cpu1 = cpuMs();
    const n = COUNT - SKIP;
    // Whole-body reads, as FETCH BODY[]: one at a time, chunks dropped as they come.
    global.gc?.();
    const r0 = cpuMs();
    let readExternal = 0;
    for (let i = 0; i < READS; i++) {
      let bytes = 0;
      for await (const chunk of user.stream(inbox.id, uids[i % uids.length]!)) {
        bytes += chunk.length;
        // The memory behind the chunk: an inline body's chunks are views of the whole body.
        readExternal = Math.max(readExternal, chunk.buffer.byteLength);
      }
      if (bytes !== SIZE && Math.abs(bytes - SIZE) > 200) throw new Error(`read ${bytes} bytes of ${SIZE}`);
    }
    const r1 = cpuMs();
    await user.close();
    await store.close();
    closed = true;
    const db = await stat(join(directory, 'mail.sqlite'));
    return {
      wall,
      main: (cpu1.main - cpu0.main) / n,
      other: (cpu1.all - cpu0.all - (cpu1.main - cpu0.main)) / n,
      walSyncs: (walSyncs - syncs0) / n,
      fileSyncs: (fileSyncs - files0) / n,
      holds: holds.slice(holds0),
      copies: copies.slice(copies0),
      walMax,
      dbSize: db.size,
      readMain: (r1.main - r0.main) / Math.max(1, READS),
      readExternal,
    };
  } finally {
    if (!closed) await store.close();
    await rm(directory, { recursive: true, force: true });
  }
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
};
const f = (n: number, d = 2): string => n.toFixed(d);
const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
const MiB = 1024 * 1024;

process.stdout.write(`size ${SIZE}, ${COUNT} APPENDs (first ${SKIP} not counted), ${READS} reads, load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}\n`);
process.stdout.write('| round | inlineMax | APPEND p50/p90 ms | CPU main/other ms | WAL syncs | file syncs | checkpoints (copy max/sum ms; hold max/sum ms) | WAL max MiB | db MiB | read CPU ms | read holds KiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n');
for (let round = 0; round < Number(values.rounds); round++) {
  const order = round % 2 === 0 ? limits : [...limits].reverse();
  for (const lim of order) {
    const r = await run(lim, round);
    process.stdout.write(
      `| ${round} | ${lim} | ${f(q(r.wall, 0.5))}/${f(q(r.wall, 0.9))} | ${f(r.main)}/${f(r.other)} | ${f(r.walSyncs)} | ${f(r.fileSyncs)} | ` +
        `${r.copies.length} (${f(Math.max(0, ...r.copies))}/${f(sum(r.copies))}; ${f(Math.max(0, ...r.holds))}/${f(sum(r.holds))}) | ` +
        `${f(r.walMax / MiB, 1)} | ${f(r.dbSize / MiB, 1)} | ${f(r.readMain, 3)} | ${f(r.readExternal / 1024, 0)} |\n`,
    );
  }
}
