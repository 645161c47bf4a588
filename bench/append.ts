/**
 * `npm run bench:append [-- --quick] [--count N] [--rounds R] [--plain] [--out FILE] [--cpu-prof DIR]`
 *
 * One client, sequential APPENDs: what a user feels when a mail client saves a sent message or a
 * draft, or moves mail in from another account. Postroom (`postroom serve`, SQLite store, the
 * default setup: implicit TLS) and Dovecot (Maildir, mail_fsync at its default, TLS) side by side,
 * in turn within each round, on fresh copies of the same seeded 400-message mailbox. One
 * connection per server and round: LOGIN, SELECT INBOX (a client has its INBOX open while it
 * saves), then `count` APPENDs to Archive, each waiting for the tagged OK before the next, with a
 * synchronizing literal (the `+` round trip is part of what each server is timed for). Messages
 * are the load bench's (bench/load/messages.ts: 85 % text of 1–8 KB, 13 % with a 10–60 KB
 * attachment, 2 % with 150–300 KB), every one different, the same sequence for both servers.
 *
 * Reported per server: APPENDs per second and p50/p90/p99 of one APPEND (command to tagged OK).
 * Checked, not trusted: every APPEND must be OK, and STATUS Archive (MESSAGES) must have grown by
 * `count` afterwards.
 *
 * `--plain`: plaintext IMAP instead of TLS (both servers). `--cpu-prof DIR`: Postroom runs under
 * `node --cpu-prof` (read with `tsx bench/profile-summary.ts FILE`). `--postroom-only`: Dovecot is
 * not run (for A/B runs of two Postroom trees). `--detail FILE`: one CSV line per APPEND (server,
 * round, index, message bytes, ms, wall-clock ms at the command's start), to tell which APPENDs
 * make the tail. `--strace FILE`: Postroom runs under `strace -f -tt -T` (syscalls with times,
 * to match against --detail's wall clock; slows the server, so its figures are not the bench's);
 * `--strace-calls fsync,fdatasync,...` traces only those (strace --seccomp-bpf: far less slowdown).
 * `--gc-log FILE`: the server logs each of its main thread's garbage collections (start, duration,
 * kind) to FILE.<round> at exit (bench/append/gc-log.mjs). `--node-args="..."`: more node flags
 * for Postroom's process (e.g. `--trace-gc`); `--server-stdout FILE`: what it prints that is not a
 * log line goes to FILE.<round>, each line prefixed with the wall clock (ms). With `--strace`,
 * Dovecot's processes are traced too (strace attached to its master, following the imap process
 * it forks) into FILE.dovecot.<round>; `-y` names each file descriptor's path. `bench/append-syncs.ts`
 * reads both traces with --detail's file: syncs per APPEND, on which files, side by side or in series.
 * `--dovecot-fsync optimized|always` (default optimized, Dovecot's own default: mail saves are
 * fsynced, index updates not; the bench ran `always` until 2026-12-05). `--warmup N`: N APPENDs
 * (other messages) on the same connection before the measured ones, on both servers — a fresh
 * Postroom's first few hundred APPENDs run while V8 is still compiling the APPEND path (about 70
 * TurboFan compiles and 45 % of the server's CPU during the 303, bench/RESULTS.md), which a server
 * that has been up for a while has behind it. (Since 2026-12-05 `serve` warms up before it listens,
 * src/cli/warm-up.ts; `--node-args` cannot turn that off, `--trees` with an older checkout compares.)
 * `--trees A,B`: Postroom from each of these checkouts in every round, beside Dovecot, the order
 * rotating round by round (an A/B of two builds under the same load; bench/RESULTS.md's NOISY runs).
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { benchMessage } from './load/messages.js';
import { WireClient } from './load/wire-client.js';
import { BENCH_TMP, PASSWORD, type SeedSpec, stopChild } from './servers/common.js';
import { dovecotVersion, ensureDovecot, startDovecot } from './servers/dovecot.js';
import { seededPostroomData, type RunningServer } from './servers/postroom.js';
import { testCertificate } from '../test/helpers/certs.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    count: { type: 'string' },
    rounds: { type: 'string' },
    plain: { type: 'boolean', default: false },
    out: { type: 'string' },
    'cpu-prof': { type: 'string' },
    'postroom-only': { type: 'boolean', default: false },
    detail: { type: 'string' },
    strace: { type: 'string' },
    'gc-log': { type: 'string' },
    'strace-calls': { type: 'string' },
    'node-args': { type: 'string' },
    'server-stdout': { type: 'string' },
    'dovecot-fsync': { type: 'string', default: 'optimized' },
    warmup: { type: 'string', default: '0' },
    trees: { type: 'string' },
  },
});
/**
 * `--trees A,B`: Postroom from these checkouts (each its own compiled tree), each run in every
 * round beside Dovecot, in an order that rotates round by round — an A/B of two builds under the
 * same load. Reported as `Postroom@A`, `Postroom@B`. Default: this checkout alone, named Postroom.
 */
const TREES = values.trees ? values.trees.split(',').map((t) => resolve(t)) : [process.cwd()];
const postroomName = (tree: string): string => (values.trees ? `Postroom@${tree}` : 'Postroom');
const COUNT = Number(values.count ?? (values.quick ? 100 : 303));
const ROUNDS = Number(values.rounds ?? (values.quick ? 1 : 3));
const TLS = !values.plain;
const USER = 'user1';
const spec: SeedSpec = { users: { [USER]: 400 } };
const ROOT = join(BENCH_TMP, 'append');

interface RoundResult {
  latencies: number[];
  /** Per APPEND: message bytes and the wall clock (ms since the epoch) at its command's start. */
  sizes: number[];
  startedAt: number[];
  seconds: number;
  /** The server's CPU time (user + system, all its threads) over the APPENDs, ms; NaN where unknown. */
  cpuMs: number;
  bytes: number;
}

async function startPostroomServe(tree: string, runDir: string, certDir: string, round: number): Promise<RunningServer> {
  const data = await seededPostroomData(runDir, spec);
  const tlsArgs = TLS ? ['--tls-cert', join(certDir, 'cert.pem'), '--tls-key', join(certDir, 'key.pem'), '--imaps-port', 'auto', '--imap-port', 'off'] : ['--imap-port', 'auto', '--imaps-port', 'off', '--allow-insecure-auth'];
  const nodeArgs = [...(values['node-args']?.split(' ').filter(Boolean) ?? []), ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : []),
    ...(values['gc-log'] ? ['--import', join(import.meta.dirname, 'append', 'gc-log.mjs')] : []), ...postroomEntry(tree, 'src/cli/main.ts'), 'serve', '--data', data, '--store', 'sqlite', '--host', '127.0.0.1',
    '--pop3-port', 'off', '--pop3s-port', 'off', '--log-level', 'error', ...tlsArgs];
  const env = values['gc-log'] ? { ...process.env, POSTROOM_BENCH_GC_LOG: `${values['gc-log']}.${round}` } : process.env;
  const child = values.strace
    ? spawn('strace', ['-f', '-tt', '-T', '-y', ...(values['strace-calls'] ? ['--seccomp-bpf', '-e', `trace=${values['strace-calls']}`] : []), '-o', `${values.strace}.${round}`, process.execPath, ...nodeArgs], { stdio: ['ignore', 'pipe', 'inherit'], env })
    : spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; imapPort?: number; imapsPort?: number };
        const p = TLS ? m.imapsPort : m.imapPort;
        if (m.msg === 'listening' && p) resolve(p);
      } catch {
        // Not JSON: a line of node's own (--trace-gc), kept when asked for.
        if (values['server-stdout']) appendFileSync(`${values['server-stdout']}.${round}`, `${Date.now()} ${line}\n`);
      }
    });
    child.once('exit', (code) => reject(new Error(`postroom serve exited with ${code} before listening`)));
  });
  // Under strace the child is strace: the server is its child. strace answers a SIGTERM by detaching
  // and leaving the server running, whose open stdout pipe then kept this bench alive after its last
  // round (the `--strace` hang); and /proc of strace's pid was not the server's CPU. So the server's
  // own pid is what is timed and stopped; strace exits when it does.
  const pid = values.strace ? tracedChildPid(child.pid!) : child.pid!;
  return {
    name: 'Postroom',
    pid,
    port,
    stop: async () => {
      if (pid !== child.pid && child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        try {
          process.kill(pid, 'SIGTERM');
        } catch {
          // Already gone: strace exits on its own.
        }
        const t = setTimeout(() => (child.kill('SIGKILL'), killQuietly(pid)), 20_000);
        await exited;
        clearTimeout(t);
        child.stdout?.destroy();
        return;
      }
      await stopChild(child);
    },
  };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already.
  }
}

/** The one process strace started (strace -f runs the command as its child; Linux /proc). */
function tracedChildPid(tracer: number): number {
  const children = readFileSync(`/proc/${tracer}/task/${tracer}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  if (children.length !== 1) throw new Error(`strace ${tracer} has ${children.length} children, expected the server alone`);
  return children[0]!;
}

async function archiveCount(client: WireClient): Promise<number> {
  const done = await client.command('STATUS Archive (MESSAGES)');
  const line = done.untagged.find((u) => /^\* STATUS /i.test(u.text));
  const m = line && /MESSAGES (\d+)/i.exec(line.text);
  if (done.status !== 'OK' || !m) throw new Error(`STATUS: ${done.tagged}`);
  return Number(m[1]);
}

async function appendRun(port: number, round: number, pid: number): Promise<RoundResult> {
  const { client } = await WireClient.connect('127.0.0.1', port, 30_000, { tls: TLS });
  try {
    const login = await client.command(`LOGIN ${USER} ${PASSWORD}`);
    if (login.status !== 'OK') throw new Error(`LOGIN: ${login.tagged}`);
    const select = await client.command('SELECT INBOX');
    if (select.status !== 'OK') throw new Error(`SELECT: ${select.tagged}`);
    const warmup = Number(values.warmup);
    for (let i = 0; i < warmup; i++) {
      const done = await client.append('Archive', '', benchMessage(8_000_000_000 + round * 100_000 + i, `warmup-${round}`));
      if (done.status !== 'OK') throw new Error(`warm-up APPEND ${i}: ${done.tagged}`);
    }
    const before = await archiveCount(client);
    // Built before the clock starts; the same messages for both servers in a round.
    const messages = Array.from({ length: COUNT }, (_, i) => benchMessage(7_000_000_000 + round * 100_000 + i, `append-${round}`));
    const latencies: number[] = [];
    const startedAt: number[] = [];
    const cpuBefore = processCpuMs(pid);
    const started = performance.now();
    for (const [i, message] of messages.entries()) {
      const t = performance.now();
      startedAt.push(performance.timeOrigin + t);
      const done = await client.append('Archive', i % 3 === 0 ? '' : '\\Seen', message);
      latencies.push(performance.now() - t);
      if (done.status !== 'OK') throw new Error(`APPEND ${i}: ${done.tagged}`);
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuMs = processCpuMs(pid) - cpuBefore;
    const after = await archiveCount(client);
    if (after - before !== COUNT) throw new Error(`Archive grew by ${after - before}, ${COUNT} APPENDs were acknowledged`);
    await client.command('LOGOUT').catch(() => undefined);
    return { latencies, sizes: messages.map((m) => m.length), startedAt, seconds, cpuMs, bytes: messages.reduce((n, m) => n + m.length, 0) };
  } finally {
    client.close();
  }
}

/**
 * CPU time of a process so far (user + system, every thread; /proc, Linux), ms. Dovecot's figure is
 * its master process only, not the imap processes it forks: compare Postroom's across trees only.
 */
function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/** `strace -f` attached to `pid` (and what it forks from now on), with the same options as Postroom's. */
async function attachStrace(pid: number, file: string): Promise<ReturnType<typeof spawn>> {
  const tracer = spawn('strace', ['-f', '-tt', '-T', '-y', ...(values['strace-calls'] ? ['-e', `trace=${values['strace-calls']}`] : []), '-o', file, '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  // strace says "Process N attached" on stderr once it holds the process.
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, 2000);
    tracer.stderr!.on('data', (d: Buffer) => {
      if (/attached/.test(d.toString())) (clearTimeout(t), resolve());
    });
  });
  return tracer;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const lines: string[] = [];
const say = (s: string): void => {
  lines.push(s);
  process.stdout.write(`${s}\n`);
};

if (!values['postroom-only']) ensureDovecot();
rmSync(ROOT, { recursive: true, force: true });
mkdirSync(ROOT, { recursive: true });
const certDir = join(ROOT, 'tls');
mkdirSync(certDir, { recursive: true });
const cert = await testCertificate();
writeFileSync(join(certDir, 'cert.pem'), cert.cert);
writeFileSync(join(certDir, 'key.pem'), cert.key, { mode: 0o600 });

say(`# Sequential APPEND, one client: Postroom vs Dovecot — ${new Date().toISOString().slice(0, 10)}`);
say('');
say(`Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; Dovecot ${dovecotVersion()}.`);
say(`Dovecot: mail_fsync = ${values["dovecot-fsync"]}.`);
say(`${ROUNDS} round(s) of ${COUNT} APPENDs${Number(values.warmup) > 0 ? ` (after ${values.warmup} unmeasured on the same connection)` : ''} over ${TLS ? 'implicit TLS' : 'plaintext'}, servers in turn (order rotating round by round), fresh copies of a 400-message mailbox.`);
say('');
const names = [...TREES.map(postroomName), ...(values['postroom-only'] ? [] : ['Dovecot'])];
const all = new Map<string, RoundResult[]>(names.map((n) => [n, []]));
const treeOf = new Map(TREES.map((t) => [postroomName(t), t]));
for (let round = 0; round < ROUNDS; round++) {
  // Rotated each round (two servers: swapped), so no server always runs first or after the same one.
  const order = names.map((_, i) => names[(i + round) % names.length]!);
  for (const [slot, name] of order.entries()) {
    const runDir = join(ROOT, `${slot}-${round}`);
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
    const server =
      name !== 'Dovecot'
        ? await startPostroomServe(treeOf.get(name)!, runDir, certDir, round)
        : await startDovecot({ runDir, spec, highPerformanceLogin: false, hibernateSeconds: 0, maxConnections: 20, mailFsync: values['dovecot-fsync'] as 'optimized' | 'always', ...(TLS ? { tls: { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } } : {}) });
    // Dovecot traced from outside: strace attached to its master follows the processes it forks.
    const tracer = name === 'Dovecot' && values.strace ? await attachStrace(server.pid, `${values.strace}.dovecot.${round}`) : undefined;
    try {
      process.stderr.write(`  round ${round + 1}/${ROUNDS}: ${name}\n`);
      all.get(name)!.push(await appendRun(TLS ? server.tlsPort ?? server.port : server.port, round, server.pid));
    } finally {
      await server.stop();
      tracer?.kill('SIGINT');
    }
    rmSync(runDir, { recursive: true, force: true });
  }
}
say('| server | APPENDs/s | mean ms | p50 ms | p90 ms | p99 ms | MB/s | server CPU ms per APPEND |');
say('|---|---:|---:|---:|---:|---:|---:|---:|');
const rates = new Map<string, number>();
const p50s = new Map<string, number>();
for (const [name, rounds] of all) {
  const lat = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const bytes = rounds.reduce((n, r) => n + r.bytes, 0);
  rates.set(name, lat.length / seconds);
  p50s.set(name, percentile(lat, 50));
  const cpu = rounds.reduce((n, r) => n + r.cpuMs, 0) / lat.length;
  say(`| ${name} | ${(lat.length / seconds).toFixed(0)} | ${(lat.reduce((a, b) => a + b, 0) / lat.length).toFixed(1)} | ${percentile(lat, 50).toFixed(1)} | ${percentile(lat, 90).toFixed(1)} | ${percentile(lat, 99).toFixed(1)} | ${(bytes / seconds / 1e6).toFixed(2)} | ${name !== 'Dovecot' ? cpu.toFixed(2) : '–'} |`);
}
say('');
if (values.detail) {
  const rows = ['server,round,index,bytes,ms,started_ms'];
  for (const [name, rounds] of all)
    rounds.forEach((r, round) => r.latencies.forEach((ms, i) => rows.push(`${name},${round},${i},${r.sizes[i]},${ms.toFixed(3)},${r.startedAt[i]!.toFixed(3)}`)));
  writeFileSync(values.detail, `${rows.join('\n')}\n`);
}
if (all.has('Dovecot')) for (const name of TREES.map(postroomName)) say(`${name}/Dovecot APPEND rate: ${(rates.get(name)! / rates.get('Dovecot')!).toFixed(2)}×; p50 ${p50s.get(name)!.toFixed(1)} vs ${p50s.get('Dovecot')!.toFixed(1)} ms.`);
if (values.out) writeFileSync(values.out, `${lines.join('\n')}\n`);
