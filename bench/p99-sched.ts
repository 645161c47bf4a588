/**
 * `npx tsx bench/p99-sched.ts [--servers postroom,dovecot-hp] [--trees A,B] [--rounds N] [--seconds S]
 *   [--warmup S] [--tls] [--dovecot-fsync optimized|always] [--node-args "FLAGS|FLAGS…"] [--perf]`
 * One persistent client's busy mix (vs-dovecot's persistent-1), each server — and with `--trees`,
 * Postroom built from each source tree — in turn, A B … then reversed, on a fresh server each run.
 * Beside the client's p50/p99 per command it reads the kernel's scheduler counters of every thread
 * of the server's process tree over the measured window (/proc/PID/task/TID/schedstat and status):
 * per command, each thread group's CPU, its time *runnable but waiting for a core* (run-queue
 * delay) and its wake-ups (voluntary context switches) and preemptions. On the 2-core bench machine
 * a cheap command's p99 is mostly the time the server (or the client) waited for a core, and that
 * is made worse by every other runnable thread the server wakes — figures far less sensitive to
 * other processes' load than the p99 itself, and comparable with Dovecot's one-thread imap process.
 * `--node-args` with `|` between sets of node flags runs one Postroom per set (an empty set: node's
 * defaults), alternated like the servers; `@renice=N` in a set is not a node flag: it renices V8's
 * platform threads of that Postroom from outside once it listens (with `--single-threaded-gc` they
 * run compile jobs only, so no GC pause waits for a thread given a low priority). No tracing inside the server (the tails recorder's 1 ms timer would add its own wake-ups).
 *
 * `--perf` (Postroom only) runs the server under `perf record -g` (2 kHz per thread, user and
 * kernel stacks, events on only over the measured window; perf's own threads are not counted above) and prints,
 * per thread group, where its CPU went in µs per command: the top functions, and V8's background work
 * sorted into kinds (scavenge, concurrent marking, sweeping, optimizing compiles …) by the frames on
 * the stack. Costs the server a little CPU of its own (perf's sampling), so read it beside, not
 * instead of, a run without.
 */
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, setPriority } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { runLoad, type LoadOptions } from './load/run-load.js';
import { PerfWrap, perfReport } from './load/perf-threads.js';
import { percentile, type StatsTable } from './load/stats.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { startDovecot } from './servers/dovecot.js';
import type { RunningServer } from './servers/postroom.js';
import { testCertificate } from '../test/helpers/certs.js';
import { mkdirSync, writeFileSync } from 'node:fs';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: 'postroom,dovecot-hp' },
    trees: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '8' },
    warmup: { type: 'string', default: '5' },
    tls: { type: 'boolean', default: false },
    'dovecot-fsync': { type: 'string', default: 'optimized' },
    'node-args': { type: 'string' },
    perf: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const WARMUP = Number(values.warmup);
const spec = mixedUsers(20, 1_000);
const trees = values.trees.split(',').map((t) => resolve(t));

interface ThreadStat {
  /** ns on a CPU, ns runnable waiting for one, timeslices */
  cpu: number;
  wait: number;
  slices: number;
  voluntary: number;
  involuntary: number;
}

/** `pid` and every process under it (a scan of /proc). */
function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const tree: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    tree.push(p);
    todo.push(...(children.get(p) ?? []));
  }
  return tree;
}

/** Every thread of the processes `pids`, keyed `pid/tid`, with a group name. */
function threads(pids: number[]): Map<string, ThreadStat & { group: string }> {
  const out = new Map<string, ThreadStat & { group: string }>();
  for (const p of pids) {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    let procName = '';
    try {
      procName = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    // --perf's sampler, not the server.
    if (procName === 'perf') continue;
    tids.sort((a, b) => Number(a) - Number(b));
    for (const [rank, tid] of tids.entries()) {
      try {
        const [cpu, wait, slices] = readFileSync(`/proc/${p}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number);
        const status = readFileSync(`/proc/${p}/task/${tid}/status`, 'utf8');
        const comm = readFileSync(`/proc/${p}/task/${tid}/comm`, 'utf8').trim();
        const voluntary = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
        const involuntary = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
        // The main thread of each process by the process's name; node names every thread "node", so
        // the others by their rank in the process's thread ids (V8's platform workers first, then
        // libuv's and the store's sync threads in the order they started).
        const group = tid === String(p) ? `${procName} (main)` : comm === 'node' ? `node thread ${rank}` : comm.replace(/\d+$/, '#');
        out.set(`${p}/${tid}`, { group, cpu: cpu!, wait: wait!, slices: slices!, voluntary, involuntary });
      } catch {
        // thread gone
      }
    }
  }
  return out;
}

/** Per group, what the threads did between two snapshots (threads born meanwhile count from 0). */
function delta(a: Map<string, ThreadStat & { group: string }>, b: Map<string, ThreadStat & { group: string }>): Map<string, ThreadStat & { n: number }> {
  const out = new Map<string, ThreadStat & { n: number }>();
  for (const [key, end] of b) {
    const start = a.get(key);
    const g = out.get(end.group) ?? { cpu: 0, wait: 0, slices: 0, voluntary: 0, involuntary: 0, n: 0 };
    g.cpu += end.cpu - (start?.cpu ?? 0);
    g.wait += end.wait - (start?.wait ?? 0);
    g.slices += end.slices - (start?.slices ?? 0);
    g.voluntary += end.voluntary - (start?.voluntary ?? 0);
    g.involuntary += end.involuntary - (start?.involuntary ?? 0);
    g.n++;
    out.set(end.group, g);
  }
  return out;
}

let tlsFiles: { cert: string; key: string } | undefined;
async function tls(): Promise<{ tls?: { cert: string; key: string } }> {
  if (!values.tls) return {};
  if (!tlsFiles) {
    const cert = await testCertificate();
    const dir = join(BENCH_TMP, 'run', 'p99-sched-cert');
    mkdirSync(dir, { recursive: true });
    tlsFiles = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
    writeFileSync(tlsFiles.cert, cert.cert);
    writeFileSync(tlsFiles.key, cert.key, { mode: 0o644 });
  }
  return { tls: tlsFiles };
}

interface Variant {
  label: string;
  start: (runDir: string, perf?: PerfWrap) => Promise<RunningServer>;
  /** `@renice=N` in the variant's node flags: V8's platform threads get this nice value once the server listens. */
  renice?: number;
}

/**
 * Sets `nice` on the threads node starts before any JavaScript runs — V8's four platform workers
 * (compile jobs, GC helpers) and the platform's delayed-task thread, the five threads after the
 * main one in thread-id order — of the node process in `pids` (the server, or its child under a
 * wrapper). From outside, as an operator could with renice(1); a way to measure whether those
 * threads giving way to the main thread helps, not something serve does. Returns their tids.
 */
function reniceV8Threads(pids: number[], nice: number): number[] {
  for (const pid of pids) {
    let comm = '';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    if (comm !== 'node') continue;
    const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b).slice(1, 6);
    for (const tid of tids) setPriority(tid, nice);
    return tids;
  }
  return [];
}
const variants: Variant[] = [];
for (const name of values.servers.split(',')) {
  if (name === 'postroom') {
    // `--node-args "A|B"`: one variant per alternative (an empty one is node's defaults).
    const argSets = values['node-args'] !== undefined ? values['node-args'].split('|').map((a) => a.trim()) : [''];
    for (const tree of trees) {
      for (const set of argSets) {
        const reniceMatch = /@renice=(-?\d+)/.exec(set);
        const nodeArgs = set.replace(/@renice=-?\d+/, '').replace(/\s+/g, ' ').trim();
        const label = ['Postroom', trees.length > 1 ? tree : '', argSets.length > 1 ? `[${set || 'default'}]` : ''].filter(Boolean).join(' ');
        variants.push({
          label,
          ...(reniceMatch ? { renice: Number(reniceMatch[1]) } : {}),
          start: async (runDir, perf) => {
            const mod = (await import(pathToFileURL(join(tree, 'bench/servers/postroom.ts')).href)) as typeof import('./servers/postroom.js');
            return mod.startPostroom({ runDir, spec, maxConnections: 60, ...(nodeArgs ? { nodeArgs: nodeArgs.split(' ') } : {}), ...(perf ? { wrap: perf.wrap } : {}), ...(await tls()) });
          },
        });
      }
    }
  } else if (name === 'dovecot-hp' || name === 'dovecot') {
    variants.push({
      label: name === 'dovecot' ? 'Dovecot' : 'Dovecot-hp',
      start: async (runDir) =>
        startDovecot({ runDir, spec, highPerformanceLogin: name === 'dovecot-hp', hibernateSeconds: 0, maxConnections: 60, mailFsync: values['dovecot-fsync'] as 'optimized' | 'always', ...(await tls()) }),
    });
  } else throw new Error(`unknown server ${name}`);
}

const portOf = (r: RunningServer): number => (values.tls ? r.tlsPort ?? r.port : r.port);
const base: Omit<LoadOptions, 'port' | 'seed' | 'seconds'> = {
  host: '127.0.0.1',
  users: Object.keys(spec.users),
  password: PASSWORD,
  clients: 1,
  workers: 1,
  scenario: 'busy',
  connectConcurrency: 1,
  persistent: true,
  ...(values.tls ? { tls: true } : {}),
};

interface Run {
  table: StatsTable;
  commands: number;
  groups: Map<string, ThreadStat & { n: number }>;
  load: [number, number];
}
const runs = new Map<string, Run[]>(variants.map((v) => [v.label, []]));
const f = (n: number, d = 2): string => n.toFixed(d);

for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? variants : [...variants].reverse();
  for (const v of order) {
    const dir = join(BENCH_TMP, 'p99-sched', `${round}-${variants.indexOf(v)}`);
    rmSync(dir, { recursive: true, force: true });
    const perf = values.perf && v.label.startsWith('Postroom') ? new PerfWrap(join(BENCH_TMP, 'p99-sched', `perf-${round}-${variants.indexOf(v)}.data`)) : undefined;
    const server = await v.start(dir, perf);
    if (v.renice !== undefined) process.stdout.write(`\n${v.label}: V8 platform threads ${reniceV8Threads(processTree(server.pid), v.renice).join(', ')} at nice ${v.renice}\n`);
    const load0 = loadavg()[0]!;
    let run: Run | undefined;
    let groupOf = new Map<number, string>();
    let perfText = '';
    try {
      if (WARMUP > 0) await runLoad({ ...base, port: portOf(server), seconds: WARMUP, seed: 99 });
      const before = threads(processTree(server.pid));
      await perf?.send('enable');
      // Dovecot's imap process exits with the client's LOGOUT: the last look at each thread counts,
      // taken every 100 ms while the load runs (up to 100 ms of it missed for such a process).
      const after = new Map<string, ThreadStat & { group: string }>();
      let tree: number[] = [];
      let looks = 0;
      const look = (): void => {
        // The whole of /proc once a second (new processes), the known ones in between.
        if (looks++ % 10 === 0) tree = processTree(server.pid);
        for (const [k, t] of threads(tree)) after.set(k, t);
      };
      const poll = setInterval(look, 100);
      const result = await runLoad({ ...base, port: portOf(server), seconds: SECONDS, seed: round * 10 }).finally(() => clearInterval(poll));
      look();
      const commands = Object.values(result.table).reduce((n, s) => n + s.ok, 0);
      if (perf) {
        await perf.send('disable');
        groupOf = new Map([...after.entries()].map(([k, t]) => [Number(k.split('/')[1]), t.group]));
      }
      run = { table: result.table, commands, groups: delta(before, after), load: [load0, loadavg()[0]!] };
    } finally {
      await server.stop();
      if (perf) {
        await perf.close();
        perfText = perfReport(perf.file, run?.commands ?? 1, groupOf);
        rmSync(perf.file, { force: true });
      }
      // Each run's copy of the seed is hundreds of MB: gone once read.
      rmSync(dir, { recursive: true, force: true });
    }
    if (!run) throw new Error('no run');
    runs.get(v.label)!.push(run);
    process.stdout.write(`\n${v.label}, round ${round + 1}: ${f(run.commands / SECONDS, 0)} commands/s, load ${f(run.load[0], 1)} → ${f(run.load[1], 1)}\n`);
    process.stdout.write('| thread group | threads | CPU µs/cmd | run-queue wait µs/cmd | wake-ups/cmd | preempted/cmd |\n| --- | ---: | ---: | ---: | ---: | ---: |\n');
    for (const [g, s] of [...run.groups.entries()].sort((a, b) => b[1].cpu - a[1].cpu)) {
      if (s.cpu === 0 && s.voluntary === 0) continue;
      const per = (x: number): string => f(x / run.commands);
      process.stdout.write(`| ${g} | ${s.n} | ${per(s.cpu / 1000)} | ${per(s.wait / 1000)} | ${per(s.voluntary)} | ${per(s.involuntary)} |\n`);
    }
    const names = Object.keys(run.table).sort();
    process.stdout.write(perfText);
    process.stdout.write(`p50/p99 ms: ${names.map((n) => `${n} ${f(percentile(run.table[n]!, 0.5))}/${f(percentile(run.table[n]!, 0.99))}`).join(', ')}\n`);
  }
}

// Summary: per variant, the median over rounds of each command's p99, and of the totals.
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const names = [...new Set([...runs.values()].flatMap((rs) => rs.flatMap((r) => Object.keys(r.table))))].sort();
process.stdout.write(`\nPer command: p99 ms, each round (median) — ${[...runs.keys()].join(' | ')}\n`);
process.stdout.write(`| command | ${[...runs.keys()].join(' | ')} |\n| --- |${[...runs.keys()].map(() => ' ---: |').join('')}\n`);
for (const n of names) {
  const cells = [...runs.values()].map((rs) => {
    const ps = rs.map((r) => (r.table[n] ? percentile(r.table[n]!, 0.99) : Number.NaN));
    return `${ps.map((p) => f(p)).join(', ')} (${f(median(ps))})`;
  });
  process.stdout.write(`| ${n} | ${cells.join(' | ')} |\n`);
}
process.stdout.write('\nWhole server tree per command, each round: CPU µs · run-queue wait µs · wake-ups · preemptions; main thread run-queue wait µs; CPU µs of the threads other than the main ones\n');
for (const [label, rs] of runs) {
  const parts = rs.map((r) => {
    const all = [...r.groups.values()].reduce((a, s) => ({ cpu: a.cpu + s.cpu, wait: a.wait + s.wait, vol: a.vol + s.voluntary, inv: a.inv + s.involuntary }), { cpu: 0, wait: 0, vol: 0, inv: 0 });
    const mains = [...r.groups.entries()].filter(([g]) => g.endsWith('(main)'));
    const main = mains.reduce((n, [, s]) => n + s.wait, 0);
    const mainCpu = mains.reduce((n, [, s]) => n + s.cpu, 0);
    const c = r.commands;
    return `${f(all.cpu / 1000 / c, 0)} · ${f(all.wait / 1000 / c, 0)} · ${f(all.vol / c)} · ${f(all.inv / c)}; ${f(main / 1000 / c, 0)}; other threads ${f((all.cpu - mainCpu) / 1000 / c, 0)} (load ${f(r.load[0], 1)})`;
  });
  process.stdout.write(`- ${label}: ${parts.join(' | ')}\n`);
}
