/**
 * `npm run bench:idle-scale -- [--steps 10000,30000,60000,100000] [--workers N] [--per-worker 10000]
 *   [--users 100] [--hibernate 5] [--settle 45] [--notify 5] [--run-name NAME] [--min-available-mb 3000]
 *   [--max-minutes 40] [--tls] [--tls-records postroom|openssl]`
 *
 * Idle IDLE connections at a scale one process cannot hold: this machine allows 20,000 open files
 * per process (RLIMIT_NOFILE), so 100,000 connections need several. For each step, a fresh
 * `postroom serve --workers W --store sqlite` (W = ceil(step / per-worker), the workers forwarding
 * their store calls to the primary, docs/cluster.md) on a new data folder; client processes of
 * 12,500 connections each (bench/idle-scale-client.ts), each from its own loopback source address
 * (127.0.0.2, 127.0.0.3, …: an address has its own 28,000 ephemeral ports), LOGIN, SELECT INBOX
 * and IDLE. Once all are held and the sessions have hibernated (`idleHibernateSeconds`), the
 * server's memory is measured (PSS over its process tree, as bench:vs-dovecot's idle scenario
 * does); then one LMTP transaction delivers one message to every user, and the clients count the
 * IDLE sessions that hear `* n EXISTS` within `--notify` seconds (and when the rest do).
 *
 * The bench users' password hash is cheap (scrypt N=2^10, as in every bench: about 1.5 ms), and
 * the credential cache serves a user's later logins in a worker; the login rate with the default
 * hash is bench:vs-dovecot's login-rate scenario. Server CPU is read from /proc (user + system,
 * over the process tree) around each phase, since wall-clock on the shared machine is noisy.
 *
 * Bounded: each step gives up on opening after 10 minutes, the run after --max-minutes; a step is
 * skipped (and the run ends) when the machine's MemAvailable would drop under --min-available-mb,
 * and opening stops if it does. Every process started is stopped at the end.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { UserFile } from '../src/auth/user-file.js';
import { LmtpClient } from '../src/lmtp/client.js';
import { WireClient } from './load/wire-client.js';
import { BENCH_TMP, PASSWORD, stopChild } from './servers/common.js';
import { processTree, treeMemory, type TreeMemory } from './servers/memory.js';
import type { ClientConfig } from './idle-scale-client.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string' },
    workers: { type: 'string' },
    'per-worker': { type: 'string' },
    users: { type: 'string' },
    hibernate: { type: 'string' },
    settle: { type: 'string' },
    notify: { type: 'string' },
    tail: { type: 'string' },
    'run-name': { type: 'string' },
    'min-available-mb': { type: 'string' },
    'max-minutes': { type: 'string' },
    concurrency: { type: 'string' },
    tls: { type: 'boolean', default: false },
    'tls-records': { type: 'string' },
  },
});
/** The clients connect over implicit TLS (the server's default certificate; TLS 1.3, so Postroom's record layer). */
const TLS = values.tls === true;
const STEPS = (values.steps ?? '10000,30000,60000,100000').split(',').map(Number);
const PER_WORKER = Number(values['per-worker'] ?? 10_000);
const PER_CLIENT = 12_500;
const USERS = Number(values.users ?? 100);
const HIBERNATE = Number(values.hibernate ?? 5);
const SETTLE = Number(values.settle ?? 45);
const NOTIFY = Number(values.notify ?? 5);
/** How long the stragglers get after NOTIFY (to see the tail). */
const TAIL = Number(values.tail ?? 25);
const RUN = values['run-name'] ?? `idle-scale-${process.pid}`;
const MIN_AVAILABLE = Number(values['min-available-mb'] ?? 3000) * 1048576;
const DEADLINE = Date.now() + Number(values['max-minutes'] ?? 40) * 60_000;
/** Connections being set up at once per client process. */
const CONCURRENCY = Number(values.concurrency ?? 100);
/** Below the 20,000 open files a process may have, with room for the listeners, the store link and logs. */
const WORKER_LIMIT = 18_000;

const CLIENT = fileURLToPath(new URL('./idle-scale-client.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (line: string): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const users = Array.from({ length: USERS }, (_, i) => `idle${i + 1}`);

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB/m.exec(readFileSync('/proc/meminfo', 'latin1'));
  return m ? Number(m[1]) * 1024 : Infinity;
}

/** CPU seconds (user + system) of a process tree, children that ended included only if waited for. */
function treeCpu(root: number): number {
  let ticks = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks / 100;
}

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

interface Server {
  child: ChildProcess;
  pid: number;
  imapPort: number;
  imapsPort?: number;
  lmtpPort: number;
  data: string;
}

async function startServer(dir: string, workers: number): Promise<Server> {
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  // Cheap hash for the bench users (see the top); the users file as `postroom user add` writes it.
  const file = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
  for (const u of users) await file.add(u, PASSWORD);
  const config = join(dir, 'serve.json');
  // Per worker: connections under the open-file limit; no per-address or per-user cap (all the
  // clients are a few loopback addresses and USERS users).
  writeFileSync(config, JSON.stringify({ imapLimits: { maxConnections: WORKER_LIMIT, maxConnectionsPerIp: 0, maxConnectionsPerUser: 0, idleHibernateSeconds: HIBERNATE } }));
  const child = spawn(
    process.execPath,
    [...postroomEntry(ROOT, 'src/cli/main.ts'), 'serve', '--config', config, '--workers', String(workers), '--store', 'sqlite', '--data', data, '--host', '127.0.0.1',
      '--imap-port', 'auto', '--imaps-port', TLS ? 'auto' : 'off', '--pop3-port', 'off', '--pop3s-port', 'off', '--lmtp-port', 'auto', '--allow-insecure-auth', '--log-level', 'warn',
      ...(values['tls-records'] ? ['--tls-records', values['tls-records']] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const listening = await new Promise<{ imapPort: number; imapsPort?: number; lmtpPort: number; pid: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('{"msg":"listening"')) return void (line.includes('"level":') && process.stderr.write(`server: ${line.slice(0, 300)}\n`));
      resolve(JSON.parse(line) as { imapPort: number; imapsPort?: number; lmtpPort: number; pid: number });
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code} before listening`)));
  });
  return { child, pid: listening.pid, imapPort: listening.imapPort, ...(listening.imapsPort ? { imapsPort: listening.imapsPort } : {}), lmtpPort: listening.lmtpPort, data };
}

/** Every user logs in, selects, idles and logs out once on each worker's likely path, so one-time set-up is not counted per connection. */
async function warmUp(port: number): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await Promise.all(
      users.map(async (user) => {
        const { client } = await WireClient.connect('127.0.0.1', port, 60_000);
        await client.command(`LOGIN ${user} ${PASSWORD}`);
        await client.command('SELECT INBOX');
        await client.command('LOGOUT');
        client.close();
      }),
    );
  }
}

interface Clients {
  children: ChildProcess[];
  held: Promise<{ held: number; failed: number; errors: Record<string, number> }>;
  report(): Promise<number[]>;
  mark(): void;
  stop(): Promise<void>;
}

function startClients(port: number, total: number): Clients {
  const n = Math.ceil(total / PER_CLIENT);
  const children: ChildProcess[] = [];
  const helds: Promise<{ held: number; failed: number; errors: Record<string, number> }>[] = [];
  let first = 0;
  for (let i = 0; i < n; i++) {
    const count = Math.floor(total / n) + (i < total % n ? 1 : 0);
    const cfg: ClientConfig = { host: '127.0.0.1', port, localAddress: `127.0.0.${2 + i}`, count, first, users, password: PASSWORD, concurrency: CONCURRENCY, timeoutMs: 600_000, tls: TLS };
    first += count;
    const child = fork(CLIENT, [JSON.stringify(cfg)], { execArgv: ['--import', 'tsx', '--max-old-space-size=2048'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(child);
    helds.push(
      new Promise((resolve, reject) => {
        child.on('message', (m: { t: string; held: number; failed: number; errors: Record<string, number> }) => m.t === 'held' && resolve(m));
        child.once('exit', (code) => reject(new Error(`client ${i} exited with ${code}`)));
      }),
    );
  }
  const held = Promise.all(helds).then((all) => {
    const errors: Record<string, number> = {};
    for (const a of all) for (const [k, v] of Object.entries(a.errors)) errors[k] = (errors[k] ?? 0) + v;
    return { held: all.reduce((s, a) => s + a.held, 0), failed: all.reduce((s, a) => s + a.failed, 0), errors };
  });
  return {
    children,
    held,
    mark: () => children.forEach((c) => c.send({ t: 'mark' })),
    report: async () =>
      (
        await Promise.all(
          children.map(
            (c) =>
              new Promise<number[]>((resolve) => {
                c.once('message', (m: { t: string; delaysMs: number[] }) => resolve(m.delaysMs));
                c.send({ t: 'report' });
              }),
          ),
        )
      ).flat(),
    stop: async () => {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 30_000);
              c.once('exit', () => (clearTimeout(t), resolve()));
              c.send({ t: 'stop' });
            }),
        ),
      );
    },
  };
}

interface StepResult {
  connections: number;
  workers: number;
  clients: number;
  held: number;
  failed: number;
  errors: Record<string, number>;
  perWorker: number[];
  openSeconds: number;
  openCpu: number;
  before: TreeMemory;
  after: TreeMemory;
  hibernated: number | null;
  notified: number;
  notifiedLate: number;
  delays: number[];
  deliverMs: number;
  wakeCpu: number;
  load: string;
}

async function hibernatedCount(data: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...postroomEntry(ROOT, 'src/cli/main.ts'), 'who', '--data', data, '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let n = 0;
    let any = false;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      any = true;
      if (line.includes('"state":"hibernated"')) n++;
    });
    const t = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.once('exit', (code) => (clearTimeout(t), resolve(code === 0 && any ? n : null)));
  });
}

const pct = (sorted: number[], q: number): number => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : NaN);

async function step(total: number): Promise<StepResult | null> {
  const workers = Number(values.workers ?? Math.max(2, Math.ceil(total / PER_WORKER)));
  if (workers === 1 && total > WORKER_LIMIT) throw new Error(`${total} connections need more than one process`);
  // Awake sessions (about 21 KB each before they hibernate), the clients and the kernel's sockets.
  const need = total * 48 * 1024 + workers * 120 * 1048576;
  if (memAvailable() - need < MIN_AVAILABLE) {
    note(`skipping ${total}: MemAvailable ${(memAvailable() / 1048576).toFixed(0)} MB, about ${(need / 1048576).toFixed(0)} MB needed, ${MIN_AVAILABLE / 1048576} MB to be left`);
    return null;
  }
  const dir = join(BENCH_TMP, 'idle-scale', RUN, String(total));
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  note(`${total}: starting serve with ${workers} workers`);
  const server = await startServer(dir, workers);
  let clients: Clients | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  try {
    await warmUp(server.imapPort);
    await sleep(SETTLE * 1000);
    const before = treeMemory(server.pid);
    const cpu0 = treeCpu(server.pid);
    const t0 = performance.now();
    note(`${total}: opening from ${Math.ceil(total / PER_CLIENT)} client processes (PSS before ${(before.pssBytes / 1048576).toFixed(0)} MB)`);
    clients = startClients(TLS ? server.imapsPort! : server.imapPort, total);
    let lowMemory = false;
    watchdog = setInterval(() => {
      if (memAvailable() < MIN_AVAILABLE || Date.now() > DEADLINE) {
        lowMemory = true;
        note(`${total}: MemAvailable under the floor or out of time: stopping the clients`);
        clients?.children.forEach((c) => c.kill('SIGKILL'));
      }
    }, 1000);
    const opened = await Promise.race([clients.held, sleep(600_000).then(() => null)]);
    if (!opened) throw new Error('opening took over 10 minutes');
    const openSeconds = (performance.now() - t0) / 1000;
    const openCpu = treeCpu(server.pid) - cpu0;
    const perWorker = processTree(server.pid).filter((p) => p !== server.pid).map(openFiles);
    note(`${total}: ${opened.held} held, ${opened.failed} failed in ${openSeconds.toFixed(0)} s (server CPU ${openCpu.toFixed(0)} s); open files per worker ${perWorker.join(' ')}`);
    if (lowMemory) throw new Error('stopped for memory');
    await sleep(Math.max(SETTLE, HIBERNATE + 5) * 1000);
    const after = treeMemory(server.pid);
    const hibernated = await hibernatedCount(server.data);
    const load = readFileSync('/proc/loadavg', 'latin1').split(' ').slice(0, 3).join(' ');
    const each = processTree(server.pid).map((pid) => `${pid === server.pid ? 'primary' : pid} ${(treeMemory(pid).pssBytes / 1048576).toFixed(0)}`);
    note(`${total}: PSS after ${(after.pssBytes / 1048576).toFixed(0)} MB (MB by process, children included: ${each.join(', ')}), ${hibernated} hibernated; delivering`);
    const cpu1 = treeCpu(server.pid);
    clients.mark();
    const d0 = performance.now();
    const lmtp = await LmtpClient.connect({ host: '127.0.0.1', port: server.lmtpPort });
    const r = await lmtp.send('bench@remote.test', users.map((u) => ({ address: `${u}@bench.test` })), Buffer.from('From: bench@remote.test\r\nSubject: wake up\r\n\r\nbody\r\n'));
    const deliverMs = performance.now() - d0;
    await lmtp.quit();
    const refused = r.delivery.filter((x) => x?.code !== 250).length;
    if (refused) note(`${total}: ${refused} recipients refused: ${JSON.stringify(r.delivery.find((x) => x?.code !== 250))}`);
    // Everyone gets NOTIFY seconds; the stragglers up to 25 s more (bounded), to see the tail.
    await sleep(NOTIFY * 1000);
    const inTime = (await clients.report()).filter((d) => d <= NOTIFY * 1000).length;
    await sleep(TAIL * 1000);
    const delays = (await clients.report()).sort((a, b) => a - b);
    const wakeCpu = treeCpu(server.pid) - cpu1;
    return {
      connections: total, workers, clients: clients.children.length, held: opened.held, failed: opened.failed, errors: opened.errors, perWorker, openSeconds, openCpu,
      before, after, hibernated, notified: inTime, notifiedLate: delays.length, delays, deliverMs, wakeCpu, load,
    };
  } finally {
    if (watchdog) clearInterval(watchdog);
    note(`${total}: closing`);
    await clients?.stop();
    await stopChild(server.child, 60_000);
    for (const pid of processTree(server.pid)) if (pid !== server.pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: StepResult[] = [];
for (const total of STEPS) {
  if (Date.now() > DEADLINE) break;
  let r: StepResult | null = null;
  try {
    r = await step(total);
  } catch (err) {
    note(`${total}: ${(err as Error).message}`);
  }
  if (!r) break;
  results.push(r);
  const mb = (b: number): string => (b / 1048576).toFixed(0);
  const kb = (b: number): string => (b / 1024).toFixed(2);
  say(
    `| ${r.connections} | ${r.workers} + 1 | ${r.held} (${r.failed} failed${r.failed ? `: ${JSON.stringify(r.errors)}` : ''}) | ${r.perWorker.join(' ')} | ${r.openSeconds.toFixed(0)} s, ${((r.openCpu * 1000) / Math.max(1, r.held)).toFixed(2)} ms CPU each | ${mb(r.before.pssBytes)} → ${mb(r.after.pssBytes)} MB | **${kb((r.after.pssBytes - r.before.pssBytes) / Math.max(1, r.held))} KB** | ${r.hibernated ?? '?'} | **${r.notified}/${r.held}** | LMTP ${r.deliverMs.toFixed(0)} ms; ${r.notifiedLate} by ${NOTIFY + TAIL} s; first ${pct(r.delays, 0)} ms, p50 ${pct(r.delays, 0.5)} ms, p99 ${pct(r.delays, 0.99)} ms, max ${pct(r.delays, 1)} ms | ${r.wakeCpu.toFixed(1)} s | ${r.load} |`,
  );
}
// The LMTP client's and the server's streams may keep the loop alive: everything started is stopped by now.
process.exit(results.length === 0 ? 1 : 0);
