/**
 * `npx tsx bench/append-steps.ts [--trees A,B] [--rounds R] [--count N] [--warmup N] [--plain] [--node-args "..."] [--server-stdout FILE]`
 *
 * Where a fresh server's sequential APPENDs spend their time, per APPEND and by its place in the
 * sequence: bench:append's run (`postroom serve`, compiled JS, a fresh copy of the 400-message
 * mailbox, TLS, LOGIN, SELECT INBOX, then `count` APPENDs of the load bench's messages to Archive,
 * each waiting for its tagged OK), with each thread of the server read from /proc after every
 * APPEND (schedstat: CPU ns and run-queue wait ns, which do not depend on a timer tick). Reported
 * per tree and per stretch of the sequence (APPENDs 1–10, 11–50, 51–150, 151–N): the client's
 * median and p90, and per APPEND the main thread's CPU, its wait for a core, and the CPU of V8's
 * platform threads (compiles, GC helpers) and of the rest (libuv pool, the store's sync threads).
 * CPU per APPEND is the figure to compare on a loaded machine; client latencies are NOISY.
 *
 * `--trees`: checkouts to alternate, round by round (default `.`); each runs its own compiled tree
 * (bench/servers/compiled.ts). `--warmup N`: N unmeasured APPENDs first (other messages), as a
 * server that has been up for a while. `--server-stdout FILE`: the server's non-log lines (e.g.
 * with `--node-args="--trace-opt"`) to FILE.<tree index>.<round>, each prefixed with the wall clock
 * in ms; the measured window's first and last wall-clock ms are printed for bench/jit-compiles.ts.
 * `--dump FILE`: every APPEND as a CSV line (tree, round, index, bytes, ms, and the four CPU/wait
 * figures in µs).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { benchMessage } from './load/messages.js';
import { WireClient } from './load/wire-client.js';
import { BENCH_TMP, PASSWORD, type SeedSpec, stopChild } from './servers/common.js';
import { seededPostroomData } from './servers/postroom.js';
import { postroomEntry } from './servers/compiled.js';
import { testCertificate } from '../test/helpers/certs.js';

const { values } = parseArgs({
  options: {
    trees: { type: 'string', default: '.' },
    rounds: { type: 'string', default: '2' },
    count: { type: 'string', default: '303' },
    warmup: { type: 'string', default: '0' },
    plain: { type: 'boolean', default: false },
    'node-args': { type: 'string' },
    'server-stdout': { type: 'string' },
    'run-name': { type: 'string', default: 'append-steps' },
    dump: { type: 'string' },
  },
});
const TREES = values.trees.split(',').map((t) => resolve(t));
const ROUNDS = Number(values.rounds);
const COUNT = Number(values.count);
const WARMUP = Number(values.warmup);
const TLS = !values.plain;
const USER = 'user1';
const spec: SeedSpec = { users: { [USER]: 400 } };
const ROOT = join(BENCH_TMP, 'run', values['run-name']);

interface Sample {
  main: number;
  mainWait: number;
  v8: number;
  other: number;
}

/** CPU and wait ns of the server's threads: main, V8's platform workers (the first four after main), the rest. */
function sample(pid: number): Sample {
  const s: Sample = { main: 0, mainWait: 0, v8: 0, other: 0 };
  const tids = readdirSync(`/proc/${pid}/task`).map(Number).sort((a, b) => a - b);
  for (const [rank, tid] of tids.entries()) {
    let cpu: number;
    let wait: number;
    try {
      [cpu, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').trim().split(' ').map(Number) as [number, number];
    } catch {
      continue;
    }
    if (tid === pid) {
      s.main += cpu;
      s.mainWait += wait;
    } else if (rank <= 4) s.v8 += cpu;
    else s.other += cpu;
  }
  return s;
}

async function startServer(tree: string, runDir: string, certDir: string, stdoutFile: string | undefined): Promise<{ pid: number; port: number; startMs: number; stop: () => Promise<void> }> {
  const data = await seededPostroomData(runDir, spec);
  const tlsArgs = TLS ? ['--tls-cert', join(certDir, 'cert.pem'), '--tls-key', join(certDir, 'key.pem'), '--imaps-port', 'auto', '--imap-port', 'off'] : ['--imap-port', 'auto', '--imaps-port', 'off', '--allow-insecure-auth'];
  const args = [...(values['node-args']?.split(' ').filter(Boolean) ?? []), ...postroomEntry(tree, 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--host', '127.0.0.1', '--pop3-port', 'off', '--pop3s-port', 'off', '--log-level', 'error', ...tlsArgs];
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((ok, fail) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; imapPort?: number; imapsPort?: number };
        const p = TLS ? m.imapsPort : m.imapPort;
        if (m.msg === 'listening' && p) ok(p);
      } catch {
        if (stdoutFile) appendFileSync(stdoutFile, `${Date.now()} ${line}\n`);
      }
    });
    child.once('exit', (code) => fail(new Error(`serve exited with ${code} before listening`)));
  });
  return { pid: child.pid!, port, startMs: performance.now() - spawnedAt, stop: () => stopChild(child) };
}

interface Row {
  ms: number;
  bytes: number;
  d: Sample;
}

async function run(tree: string, ti: number, round: number, certDir: string): Promise<{ rows: Row[]; window: [number, number]; startMs: number; startCpuMs: number }> {
  const runDir = join(ROOT, `t${ti}-r${round}`);
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const server = await startServer(tree, runDir, certDir, values['server-stdout'] ? `${values['server-stdout']}.${ti}.${round}` : undefined);
  try {
    const { client } = await WireClient.connect('127.0.0.1', server.port, 30_000, { tls: TLS });
    try {
      if ((await client.command(`LOGIN ${USER} ${PASSWORD}`)).status !== 'OK') throw new Error('LOGIN');
      if ((await client.command('SELECT INBOX')).status !== 'OK') throw new Error('SELECT');
      for (let i = 0; i < WARMUP; i++) {
        const done = await client.append('Archive', '', benchMessage(8_000_000_000 + round * 100_000 + i, `warmup-${round}`));
        if (done.status !== 'OK') throw new Error(`warm-up APPEND ${i}: ${done.tagged}`);
      }
      const messages = Array.from({ length: COUNT }, (_, i) => benchMessage(7_000_000_000 + round * 100_000 + i, `append-${round}`));
      const rows: Row[] = [];
      const from = Date.now();
      let before = sample(server.pid);
      const startCpuMs = (before.main + before.v8 + before.other) / 1e6;
      for (const [i, message] of messages.entries()) {
        const t = performance.now();
        const done = await client.append('Archive', i % 3 === 0 ? '' : '\\Seen', message);
        const ms = performance.now() - t;
        if (done.status !== 'OK') throw new Error(`APPEND ${i}: ${done.tagged}`);
        const after = sample(server.pid);
        rows.push({ ms, bytes: message.length, d: { main: after.main - before.main, mainWait: after.mainWait - before.mainWait, v8: after.v8 - before.v8, other: after.other - before.other } });
        before = after;
      }
      const to = Date.now();
      await client.command('LOGOUT').catch(() => undefined);
      return { rows, window: [from, to], startMs: server.startMs, startCpuMs };
    } finally {
      client.close();
    }
  } finally {
    await server.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const STRETCHES: [number, number][] = [
  [0, 10],
  [10, 50],
  [50, 150],
  [150, Infinity],
];

function report(label: string, rows: Row[][]): void {
  const line = (name: string, rs: Row[]): string => {
    const ms = rs.map((r) => r.ms).sort((a, b) => a - b);
    const mean = (f: (r: Row) => number): string => (rs.reduce((n, r) => n + f(r), 0) / rs.length / 1000).toFixed(0);
    return `| ${label} | ${name} | ${rs.length} | ${pct(ms, 50).toFixed(2)} | ${pct(ms, 90).toFixed(2)} | ${pct(ms, 99).toFixed(2)} | ${mean((r) => r.d.main)} | ${mean((r) => r.d.mainWait)} | ${mean((r) => r.d.v8)} | ${mean((r) => r.d.other)} |`;
  };
  for (const [a, b] of STRETCHES) process.stdout.write(`${line(`${a + 1}–${b === Infinity ? COUNT : b}`, rows.flatMap((r) => r.slice(a, b)))}\n`);
  process.stdout.write(`${line('all', rows.flat())}\n`);
  // By size, from the 51st APPEND on (the first ones are the start's).
  const later = rows.flatMap((r) => r.slice(50));
  for (const [name, lo, hi] of [['≤ 9 KB', 0, 9_000], ['9–100 KB', 9_000, 100_000], ['> 100 KB', 100_000, Infinity]] as const) {
    const rs = later.filter((r) => r.bytes > lo && r.bytes <= hi);
    if (rs.length > 0) process.stdout.write(`${line(`51– ${name}`, rs)}\n`);
  }
}

rmSync(ROOT, { recursive: true, force: true });
const certDir = join(ROOT, 'tls');
mkdirSync(certDir, { recursive: true });
const cert = await testCertificate();
writeFileSync(join(certDir, 'cert.pem'), cert.cert);
writeFileSync(join(certDir, 'key.pem'), cert.key, { mode: 0o600 });
for (const tree of TREES) postroomEntry(tree, 'src/cli/main.ts');

const results = TREES.map(() => [] as Row[][]);
for (let round = 0; round < ROUNDS; round++) {
  const order = TREES.map((_, i) => i);
  if (round % 2 === 1) order.reverse();
  for (const ti of order) {
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    const { rows, window, startMs, startCpuMs } = await run(TREES[ti]!, ti, round, certDir);
    results[ti]!.push(rows);
    const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
    process.stderr.write(`  round ${round + 1}, ${TREES[ti]} (load ${load}): p50 ${pct(ms, 50).toFixed(2)} p90 ${pct(ms, 90).toFixed(2)} p99 ${pct(ms, 99).toFixed(2)} ms; start to listening ${startMs.toFixed(0)} ms, server CPU before the first APPEND ${startCpuMs.toFixed(0)} ms; window ${window[0]}–${window[1]}\n`);
  }
}
if (values.dump) {
  const lines = ['tree,round,index,bytes,ms,main_us,main_wait_us,v8_us,other_us'];
  TREES.forEach((tree, ti) => results[ti]!.forEach((rows, round) => rows.forEach((r, i) => lines.push(`${tree},${round},${i},${r.bytes},${r.ms.toFixed(3)},${(r.d.main / 1000).toFixed(0)},${(r.d.mainWait / 1000).toFixed(0)},${(r.d.v8 / 1000).toFixed(0)},${(r.d.other / 1000).toFixed(0)}`))));
  writeFileSync(values.dump, `${lines.join('\n')}\n`);
}
process.stdout.write(`\n${ROUNDS} round(s) of ${COUNT} APPENDs${WARMUP ? ` after ${WARMUP}` : ''} over ${TLS ? 'TLS' : 'plaintext'}; per APPEND, µs.\n\n`);
process.stdout.write('| tree | APPENDs | n | p50 ms | p90 ms | p99 ms | main CPU | main waiting | V8 threads CPU | other threads CPU |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n');
TREES.forEach((tree, ti) => report(tree, results[ti]!));
rmSync(ROOT, { recursive: true, force: true });
