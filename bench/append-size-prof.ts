/**
 * `npx tsx bench/append-size-prof.ts --size BYTES [--count N] [--warmup N] [--cpu-prof DIR] [--run-name NAME] [--trees A,B] [--rounds R]`
 *
 * CPU per APPEND of one message size: `postroom serve` (compiled JS, SQLite, TLS or `--plain`), LOGIN, SELECT
 * INBOX, `warmup` unmeasured APPENDs of the size, then `count` measured ones to Archive, each
 * waiting for its tagged OK. The messages are text with one base64 attachment making up the size,
 * each different. Reports the main thread's CPU per APPEND and that of the other threads
 * (/proc schedstat), per tree, the trees alternating round by round (NOISY on a loaded machine: CPU,
 * not wall clock, is the figure). `--cpu-prof DIR`: the server runs under node --cpu-prof;
 * `--node-args "..."` more node flags, `--server-stdout FILE` what the server prints that is not a log line.
 * Also reported: the client's p50/p90/p99 per APPEND (wall clock, NOISY). `--detail FILE`: one CSV
 * line per measured APPEND (tree index, round, index, start and end in epoch µs, ms) to match against
 * `--strace FILE`: strace (`-f -ttt -T -y`) attached to the server for the measured APPENDs only
 * (after the warm-up), to FILE.<tree index>.<round>; `--strace-calls a,b,...` traces only those.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WireClient } from './load/wire-client.js';
import { sizedMessage } from './load/sized-message.js';
import { BENCH_TMP, PASSWORD, type SeedSpec, stopChild } from './servers/common.js';
import { seededPostroomData } from './servers/postroom.js';
import { postroomEntry } from './servers/compiled.js';
import { testCertificate } from '../test/helpers/certs.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '50000' },
    count: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '1' },
    trees: { type: 'string', default: '.' },
    'cpu-prof': { type: 'string' },
    'run-name': { type: 'string', default: 'append-size-prof' },
    'node-args': { type: 'string' },
    plain: { type: 'boolean', default: false },
    'server-stdout': { type: 'string' },
    detail: { type: 'string' },
    strace: { type: 'string' },
    'strace-calls': { type: 'string' },
  },
});
const SIZE = Number(values.size);
const USER = 'user1';
const spec: SeedSpec = { users: { [USER]: 400 } };
const ROOT = join(BENCH_TMP, 'run', values['run-name']);

const message = (seed: number): Buffer => sizedMessage(seed, SIZE);

function cpu(pid: number): { main: number; other: number } {
  let main = 0;
  let other = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (tid === pid) main += ns;
      else other += ns;
    } catch {
      // thread gone
    }
  }
  return { main: main / 1e6, other: other / 1e6 };
}

const certDir = join(ROOT, 'tls');
mkdirSync(certDir, { recursive: true });
const cert = await testCertificate();
writeFileSync(join(certDir, 'cert.pem'), cert.cert);
writeFileSync(join(certDir, 'key.pem'), cert.key, { mode: 0o600 });
const trees = values.trees.split(',').map((t) => resolve(t));
const results = new Map<string, { main: number; other: number; n: number; ms: number[] }>(trees.map((t) => [t, { main: 0, other: 0, n: 0, ms: [] }]));
if (values.detail) writeFileSync(values.detail, 'tree,round,index,start_us,end_us,ms\n');

/** strace attached to every thread of `pid` from now on; resolves once it holds the process. */
async function attachStrace(pid: number, file: string): Promise<ReturnType<typeof spawn>> {
  const calls = values['strace-calls'] ? ['-e', `trace=${values['strace-calls']}`] : [];
  const tracer = spawn('strace', ['-f', '-ttt', '-T', '-y', ...calls, '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((ok) => {
    const t = setTimeout(ok, 3000);
    tracer.stderr!.on('data', (d: Buffer) => {
      if (/attached/.test(d.toString())) (clearTimeout(t), setTimeout(ok, 200));
    });
  });
  return tracer;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
for (let round = 0; round < Number(values.rounds); round++) {
  for (const [i] of trees.entries()) {
    const tree = trees[(i + round) % trees.length]!;
    const runDir = join(ROOT, `r${round}-${i}`);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    const data = await seededPostroomData(runDir, spec);
    const args = [...(values['node-args']?.split(' ').filter(Boolean) ?? []), ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []), ...postroomEntry(tree, 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--host', '127.0.0.1', '--pop3-port', 'off', '--pop3s-port', 'off', '--log-level', 'error',
      ...(values.plain ? ['--imap-port', 'auto', '--imaps-port', 'off', '--allow-insecure-auth'] : ['--tls-cert', join(certDir, 'cert.pem'), '--tls-key', join(certDir, 'key.pem'), '--imaps-port', 'auto', '--imap-port', 'off'])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((ok, fail) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          const m = JSON.parse(line) as { msg?: string; imapPort?: number; imapsPort?: number };
          const p = values.plain ? m.imapPort : m.imapsPort;
          if (m.msg === 'listening' && p) ok(p);
        } catch {
          // not a log line (node's own, e.g. --trace-gc): kept when asked for
          if (values['server-stdout']) appendFileSync(values['server-stdout'], `${line}\n`);
        }
      });
      child.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
    });
    const { client } = await WireClient.connect('127.0.0.1', port, 30_000, { tls: !values.plain });
    try {
      if ((await client.command(`LOGIN ${USER} ${PASSWORD}`)).status !== 'OK') throw new Error('LOGIN');
      if ((await client.command('SELECT INBOX')).status !== 'OK') throw new Error('SELECT');
      for (let k = 0; k < Number(values.warmup); k++) if ((await client.append('Archive', '', message(1_000_000 + round * 10_000 + k))).status !== 'OK') throw new Error('warm-up APPEND');
      const msgs = Array.from({ length: Number(values.count) }, (_, k) => message(round * 10_000 + k));
      if (values["server-stdout"]) appendFileSync(values["server-stdout"], "=== measured\n");
      const tracer = values.strace ? await attachStrace(child.pid!, `${values.strace}.${i}.${round}`) : undefined;
      const r = results.get(tree)!;
      const before = cpu(child.pid!);
      for (const [k, m] of msgs.entries()) {
        const start = performance.timeOrigin + performance.now();
        if ((await client.append('Archive', '\\Seen', m)).status !== 'OK') throw new Error('APPEND');
        const end = performance.timeOrigin + performance.now();
        r.ms.push(end - start);
        if (values.detail) appendFileSync(values.detail, `${trees.indexOf(tree)},${round},${k},${Math.round(start * 1000)},${Math.round(end * 1000)},${(end - start).toFixed(3)}\n`);
      }
      const after = cpu(child.pid!);
      if (tracer) {
        tracer.kill('SIGINT'); // strace detaches and exits; the server runs on
        await new Promise((ok) => tracer.once('exit', ok));
      }
      r.main += after.main - before.main;
      r.other += after.other - before.other;
      r.n += msgs.length;
      await client.command('LOGOUT').catch(() => undefined);
    } finally {
      client.close();
      await stopChild(child);
    }
    rmSync(runDir, { recursive: true, force: true });
  }
}
for (const [tree, r] of results) {
  const ms = r.ms.sort((a, b) => a - b);
  const lat = `client p50/p90/p99 ${[50, 90, 99].map((p) => percentile(ms, p).toFixed(2)).join('/')} ms`;
  console.log(`${tree}: ${SIZE} B, ${r.n} APPENDs: main ${(r.main / r.n).toFixed(3)} ms, other threads ${(r.other / r.n).toFixed(3)} ms per APPEND; ${lat}`);
}
rmSync(ROOT, { recursive: true, force: true });
