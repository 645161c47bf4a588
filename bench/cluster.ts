/**
 * `npm run bench:cluster [-- --quick] [--seconds S] [--clients 50,200] [--nodes 1,2,3] [--rounds R] [--messages N]
 *   [--delay-only] [--delay-rounds N]`
 *
 * Postroom nodes on one PostgreSQL (a throwaway cluster on a loopback port, as the tests start
 * it), under the mixed load of bench:load spread over 1, 2 and 3 nodes (client i → node i mod n);
 * beside them, in the same run, one `serve --store sqlite` node and Dovecot (Maildir), seeded with
 * the same users and messages. TLS on everywhere: clients connect to the implicit-TLS port.
 * Then the cross-node notification delay: a session IDLEs on node 1 while another APPENDs on
 * node 2; from the APPEND's tagged OK to the IDLE session's EXISTS, p50/p99.
 *
 * Everything — PostgreSQL, every node, Dovecot, the load generators — shares this machine's cores,
 * so the node counts measure how the work spreads over processes on one machine, not more machines.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { runLoad, type LoadOptions, type LoadResult } from './load/run-load.js';
import { summary } from './load/report.js';
import { merge } from './load/stats.js';
import { WireClient } from './load/wire-client.js';
import { BENCH_TMP, PASSWORD, mixedUsers, type SeedSpec, stopChild } from './servers/common.js';
import { benchUsers, seededPostroomData, seedMail } from './servers/postroom.js';
import { dovecotVersion, ensureDovecot, startDovecot } from './servers/dovecot.js';
import { startPgCluster, type PgCluster } from '../test/helpers/pg-cluster.js';
import { testCertificate } from '../test/helpers/certs.js';
import { PostgresStore } from '../src/store/postgres/index.js';
import { benchMessage } from './load/messages.js';
import { postroomEntry } from './servers/compiled.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    clients: { type: 'string' },
    nodes: { type: 'string' },
    messages: { type: 'string' },
    'delay-only': { type: 'boolean', default: false },
    'delay-rounds': { type: 'string' },
    out: { type: 'string' },
  },
});
const quick = values.quick;
const SECONDS = Number(values.seconds ?? (quick ? 4 : 10));
const ROUNDS = Number(values.rounds ?? 1);
const WARMUP = quick ? 1 : 3;
const CLIENTS = (values.clients ?? '50,200').split(',').map(Number);
const NODES = (values.nodes ?? '1,2,3').split(',').map(Number);
const MAX_NODES = Math.max(...NODES);
const spec: SeedSpec = mixedUsers(20, Number(values.messages ?? (quick ? 200 : 1_000)));
const DELAY_ROUNDS = Number(values['delay-rounds'] ?? (quick ? 30 : 100));
/** Only the cross-node notification delay (two nodes), no load rows. */
const DELAY_ONLY = values['delay-only'];

const out: string[] = [];
const say = (s: string): void => {
  out.push(s);
  process.stdout.write(`${s}\n`);
};

interface Node {
  label: string;
  tlsPort: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** `postroom serve` with implicit TLS only, the per-address limit raised for the load (all clients are 127.0.0.1). */
async function startNode(label: string, data: string, storeArgs: string[]): Promise<Node> {
  const config = join(data, 'bench-config.json');
  writeFileSync(config, JSON.stringify({ imapLimits: { maxConnectionsPerIp: 20_000, maxConnections: 20_000, maxConnectionsPerUser: 2_000 } }));
  const child = spawn(
    process.execPath,
    [...postroomEntry(process.cwd(), 'src/cli/main.ts'), 'serve', '--config', config, '--data', data, '--host', '127.0.0.1', '--imap-port', 'off', '--imaps-port', 'auto',
      '--pop3-port', 'off', '--pop3s-port', 'off', '--log-level', 'error', ...storeArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const tlsPort = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const m = JSON.parse(line) as { msg?: string; imapsPort?: number };
        if (m.msg === 'listening' && m.imapsPort) resolve(m.imapsPort);
      } catch {
        /* a log line */
      }
    });
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code} before listening`)));
  });
  return {
    label,
    tlsPort,
    child,
    stop: () => stopChild(child),
  };
}

async function postgresDatabase(cluster: PgCluster): Promise<string> {
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_cluster');
  await admin.end();
  const url = cluster.adminUrl.replace(/\/postgres$/, '/bench_cluster');
  process.stderr.write('seeding PostgreSQL…\n');
  const store = await PostgresStore.open({ connectionString: url });
  await seedMail(store, spec);
  await store.close();
  return url;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

/** IDLE on `watchPort`, APPEND on `writePort`: milliseconds from each APPEND's tagged OK to the EXISTS. */
async function notificationDelay(watchPort: number, writePort: number): Promise<number[]> {
  const user = Object.keys(spec.users)[0]!;
  const { client: watcher } = await WireClient.connect('127.0.0.1', watchPort, 30_000, { tls: true });
  const { client: writer } = await WireClient.connect('127.0.0.1', writePort, 30_000, { tls: true });
  try {
    for (const c of [watcher, writer]) if ((await c.command(`LOGIN ${user} ${PASSWORD}`)).status !== 'OK') throw new Error('login failed');
    await watcher.command('SELECT INBOX');
    watcher.write('idle IDLE\r\n');
    await watcher.next();
    let heard: ((at: number) => void) | null = null;
    watcher.onUntagged = (r) => {
      if (/^\* \d+ EXISTS/.test(r.text)) heard?.(performance.now());
    };
    const delays: number[] = [];
    for (let i = 0; i < DELAY_ROUNDS; i++) {
      const exists = new Promise<number>((resolve, reject) => {
        heard = resolve;
        setTimeout(() => reject(new Error('no EXISTS within 10 s')), 10_000).unref();
      });
      const done = await writer.append('INBOX', '', benchMessage(9_000_000 + i, 'delay probe'));
      const okAt = performance.now();
      if (done.status !== 'OK') throw new Error(`APPEND: ${done.tagged}`);
      delays.push(Math.max(0, (await exists) - okAt));
      await new Promise((r) => setTimeout(r, 20));
    }
    return delays.sort((a, b) => a - b);
  } finally {
    watcher.close();
    writer.close();
  }
}

async function main(): Promise<void> {
  ensureDovecot();
  const runDir = join(BENCH_TMP, 'cluster');
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  const cert = await testCertificate();
  const certDir = join(runDir, 'tls');
  mkdirSync(certDir, { recursive: true });
  writeFileSync(join(certDir, 'cert.pem'), cert.cert);
  writeFileSync(join(certDir, 'key.pem'), cert.key, { mode: 0o600 });
  const tlsArgs = ['--tls-cert', join(certDir, 'cert.pem'), '--tls-key', join(certDir, 'key.pem')];

  const cluster = await startPgCluster();
  const stops: Array<() => Promise<void> | void> = [() => cluster.stop()];
  try {
    const url = await postgresDatabase(cluster);
    const nodes: Node[] = [];
    for (let i = 1; i <= MAX_NODES; i++) {
      const data = join(runDir, `node${i}`);
      mkdirSync(data, { recursive: true });
      await benchUsers(data, spec);
      nodes.push(await startNode(`node ${i}`, data, ['--store', 'postgres', '--database-url', url, ...tlsArgs]));
      stops.unshift(() => nodes[i - 1]!.stop());
    }
    const sqliteData = await seededPostroomData(join(runDir, 'sqlite'), spec);
    const sqlite = await startNode('sqlite', sqliteData, ['--store', 'sqlite', ...tlsArgs]);
    stops.unshift(() => sqlite.stop());
    const dovecot = await startDovecot({
      runDir: join(runDir, 'dovecot'),
      spec,
      highPerformanceLogin: false,
      hibernateSeconds: 0,
      maxConnections: Math.max(...CLIENTS) * 2 + 50,
      tls: { cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') },
    });
    stops.unshift(() => dovecot.stop());

    const targets: Array<{ name: string; ports: number[] }> = [
      ...NODES.map((n) => ({ name: `PostgreSQL, ${n} node${n === 1 ? '' : 's'}`, ports: nodes.slice(0, n).map((x) => x.tlsPort) })),
      { name: 'SQLite, 1 node', ports: [sqlite.tlsPort] },
      { name: 'Dovecot', ports: [dovecot.tlsPort!] },
    ];
    say(`## bench:cluster — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${dovecotVersion()}`);
    say(`\nMixed load over implicit TLS, ${Object.keys(spec.users).length} users × ${Object.values(spec.users)[0]} messages, ${ROUNDS}×${SECONDS} s per row after a ${WARMUP} s warm-up; PostgreSQL ${cluster.port ? 'on loopback' : ''}, every process on this machine.`);
    for (const clients of DELAY_ONLY ? [] : CLIENTS) {
      const results: LoadResult[][] = targets.map(() => []);
      const base = (t: { ports: number[] }): Omit<LoadOptions, 'seed'> => ({
        host: '127.0.0.1',
        port: t.ports[0]!,
        ports: t.ports,
        tls: true,
        users: Object.keys(spec.users),
        password: PASSWORD,
        clients,
        seconds: SECONDS,
        workers: 2,
        scenario: 'mixed',
        connectConcurrency: 50,
      });
      for (const t of targets) await runLoad({ ...base(t), seconds: WARMUP, seed: 99 });
      for (let round = 0; round < ROUNDS; round++) {
        for (const [i, t] of targets.entries()) {
          process.stderr.write(`  ${clients} clients: ${t.name} round ${round + 1}/${ROUNDS}\n`);
          try {
            results[i]!.push(await runLoad({ ...base(t), seed: round * 10 + i }));
          } catch (err) {
            // One server failing must not cost the others' figures.
            say(`\n${t.name}, ${clients} clients: the load failed (${(err as Error).message}); its row counts nothing from this round.`);
          }
        }
      }
      const rows = results
        .map((rs, i) => ({ name: targets[i]!.name, table: merge(rs.map((x) => x.table)), seconds: rs.reduce((n, x) => n + x.seconds, 0) }))
        .filter((r) => r.seconds > 0);
      say(`\n### ${clients} clients\n`);
      say(summary(rows, ['PostgreSQL, 1 node', 'SQLite, 1 node', 'Dovecot']));
    }
    if (nodes.length >= 2) {
      const delays = await notificationDelay(nodes[0]!.tlsPort, nodes[1]!.tlsPort);
      say(`\n### Cross-node notification delay\n`);
      say(`IDLE on node 1, APPEND on node 2, ${delays.length} appends: from the APPEND's tagged OK to the IDLE session's EXISTS, p50 ${percentile(delays, 0.5).toFixed(1)} ms, p99 ${percentile(delays, 0.99).toFixed(1)} ms, max ${delays.at(-1)!.toFixed(1)} ms (target p99 < 100 ms).`);
    }
  } finally {
    for (const stop of stops) await stop();
  }
  if (values.out) writeFileSync(values.out, `${out.join('\n')}\n`);
}

await main();
