/**
 * `npm run bench:vs-dovecot [-- --quick] [--seconds S] [--rounds R] [--only mixed-50,persistent-1,idle,idle-tls,login-rate] [--idle N] [--idle-second N]
 *   [--big N] [--tls] [--dovecot-fsync optimized|always] [--postroom-node-args="--single-threaded-gc …"] [--logins N] [--login-clients C] [--warmup S] [--cpu-prof] [--out FILE]`
 * Postroom (SqliteStore) and Dovecot (Maildir; default and high-performance login mode) on the same
 * machine, seeded with the same users and messages, under the same load, in turn (A B C A B C…).
 * `mixed-N` clients log out and reconnect after every round of 10–40 commands; `persistent-N` clients
 * keep one connection for the whole run, as mail clients do, and send without IDLE's pauses (the
 * `busy` mix), so that one client's rate measures the server. `--tls`: every load scenario over
 * implicit TLS on both servers (how clients connect by default).
 * Prints per-command throughput and latency for each and the ratio Postroom/Dovecot, and the memory
 * per idle IDLE connection as PSS over each server's process tree — plaintext (`idle`) and over
 * implicit TLS (`idle-tls`: both servers hibernating, Dovecot's imap-login holding the TLS state).
 * Two figures per server: from the baseline to N connections (what the first N cost, one-time growth
 * of heap and allocator included), and the slope from N to N + `--idle-second` connections, each
 * plateau settled (what one more connection costs); `--idle-second` defaults to N for idle-tls and 0
 * (no second batch) for idle. `--idle-settle-max S`: hibernating servers' plateaus are read once
 * PSS has stopped moving (at most S s; bench/idle-memory.ts). `--idle-variants p,ph,d,dh` (default all four): which servers the idle
 * scenarios start — Postroom awake (p) and hibernating (ph), Dovecot-hp awake (d) and hibernating
 * (dh); at 10,000 connections an awake Dovecot is 10,000 imap processes (~5.7 GB).
 * `login-rate`: logins/s over implicit TLS, cold (every login a user never seen, so every one is
 * hashed) and warm (the same users again, from the credential cache), each server with its default
 * password scheme (login-rate.ts); `--logins` per round, `--login-clients` at a time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { testCertificate } from '../test/helpers/certs.js';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, type LoadOptions, type LoadResult } from './load/run-load.js';
import { loadTable, sideBySide, summary } from './load/report.js';
import { merge } from './load/stats.js';
import type { ScenarioName } from './load/scenario.js';
import { BENCH_TMP, PASSWORD, mixedUsers, type SeedSpec } from './servers/common.js';
import { startPostroom, type RunningServer } from './servers/postroom.js';
import { treeCpuSeconds } from './servers/process-cpu.js';
import { dovecotVersion, ensureDovecot, startDovecot } from './servers/dovecot.js';
import { idleMemory, type IdleResult } from './idle-memory.js';
import { loginRate, loginReport, loginUsers, type LoginServer } from './login-rate.js';
import { DEFAULT_SCRYPT_PARAMS } from '../src/auth/password.js';
import { DEFAULT_CREDENTIAL_CACHE } from '../src/auth/credential-cache.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    idle: { type: 'string' },
    'idle-second': { type: 'string' },
    'idle-variants': { type: 'string' },
    'idle-settle-max': { type: 'string' },
    big: { type: 'string' },
    'cpu-prof': { type: 'boolean', default: false },
    tls: { type: 'boolean', default: false },
    'postroom-workers': { type: 'string' },
    'postroom-node-args': { type: 'string' },
    'dovecot-fsync': { type: 'string' },
    logins: { type: 'string' },
    warmup: { type: 'string' },
    'login-clients': { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const SECONDS = Number(values.seconds ?? (quick ? 4 : 10));
// Seconds of unmeasured load per server before each scenario's rounds. Postroom's JIT is still
// compiling for tens of seconds after start (its V8 compiler threads took ~20 % of its CPU 9–17 s in,
// ~8 % at 29–37 s: bench/results/2026-12-04-persistent-1-tails-noisy.md), on the cores the client uses.
const WARMUP = Number(values.warmup ?? (quick ? 1 : 3));
const ROUNDS = Number(values.rounds ?? (quick ? 1 : 2));
const IDLE = Number(values.idle ?? (quick ? 200 : 10_000));
/** The second batch of idle connections (the slope between plateaus); see the header. */
const idleSecond = (overTls: boolean): number => Number(values['idle-second'] ?? (overTls ? IDLE : 0));
/**
 * With a value: hibernating servers' plateaus are read once PSS stops moving (idle-memory.ts), at
 * most this many seconds after the connections are open; without, after the fixed wait.
 */
const IDLE_SETTLE_MAX = values['idle-settle-max'] === undefined ? undefined : Number(values['idle-settle-max']);
/** Which idle servers to start (see the header); all four unless given. */
const IDLE_VARIANTS = new Set((values['idle-variants'] ?? 'p,ph,d,dh').split(','));
for (const v of IDLE_VARIANTS) if (!['p', 'ph', 'd', 'dh'].includes(v)) throw new Error(`--idle-variants: p, ph, d or dh, not ${v}`);
const BIG = Number(values.big ?? (quick ? 5_000 : 100_000));
const GEN_WORKERS = 2;
const LOGINS = Number(values.logins ?? (quick ? 40 : 200));
const LOGIN_CLIENTS = Number(values['login-clients'] ?? 20);

interface Scenario {
  name: string;
  load: ScenarioName;
  clients: number;
  spec: SeedSpec;
  /** Offered commands/s in all (paced clients); absent: clients send without pause. */
  rate?: number;
  /** Clients keep their connection for the whole run (LoadConfig.persistent). */
  persistent?: boolean;
}

const mixedSpec = mixedUsers(20, quick ? 200 : 1_000);
const bigSpec: SeedSpec = { users: { big: BIG } };
const SCENARIOS: Scenario[] = [
  { name: 'mixed-1', load: 'mixed', clients: 1, spec: mixedSpec },
  { name: 'mixed-50', load: 'mixed', clients: 50, spec: mixedSpec },
  { name: 'mixed-200', load: 'mixed', clients: 200, spec: mixedSpec },
  { name: 'persistent-1', load: 'busy', clients: 1, spec: mixedSpec, persistent: true },
  { name: 'persistent-50', load: 'busy', clients: 50, spec: mixedSpec, persistent: true },
  { name: 'persistent-200', load: 'busy', clients: 200, spec: mixedSpec, persistent: true },
  // Latency at an equal offered load that every server sustains: with clients that never pause,
  // per-command latency only shows where each server makes its clients wait.
  { name: 'paced-50', load: 'mixed', clients: 50, spec: mixedSpec, rate: quick ? 500 : 1000 },
  { name: `fetch-${BIG}`, load: 'fetch', clients: 20, spec: bigSpec },
  { name: 'append', load: 'append', clients: 20, spec: mixedSpec },
];
// --quick keeps to ≤ 2 minutes: one short round of mixed-50 and FETCH-heavy, and a small idle run.
const only = values.only?.split(',') ?? (quick ? ['mixed-50', 'fetch', 'idle'] : undefined);
const wanted = (name: string): boolean => !only || only.some((o) => name.startsWith(o));

const out: string[] = [];
const say = (s: string): void => {
  out.push(s);
  process.stdout.write(`${s}\n`);
};

type Starter = (runDir: string, spec: SeedSpec, maxConnections: number) => Promise<RunningServer>;

/** One certificate for every server of the run (written once, on first use). */
let tlsFiles: { cert: string; key: string } | undefined;
async function benchTls(): Promise<{ cert: string; key: string }> {
  if (tlsFiles) return tlsFiles;
  const cert = await testCertificate();
  const dir = join(BENCH_TMP, 'run', 'tls-cert');
  mkdirSync(dir, { recursive: true });
  const files = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  writeFileSync(files.cert, cert.cert);
  // Read by Dovecot's config process (root) and Postroom alike.
  writeFileSync(files.key, cert.key, { mode: 0o644 });
  tlsFiles = files;
  return files;
}
const loadTls = values.tls;
const serverTls = async (): Promise<{ tls?: { cert: string; key: string } }> => (loadTls ? { tls: await benchTls() } : {});
const postroomWorkers = values['postroom-workers'] ? Number(values['postroom-workers']) : 0;
// Dovecot's mail_fsync for the load scenarios. Default `optimized`, Dovecot's own default and the
// same promise as Postroom's (mail saves on disk at the tagged OK, flag changes not waited for:
// docs/sqlite.md); `always` also fsyncs every flag change, which Postroom does not.
const dovecotFsync = values['dovecot-fsync'] ?? 'optimized';
if (dovecotFsync !== 'optimized' && dovecotFsync !== 'always') {
  process.stderr.write('--dovecot-fsync: optimized (default) or always\n');
  process.exit(2);
}
if (postroomWorkers > 1) {
  // The Postroom side runs the bench's own one-process entry point (postroom-main.ts), not serve.
  process.stderr.write('--postroom-workers: not measured here; several processes: `npm run bench:cluster` (PostgreSQL), `npm run bench:idle-scale` (SQLite)\n');
  process.exit(2);
}
const postroomNodeArgs = (values['postroom-node-args'] ?? '').split(/\s+/).filter(Boolean);
const profileArgs = values['cpu-prof'] ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(BENCH_TMP, 'profiles')] } : {};
const SERVERS: { label: string; start: Starter }[] = [
  { label: 'Postroom', start: async (runDir, spec, max) => startPostroom({ runDir, spec, maxConnections: max, ...profileArgs, ...(await serverTls()) }) },
  {
    label: 'Dovecot',
    start: async (runDir, spec, max) => startDovecot({ runDir, spec, highPerformanceLogin: false, hibernateSeconds: 0, maxConnections: max, mailFsync: dovecotFsync, ...(await serverTls()) }),
  },
  {
    label: 'Dovecot-hp',
    start: async (runDir, spec, max) => startDovecot({ runDir, spec, highPerformanceLogin: true, hibernateSeconds: 0, maxConnections: max, mailFsync: dovecotFsync, ...(await serverTls()) }),
  },
  // A second Postroom whose node has these flags (what serve's --v8-semi-space-mb / --v8-single-threaded-gc give it), in the same rounds.
  ...(postroomNodeArgs.length > 0
    ? [{ label: `Postroom ${postroomNodeArgs.join(' ')}`, start: (async (runDir, spec, max) => startPostroom({ runDir, spec, maxConnections: max, nodeArgs: postroomNodeArgs, ...(await serverTls()) })) as Starter }]
    : []),
  // `postroom serve --workers N`, measured in the same rounds (the CLI's default connection limits apply).
  ...(postroomWorkers > 1
    ? [{ label: `Postroom --workers ${postroomWorkers}`, start: ((runDir, spec) => startPostroom({ runDir, spec, serveArgs: ['--workers', String(postroomWorkers)] })) as Starter }]
    : []),
];

async function loadScenario(s: Scenario): Promise<void> {
  const running: RunningServer[] = [];
  try {
    for (const [i, srv] of SERVERS.entries()) running.push(await srv.start(join(BENCH_TMP, 'run', `${s.name}-${i}`), s.spec, s.clients * 2 + 50));
    const results: LoadResult[][] = SERVERS.map(() => []);
    const cpu = SERVERS.map(() => 0);
    const base: Omit<LoadOptions, 'port' | 'seed'> = {
      host: '127.0.0.1',
      users: Object.keys(s.spec.users),
      password: PASSWORD,
      clients: s.clients,
      seconds: SECONDS,
      workers: GEN_WORKERS,
      scenario: s.load,
      connectConcurrency: 50,
      ...(s.rate ? { rate: s.rate } : {}),
      ...(s.persistent ? { persistent: true } : {}),
      ...(loadTls ? { tls: true } : {}),
    };
    const portOf = (r: RunningServer): number => {
      if (!loadTls) return r.port;
      if (r.tlsPort === undefined) throw new Error(`${r.name} has no TLS port`);
      return r.tlsPort;
    };
    // A short warm-up each, not counted: first SELECTs build Dovecot's index files and Postroom's caches.
    for (const r of running) await runLoad({ ...base, seconds: values.warmup ? WARMUP : Math.min(WARMUP, SECONDS), port: portOf(r), seed: 99 });
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, r] of running.entries()) {
        process.stderr.write(`  ${s.name}: ${SERVERS[i]!.label} round ${round + 1}/${ROUNDS}\n`);
        // The same seed for every server of a round: each gets the same sequence of commands.
        const before = treeCpuSeconds(r.pid);
        results[i]!.push(await runLoad({ ...base, port: portOf(r), seed: round * 10 }));
        cpu[i]! += treeCpuSeconds(r.pid) - before;
      }
    }
    const combined = results.map((rs) => ({ table: merge(rs.map((x) => x.table)), seconds: rs.reduce((n, x) => n + x.seconds, 0) }));
    const paced = s.rate ? `, paced at ${s.rate} commands/s in all (latency from each command's scheduled time)` : '';
    const how = `${s.persistent ? ', persistent sessions' : ''}${loadTls ? ', implicit TLS' : ''}`;
    say(`\n### ${s.name}: ${s.clients} client${s.clients === 1 ? '' : 's'}, ${s.load} load${how}${paced}, ${ROUNDS}×${SECONDS} s each\n`);
    say(summary(combined.map((c, i) => ({ name: SERVERS[i]!.label, ...c })), ['Dovecot', 'Dovecot-hp']));
    // What a command cost each server (user + system CPU of all its processes): on a loaded machine
    // commands/s favours the server with more processes; this does far less.
    const perCommand = combined.map((c, i) => `${SERVERS[i]!.label} ${((cpu[i]! / Math.max(1, Object.values(c.table).reduce((n, e) => n + e.ok, 0))) * 1e6).toFixed(0)}`);
    say(`\nServer CPU per command (user + system, every process of the server), µs: ${perCommand.join(', ')}.`);
    say('\nPostroom vs Dovecot (default login mode), per command:\n');
    say(sideBySide(combined[0]!, combined[1]!));
    say('\nPostroom vs Dovecot with `service_count = 0` for imap-login (high-performance mode), per command:\n');
    say(sideBySide(combined[0]!, combined[2]!, ['Postroom', 'Dovecot-hp']));
    for (const [i, srv] of SERVERS.entries()) {
      if (i < 3) continue;
      say(`\n${srv.label} vs Dovecot-hp, per command:\n`);
      say(sideBySide(combined[i]!, combined[2]!, [srv.label, 'Dovecot-hp']));
    }
    const errs = combined.map((c, i) => `${SERVERS[i]!.label}:\n${loadTable(c.table, c.seconds).split('\n\n')[1] ?? '  none'}`);
    say(`\nErrors (wrong or failed answers):\n\n\`\`\`\n${errs.join('\n')}\n\`\`\``);
  } finally {
    for (const r of running) await r.stop();
  }
}

const mb = (b: number): string => (b / 1048576).toFixed(1);
const kb = (b: number): string => (b / 1024).toFixed(b < 10 * 1024 ? 2 : 0);

async function idleScenario(overTls: boolean): Promise<void> {
  const spec = mixedUsers(20, 50);
  // Hibernating servers get a minute to settle: Dovecot moves sessions to imap-hibernate 5 s after
  // IDLE starts; Postroom parks them after 5 s too, and its heap shrinks only once V8 notices the
  // process is idle (about 40 s later). Baselines are taken after the same wait (idle-memory.ts).
  const settleHibernating = quick ? 20 : 60;
  const tls = overTls ? await benchTls() : undefined;
  const suffix = overTls ? '-tls' : '';
  const withTls = tls ? { tls } : {};
  const SECOND = idleSecond(overTls);
  const MAX = IDLE + SECOND;
  const variants: { key: string; label: string; start: () => Promise<RunningServer>; settleSeconds: number }[] = [
    { key: 'p', label: 'Postroom (idleHibernateSeconds=0)', start: () => startPostroom({ runDir: join(BENCH_TMP, 'run', `idle-p${suffix}`), spec, maxConnections: MAX + 100, hibernateSeconds: 0, ...withTls }), settleSeconds: 3 },
    { key: 'ph', label: 'Postroom (idleHibernateSeconds=5)', start: () => startPostroom({ runDir: join(BENCH_TMP, 'run', `idle-ph${suffix}`), spec, maxConnections: MAX + 100, hibernateSeconds: 5, ...withTls }), settleSeconds: settleHibernating },
    { key: 'd', label: 'Dovecot (hp login)', start: () => startDovecot({ runDir: join(BENCH_TMP, 'run', `idle-d${suffix}`), spec, highPerformanceLogin: true, hibernateSeconds: 0, maxConnections: MAX, ...withTls }), settleSeconds: 3 },
    { key: 'dh', label: 'Dovecot (hp login, imap_hibernate_timeout=5s)', start: () => startDovecot({ runDir: join(BENCH_TMP, 'run', `idle-dh${suffix}`), spec, highPerformanceLogin: true, hibernateSeconds: 5, maxConnections: MAX, ...withTls }), settleSeconds: settleHibernating },
  ];
  const rows: [string, IdleResult][] = [];
  for (const v of variants) {
    if (!IDLE_VARIANTS.has(v.key)) continue;
    process.stderr.write(`  idle${suffix}: ${v.label}, ${IDLE} connections\n`);
    rows.push([v.label, await idleMemory({ start: v.start, connections: IDLE, tls: overTls, users: Object.keys(spec.users), settleSeconds: v.settleSeconds, ...(IDLE_SETTLE_MAX !== undefined && v.settleSeconds === settleHibernating ? { settleMaxSeconds: IDLE_SETTLE_MAX } : {}), notifySeconds: quick ? 2 : 5, workers: GEN_WORKERS, ...(SECOND ? { secondBatch: SECOND } : {}) })]);
  }
  say(`\n### ${IDLE} idle connections in IDLE${overTls ? ' over implicit TLS' : ''} (20 users, INBOX selected)\n`);
  say(
    '"Per connection" is (PSS over the server\'s process tree with all N connections idle and settled − PSS of the warmed-up, settled server before them) / N: ' +
      'what N connections cost in all, one-time growth (heap, allocator arenas, code) included, so it falls as N grows. ' +
      (SECOND ? `"Slope" is (PSS with N + ${SECOND} − PSS with N, both settled) / ${SECOND}: what one more connection costs at N. ` : '') +
      `Settling: ${settleHibernating} s for hibernating servers${IDLE_SETTLE_MAX !== undefined ? `, then until PSS stops moving (30 s within 1 MB or 1 %; at most ${IDLE_SETTLE_MAX} s)` : ''}, 3 s for awake ones.\n`,
  );
  say(`| server | held | processes | PSS before | PSS with all idle | per connection | RSS per connection | notified within ${quick ? 2 : 5} s | open time s |`);
  say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [label, r] of rows) {
    const per = (r.after.pssBytes - r.before.pssBytes) / Math.max(1, r.held);
    const perRss = (r.after.rssBytes - r.before.rssBytes) / Math.max(1, r.held);
    const held = r.held + (r.second?.held ?? 0);
    say(
      `| ${label} | ${r.held} | ${r.after.processes} | ${mb(r.before.pssBytes)} MB | ${mb(r.after.pssBytes)} MB | ${kb(per)} KB | ${kb(perRss)} KB | ${r.notified}/${held} | ${r.openSeconds.toFixed(0)} |`,
    );
  }
  if (SECOND) {
    say(`\nThe slope: ${SECOND} more connections opened after the first ${IDLE} settled, memory read once they settled too — what one more connection costs, without the one-time growth the first batch brings (the table above counts that growth in).\n`);
    say('| server | first batch held | second batch held | PSS after first | PSS after second | per connection, first batch (from baseline) | per connection, slope | RSS slope |');
    say('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const [label, r] of rows) {
      if (!r.second) continue;
      const per = (r.after.pssBytes - r.before.pssBytes) / Math.max(1, r.held);
      const slope = (r.second.after.pssBytes - r.after.pssBytes) / Math.max(1, r.second.held);
      const rssSlope = (r.second.after.rssBytes - r.after.rssBytes) / Math.max(1, r.second.held);
      say(`| ${label} | ${r.held} | ${r.second.held} | ${mb(r.after.pssBytes)} MB | ${mb(r.second.after.pssBytes)} MB | ${kb(per)} KB | ${kb(slope)} KB | ${kb(rssSlope)} KB |`);
    }
  }
  if (IDLE_SETTLE_MAX !== undefined) {
    say('\nPlateaus (baseline, first batch, second batch): seconds waited before PSS was read, * = still moving when the wait ran out.\n');
    for (const [label, r] of rows) say(`- ${label}: ${r.plateaus.map((p) => `${p.seconds.toFixed(0)} s${p.stable ? '' : '*'} (${mb(p.memory.pssBytes)} MB)`).join(', ')}`);
  }
  const perConnection = (r: IdleResult): number => (r.after.pssBytes - r.before.pssBytes) / Math.max(1, r.held);
  const postroomRows = rows.filter(([label]) => label.startsWith('Postroom'));
  const dovecotRows = rows.filter(([label]) => label.startsWith('Dovecot'));
  say('');
  for (const [pl, p] of postroomRows) {
    for (const [dl, d] of dovecotRows) say(`${pl} / ${dl}, memory per connection: ${(perConnection(p) / perConnection(d)).toFixed(3)}`);
  }
  const slope = (r: IdleResult): number | null => (r.second ? (r.second.after.pssBytes - r.after.pssBytes) / Math.max(1, r.second.held) : null);
  for (const [pl, p] of postroomRows) {
    for (const [dl, d] of dovecotRows) {
      const [ps, ds] = [slope(p), slope(d)];
      if (ps !== null && ds !== null) say(`${pl} / ${dl}, memory per connection (slope): ${(ps / ds).toFixed(3)}`);
    }
  }
}

/** Dovecot's auth_cache for the login-rate rows (its default is 0: no cache). */
const DOVECOT_AUTH_CACHE = '10M';

async function loginRateScenario(): Promise<void> {
  const users = loginUsers(LOGINS, ROUNDS);
  const extraUsers = users.flat();
  const spec = mixedUsers(1, 10);
  const tls = await benchTls();
  const run = (name: string): string => join(BENCH_TMP, 'run', `login-rate-${name}`);
  const servers: LoginServer[] = [];
  try {
    const scrypt = `scrypt N=2^${DEFAULT_SCRYPT_PARAMS.log2N}, r=${DEFAULT_SCRYPT_PARAMS.r} (default)`;
    const dovecotScheme = '{CRYPT} bcrypt cost 5 (`doveadm pw` default)';
    const postroomCache = `authCache ${DEFAULT_CREDENTIAL_CACHE.entries} entries, ${DEFAULT_CREDENTIAL_CACHE.ttlSeconds} s (default)`;
    const dovecotCache = `auth_cache_size = ${DOVECOT_AUTH_CACHE}, auth_cache_ttl 1 h`;
    const max = LOGIN_CLIENTS * 2 + 50;
    servers.push({ label: 'Postroom', scheme: scrypt, cache: postroomCache, running: await startPostroom({ runDir: run('p'), spec, maxConnections: max, tls, extraUsers, ...profileArgs }) });
    for (const [label, hp] of [['Dovecot', false], ['Dovecot-hp', true]] as const) {
      const running = await startDovecot({ runDir: run(hp ? 'dhp' : 'd'), spec, highPerformanceLogin: hp, hibernateSeconds: 0, maxConnections: max, tls, extraUsers, authCacheSize: DOVECOT_AUTH_CACHE });
      servers.push({ label, scheme: dovecotScheme, cache: dovecotCache, running });
    }
    const rows = await loginRate({ servers, users, concurrency: LOGIN_CLIENTS, workers: GEN_WORKERS, progress: (l) => process.stderr.write(`${l}\n`) });
    say(`\n### login-rate: ${LOGINS} logins per round cold, then the same ${LOGINS} warm, ${LOGIN_CLIENTS} at a time, implicit TLS, ${ROUNDS} round${ROUNDS === 1 ? '' : 's'}\n`);
    say('Each login: TLS handshake, greeting, LOGIN, LOGOUT on a fresh connection. Cold: users never seen since the server started; warm: the same users and passwords again.\n');
    say(loginReport(rows, 'Dovecot-hp'));
  } finally {
    for (const s of servers) await s.running.stop();
  }
}

async function main(): Promise<void> {
  ensureDovecot();
  mkdirSync(BENCH_TMP, { recursive: true });
  const cpu = cpus();
  say(`## bench:vs-dovecot ${quick ? '(quick) ' : ''}— ${new Date().toISOString()}\n`);
  say(`Machine: ${cpu.length} × ${cpu[0]?.model.trim()}, ${(totalmem() / 1073741824).toFixed(0)} GB; Node ${process.version}; ${dovecotVersion()}.`);
  say(`Server and ${GEN_WORKERS} load-generator processes share these cores.`);
  say(`Dovecot: mail_fsync = ${dovecotFsync} (--dovecot-fsync).`);
  const started = Date.now();
  for (const s of SCENARIOS) if (wanted(s.name)) await loadScenario(s);
  if (wanted('idle')) await idleScenario(false);
  if (wanted('idle-tls')) await idleScenario(true);
  if (wanted('login-rate')) await loginRateScenario();
  say(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
  if (values.out) writeFileSync(values.out, `${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:vs-dovecot failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
