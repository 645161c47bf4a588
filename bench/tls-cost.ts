/**
 * `npx tsx bench/tls-cost.ts [--clients 50] [--seconds 8] [--rounds 2] [--scenario busy] [--churn]
 *   [--servers postroom,dovecot-hp] [--only plain,tls,offload] [--cpu-prof] [--env NAME=VALUE ...]`: each
 * server with a plain and an implicit-TLS port (the same EC test certificate), driven in alternating
 * rounds over each; prints the server's CPU time per command (user + system, every thread and
 * process under it, from /proc) with TLS and without. CPU per command depends far less on what else
 * runs on the machine than commands/s does (issue 23: the TLS cells). `--env` sets variables for the
 * Postroom process (e.g. POSTROOM_BENCH_*). `--rate N`: all clients together offer N commands/s
 * instead of saturating the server — every mode then handles the same rate, so the per-second work
 * (checkpoints, timers) weighs the same on each command; saturated, the mode that gets more of a
 * loaded machine's CPU also spreads that work over more commands. `offload`: TLS ended in another process that pipes the
 * plaintext to Postroom over a UNIX socket (bench/tls-offload-probe.ts) — what moving TLS off the
 * main thread would save it, and cost in all.
 * `--churn`: clients log out and reconnect after every round (handshakes included); default persistent.
 */
import { readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './load/run-load.js';
import type { ScenarioName } from './load/scenario.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { startPostroom, type RunningServer } from './servers/postroom.js';
import { startDovecot } from './servers/dovecot.js';
import { treeCpuSeconds } from './servers/process-cpu.js';
import { testCertificate } from '../test/helpers/certs.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
    scenario: { type: 'string', default: 'busy' },
    churn: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
    servers: { type: 'string', default: 'postroom' },
    warmup: { type: 'string', default: '3' },
    rate: { type: 'string' },
    only: { type: 'string', default: 'plain,tls' },
  },
});
for (const pair of values.env) {
  const at = pair.indexOf('=');
  process.env[pair.slice(0, at)] = pair.slice(at + 1);
}
const clients = Number(values.clients);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);
const spec = mixedUsers(20, 1_000);

const certDir = join(BENCH_TMP, 'run', 'tls-cost-cert');
mkdirSync(certDir, { recursive: true });
const cert = await testCertificate();
const tls = { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') };
writeFileSync(tls.cert, cert.cert);
writeFileSync(tls.key, cert.key);

const profDir = join(BENCH_TMP, `profiles-tls-cost-${process.pid}`);
rmSync(profDir, { recursive: true, force: true });
// Per run (pid): two runs at once must not share a data folder or socket.
const unixPath = join(BENCH_TMP, 'run', `tls-cost-${process.pid}.sock`);
rmSync(unixPath, { force: true });
if (values.only.includes('offload')) process.env.POSTROOM_BENCH_UNIX = unixPath;
const wantedServers = values.servers.split(',');
const servers: { label: string; running: RunningServer }[] = [];
if (wantedServers.includes('postroom')) {
  servers.push({
    label: 'Postroom',
    running: await startPostroom({
      runDir: join(BENCH_TMP, 'run', `tls-cost-${process.pid}`),
      spec,
      tls,
      maxConnections: clients + 100,
      ...(values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}),
    }),
  });
}
if (wantedServers.includes('dovecot-hp')) {
  servers.push({
    label: 'Dovecot-hp',
    running: await startDovecot({ runDir: join(BENCH_TMP, 'run', `tls-cost-dhp-${process.pid}`), spec, highPerformanceLogin: true, hibernateSeconds: 0, maxConnections: clients + 100, tls }),
  });
}

/** `--only offload`: the TLS terminator process (bench/tls-offload-probe.ts) in front of Postroom's UNIX socket. */
let probe: { pid: number; port: number; child: ChildProcess } | undefined;
if (values.only.includes('offload')) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/tls-offload-probe.ts', unixPath, tls.cert, tls.key], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => createInterface({ input: child.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port)));
  probe = { pid: child.pid!, port, child };
}

const cpuSeconds = treeCpuSeconds;
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

const scenario = values.scenario as Exclude<ScenarioName, 'idle'>;
const base = { host: '127.0.0.1', users: Object.keys(spec.users), password: PASSWORD, clients, workers: 2, scenario, connectConcurrency: 50, ...(values.churn ? {} : { persistent: true }), ...(values.rate ? { rate: Number(values.rate) } : {}) };
for (const s of servers) process.stdout.write(`${s.label}: pid ${s.running.pid}\n`);
// Warm-up (JIT, page caches), not counted.
for (const s of Number(values.warmup) > 0 ? servers : []) {
  if (values.only.includes('plain')) await runLoad({ ...base, port: s.running.port, seconds: Number(values.warmup), seed: 5 });
  if (values.only.includes('tls')) await runLoad({ ...base, port: s.running.tlsPort!, tls: true, seconds: Number(values.warmup), seed: 6 });
  if (probe && s.label === 'Postroom') await runLoad({ ...base, port: probe.port, tls: true, seconds: Number(values.warmup), seed: 6 });
}

const modes = values.only.split(',') as ('plain' | 'tls' | 'offload')[];
type Sum = { cpu: number; load: number; probe: number; commands: number; wall: number };
const sums = new Map<string, Sum>();
for (let r = 0; r < rounds; r++) {
  for (const s of servers) {
    for (const mode of modes) {
      if (mode === 'offload' && s.label !== 'Postroom') continue;
      const probeBefore = probe ? cpuSeconds(probe.pid) : 0;
      const before = cpuSeconds(s.running.pid);
      const mineBefore = cpuSeconds(process.pid) - before - probeBefore;
      const port = mode === 'tls' ? s.running.tlsPort! : mode === 'offload' ? probe!.port : s.running.port;
      const result = await runLoad({ ...base, port, ...(mode !== 'plain' ? { tls: true } : {}), seconds, seed: 7 + r });
      const after = cpuSeconds(s.running.pid);
      const probeAfter = probe ? cpuSeconds(probe.pid) : 0;
      const probeCpu = probeAfter - probeBefore;
      const cpu = after - before;
      // The load generator processes have sent their counts; let them exit and be waited for, so
      // that their CPU time lands in this process's cutime/cstime.
      await new Promise((r) => setTimeout(r, 1_000));
      // The load generators: everything under this process but the server and the probe.
      const load = cpuSeconds(process.pid) - cpuSeconds(s.running.pid) - (probe ? cpuSeconds(probe.pid) : 0) - mineBefore;
      const commands = Object.values(result.table).reduce((n, st) => n + st.ok, 0);
      const key = `${s.label} ${mode}`;
      const sum = sums.get(key) ?? { cpu: 0, load: 0, probe: 0, commands: 0, wall: 0 };
      sum.probe += probeCpu;
      sum.cpu += cpu;
      sum.load += load;
      sum.commands += commands;
      sum.wall += result.seconds;
      sums.set(key, sum);
      process.stdout.write(`round ${r + 1} ${key}: ${commands} commands in ${result.seconds.toFixed(1)} s (${(commands / result.seconds).toFixed(0)}/s), server CPU ${cpu.toFixed(2)} s = ${((cpu / commands) * 1e6).toFixed(1)} µs/command${mode === 'offload' ? ` + TLS terminator ${((probeCpu / commands) * 1e6).toFixed(1)} µs/command` : ''}, load generators ${((load / commands) * 1e6).toFixed(1)} µs/command; load ${loadAverage()}\n`);
    }
  }
}
for (const s of servers) await s.running.stop();
for (const dir of [`tls-cost-${process.pid}`, `tls-cost-dhp-${process.pid}`]) rmSync(join(BENCH_TMP, 'run', dir), { recursive: true, force: true });
rmSync(unixPath, { force: true });
probe?.child.kill('SIGTERM');
process.stdout.write(`\n${clients} clients, ${values.churn ? 'login churn' : 'persistent sessions'}, ${values.scenario} mix, ${rounds}×${seconds} s; server CPU (user+sys, all threads and processes) per command:\n\n`);
process.stdout.write('| server | plain µs/command | TLS µs/command | TLS extra | load generators plain / TLS µs/command | plain commands/s | TLS commands/s |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n');
for (const s of servers) {
  const p = sums.get(`${s.label} plain`) ?? { cpu: NaN, load: NaN, probe: 0, commands: 1, wall: 1 };
  const t = sums.get(`${s.label} tls`) ?? { cpu: NaN, load: NaN, probe: 0, commands: 1, wall: 1 };
  const pp = (p.cpu / p.commands) * 1e6;
  const tt = (t.cpu / t.commands) * 1e6;
  process.stdout.write(`| ${s.label} | ${pp.toFixed(0)} | ${tt.toFixed(0)} | ${(tt - pp).toFixed(0)} (×${(tt / pp).toFixed(2)}) | ${((p.load / p.commands) * 1e6).toFixed(0)} / ${((t.load / t.commands) * 1e6).toFixed(0)} | ${(p.commands / p.wall).toFixed(0)} | ${(t.commands / t.wall).toFixed(0)} |\n`);
}
const offload = sums.get('Postroom offload');
if (offload) {
  const main = (offload.cpu / offload.commands) * 1e6;
  const term = (offload.probe / offload.commands) * 1e6;
  process.stdout.write(`\nTLS in a terminator process (UNIX socket to Postroom): main process ${main.toFixed(0)} µs/command, terminator ${term.toFixed(0)} µs/command, together ${(main + term).toFixed(0)}; ${(offload.commands / offload.wall).toFixed(0)} commands/s\n`);
}
if (values['cpu-prof']) {
  for (const f of readdirSync(profDir).sort()) {
    process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', 'bench/profile-summary.ts', join(profDir, f), '40'], { encoding: 'utf8' }));
  }
}
