/**
 * `npx tsx bench/tails-join.ts DIR`: joins the traces that POSTROOM_BENCH_TAILS=1 with
 * POSTROOM_BENCH_TRACE_DIR=DIR leaves (the server's, bench/servers/tails.ts, and each load
 * generator's, bench/load/trace.ts) and splits every round trip of a one-client run into
 *   in     = client sent → server's loop read the bytes (kernel, and the server getting the CPU)
 *   server = read → answer handed to the socket (queued + service + flush, as tails.ts prints)
 *   out    = handed to the socket → client read the tagged line (kernel, the client getting the CPU)
 *   check  = the client checking the answer (counted in the bench's latency)
 * per command, p50/p99 each, and for the slowest 1 % by the bench's latency the mean of each part
 * and how many of them had a server GC, checkpoint or blocked loop inside `in`.
 * Both sides stamp with performance.timeOrigin + performance.now(): one machine, one clock.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ClientTraceEntry } from './load/trace.js';

interface Span {
  start: number;
  end: number;
}
interface ServerCommand {
  name: string;
  arrived: number;
  start: number;
  end: number;
  flushed: number;
  activeBefore: number;
}
interface ServerTrace {
  commands: ServerCommand[];
  gc: Span[];
  walSync: Span[];
  checkpoint: Span[];
  blocked: Span[];
  /** Flat triples: epoch ms, process CPU ms, loop active ms. */
  samples: number[];
}

const dir = process.argv[2];
if (!dir) {
  process.stderr.write('usage: tails-join.ts DIR\n');
  process.exit(2);
}
const files = readdirSync(dir);
const servers = files.filter((f) => f.startsWith('server-')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ServerTrace);
const clients = files.filter((f) => f.startsWith('client-')).flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ClientTraceEntry[]);
const server: ServerTrace = {
  commands: servers.flatMap((s) => s.commands).filter((c) => Number.isFinite(c.flushed)).sort((a, b) => a.arrived - b.arrived),
  gc: servers.flatMap((s) => s.gc),
  walSync: servers.flatMap((s) => s.walSync),
  checkpoint: servers.flatMap((s) => s.checkpoint),
  blocked: servers.flatMap((s) => s.blocked),
  samples: servers.flatMap((s) => s.samples),
};
const sampleCount = server.samples.length / 3;
const tickTime = (i: number): number => server.samples[i * 3]!;
/** The last tick at or before t (0 if none). */
function tickBefore(t: number): number {
  let lo = 0;
  let hi = sampleCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (tickTime(mid) <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
/** The first tick at or after t (the last if none). */
function tickAfter(t: number): number {
  let lo = 0;
  let hi = sampleCount - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tickTime(mid) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
/** Process CPU ms and loop active ms over the ticks around [a, b], and how long that span is. */
function usage(a: number, b: number): { cpu: number; active: number; span: number } {
  const i = tickBefore(a);
  const j = tickAfter(b);
  return { cpu: server.samples[j * 3 + 1]! - server.samples[i * 3 + 1]!, active: server.samples[j * 3 + 2]! - server.samples[i * 3 + 2]!, span: tickTime(j) - tickTime(i) };
}

/** The first server command whose bytes were read at or after `t`. */
function firstFrom(t: number): number {
  let lo = 0;
  let hi = server.commands.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (server.commands[mid]!.arrived < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Joined {
  name: string;
  total: number;
  in: number;
  server: number;
  out: number;
  check: number;
  sent: number;
  arrived: number;
  serverBusyBefore: number;
  clientBusy: number;
}
const joined: Joined[] = [];
let unmatched = 0;
for (const c of clients) {
  if (c.name === 'CONNECT') continue;
  const s = server.commands[firstFrom(c.sent - 0.05)];
  if (!s || s.arrived > c.answered || s.flushed > c.answered + 0.05) {
    unmatched++;
    continue;
  }
  joined.push({ name: c.name, total: c.done - c.sent, in: s.arrived - c.sent, server: s.flushed - s.arrived, out: c.answered - s.flushed, check: c.done - c.answered, sent: c.sent, arrived: s.arrived, serverBusyBefore: s.activeBefore, clientBusy: c.active });
}

const q = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;
const f = (n: number): string => n.toFixed(2);
const dist = (xs: number[]): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${f(q(s, 0.5))}/${f(q(s, 0.99))}`;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const overlaps = (spans: Span[], a: number, b: number): boolean => spans.some((x) => x.end > a && x.start < b);

process.stdout.write(`${joined.length} round trips joined, ${unmatched} not matched; min in ${f(Math.min(...joined.map((j) => j.in)))} ms, min out ${f(Math.min(...joined.map((j) => j.out)))} ms (clock check: near 0, not below)\n\n`);
process.stdout.write('| command | n | total p50/p99 | in p50/p99 | server p50/p99 | out p50/p99 | check p50/p99 | slowest 1 %: n, mean total = in + server + out + check | … with a server GC / checkpoint / blocked loop during `in` | … server CPU / loop active during `in`, mean ms (between the ticks around it) | … server loop busy between the last answer and reading this one / client loop busy while waiting, mean ms |\n');
process.stdout.write('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- |\n');
const names = [...new Set(joined.map((j) => j.name))].sort();
for (const name of names) {
  const js = joined.filter((j) => j.name === name);
  const slow = [...js].sort((a, b) => b.total - a.total).slice(0, Math.max(1, Math.ceil(js.length / 100)));
  const count = (spans: Span[]): number => slow.filter((j) => overlaps(spans, j.sent, j.arrived)).length;
  process.stdout.write(
    `| ${name} | ${js.length} | ${dist(js.map((j) => j.total))} | ${dist(js.map((j) => j.in))} | ${dist(js.map((j) => j.server))} | ${dist(js.map((j) => j.out))} | ${dist(js.map((j) => j.check))} | ` +
      `${slow.length}: ${f(mean(slow.map((j) => j.total)))} = ${f(mean(slow.map((j) => j.in)))} + ${f(mean(slow.map((j) => j.server)))} + ${f(mean(slow.map((j) => j.out)))} + ${f(mean(slow.map((j) => j.check)))} | ` +
      `${count(server.gc)} / ${count(server.checkpoint)} / ${count(server.blocked)} | ` +
      `${f(mean(slow.map((j) => usage(j.sent, j.arrived).cpu)))} / ${f(mean(slow.map((j) => usage(j.sent, j.arrived).active)))} over ${f(mean(slow.map((j) => usage(j.sent, j.arrived).span)))} | ` +
      `${f(mean(slow.map((j) => j.serverBusyBefore)))} / ${f(mean(slow.map((j) => j.clientBusy)))} |\n`,
  );
}
