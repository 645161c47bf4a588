/**
 * `npx tsx bench/slow-causes.ts TRACE_DIR [--commands STATUS,FETCH FLAGS,NOOP] [--share 0.01]`:
 * what was going on in each of a command's slowest round trips, counted per cause. Reads the traces
 * that POSTROOM_BENCH_TAILS=1 with POSTROOM_BENCH_TRACE_DIR leaves (bench/persistent-ab.ts keeps
 * them under .bench-tmp/persistent-ab/<pair>-<tree>/trace): the client's round trips
 * (bench/load/trace.ts) and the server's commands, GCs, WAL syncs, checkpoints and blocked loop
 * turns (bench/servers/tails.ts), all on one epoch clock.
 *
 * Each slow round trip (client sent → answer checked) gets the first cause that applies, in order:
 *   gc          a server GC overlapped it
 *   checkpoint  the checkpointer's copy overlapped it
 *   wal-sync    a WAL sync ended inside it (its completion woke the main thread mid-command)
 *   blocked     a loop turn of > 2 ms (tails.ts's `blocked`) overlapped it
 *   own-work    the server's own span (read → answer handed out) is more than half of it
 *   in          the longest part is the way in (sent → the server read it: the server's thread
 *               waiting for a core, or busy with something the trace does not name)
 *   out         the longest part is the way out + the client's check (the client waiting for a core)
 * and beside it how often each cause is met by *all* round trips of the command (the base rate:
 * a cause met by 20 % of every round trip explains nothing at 20 % of the slow ones), and the
 * command before the slow one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ClientTraceEntry } from './load/trace.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { commands: { type: 'string', default: 'STATUS,FETCH FLAGS,NOOP,LIST' }, share: { type: 'string', default: '0.01' } },
});
const dir = positionals[0];
if (!dir) {
  process.stderr.write('usage: slow-causes.ts TRACE_DIR [--commands A,B] [--share 0.01]\n');
  process.exit(2);
}
interface Span {
  start: number;
  end: number;
}
interface ServerCommand {
  name: string;
  arrived: number;
  start: number;
  flushed: number;
}
interface ServerTrace {
  commands: ServerCommand[];
  gc: Span[];
  walSync?: Span[];
  checkpoint?: Span[];
  blocked?: Span[];
}
const files = readdirSync(dir);
const server = files.filter((f) => f.startsWith('server-')).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ServerTrace);
const clients = files
  .filter((f) => f.startsWith('client-'))
  .flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ClientTraceEntry[])
  .sort((a, b) => a.sent - b.sent);
const commands = server.flatMap((t) => t.commands).filter((c) => Number.isFinite(c.flushed)).sort((a, b) => a.arrived - b.arrived);
const sorted = (xs: Span[]): Span[] => [...xs].sort((a, b) => a.start - b.start);
const gcs = sorted(server.flatMap((t) => t.gc));
const syncs = sorted(server.flatMap((t) => t.walSync ?? []));
const checkpoints = sorted(server.flatMap((t) => t.checkpoint ?? []));
const blocked = sorted(server.flatMap((t) => t.blocked ?? []));

/** Index of the first span ending at or after `t` (spans sorted by start; ends mostly in order too). */
function overlaps(spans: Span[], from: number, to: number): boolean {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid]!.start < from - 60_000) lo = mid + 1;
    else hi = mid;
  }
  for (let i = Math.max(0, lo - 1); i < spans.length && spans[i]!.start <= to; i++) if (spans[i]!.end >= from) return true;
  return false;
}
function endsInside(spans: Span[], from: number, to: number): boolean {
  for (const s of spans) if (s.end >= from && s.end <= to) return true;
  return false;
}
const syncEnds = syncs.map((s) => s.end).sort((a, b) => a - b);
function syncEndInside(from: number, to: number): boolean {
  let lo = 0;
  let hi = syncEnds.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (syncEnds[mid]! < from) lo = mid + 1;
    else hi = mid;
  }
  return lo < syncEnds.length && syncEnds[lo]! <= to;
}
void endsInside;

// Join each client round trip to the server command it caused (first unclaimed one after its send).
interface Trip {
  name: string;
  prev: string;
  total: number;
  inMs: number;
  server: number;
  outMs: number;
  sent: number;
  done: number;
}
const trips: Trip[] = [];
let j = 0;
let prev = '';
for (const c of clients) {
  if (!Number.isFinite(c.done) || c.name === 'CONNECT') continue;
  while (j < commands.length && commands[j]!.arrived < c.sent - 0.1) j++;
  const s = commands[j];
  if (!s || s.arrived > c.done) continue;
  j++;
  trips.push({ name: c.name, prev, total: c.done - c.sent, inMs: s.arrived - c.sent, server: s.flushed - s.arrived, outMs: c.done - s.flushed, sent: c.sent, done: c.done });
  prev = c.name;
}

const CAUSES = ['gc', 'checkpoint', 'wal-sync', 'blocked', 'own-work', 'in', 'out'] as const;
function causesOf(t: Trip): Set<string> {
  const out = new Set<string>();
  if (overlaps(gcs, t.sent, t.done)) out.add('gc');
  if (overlaps(checkpoints, t.sent, t.done)) out.add('checkpoint');
  if (syncEndInside(t.sent, t.done)) out.add('wal-sync');
  if (overlaps(blocked, t.sent, t.done)) out.add('blocked');
  if (t.server > t.total / 2) out.add('own-work');
  else if (t.inMs >= t.outMs) out.add('in');
  else out.add('out');
  return out;
}
const share = Number(values.share);
const pct = (n: number, of: number): string => `${((100 * n) / Math.max(1, of)).toFixed(1)} %`;
process.stdout.write(`${trips.length} round trips joined; ${syncs.length} WAL syncs, ${gcs.length} GCs, ${checkpoints.length} checkpoints, ${blocked.length} blocked turns\n\n`);
process.stdout.write('| command | n | slowest | threshold ms | first cause among the slowest (count) | the same causes met by all round trips | mean ms of the slowest: in + server + out | command before the slowest (count) |\n| --- | ---: | ---: | ---: | --- | --- | --- | --- |\n');
for (const name of values.commands.split(',')) {
  const all = trips.filter((t) => t.name === name);
  if (all.length === 0) continue;
  const bySlow = [...all].sort((a, b) => b.total - a.total);
  const k = Math.max(1, Math.round(all.length * share));
  const slow = bySlow.slice(0, k);
  const first = new Map<string, number>();
  for (const t of slow) {
    const c = causesOf(t);
    const f = CAUSES.find((x) => c.has(x))!;
    first.set(f, (first.get(f) ?? 0) + 1);
  }
  const base = new Map<string, number>();
  for (const t of all) for (const c of causesOf(t)) base.set(c, (base.get(c) ?? 0) + 1);
  const prevs = new Map<string, number>();
  for (const t of slow) prevs.set(t.prev, (prevs.get(t.prev) ?? 0) + 1);
  const mean = (f: (t: Trip) => number): string => (slow.reduce((n, t) => n + f(t), 0) / slow.length).toFixed(2);
  process.stdout.write(
    `| ${name} | ${all.length} | ${k} | ${slow[slow.length - 1]!.total.toFixed(2)} | ` +
      `${CAUSES.filter((c) => first.has(c)).map((c) => `${c} ${first.get(c)}`).join(', ')} | ` +
      `${CAUSES.filter((c) => base.has(c)).map((c) => `${c} ${pct(base.get(c)!, all.length)}`).join(', ')} | ` +
      `${mean((t) => t.total)} = ${mean((t) => t.inMs)} + ${mean((t) => t.server)} + ${mean((t) => t.outMs)} | ` +
      `${[...prevs.entries()].sort((a, b) => b[1] - a[1]).map(([p, n]) => `${p || '-'} ${n}`).join(', ')} |\n`,
  );
}
