/**
 * `npx tsx bench/persistent-ab.ts [--trees DIR_A,DIR_B] [--pairs N] [--seconds S] [--warmup S]`:
 * one persistent client's busy mix (vs-dovecot's persistent-1) against Postroom alone, built from
 * one or more source trees in turn (A B, B A, A B, … so drift in the machine's load falls on both),
 * each run on a fresh server with POSTROOM_BENCH_TAILS. Per command it prints the client's round
 * trip, the server's share of it (bytes read → answer handed to the socket) and the process CPU
 * used from read to end (every thread, getrusage), p50/p99, from the measured rounds only (the
 * warm-up's commands are left out), with the load average at each run. Then, per tree, the median
 * over its runs of each figure. Meant to judge a server change on a loaded machine: the server's
 * share and its CPU move with the change; the client's round trip moves with the machine.
 * `--heap-prof`: each server also writes a sampling heap profile of its measured rounds (heap.json
 * beside its trace; read it with bench/heap-prof-summary.ts).
 * `--node-args "--trace-gc …"`: flags for the server's node. `--run-name NAME`: the runs' folders go
 * under .bench-tmp/persistent-ab/NAME (default: none; give one when other benches run beside) and
 * are kept after the run (traces for bench/append-tail.ts); delete them when done.
 * A tree is a checkout with the same bench/ (copy this one's bench/ into it) and node_modules.
 */
import { parseArgs } from 'node:util';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runLoad } from './load/run-load.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import type { ClientTraceEntry } from './load/trace.js';
import type { RunningServer } from './servers/postroom.js';
import type { CommandRecord, Span } from './servers/tails.js';
import { treeCpuSeconds } from './servers/process-cpu.js';

const { values } = parseArgs({
  options: {
    trees: { type: 'string', default: '.' },
    pairs: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '10' },
    messages: { type: 'string', default: '1000' },
    'heap-prof': { type: 'boolean', default: false },
    'node-args': { type: 'string' },
    'run-name': { type: 'string' },
  },
});
const trees = values.trees.split(',').map((t) => resolve(t));
const PAIRS = Number(values.pairs);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const spec = mixedUsers(20, Number(values.messages));

/** A command as the server's trace has it (its times on the epoch clock); `alloc` is missing in older traces. */
type ServerCommand = Omit<CommandRecord, 'alloc'> & { alloc?: number };
interface Row {
  n: number;
  client: [number, number];
  server: [number, number];
  cpu: [number, number];
  /** Median KB the heap grew by, read → end, over commands no GC overlapped. */
  allocKb: number;
  /** Share of the commands (per cent) whose server span (read → handed out) a GC overlapped. */
  gcPct: number;
  /**
   * Share (per cent) whose client round trip (sent → checked) a GC overlapped, wherever in it: a
   * scavenge V8 runs between two commands lands in the next one's round trip, not in its server span.
   * Over 1 % for a command, GCs are in its p99.
   */
  gcTripPct: number;
}

const q = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? Number.NaN;
};
const pq = (xs: number[]): [number, number] => [q(xs, 0.5), q(xs, 0.99)];

/** Client trace entries joined to the server's command records (as bench/tails-join.ts does). */
/** Scavenges during the measured rounds, per 1,000 commands, and their median and p90 pause (ms). */
let lastGc = { per1000: 0, p50: 0, p90: 0 };

function join1(dir: string): Map<string, Row> {
  const files = readdirSync(dir);
  const traces = files.filter((f) => f.startsWith('server-')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { commands: ServerCommand[]; gc: Span[] });
  const server = traces
    .flatMap((t) => t.commands)
    .filter((c) => Number.isFinite(c.flushed))
    .sort((a, b) => a.arrived - b.arrived);
  const gc = traces.flatMap((t) => t.gc).sort((a, b) => a.start - b.start);
  const gcIn = (a: number, b: number): boolean => {
    // The first GC ending after a; it overlaps if it starts before b.
    let lo = 0;
    let hi = gc.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (gc[mid]!.end <= a) lo = mid + 1;
      else hi = mid;
    }
    return lo < gc.length && gc[lo]!.start < b;
  };
  const clients = files.filter((f) => f.startsWith('client-')).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ClientTraceEntry[]);
  const first = (t: number): number => {
    let lo = 0;
    let hi = server.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (server[mid]!.arrived < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const by = new Map<string, { client: number[]; server: number[]; cpu: number[]; alloc: number[]; gc: number; gcTrip: number }>();
  for (const c of clients) {
    if (c.name === 'CONNECT') continue;
    const s = server[first(c.sent - 0.05)];
    if (!s || s.arrived > c.answered || s.flushed > c.answered + 0.05) continue;
    let e = by.get(c.name);
    if (!e) by.set(c.name, (e = { client: [], server: [], cpu: [], alloc: [], gc: 0, gcTrip: 0 }));
    if (gcIn(c.sent, c.done)) e.gcTrip++;
    e.client.push(c.done - c.sent);
    e.server.push(s.flushed - s.arrived);
    e.cpu.push(s.cpu);
    if (gcIn(s.arrived, s.flushed)) e.gc++;
    else if (s.alloc !== undefined && !gcIn(s.arrived, s.end)) e.alloc.push(s.alloc / 1024);
  }
  const sent = clients.map((c) => c.sent);
  const from = Math.min(...sent);
  const to = Math.max(...clients.map((c) => c.done));
  const scavenges = gc.filter((g) => g.kind === 1 && g.start >= from && g.end <= to).map((g) => g.end - g.start);
  lastGc = { per1000: (1000 * scavenges.length) / Math.max(1, clients.length), p50: q(scavenges, 0.5), p90: q(scavenges, 0.9) };
  const out = new Map<string, Row>();
  for (const [name, e] of by) {
    out.set(name, { n: e.client.length, client: pq(e.client), server: pq(e.server), cpu: pq(e.cpu), allocKb: q(e.alloc, 0.5), gcPct: (100 * e.gc) / e.client.length, gcTripPct: (100 * e.gcTrip) / e.client.length });
  }
  return out;
}

async function startTree(tree: string, runDir: string, traceDir: string, heapProf?: string): Promise<RunningServer> {
  // Each tree's own bench/servers/postroom.ts, so its server runs that tree's src/.
  const mod = (await import(pathToFileURL(join(tree, 'bench/servers/postroom.ts')).href)) as typeof import('./servers/postroom.js');
  process.env.POSTROOM_BENCH_TAILS = '1';
  process.env.POSTROOM_BENCH_TRACE_DIR = traceDir;
  if (heapProf) {
    process.env.POSTROOM_BENCH_HEAP_PROF = heapProf;
    process.env.POSTROOM_BENCH_HEAP_PROF_ON_SIGNAL = '1';
  }
  return mod.startPostroom({ runDir, spec, maxConnections: 60, ...(values['node-args'] ? { nodeArgs: values['node-args'].split(' ') } : {}) });
}

const f = (n: number): string => n.toFixed(2);
const results: Map<string, Row>[][] = trees.map(() => []);
/** CPU seconds (every thread, user + system) the server used in the measured rounds of the run at hand. */
let measuredCpu = 0;
const cpuPerCommand: number[][] = trees.map(() => []);
const gcs: (typeof lastGc)[][] = trees.map(() => []);
const base = { host: '127.0.0.1', users: Object.keys(spec.users), password: PASSWORD, clients: 1, workers: 1, scenario: 'busy' as const, connectConcurrency: 1, persistent: true };

for (let pair = 0; pair < PAIRS; pair++) {
  const order = trees.map((_, i) => i);
  if (pair % 2 === 1) order.reverse();
  for (const t of order) {
    const tree = trees[t]!;
    const dir = join(BENCH_TMP, 'persistent-ab', values['run-name'] ?? '', `${pair}-${t}`);
    rmSync(dir, { recursive: true, force: true });
    const traceDir = join(dir, 'trace');
    const warmTrace = join(dir, 'warm-trace');
    mkdirSync(traceDir, { recursive: true });
    mkdirSync(warmTrace, { recursive: true });
    const heapProf = values['heap-prof'] ? join(dir, 'heap.json') : undefined;
    const running = await startTree(tree, join(dir, 'run'), traceDir, heapProf);
    const load0 = loadavg()[0]!;
    try {
      // The client's trace of the warm-up goes elsewhere, so only measured commands join.
      process.env.POSTROOM_BENCH_TRACE_DIR = warmTrace;
      if (WARMUP > 0) await runLoad({ ...base, port: running.port, seconds: WARMUP, seed: 99 });
      process.env.POSTROOM_BENCH_TRACE_DIR = traceDir;
      // --heap-prof: the server samples allocation over the measured rounds only.
      if (heapProf) process.kill(running.pid, 'SIGWINCH');
      const cpu0 = treeCpuSeconds(running.pid);
      await runLoad({ ...base, port: running.port, seconds: SECONDS, seed: pair * 10 });
      measuredCpu = treeCpuSeconds(running.pid) - cpu0;
    } finally {
      await running.stop();
    }
    const load1 = loadavg()[0]!;
    const rows = join1(traceDir);
    if (heapProf) process.stdout.write(`heap profile of the measured rounds: ${heapProf} (bench/heap-prof-summary.ts)\n`);
    results[t]!.push(rows);
    const total = [...rows.values()].reduce((n, r) => n + r.n, 0);
    gcs[t]!.push(lastGc);
    cpuPerCommand[t]!.push((measuredCpu * 1e6) / Math.max(1, total));
    process.stdout.write(
      `\n${tree} run ${pair + 1}: ${(total / SECONDS).toFixed(0)} commands/s, load ${load0.toFixed(1)} → ${load1.toFixed(1)}; ` +
        `server CPU ${((measuredCpu * 1e6) / Math.max(1, total)).toFixed(0)} µs per command (every thread); ` +
        `scavenges ${lastGc.per1000.toFixed(1)} per 1,000 commands, pause p50 ${f(lastGc.p50)} p90 ${f(lastGc.p90)} ms\n`,
    );
    process.stdout.write('| command | n | client p50/p99 | server p50/p99 | CPU p50/p99 ms | heap KB allocated p50 | % with a GC inside | % round trips with a GC |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
    for (const [name, r] of [...rows.entries()].sort()) {
      process.stdout.write(`| ${name} | ${r.n} | ${f(r.client[0])}/${f(r.client[1])} | ${f(r.server[0])}/${f(r.server[1])} | ${f(r.cpu[0])}/${f(r.cpu[1])} | ${r.allocKb.toFixed(1)} | ${r.gcPct.toFixed(2)} | ${r.gcTripPct.toFixed(2)} |\n`);
    }
  }
}

const median = (xs: number[]): number => q(xs, 0.5);
for (const [t, tree] of trees.entries()) {
  const g = gcs[t]!;
  process.stdout.write(
    `\n${tree}: scavenges per 1,000 commands, median of runs ${f(median(g.map((x) => x.per1000)))}; pause p50 ${f(median(g.map((x) => x.p50)))} ms; ` +
      `server CPU per command ${median(cpuPerCommand[t]!).toFixed(0)} µs (median of runs)\n`,
  );
}
process.stdout.write('\nMedian over runs, per tree (server p50/p99 · CPU p50/p99 · client p99 · heap KB allocated · % with a GC inside · % round trips with a GC):\n\n');
const names = [...new Set(results.flatMap((rs) => rs.flatMap((r) => [...r.keys()])))].sort();
process.stdout.write(`| command | ${trees.map((t) => t).join(' | ')} |\n| --- |${trees.map(() => ' --- |').join('')}\n`);
for (const name of names) {
  const cells = results.map((rs) => {
    const got = rs.map((r) => r.get(name)).filter((r): r is Row => r !== undefined);
    const m = (pick: (r: Row) => number): string => f(median(got.map(pick)));
    return `${m((r) => r.server[0])}/${m((r) => r.server[1])} · ${m((r) => r.cpu[0])}/${m((r) => r.cpu[1])} · ${m((r) => r.client[1])} · ${median(got.map((r) => r.allocKb)).toFixed(1)} · ${m((r) => r.gcPct)} · ${m((r) => r.gcTripPct)}`;
  });
  process.stdout.write(`| ${name} | ${cells.join(' | ')} |\n`);
}
