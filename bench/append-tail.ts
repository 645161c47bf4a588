/**
 * `npx tsx bench/append-tail.ts DIR [DIR…]`: the APPENDs of a one-client persistent run split by
 * message size, and what the slowest of them had in them. Each DIR is a trace folder as
 * bench/persistent-ab.ts leaves it (`.bench-tmp/persistent-ab/<run-name>/<pair>-<tree>/trace`:
 * POSTROOM_BENCH_TAILS' server trace, bench/servers/tails.ts, and the load generator's, which
 * carries each APPEND's size, bench/load/trace.ts). Per size class (the busy mix's messages,
 * bench/load/messages.ts: 85 % text of 1–8 KB, 13 % with a 10–60 KB attachment, 2 % with one of
 * 150–300 KB, inline up to 256 KiB and a body file above): count, client round trip p50/p90/p99,
 * the server's share (bytes read → tagged OK handed to the socket) and the process CPU over it.
 * Then the APPENDs above the APPEND p99 of each DIR: their classes, and how many had a WAL sync,
 * a checkpoint, a checkpoint's hold on writes, a scavenge or Mark-Compact, or a blocked loop inside
 * the server's share, with the mean time those took inside it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientTraceEntry } from './load/trace.js';
import type { CommandRecord, Span } from './servers/tails.js';

interface ServerTrace {
  commands: CommandRecord[];
  gc: Span[];
  walSync: Span[];
  checkpoint: Span[];
  hold?: Span[];
  blocked: Span[];
}

const dirs = process.argv.slice(2);
if (dirs.length === 0) {
  process.stderr.write('usage: append-tail.ts DIR [DIR…]\n');
  process.exit(2);
}

const CLASSES: [string, number][] = [
  ['< 16 KB (text)', 16_000],
  ['16–100 KB', 100_000],
  ['100 KB–256 KiB (inline)', 262_144],
  ['> 256 KiB (body file)', Number.POSITIVE_INFINITY],
];
const classOf = (bytes: number): string => CLASSES.find(([, max]) => bytes <= max)![0];

interface Row {
  bytes: number;
  total: number;
  server: number;
  cpu: number;
  arrived: number;
  flushed: number;
  dir: number;
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
};
const f = (n: number): string => n.toFixed(2);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

const rows: Row[] = [];
const traces: ServerTrace[] = [];
for (const [d, dir] of dirs.entries()) {
  const files = readdirSync(dir);
  const servers = files.filter((x) => x.startsWith('server-')).map((x) => JSON.parse(readFileSync(join(dir, x), 'utf8')) as ServerTrace);
  const trace: ServerTrace = {
    commands: servers.flatMap((s) => s.commands).filter((c) => Number.isFinite(c.flushed)).sort((a, b) => a.arrived - b.arrived),
    gc: servers.flatMap((s) => s.gc),
    walSync: servers.flatMap((s) => s.walSync),
    checkpoint: servers.flatMap((s) => s.checkpoint),
    hold: servers.flatMap((s) => s.hold ?? []),
    blocked: servers.flatMap((s) => s.blocked),
  };
  traces.push(trace);
  const clients = files.filter((x) => x.startsWith('client-')).flatMap((x) => JSON.parse(readFileSync(join(dir, x), 'utf8')) as ClientTraceEntry[]);
  const first = (t: number): number => {
    let lo = 0;
    let hi = trace.commands.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (trace.commands[mid]!.arrived < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const c of clients) {
    if (c.name !== 'APPEND' || c.bytes === undefined) continue;
    const s = trace.commands[first(c.sent - 0.05)];
    if (!s || s.name !== 'APPEND' || s.arrived > c.answered || s.flushed > c.answered + 0.05) continue;
    rows.push({ bytes: c.bytes, total: c.done - c.sent, server: s.flushed - s.arrived, cpu: s.cpu, arrived: s.arrived, flushed: s.flushed, dir: d });
  }
}

process.stdout.write(`${rows.length} APPENDs joined from ${dirs.length} run(s)\n\n`);
process.stdout.write('| size class | n | share | client p50/p90/p99 ms | server p50/p99 ms | CPU p50/p99 ms |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
for (const [name] of CLASSES) {
  const rs = rows.filter((r) => classOf(r.bytes) === name);
  if (rs.length === 0) continue;
  const c = rs.map((r) => r.total);
  process.stdout.write(
    `| ${name} | ${rs.length} | ${((100 * rs.length) / rows.length).toFixed(1)} % | ${f(q(c, 0.5))}/${f(q(c, 0.9))}/${f(q(c, 0.99))} | ` +
      `${f(q(rs.map((r) => r.server), 0.5))}/${f(q(rs.map((r) => r.server), 0.99))} | ${f(q(rs.map((r) => r.cpu), 0.5))}/${f(q(rs.map((r) => r.cpu), 0.99))} |\n`,
  );
}
const all = rows.map((r) => r.total);
process.stdout.write(`| all | ${rows.length} | | ${f(q(all, 0.5))}/${f(q(all, 0.9))}/${f(q(all, 0.99))} | | |\n\n`);

// Above each run's own APPEND p99 (runs differ in load; pooled they would pick the slowest run).
const slow: Row[] = [];
for (let d = 0; d < dirs.length; d++) {
  const rs = rows.filter((r) => r.dir === d);
  const p99 = q(
    rs.map((r) => r.total),
    0.99,
  );
  slow.push(...rs.filter((r) => r.total >= p99));
}
/** Time inside [a, b] covered by spans, and whether any. */
const inside = (spans: Span[], a: number, b: number): number => spans.reduce((n, x) => n + Math.max(0, Math.min(b, x.end) - Math.max(a, x.start)), 0);
const report = (label: string, spans: (t: ServerTrace) => Span[]): string => {
  const hit = slow.map((r) => inside(spans(traces[r.dir]!), r.arrived, r.flushed)).filter((ms) => ms > 0);
  return `${label} ${hit.length} (${f(mean(hit))} ms inside)`;
};
const byClass = CLASSES.map(([name]) => `${name}: ${slow.filter((r) => classOf(r.bytes) === name).length}`).join(', ');
process.stdout.write(`APPENDs at or above their run's p99: ${slow.length} — ${byClass}\n`);
process.stdout.write(`  mean client ${f(mean(slow.map((r) => r.total)))} ms, server ${f(mean(slow.map((r) => r.server)))} ms, CPU ${f(mean(slow.map((r) => r.cpu)))} ms; sizes ${slow.map((r) => Math.round(r.bytes / 1000)).sort((a, b) => a - b).join(' ')} KB\n`);
process.stdout.write(
  `  with, inside the server's share: ${report('WAL sync', (t) => t.walSync)}; ${report('checkpoint', (t) => t.checkpoint)}; ${report('writes held', (t) => t.hold ?? [])}; ` +
    `${report('scavenge', (t) => t.gc.filter((g) => g.kind === 1))}; ${report('Mark-Compact/incremental', (t) => t.gc.filter((g) => g.kind !== 1))}; ${report('loop blocked > 2 ms', (t) => t.blocked)}\n`,
);
// The WAL syncs themselves: how long they take, and whether a slow APPEND's own sync had to wait for
// one already running when its bytes arrived (a STORE's flag sync, flagSyncDelayMs).
const syncs = traces.flatMap((t) => t.walSync.map((s) => s.end - s.start));
process.stdout.write(`WAL syncs: ${syncs.length}, p50/p90/p99 ${f(q(syncs, 0.5))}/${f(q(syncs, 0.9))}/${f(q(syncs, 0.99))} ms\n`);
const counts = slow.map((r) => traces[r.dir]!.walSync.filter((s) => s.end > r.arrived && s.start < r.flushed));
const runningAtArrival = slow.filter((r) => traces[r.dir]!.walSync.some((s) => s.start < r.arrived && s.end > r.arrived)).length;
process.stdout.write(
  `  slow APPENDs: WAL syncs inside, mean ${f(mean(counts.map((c) => c.length)))}; one already running when the bytes arrived: ${runningAtArrival}; ` +
    `their last sync's length mean ${f(mean(counts.filter((c) => c.length).map((c) => c[c.length - 1]!.end - c[c.length - 1]!.start)))} ms, ` +
    `its end → OK out mean ${f(mean(slow.map((r, i) => (counts[i]!.length ? r.flushed - counts[i]![counts[i]!.length - 1]!.end : Number.NaN)).filter(Number.isFinite)))} ms, ` +
    `bytes read → its start mean ${f(mean(slow.map((r, i) => (counts[i]!.length ? counts[i]![counts[i]!.length - 1]!.start - r.arrived : Number.NaN)).filter(Number.isFinite)))} ms\n`,
);
