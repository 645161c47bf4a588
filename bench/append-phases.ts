/**
 * `npx tsx bench/append-phases.ts TRACE DETAIL.csv [--tree T] [--round R]`
 *
 * Where one APPEND's wall time goes, from `bench/append-size-prof.ts --strace TRACE --detail
 * DETAIL.csv --strace-calls read,write,fdatasync,fsync,rename` (strace `-f -ttt -T -y` of the
 * server for the measured APPENDs, and the client's start and end of each in epoch µs). Per APPEND,
 * in ms: client start → the command read (toCmd) → the `+` written (cmdToPlus) → the literal's last
 * socket read (plusToLit) → the body file's first sync (litToBodySync; body files only) → its
 * file and directory syncs (bodySync) → the WAL's fdatasync (bodySyncToWal; litToSync from the
 * literal's end) → that sync's length (sync) → the tagged OK written (syncToOk) → the client has
 * it (okToEnd). Prints the medians and the six slowest APPENDs with their syncs. The trace's file
 * name ends in `.<position>.<round>` and the CSV's tree column is the tree's index: pick the lines
 * of one tree and round with --tree/--round (defaults: all lines of the CSV). strace slows every
 * traced call: compare trees traced alike, not these figures with untraced ones.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Call {
  tid: number;
  t: number;
  call: string;
  what: string;
  ret: number;
  dur: number;
}

const { values, positionals } = parseArgs({ allowPositionals: true, options: { tree: { type: 'string' }, round: { type: 'string' } } });
const [traceFile, detailFile] = positionals;
if (!traceFile || !detailFile) throw new Error('usage: append-phases.ts TRACE DETAIL.csv [--tree T] [--round R]');

/** The traced calls with a descriptor, in time order; strace's unfinished/resumed halves joined. */
function calls(file: string): Call[] {
  const out: Call[] = [];
  const open = new Map<string, { t: number; call: string; what: string }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const started = /^(\d+)\s+(\d+\.\d+)\s+(\w+)\((\d+)<([^>]*)>.*<unfinished \.\.\.>$/.exec(line);
    if (started) {
      open.set(started[1]!, { t: Number(started[2]) * 1000, call: started[3]!, what: started[5]! });
      continue;
    }
    const resumed = /^(\d+)\s+(\d+\.\d+)\s+<\.\.\. (\w+) resumed>.*= (-?\d+).*<([\d.]+)>$/.exec(line);
    if (resumed) {
      const o = open.get(resumed[1]!);
      if (o) out.push({ tid: Number(resumed[1]), ...o, ret: Number(resumed[4]), dur: Number(resumed[5]) * 1000 });
      open.delete(resumed[1]!);
      continue;
    }
    const m = /^(\d+)\s+(\d+\.\d+)\s+(\w+)\((\d+)<([^>]*)>.*?= (-?\d+).*<([\d.]+)>$/.exec(line);
    if (m) out.push({ tid: Number(m[1]), t: Number(m[2]) * 1000, call: m[3]!, what: m[5]!, ret: Number(m[6]), dur: Number(m[7]) * 1000 });
  }
  return out.sort((a, b) => a.t - b.t);
}

const KEYS = ['total', 'toCmd', 'cmdToPlus', 'plusToLit', 'litToBodySync', 'bodySync', 'bodySyncToWal', 'litToSync', 'sync', 'syncToOk', 'okToEnd'] as const;
type Phases = Record<(typeof KEYS)[number], number> & { syncs: string };

const trace = calls(traceFile);
const rows = readFileSync(detailFile, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split(','))
  .filter((r) => (values.tree === undefined || r[0] === values.tree) && (values.round === undefined || r[1] === values.round));
const out: Phases[] = [];
for (const r of rows) {
  const start = Number(r[3]) / 1000;
  const end = Number(r[4]) / 1000;
  const win = trace.filter((x) => x.t >= start && x.t <= end);
  const socket = (c: Call): boolean => c.what.startsWith('socket');
  const reads = win.filter((x) => x.call === 'read' && socket(x) && x.ret > 0);
  const writes = win.filter((x) => x.call === 'write' && socket(x));
  const wal = win.filter((x) => /sync/.test(x.call) && x.what.endsWith('-wal'));
  // A checkpoint's sync of the database file is not the body's: only blobs/ paths count.
  const body = win.filter((x) => /sync/.test(x.call) && x.what.includes('/blobs/'));
  if (reads.length < 2 || writes.length < 2 || wal.length === 0) continue;
  const last = reads[reads.length - 1]!;
  const litEnd = last.t + last.dur;
  const walStart = wal[0]!.t;
  const walEnd = Math.max(...wal.map((x) => x.t + x.dur));
  const bodyStart = body.length > 0 ? body[0]!.t : NaN;
  const bodyEnd = body.length > 0 ? Math.max(...body.map((x) => x.t + x.dur)) : NaN;
  const ok = writes[writes.length - 1]!.t;
  out.push({
    total: end - start,
    toCmd: reads[0]!.t - start,
    cmdToPlus: writes[0]!.t - reads[0]!.t,
    plusToLit: litEnd - writes[0]!.t,
    litToBodySync: bodyStart - litEnd,
    bodySync: bodyEnd - bodyStart,
    bodySyncToWal: walStart - bodyEnd,
    litToSync: walStart - litEnd,
    sync: walEnd - walStart,
    syncToOk: ok - walEnd,
    okToEnd: end - ok,
    syncs: [...body, ...wal].map((x) => `${x.what.split('/').pop()!.slice(0, 12)}:${x.dur.toFixed(2)}`).join(' '),
  });
}
const median = (k: (typeof KEYS)[number]): string => {
  const v = out.map((o) => o[k]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length > 0 ? v[Math.floor(v.length / 2)]!.toFixed(2) : '–';
};
console.log(`${out.length} APPENDs, median ms: ${KEYS.map((k) => `${k} ${median(k)}`).join(', ')}`);
for (const o of [...out].sort((a, b) => b.total - a.total).slice(0, 6)) {
  console.log(`  slow: ${KEYS.map((k) => `${k} ${Number.isNaN(o[k]) ? '–' : o[k].toFixed(2)}`).join(', ')} | ${o.syncs}`);
}
