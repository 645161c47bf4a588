/**
 * `npx tsx bench/lmtp-cpu.ts [--kb 1024] [--sessions 10] [--count 600] [--warmup 100] [--rounds 3]
 * [--trees DIR,DIR] [--strace]`: the server's CPU per LMTP delivery, every thread and the kernel
 * counted, built to judge a change by A/B on a noisy machine.
 *
 * Each round starts `postroom serve` (SQLite store, LMTP on a free port) from each tree in turn
 * (`--trees`: checkouts of the code to compare, default this one), delivers `--warmup` messages,
 * then `--count` more of `--kb` KB to one recipient over `--sessions` connections, and reads the
 * server's /proc counters around the counted ones: user and system CPU of the whole process, the
 * event loop's thread apart from all the others (libuv's pool, V8's GC and compiler threads, the
 * store's sync threads: Node 20 names none of them), minor page faults and voluntary context
 * switches. A fixed count, not a fixed time, so a slow round measures the same work. Trees are
 * alternated within each round, and the median over rounds is printed per tree. The wall-clock
 * rate is printed but is noise unless the machine is quiet; the CPU figures are what to compare.
 * `--strace`: the first tree's server runs under `strace -f -c` for one round (counts syscalls;
 * slows it down, so read the counts, not the CPU). `--perf FILE`: `perf record -g` of the first
 * tree's server over the counted deliveries of the first round. `--node-flags "…"`: flags for the
 * servers' node; `--trace-gc`: V8's GC lines on stdout (counted per delivery below).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { BENCH_TMP } from './servers/common.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    kb: { type: 'string', default: '1024' },
    sessions: { type: 'string', default: '10' },
    count: { type: 'string', default: '600' },
    warmup: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    trees: { type: 'string' },
    strace: { type: 'boolean', default: false },
    perf: { type: 'string' },
    'node-flags': { type: 'string' },
    'trace-gc': { type: 'boolean', default: false },
    rcpts: { type: 'string', default: '1' },
  },
});
const SIZE = Number(values.kb) * 1024;
const SESSIONS = Number(values.sessions);
const COUNT = Number(values.count);
const WARMUP = Number(values.warmup);
const ROUNDS = Number(values.rounds);
const RCPTS = Number(values.rcpts);
const TREES = (values.trees ?? process.cwd()).split(',').map((t) => resolve(t));
const USERS = Array.from({ length: 10 }, (_, i) => `user${i + 1}`);
const TICK_US = 10_000; // USER_HZ 100

interface Counters {
  utime: number;
  stime: number;
  minflt: number;
  byKind: Map<string, number>;
  vcsw: number;
}

function statFields(path: string): string[] {
  const s = readFileSync(path, 'latin1');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** Node 20 names none of its threads: the event loop is told apart by its id, the rest are summed. */
function kindOf(tid: number, pid: number): string {
  return tid === pid ? 'main' : 'other';
}

function counters(pid: number): Counters {
  const f = statFields(`/proc/${pid}/stat`);
  const byKind = new Map<string, number>();
  let vcsw = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const t = statFields(`/proc/${pid}/task/${tid}/stat`);
      const k = kindOf(Number(tid), pid);
      byKind.set(k, (byKind.get(k) ?? 0) + (Number(t[11]) + Number(t[12])) * TICK_US);
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      vcsw += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return { utime: Number(f[11]) * TICK_US, stime: Number(f[12]) * TICK_US, minflt: Number(f[7]), byKind, vcsw };
}

function baseMessage(size: number): Buffer {
  const head = 'From: Bench <bench@bench.test>\r\nTo: users@bench.test\r\nSubject: delivery benchmark\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog. 0123456789\r\n';
  return Buffer.from(head + line.repeat(Math.ceil((size - head.length) / line.length)));
}

/** What --trace-gc printed so far: mark-compacts and scavenges, their pause ms, and the last reasons given. */
interface GcSeen {
  markCompacts: number;
  markCompactMs: number;
  scavenges: number;
  scavengeMs: number;
  reasons: Map<string, number>;
}

async function start(tree: string, dir: string, strace: boolean, perfMap: boolean): Promise<{ child: ChildProcess; pid: number; port: number; gc: GcSeen }> {
  const gc: GcSeen = { markCompacts: 0, markCompactMs: 0, scavenges: 0, scavengeMs: 0, reasons: new Map() };
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true });
  const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of USERS) await users.add(u, 'x');
  const flags = [...(perfMap ? ['--perf-basic-prof'] : []), ...(values['trace-gc'] ? ['--trace-gc'] : []), ...(values['node-flags'] ? values['node-flags'].split(' ') : [])];
  const args = [...flags, ...postroomEntry(tree, 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--imap-port', 'off', '--imaps-port', 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--log-level', 'error'];
  const child = strace
    ? spawn('strace', ['-f', '-c', '-o', join(BENCH_TMP, 'lmtp-cpu-strace.txt'), process.execPath, ...args], { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"listening"')) ok((JSON.parse(line) as { lmtpPort: number }).lmtpPort);
      // [pid:0x…]    1234 ms: Mark-Compact 20.1 (25.3) -> 12.0 (26.1) MB, 3.1 / 0.0 ms  (+ …) reason
      if (process.env.LMTP_CPU_GC_LOG && /Mark-Compact|[Ii]ncremental|external/.test(line)) appendFileSync(process.env.LMTP_CPU_GC_LOG, `${line}\n`);
      const m = /: (Mark-Compact|Scavenge)[^,]*, ([\d.]+) \/ [\d.]+ ms\s+(.*)$/.exec(line);
      if (m) {
        const ms = Number(m[2]);
        if (m[1] === 'Scavenge') {
          gc.scavenges++;
          gc.scavengeMs += ms;
        } else {
          gc.markCompacts++;
          gc.markCompactMs += ms;
          const reason = m[3]!.replace(/^\(.*?\)\s*/, '').replace(/\d+(\.\d+)?/g, 'N');
          gc.reasons.set(reason, (gc.reasons.get(reason) ?? 0) + 1);
        }
      }
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
  let pid = child.pid!;
  if (strace) {
    // The node process is strace's child.
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').trim().split(' ');
    pid = Number(kids[0]);
  }
  return { child, pid, port, gc };
}

async function deliver(port: number, count: number, tag: string): Promise<void> {
  const base = baseMessage(SIZE);
  let next = 0;
  await Promise.all(
    Array.from({ length: SESSIONS }, async (_, s) => {
      const client = await LmtpClient.connect({ host: '127.0.0.1', port }, { timeoutMs: 120_000 });
      for (let n = next++; n < count; n = next++) {
        const message = Buffer.concat([Buffer.from(`X-Bench: ${tag}-${s}-${n}\r\n`), base]);
        const to = Array.from({ length: RCPTS }, (_, k) => ({ address: `${USERS[(n + k) % USERS.length]}@bench.test` }));
        const r = await client.send('bench@bench.test', to, message);
        if (r.delivery.some((d) => d?.code !== 250)) throw new Error(`not delivered: ${JSON.stringify(r.delivery)}`);
      }
      await client.quit();
    }),
  );
}

interface Round {
  us: number;
  user: number;
  sys: number;
  faults: number;
  vcsw: number;
  rate: number;
  kinds: Record<string, number>;
}

async function round(tree: string, r: number, strace: boolean): Promise<Round> {
  const dir = join(BENCH_TMP, `lmtp-cpu-${r}`);
  rmSync(dir, { recursive: true, force: true });
  const server = await start(tree, dir, strace, values.perf !== undefined);
  try {
    await deliver(server.port, WARMUP, `w${r}`);
    const perf = strace || r !== 0 || tree !== TREES[0] || !values.perf ? null : spawn('perf', ['record', '-g', '-F', '499', '-p', String(server.pid), '-o', values.perf], { stdio: 'ignore' });
    if (perf) await new Promise((ok) => setTimeout(ok, 1000));
    const a = counters(server.pid);
    const gc0 = { ...server.gc, reasons: new Map(server.gc.reasons) };
    const t0 = performance.now();
    await deliver(server.port, COUNT, `m${r}`);
    const seconds = (performance.now() - t0) / 1000;
    const b = counters(server.pid);
    if (perf) {
      perf.kill('SIGINT');
      await new Promise((ok) => perf.once('exit', ok));
    }
    const n = COUNT * RCPTS;
    if (values['trace-gc']) {
      const g = server.gc;
      console.log(
        `  per delivery: mark-compacts ${((g.markCompacts - gc0.markCompacts) / n).toFixed(3)} (${((g.markCompactMs - gc0.markCompactMs) / n).toFixed(2)} ms), scavenges ${((g.scavenges - gc0.scavenges) / n).toFixed(2)} (${((g.scavengeMs - gc0.scavengeMs) / n).toFixed(2)} ms); reasons: ${[...g.reasons].map(([k, v]) => `${v - (gc0.reasons.get(k) ?? 0)}× ${k}`).join('; ')}`,
      );
    }
    const kinds: Record<string, number> = {};
    for (const [k, v] of b.byKind) kinds[k] = (v - (a.byKind.get(k) ?? 0)) / n;
    return {
      us: (b.utime + b.stime - a.utime - a.stime) / n,
      user: (b.utime - a.utime) / n,
      sys: (b.stime - a.stime) / n,
      faults: (b.minflt - a.minflt) / n,
      vcsw: (b.vcsw - a.vcsw) / n,
      rate: n / seconds,
      kinds,
    };
  } finally {
    // Under --strace the child is strace: the server is told to stop, and strace ends with it
    // (strace sent SIGTERM itself detaches and waits, and the round never ends).
    const exited = new Promise((ok) => server.child.once('exit', ok));
    if (server.pid !== server.child.pid) process.kill(server.pid, 'SIGTERM');
    else server.child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (r: Round): string =>
  `${r.us.toFixed(0).padStart(6)} µs (user ${r.user.toFixed(0)}, sys ${r.sys.toFixed(0)}; main ${(r.kinds.main ?? 0).toFixed(0)}, other threads ${(r.kinds.other ?? 0).toFixed(0)}) faults ${r.faults.toFixed(0)} vcsw ${r.vcsw.toFixed(1)} rate ${r.rate.toFixed(0)}/s`;

console.log(`LMTP CPU per delivery: ${values.kb} KB × ${RCPTS}, ${SESSIONS} sessions, ${COUNT} counted after ${WARMUP}; load ${readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ')}`);
const all = new Map<string, Round[]>(TREES.map((t) => [t, []]));
for (let r = 0; r < ROUNDS; r++) {
  const order = r % 2 === 0 ? TREES : [...TREES].reverse();
  for (const tree of order) {
    const res = await round(tree, r, values.strace && r === 0 && tree === TREES[0]);
    all.get(tree)!.push(res);
    console.log(`round ${r + 1} ${tree}: ${fmt(res)}`);
  }
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [tree, rs] of all) {
  console.log(`median ${tree}: ${median(rs.map((r) => r.us)).toFixed(0)} µs all threads (main ${median(rs.map((r) => r.kinds.main ?? 0)).toFixed(0)}, other threads ${median(rs.map((r) => r.kinds.other ?? 0)).toFixed(0)}, sys ${median(rs.map((r) => r.sys)).toFixed(0)}), faults ${median(rs.map((r) => r.faults)).toFixed(0)}; load ${readFileSync('/proc/loadavg', 'latin1').split(' ')[0]}`);
}
