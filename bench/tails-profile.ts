/**
 * `npx tsx bench/tails-profile.ts TRACE_DIR PROFILE_DIR [--top N]`: what the server's main thread
 * was doing inside the slowest round trips of each command. Joins the client's trace
 * (POSTROOM_BENCH_TRACE_DIR, bench/load/trace.ts) with a V8 CPU profile of the server
 * (`--cpu-prof --cpu-prof-interval 100`, e.g. persistent-ab's `--node-args`) through the clock pair
 * in the server's tails trace (bench/servers/tails.ts: one instant in epoch ms and in CLOCK_MONOTONIC
 * µs, the profile's clock).
 *
 * For every round trip (client sent → answer checked) it sorts the main thread's samples inside it:
 *   idle     = the loop waiting in epoll (the server had nothing to do: the time was elsewhere)
 *   gc       = "(garbage collector)" (scavenges, marking steps and finalisation on the main thread)
 *   program  = "(program)" (native code outside JS: libuv, the socket writes, compiles on the main thread)
 *   js       = JavaScript (and its natives), by the src/ file it ran in
 *   unsampled = the round trip's length less the samples' (the thread not on a core — V8's sampler
 *              signals it and the sample lands when it runs again — or the profile stopped)
 * and prints, per command, the means over all its round trips and over its slowest 1 %, plus which
 * src/ files and functions took the slowest ones' JS time. The profile's own sampling costs the
 * server CPU: read its tails beside a run without, not as the figures to quote.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClientTraceEntry } from './load/trace.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '6' } } });
const [traceDir, profileDir] = positionals;
if (!traceDir || !profileDir) {
  process.stderr.write('usage: tails-profile.ts TRACE_DIR PROFILE_DIR [--top N]\n');
  process.exit(2);
}
const TOP = Number(values.top);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const files = readdirSync(traceDir);
const serverTrace = files
  .filter((f) => f.startsWith('server-'))
  .map((f) => JSON.parse(readFileSync(join(traceDir, f), 'utf8')) as { clock?: { epochMs: number; monoUs: number }; commands: { name: string; arrived: number; flushed: number }[] })[0];
if (!serverTrace?.clock) throw new Error(`${traceDir}: no server trace with a clock pair (bench/servers/tails.ts)`);
const clock = serverTrace.clock;
const clients = files
  .filter((f) => f.startsWith('client-'))
  .flatMap((f) => JSON.parse(readFileSync(join(traceDir, f), 'utf8')) as ClientTraceEntry[])
  .filter((c) => c.name !== 'CONNECT')
  .sort((a, b) => a.sent - b.sent);
// The main thread's profile: node names it CPU.<date>.<time>.<pid>.0.<seq>.cpuprofile (thread 0).
const profFile = readdirSync(profileDir).find((f) => /\.0\.\d+\.cpuprofile$/.test(f)) ?? readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'));
if (!profFile) throw new Error(`${profileDir}: no .cpuprofile`);
const profile = JSON.parse(readFileSync(join(profileDir, profFile), 'utf8')) as CpuProfile;

// Every node's kind and, for JS, the innermost src/ frame on its stack (file:function).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
type Kind = 'idle' | 'gc' | 'program' | 'js';
const kindOf = new Map<number, Kind>();
const srcOf = new Map<number, string>();
const leafOf = new Map<number, string>();
const short = (url: string): string => url.replace(/^.*?\/(src|bench|node_modules)\//, '$1/').replace(/^node:/, 'node:');
for (const n of profile.nodes) {
  const name = n.callFrame.functionName;
  kindOf.set(n.id, name === '(idle)' ? 'idle' : name === '(garbage collector)' ? 'gc' : name === '(program)' ? 'program' : 'js');
  leafOf.set(n.id, `${name || '(anonymous)'} ${short(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`);
  let at: number | undefined = n.id;
  let src = '';
  while (at !== undefined) {
    const f = byId.get(at)!.callFrame;
    if (f.url.includes('/src/')) {
      src = short(f.url);
      break;
    }
    at = parent.get(at);
  }
  srcOf.set(n.id, src || '(outside src/)');
}

// Samples on the epoch clock.
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) {
  t += d;
  times.push(clock.epochMs + (t - clock.monoUs) / 1000);
}
const interval = (() => {
  const ds = [...profile.timeDeltas].sort((a, b) => a - b);
  return (ds[Math.floor(ds.length / 2)] ?? 100) / 1000;
})();
const firstAt = (x: number): number => {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};

interface Trip {
  total: number;
  ms: Record<Kind | 'unsampled', number>;
  src: Map<string, number>;
  leaf: Map<string, number>;
}
const byName = new Map<string, Trip[]>();
const profFrom = times[0] ?? Infinity;
const profTo = times[times.length - 1] ?? -Infinity;
for (const c of clients) {
  if (c.sent < profFrom || c.done > profTo) continue;
  const trip: Trip = { total: c.done - c.sent, ms: { idle: 0, gc: 0, program: 0, js: 0, unsampled: 0 }, src: new Map(), leaf: new Map() };
  let sampled = 0;
  for (let i = firstAt(c.sent); i < times.length && times[i]! <= c.done; i++) {
    // A sample stands for the time since the one before it, clipped to the round trip.
    const from = Math.max(c.sent, i > 0 ? times[i - 1]! : c.sent);
    const ms = Math.min(times[i]! - from, interval * 1.5);
    const id = profile.samples[i]!;
    const kind = kindOf.get(id)!;
    trip.ms[kind] += ms;
    sampled += ms;
    if (kind === 'js') {
      trip.src.set(srcOf.get(id)!, (trip.src.get(srcOf.get(id)!) ?? 0) + ms);
      trip.leaf.set(leafOf.get(id)!, (trip.leaf.get(leafOf.get(id)!) ?? 0) + ms);
    }
  }
  trip.ms.unsampled = Math.max(0, trip.total - sampled);
  let list = byName.get(c.name);
  if (!list) byName.set(c.name, (list = []));
  list.push(trip);
}

const f = (n: number): string => n.toFixed(2);
const mean = (xs: Trip[], pick: (t: Trip) => number): number => xs.reduce((n, x) => n + pick(x), 0) / Math.max(1, xs.length);
const row = (xs: Trip[]): string => {
  const parts = (['idle', 'gc', 'program', 'js', 'unsampled'] as const).map((k) => f(mean(xs, (x) => x.ms[k])));
  return `${f(mean(xs, (x) => x.total))} = ${parts.join(' + ')}`;
};
const topOf = (xs: Trip[], key: 'src' | 'leaf'): string => {
  const sum = new Map<string, number>();
  for (const x of xs) for (const [k, v] of x[key]) sum.set(k, (sum.get(k) ?? 0) + v);
  return [...sum.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP)
    .map(([k, v]) => `${k} ${f(v / xs.length)}`)
    .join('; ');
};
process.stdout.write(`profile: ${profile.samples.length} samples, interval ${(interval * 1000).toFixed(0)} µs; ${clients.length} round trips in the client trace\n\n`);
process.stdout.write('| command | n | all: mean ms = idle + gc + program + js + unsampled | slowest 1 %: n, p99 ms, mean ms = idle + gc + program + js + unsampled |\n| --- | ---: | --- | --- |\n');
const slowest = new Map<string, Trip[]>();
for (const [name, xs] of [...byName.entries()].sort()) {
  const sorted = [...xs].sort((a, b) => a.total - b.total);
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!.total;
  const slow = sorted.slice(Math.floor(sorted.length * 0.99));
  slowest.set(name, slow);
  process.stdout.write(`| ${name} | ${xs.length} | ${row(xs)} | ${slow.length}, ${f(p99)}, ${row(slow)} |\n`);
}
process.stdout.write('\nJS time inside the slowest 1 %, mean ms per round trip, by src/ file and by function (leaf frame):\n\n');
for (const [name, slow] of slowest) {
  process.stdout.write(`- ${name}: files: ${topOf(slow, 'src')}\n  functions: ${topOf(slow, 'leaf')}\n`);
}

// The main thread's own work inside each round trip (gc + program + js): what the load of the
// machine hardly moves (a preempted thread is not sampled), so its tail is the server's own.
const busy = (x: Trip): number => x.ms.gc + x.ms.program + x.ms.js;
process.stdout.write('\nThe main thread busy inside a round trip (gc + program + js), ms: p50 / p90 / p99, and the 1 % busiest: mean = gc + program + js, their top functions\n\n');
for (const [name, xs] of [...byName.entries()].sort()) {
  const sorted = [...xs].sort((a, b) => busy(a) - busy(b));
  const at = (p: number): number => busy(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!);
  const top = sorted.slice(Math.floor(sorted.length * 0.99));
  const m = (pick: (t: Trip) => number): string => f(mean(top, pick));
  process.stdout.write(`- ${name} (${xs.length}): ${f(at(0.5))} / ${f(at(0.9))} / ${f(at(0.99))}; busiest ${top.length}: ${m(busy)} = ${m((x) => x.ms.gc)} + ${m((x) => x.ms.program)} + ${m((x) => x.ms.js)}; ${topOf(top, 'leaf')}\n`);
}

// The way in: from the client's send to the server's loop reading the bytes. Main-thread work in it
// is the loop busy with something else when the command arrived (a task, a timer, a GC, the last
// command's tail) — what the command waited for on the server before it could start.
const server = serverTrace.commands.filter((c) => Number.isFinite(c.flushed)).sort((a, b) => a.arrived - b.arrived);
const firstArrived = (x: number): number => {
  let lo = 0;
  let hi = server.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (server[mid]!.arrived < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
interface InLeg {
  busy: number;
  leaf: Map<string, number>;
  gc: number;
}
const inLegs = new Map<string, InLeg[]>();
for (const c of clients) {
  if (c.sent < profFrom || c.done > profTo) continue;
  const s = server[firstArrived(c.sent - 0.05)];
  if (!s || s.arrived > c.answered) continue;
  const leg: InLeg = { busy: 0, leaf: new Map(), gc: 0 };
  for (let i = firstAt(c.sent); i < times.length && times[i]! <= s.arrived; i++) {
    const from = Math.max(c.sent, i > 0 ? times[i - 1]! : c.sent);
    const ms = Math.min(times[i]! - from, interval * 1.5);
    const id = profile.samples[i]!;
    const kind = kindOf.get(id)!;
    if (kind === 'idle') continue;
    leg.busy += ms;
    if (kind === 'gc') leg.gc += ms;
    const key = kind === 'js' ? leafOf.get(id)! : `(${kind})`;
    leg.leaf.set(key, (leg.leaf.get(key) ?? 0) + ms);
  }
  let list = inLegs.get(c.name);
  if (!list) inLegs.set(c.name, (list = []));
  list.push(leg);
}
process.stdout.write('\nThe main thread busy on other work while the command was on its way in (client sent → server read it): % of round trips with ≥ 0.2 ms of it, mean ms over those, the GC part, and what it was\n\n');
for (const [name, legs] of [...inLegs.entries()].sort()) {
  const hit = legs.filter((l) => l.busy >= 0.2);
  const sum = new Map<string, number>();
  for (const l of hit) for (const [k, v] of l.leaf) sum.set(k, (sum.get(k) ?? 0) + v);
  const top = [...sum.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]) => `${k} ${f(v / Math.max(1, hit.length))}`).join('; ');
  const m = (pick: (l: InLeg) => number): string => f(hit.reduce((n, l) => n + pick(l), 0) / Math.max(1, hit.length));
  process.stdout.write(`- ${name} (${legs.length}): ${((100 * hit.length) / Math.max(1, legs.length)).toFixed(2)} %, ${m((l) => l.busy)} ms, gc ${m((l) => l.gc)}; ${top}\n`);
}
