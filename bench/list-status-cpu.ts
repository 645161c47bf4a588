/**
 * `node --import tsx bench/list-status-cpu.ts [--rounds 2000] [--cpu-prof FILE]`
 *
 * LIST and STATUS as one persistent client of the persistent-1 mix meets them (issue 23, their p99):
 * each round is APPEND, UID STORE +FLAGS.SILENT (\Deleted), EXPUNGE, then LIST "" "*", STATUS Archive
 * (MESSAGES UIDNEXT UNSEEN), SELECT INBOX, UID FETCH n:* (FLAGS) — the write that ends one round of
 * the mix and the reads that start the next. The server runs in this process on a copy of the
 * bench's seeded SQLite data; a bare socket client waits for each tagged line. Per command it prints
 * the round trip p50/p90/p99 and the process's CPU around it (process.cpuUsage, every thread: server
 * and client, the client's part is the same for any server build), and how many a GC overlapped. In-process and one at a time, so
 * a change to a command's own work shows here without the machine's load in the figure as much as a
 * wall-clock bench; `--cpu-prof FILE` also writes a V8 CPU profile of the measured rounds.
 */
import inspector from 'node:inspector';
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { SqliteStore } from '../src/store/sqlite/index.js';
import { UserFile, UserFileAuthenticator } from '../src/auth/user-file.js';
import { createImapServer } from '../src/imap/server.js';
import { seededPostroomData } from './servers/postroom.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { benchMessage } from './load/messages.js';
import { RawImapClient } from './load/raw-imap-client.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '2000' }, 'cpu-prof': { type: 'string' }, tmp: { type: 'string', default: 'list-status-cpu' }, 'minor-gc-task': { type: 'boolean', default: false } } });
const ROUNDS = Number(values.rounds);
// As `serve` does by default (v8MinorGcTask false): a scavenge runs in the allocation that fills the space.
if (!values['minor-gc-task']) setFlagsFromString('--no-minor-gc-task');
const dir = join(BENCH_TMP, 'run', values.tmp);
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
const data = await seededPostroomData(dir, mixedUsers(20, 1_000));
const store = await SqliteStore.open({ directory: data });
const server = createImapServer({ store, auth: new UserFileAuthenticator(UserFile.inDataDir(data)), host: '127.0.0.1', port: 0, tlsPort: null, allowInsecureAuth: true });
const { port } = (await server.listen()) as { port: number };

const client = await RawImapClient.open(port);
await client.command(`LOGIN user1 ${PASSWORD}`);
await client.command('SELECT INBOX');
const times = new Map<string, { wall: number[]; cpu: number[]; gcs: number; gcMs: number; slowGc: number }>();
/** Each measured command's span on CLOCK_MONOTONIC in µs (the CPU profile's clock), for --cpu-prof. */
const spans: Array<{ name: string; from: number; to: number }> = [];
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);
let measuring = false;
/** --cpu-prof: the most one sample counts for (µs), four times the 50 µs asked for. */
const SAMPLE_CAP_US = 200;
// GCs of this process (server and client share it), each put on the command it overlapped.
const gcs: PerformanceEntry[] = [];
new PerformanceObserver((l) => gcs.push(...l.getEntries())).observe({ entryTypes: ['gc'] });
/**
 * The process's CPU time in ms, every thread (the main thread's own is not to be had in node 20:
 * /proc's schedstat of a running thread lags by up to a tick, which is longer than these commands).
 */
const mainCpu = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
async function timed(name: string, fn: () => Promise<string>): Promise<string> {
  const m0 = mainCpu();
  const t0 = performance.now();
  const u0 = monoUs();
  const out = await fn();
  const t1 = performance.now();
  if (measuring) spans.push({ name, from: u0, to: monoUs() });
  const wall = t1 - t0;
  const m = mainCpu() - m0;
  let e = times.get(name);
  if (!e) times.set(name, (e = { wall: [], cpu: [], gcs: 0, gcMs: 0, slowGc: 0 }));
  e.wall.push(wall);
  e.cpu.push(m);
  // The observer is told on a later turn: look at the GCs that ended before the next command.
  await new Promise((r) => setImmediate(r));
  let inside = 0;
  for (const g of gcs.splice(0)) if (g.startTime < t1 && g.startTime + g.duration > t0) inside += g.duration;
  if (inside > 0) {
    e.gcs++;
    e.gcMs += inside;
  }
  return out;
}
let seed = 0;
let uidNext = 1001;
async function round(): Promise<void> {
  const out = await timed('APPEND', () => client.command('APPEND INBOX (\\Seen)', benchMessage(7_000_000 + seed++, 'appended')));
  const uid = Number(/APPENDUID \d+ (\d+)/.exec(out)?.[1]);
  uidNext = uid + 1;
  await timed('STORE', () => client.command(`UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`));
  await timed('EXPUNGE', () => client.command('EXPUNGE'));
  await timed('LIST', () => client.command('LIST "" "*"'));
  await timed('STATUS', () => client.command('STATUS Archive (MESSAGES UIDNEXT UNSEEN)'));
  await timed('SELECT', () => client.command('SELECT INBOX'));
  await timed('FETCH FLAGS', () => client.command(`UID FETCH ${uidNext - 200}:* (FLAGS)`));
}
for (let i = 0; i < Math.min(300, ROUNDS); i++) await round();
times.clear();
let session: inspector.Session | undefined;
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session!.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
if (values['cpu-prof']) {
  session = new inspector.Session();
  session.connect();
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 50 });
  await post('Profiler.start');
}
const load0 = loadavg()[0]!;
measuring = true;
for (let i = 0; i < ROUNDS; i++) await round();
measuring = false;
let busyReport = '';
if (session) {
  const res = (await post('Profiler.stop')) as { profile: Profile };
  writeFileSync(values['cpu-prof']!, JSON.stringify(res.profile));
  busyReport = busyInSpans(res.profile);
}
const q = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
process.stdout.write(`${ROUNDS} rounds, load ${load0.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}\n| command | wall p50/p90/p99 ms | CPU mean ms | CPU p99 | % with a GC inside, mean GC ms |\n| --- | --- | --- | --- | --- |\n`);
for (const [name, e] of times) {
  process.stdout.write(
    `| ${name} | ${q(e.wall, 0.5).toFixed(3)}/${q(e.wall, 0.9).toFixed(3)}/${q(e.wall, 0.99).toFixed(3)} | ${mean(e.cpu).toFixed(3)} | ${q(e.cpu, 0.99).toFixed(3)} | ` +
      `${((100 * e.gcs) / e.wall.length).toFixed(1)} %, ${e.gcs ? (e.gcMs / e.gcs).toFixed(2) : '-'} |\n`,
  );
}
process.stdout.write(busyReport);
await server.close();
await store.close();
rmSync(dir, { recursive: true, force: true });
process.exit(0);

interface Profile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>;
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * --cpu-prof: the main thread's samples inside each measured command (server and client, one
 * thread), sorted as gc / program / js (idle samples left out): per command the busy time's
 * p50/p90/p99, and for its busiest 1 % the mean split and the leaf functions that took it.
 */
function busyInSpans(p: Profile): string {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const times: number[] = [];
  let t = p.startTime;
  for (const d of p.timeDeltas) times.push((t += d));
  // Sample i covers the time up to the next one.
  const interval = (p.timeDeltas.slice(1).reduce((a, b) => a + b, 0) / Math.max(1, p.timeDeltas.length - 1)) || 50;
  const label = (id: number): string => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anonymous)'} ${f.url.replace(/.*\/(src|bench|node_modules)\//, '$1/')}:${f.lineNumber}`;
  };
  const kindOf = (id: number): 'idle' | 'gc' | 'program' | 'js' => {
    const name = byId.get(id)!.callFrame.functionName;
    if (name === '(idle)') return 'idle';
    if (name === '(garbage collector)') return 'gc';
    if (name === '(program)') return 'program';
    return 'js';
  };
  const per = new Map<string, Array<{ busy: number; gc: number; program: number; js: number; leaves: Map<string, number> }>>();
  let i = 0;
  for (const span of spans) {
    while (i < times.length && times[i]! < span.from) i++;
    const row = { busy: 0, gc: 0, program: 0, js: 0, leaves: new Map<string, number>() };
    for (let j = i; j < times.length && times[j]! <= span.to; j++) {
      const k = kindOf(p.samples[j]!);
      if (k === 'idle') continue;
      // Its own gap to the next sample, capped: a longer gap is the thread (or the sampler) off the
      // cores on a loaded machine, not work.
      const ms = Math.min(p.timeDeltas[j + 1] ?? interval, SAMPLE_CAP_US) / 1000;
      row[k] += ms;
      row.busy += ms;
      // The src/ frame nearest the leaf names JS samples (natives are called from it).
      let id: number | undefined = p.samples[j]!;
      let name = label(id);
      if (k === 'js') {
        for (; id !== undefined; id = parent.get(id)) {
          if (byId.get(id)!.callFrame.url.includes('/src/')) {
            name = `${label(p.samples[j]!).split(' ')[0]} < ${label(id)}`;
            break;
          }
        }
      }
      row.leaves.set(name, (row.leaves.get(name) ?? 0) + ms);
    }
    let list = per.get(span.name);
    if (!list) per.set(span.name, (list = []));
    list.push(row);
  }
  let out = `\nMain thread busy inside each command (CPU profile, 50 µs asked, ${interval.toFixed(0)} µs mean gap, each sample counted up to ${SAMPLE_CAP_US} µs), ms: p50/p90/p99; busiest 1 %: mean = gc + program + js, top leaves\n\n`;
  for (const [name, rows] of per) {
    const busy = rows.map((r) => r.busy).sort((a, b) => a - b);
    const at = (f: number): number => busy[Math.min(busy.length - 1, Math.floor(busy.length * f))]!;
    const top = [...rows].sort((a, b) => b.busy - a.busy).slice(0, Math.max(1, Math.floor(rows.length / 100)));
    const m = (f: (r: (typeof rows)[number]) => number): string => (top.reduce((a, r) => a + f(r), 0) / top.length).toFixed(2);
    const leaves = new Map<string, number>();
    for (const r of top) for (const [k, v] of r.leaves) leaves.set(k, (leaves.get(k) ?? 0) + v / top.length);
    const best = [...leaves].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v.toFixed(2)}`).join('; ');
    out += `- ${name}: ${at(0.5).toFixed(2)}/${at(0.9).toFixed(2)}/${at(0.99).toFixed(2)}; busiest ${top.length}: ${m((r) => r.busy)} = ${m((r) => r.gc)} + ${m((r) => r.program)} + ${m((r) => r.js)}; ${best}\n`;
  }
  return out;
}
