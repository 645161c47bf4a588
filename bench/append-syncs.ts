/**
 * `npx tsx bench/append-syncs.ts --detail FILE.csv --trace NAME=STRACE [--trace NAME=STRACE …] [--round N]`
 *
 * What each sequential APPEND of `bench:append --detail FILE.csv --strace S` waited for on the disk:
 * the fsync family (fsync, fdatasync, sync_file_range, msync) that ran during each APPEND's window
 * (command sent → tagged OK), read from `strace -f -tt -T -y` output (the APPEND bench writes
 * S.<round> for Postroom and S.dovecot.<round> for Dovecot). Per server: syncs per APPEND, on
 * which files (paths shortened to a kind: the WAL, the database, a body file, a directory, a
 * Maildir file, Dovecot's index log …), their durations at p50/p90/p99, how many ran side by side
 * (another sync already running when one started), and how much of the slowest APPENDs' time was
 * spent with a sync running. Counts, unlike latencies, do not depend on the machine's load.
 *
 * strace's -tt times are the time of day (UTC on the bench machine); --detail's are ms since the
 * epoch, so the two meet on the day of the trace.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    detail: { type: 'string' },
    trace: { type: 'string', multiple: true },
    round: { type: 'string' },
  },
});
if (!values.detail || !values.trace?.length) throw new Error('usage: --detail FILE.csv --trace NAME=STRACE [--trace …] [--round N]');

interface Append {
  start: number;
  ms: number;
  bytes: number;
}
interface Sync {
  tid: number;
  call: string;
  file: string;
  start: number;
  end: number;
}

const SYNC_CALLS = /^(fsync|fdatasync|sync_file_range|msync|syncfs)$/;

/** The files a sync can be of, by path. */
function kindOf(path: string): string {
  if (/-wal$/.test(path)) return 'WAL';
  if (/\.sqlite$/.test(path)) return 'database';
  if (/\/blobs\/[0-9a-f]{2}$/.test(path) || /\/blobs$/.test(path)) return 'body directory';
  if (/\/blobs\//.test(path)) return 'body file';
  if (/\/tmp\//.test(path)) return 'tmp file';
  if (/dovecot\.index\.log/.test(path)) return 'index log';
  if (/dovecot\.index/.test(path)) return 'index';
  if (/dovecot-uidlist/.test(path)) return 'uidlist';
  if (/\/(new|cur|tmp)$/.test(path)) return 'Maildir directory';
  if (/\/(new|cur)\//.test(path)) return 'Maildir message';
  if (path === '') return '?';
  return path.replace(/.*\//, '…/');
}

/** Time of day "HH:MM:SS.ffffff" on the day of `dayOf` (ms since the epoch) → ms since the epoch. */
function at(tod: string, dayOf: number): number {
  const [h, m, s] = tod.split(':').map(Number) as [number, number, number];
  const day = Math.floor(dayOf / 86_400_000) * 86_400_000;
  return day + ((h * 60 + m) * 60 + s) * 1000;
}

/** The completed sync calls of a `strace -f -tt -T -y` file (split calls joined by their tid). */
function syncsOf(file: string, dayOf: number): Sync[] {
  const out: Sync[] = [];
  const open = new Map<number, { call: string; file: string; start: number }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const head = /^(\d+)\s+(\d\d:\d\d:\d\d\.\d+)\s+(.*)$/.exec(line);
    if (!head) continue;
    const tid = Number(head[1]);
    const time = at(head[2]!, dayOf);
    const rest = head[3]!;
    const resumed = /^<\.\.\. (\w+) resumed>.*<([\d.]+)>$/.exec(rest);
    if (resumed) {
      const o = open.get(tid);
      if (o && o.call === resumed[1]) out.push({ tid, call: o.call, file: o.file, start: o.start, end: o.start + Number(resumed[2]) * 1000 });
      open.delete(tid);
      continue;
    }
    const call = /^(\w+)\((\d+)(?:<([^>]*)>)?/.exec(rest);
    if (!call || !SYNC_CALLS.test(call[1]!)) continue;
    const path = call[3] ?? '';
    if (/<unfinished \.\.\.>$/.test(rest)) {
      open.set(tid, { call: call[1]!, file: path, start: time });
      continue;
    }
    const took = /<([\d.]+)>$/.exec(rest);
    if (took) out.push({ tid, call: call[1]!, file: path, start: time, end: time + Number(took[1]) * 1000 });
  }
  return out.sort((a, b) => a.start - b.start);
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}
const f = (n: number, d = 2): string => (Number.isFinite(n) ? n.toFixed(d) : '–');

/** ms of [a, b] covered by the union of the intervals. */
function covered(intervals: { start: number; end: number }[], a: number, b: number): number {
  const clipped = intervals.map((i) => [Math.max(a, i.start), Math.min(b, i.end)] as const).filter(([x, y]) => y > x).sort((p, q) => p[0] - q[0]);
  let total = 0;
  let end = a;
  for (const [x, y] of clipped) {
    if (y <= end) continue;
    total += y - Math.max(x, end);
    end = y;
  }
  return total;
}

const rows = readFileSync(values.detail, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
for (const spec of values.trace) {
  const [name, file] = spec.split('=') as [string, string];
  const appends: Append[] = rows
    .filter((r) => r[0] === name && (values.round === undefined || r[1] === values.round))
    .map((r) => ({ start: Number(r[5]), ms: Number(r[4]), bytes: Number(r[3]) }));
  if (appends.length === 0) {
    process.stdout.write(`\n${name}: no APPENDs in ${values.detail}\n`);
    continue;
  }
  const syncs = syncsOf(file, appends[0]!.start);
  const perAppend = appends.map((a) => {
    const end = a.start + a.ms;
    const inside = syncs.filter((s) => s.end > a.start && s.start < end);
    return { a, inside, syncMs: covered(inside, a.start, end) };
  });
  const counts = perAppend.map((p) => p.inside.length);
  const byKind = new Map<string, number[]>();
  for (const p of perAppend) for (const s of p.inside) byKind.set(kindOf(s.file), [...(byKind.get(kindOf(s.file)) ?? []), s.end - s.start]);
  // Side by side: a sync that started while another (another thread's) was still running.
  let overlapped = 0;
  for (const [i, s] of syncs.entries()) if (syncs.slice(Math.max(0, i - 8), i).some((o) => o.end > s.start && o.tid !== s.tid)) overlapped++;
  const lat = appends.map((a) => a.ms);
  const p90 = pct(lat, 90);
  const p99 = pct(lat, 99);
  const slow = perAppend.filter((p) => p.a.ms >= p90);
  const slowest = perAppend.filter((p) => p.a.ms >= p99);
  process.stdout.write(`\n**${name}** (${appends.length} APPENDs, ${syncs.length} syncs traced; APPEND p50/p90/p99 ${f(pct(lat, 50))}/${f(p90)}/${f(p99)} ms)\n`);
  process.stdout.write(`- syncs per APPEND: mean ${f(counts.reduce((a, b) => a + b, 0) / counts.length)}, distribution ${[...new Set(counts)].sort((a, b) => a - b).map((c) => `${c}×${counts.filter((x) => x === c).length}`).join(' ')}\n`);
  process.stdout.write(`- started while another thread's sync ran: ${overlapped} of ${syncs.length}\n`);
  process.stdout.write('| file | syncs | per APPEND | p50 ms | p90 ms | p99 ms | max ms |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  for (const [kind, ds] of [...byKind.entries()].sort((a, b) => b[1].length - a[1].length)) {
    process.stdout.write(`| ${kind} | ${ds.length} | ${f(ds.length / appends.length)} | ${f(pct(ds, 50))} | ${f(pct(ds, 90))} | ${f(pct(ds, 99))} | ${f(Math.max(...ds))} |\n`);
  }
  const share = (ps: typeof perAppend): string => `${f(ps.reduce((n, p) => n + p.syncMs, 0) / Math.max(1, ps.reduce((n, p) => n + p.a.ms, 0)) * 100, 0)} %`;
  process.stdout.write(`- time with a sync running, share of the APPENDs' time: all ${share(perAppend)}, slowest 10 % ${share(slow)}, slowest 1 % ${share(slowest)}\n`);
  process.stdout.write(`- slowest 1 %: ${slowest.map((p) => `${f(p.a.ms, 1)} ms (${Math.round(p.a.bytes / 1024)} KB; syncs ${p.inside.map((s) => `${kindOf(s.file)} ${f(s.end - s.start)}`).join(', ') || 'none'})`).join('; ')}\n`);
}
