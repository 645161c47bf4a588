/**
 * `npx tsx bench/lmtp-slow.ts [--kb 10] [--seconds 8] [--sessions 1] [--growth-pages N]`: what the slowest LMTP
 * deliveries of one session coincide with. One process: a SQLite store and the LMTP server, and a
 * client that delivers `--kb` KB messages to one recipient back to back; every transaction's start
 * and end are recorded on the same clock as the store's WAL syncs and checkpoints (the store's
 * `timings` hook), the spans writes are held and the checkpoint's copy (its frames counted), V8's
 * garbage collections (PerformanceObserver) and event-loop stalls, split by the main thread's
 * schedstat into "running" and "off the CPU". For each transaction slower than the p99, the events
 * that overlap it are printed, then each kind's share of the slow transactions beside its share of
 * all. (Client and server in one process: a client-side stall shows up too, as a stall overlapping
 * the transaction.) `--growth-pages N` sets the checkpointer's growth bound (checkpointer.ts;
 * a huge N gives the once-a-second checkpoints of before, for an A/B in one build).
 */
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { StaticAuthenticator } from '../src/auth/static-users.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { createLmtpServer } from '../src/lmtp/server.js';
import Database from 'better-sqlite3';
import { GroupCommit } from '../src/store/sqlite/group-commit.js';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { BENCH_TMP } from './servers/common.js';

const { values } = parseArgs({ options: { kb: { type: 'string', default: '10' }, seconds: { type: 'string', default: '8' }, sessions: { type: 'string', default: '1' }, 'growth-pages': { type: 'string' } } });
const SIZE = Number(values.kb) * 1024;
const SECONDS = Number(values.seconds);
const SESSIONS = Number(values.sessions);

interface Span {
  kind: string;
  start: number;
  end: number;
}
const events: Span[] = [];
const now = (): number => performance.now();

const dir = join(BENCH_TMP, 'lmtp-slow');
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
// The span writes are held (the checkpoint's copy and database fdatasync): wrapped here so the
// store keeps no bench code.
const hold = GroupCommit.prototype.hold;
GroupCommit.prototype.hold = function (this: GroupCommit) {
  const start = now();
  const release = hold.call(this);
  let released = false;
  return () => {
    if (!released) events.push({ kind: 'writes held', start, end: now() });
    released = true;
    release();
  };
};
// The copy itself (synchronous, on the event loop) and the WAL frames it copied.
const copies: Array<{ ms: number; frames: number }> = [];
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (this: Database.Database, source: string, options?: Database.PragmaOptions) {
  if (source !== 'wal_checkpoint(PASSIVE)') return pragma.call(this, source, options);
  const start = now();
  const result = pragma.call(this, source, options) as Array<{ checkpointed: number }>;
  events.push({ kind: 'checkpoint copy', start, end: now() });
  copies.push({ ms: now() - start, frames: result[0]?.checkpointed ?? 0 });
  return result;
};
const store = await SqliteStore.open({
  directory: join(dir, 'data'),
  ...(values['growth-pages'] ? { checkpoints: { growthPages: Number(values['growth-pages']) } } : {}),
  timings: {
    walSync: (s) => events.push({ kind: 'wal fdatasync (write waits)', start: now() - s * 1000, end: now() }),
    checkpoint: (s) => events.push({ kind: 'checkpoint', start: now() - s * 1000, end: now() }),
  },
});
const server = createLmtpServer({ store, auth: new StaticAuthenticator({ user1: 'x' }), hostname: 'bench.test', port: 0, spoolDirectory: join(dir, 'spool') });
const { port } = await server.listen();

new PerformanceObserver((list) => {
  for (const e of list.getEntries()) events.push({ kind: `gc ${(e as unknown as { detail?: { kind?: number } }).detail?.kind ?? ''}`, start: e.startTime, end: e.startTime + e.duration });
}).observe({ entryTypes: ['gc'] });
// Event-loop stalls over 3 ms, seen by a 1 ms timer, split by the main thread's schedstat
// (nanoseconds on the CPU, nanoseconds runnable but waiting for one) into a loop that ran — work,
// a GC — and one the scheduler kept off the CPU (other processes, or our own threads).
const schedstat = `/proc/self/task/${process.pid}/schedstat`;
const sched = (): [number, number] => {
  const [run, wait] = readFileSync(schedstat, 'latin1').split(' ').map(Number);
  return [run! / 1e6, wait! / 1e6];
};
let last = now();
let lastSched = sched();
let lastCpu = process.cpuUsage();
/** Over the stalls off the CPU: their wall time, and the CPU our other threads had meanwhile. */
const offCpu = { wall: 0, otherThreads: 0 };
const ticker = setInterval(() => {
  const t = now();
  const s = sched();
  const cpu = process.cpuUsage();
  if (t - last > 4) {
    const ran = s[0] - lastSched[0];
    const waited = s[1] - lastSched[1];
    events.push({ kind: waited > ran ? 'event loop off the CPU' : 'event loop running', start: last + 1, end: t });
    if (waited > ran) {
      offCpu.wall += t - last;
      offCpu.otherThreads += (cpu.user - lastCpu.user + cpu.system - lastCpu.system) / 1000 - ran;
    }
  }
  last = t;
  lastSched = s;
  lastCpu = cpu;
}, 1);
const elu = monitorEventLoopDelay({ resolution: 1 });
elu.enable();

const head = 'From: Bench <bench@bench.test>\r\nTo: user1@bench.test\r\nSubject: slow\r\n\r\n';
const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
// One buffer per session, built once, its X-N header's digits rewritten per message (a new body
// each time, or the store would keep one copy): a 1 MB string or buffer per message would be the
// client's garbage, and the mark-compacts it causes would be counted against the server.
const body = head + line.repeat(Math.ceil((SIZE - head.length) / line.length));
const template = (): Buffer => Buffer.from(`X-N: 0000000000\r\n${body}`);
const tx: Span[] = [];
const until = now() + SECONDS * 1000;
let n = 0;
await Promise.all(
  Array.from({ length: SESSIONS }, async () => {
    const client = await LmtpClient.connect({ host: '127.0.0.1', port: port! });
    const message = template();
    while (now() < until) {
      message.write(String(++n).padStart(10, '0'), 5, 'latin1');
      const start = now();
      const r = await client.send('s@bench.test', [{ address: 'user1@bench.test' }], message);
      if (r.delivery[0]?.code !== 250) throw new Error(`not delivered: ${JSON.stringify(r.delivery[0])}`);
      tx.push({ kind: 'tx', start, end: now() });
    }
    await client.quit();
  }),
);
clearInterval(ticker);
await server.close();
await store.close();

const warm = tx.filter((t) => t.start > tx[0]!.start + 1000);
const sorted = warm.map((t) => t.end - t.start).sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
console.log(`${warm.length} deliveries of ${SIZE} bytes after a 1 s warm-up; p50 ${pct(50).toFixed(2)} ms, p99 ${pct(99).toFixed(2)} ms, max ${sorted[sorted.length - 1]!.toFixed(2)} ms`);
const p99 = pct(99);
const slow = warm.filter((t) => t.end - t.start >= p99);
const tally = new Map<string, number>();
for (const t of slow) {
  const overlapping = events.filter((e) => e.end > t.start && e.start < t.end && e.end - e.start >= 1);
  const kinds = [...new Set(overlapping.map((e) => e.kind.replace(/ \d+$/, '')))].sort();
  const key = kinds.join(' + ') || '(nothing recorded)';
  tally.set(key, (tally.get(key) ?? 0) + 1);
  console.log(`  ${(t.end - t.start).toFixed(1).padStart(6)} ms at ${(t.start / 1000).toFixed(3)}s: ${overlapping.map((e) => `${e.kind} ${(e.end - e.start).toFixed(1)} ms`).join(', ') || '-'}`);
}
// How much more often each kind overlaps a slow delivery than any delivery: what the slow ones share.
console.log('kind: share of slow deliveries it overlaps / share of all deliveries');
const kinds = [...new Set(events.map((e) => e.kind.replace(/ \d+$/, '')))].sort();
const share = (set: Span[], kind: string): number =>
  set.filter((t) => events.some((e) => e.kind.replace(/ \d+$/, '') === kind && e.end > t.start && e.start < t.end && e.end - e.start >= 1)).length / set.length;
for (const k of kinds) console.log(`  ${k}: ${(100 * share(slow, k)).toFixed(0)} % / ${(100 * share(warm, k)).toFixed(1)} %`);
console.log('slow deliveries (>= p99) by what overlapped them:');
for (const [k, v] of [...tally].sort((a, b) => b[1] - a[1])) console.log(`  ${v}  ${k}`);
const ck = events.filter((e) => e.kind === 'checkpoint');
const cd = ck.map((e) => e.end - e.start).sort((a, b) => a - b);
if (cd.length) console.log(`checkpoints: ${cd.length}, median ${cd[Math.floor(cd.length / 2)]!.toFixed(1)} ms, max ${cd[cd.length - 1]!.toFixed(1)} ms`);
// Two cores: other threads of ours near 2× the wall time would mean we kept ourselves off the CPU.
console.log(`event loop off the CPU: ${offCpu.wall.toFixed(0)} ms in all; this process's other threads (pool, sync, GC helpers) ran ${offCpu.otherThreads.toFixed(0)} ms meanwhile`);
if (copies.length) {
  const cs = [...copies].sort((a, b) => a.ms - b.ms);
  console.log(`checkpoint copies (event loop): median ${cs[Math.floor(cs.length / 2)]!.ms.toFixed(1)} ms, max ${cs[cs.length - 1]!.ms.toFixed(1)} ms; frames copied: ${copies.map((c) => c.frames).join(' ')}`);
}
const hd = events.filter((e) => e.kind === 'writes held').map((e) => e.end - e.start).sort((a, b) => a - b);
if (hd.length) console.log(`writes held: ${hd.length} times, median ${hd[Math.floor(hd.length / 2)]!.toFixed(1)} ms, max ${hd[hd.length - 1]!.toFixed(1)} ms`);
const ws = events.filter((e) => e.kind.startsWith('wal')).map((e) => e.end - e.start).sort((a, b) => a - b);
if (ws.length) console.log(`WAL syncs: ${ws.length}, median ${ws[Math.floor(ws.length / 2)]!.toFixed(1)} ms, p99 ${ws[Math.floor(ws.length * 0.99)]!.toFixed(1)} ms`);
rmSync(dir, { recursive: true, force: true });
const gcs = new Map<string, number[]>();
for (const e of events) if (e.kind.startsWith('gc')) gcs.set(e.kind, [...(gcs.get(e.kind) ?? []), e.end - e.start]);
// perf_hooks kinds: 1 minor (scavenge), 4 major (mark-sweep-compact), 8 incremental marking, 16 weak callbacks.
for (const [kind, ds] of gcs) {
  ds.sort((a, b) => a - b);
  console.log(`${kind}: ${ds.length}, median ${ds[Math.floor(ds.length / 2)]!.toFixed(1)} ms, max ${ds[ds.length - 1]!.toFixed(1)} ms`);
}
