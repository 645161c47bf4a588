/**
 * `npm run stress [-- --clients 200 --seconds 600 --users 20 --workers 1 --seed 1]`: the
 * model-checking stress client (bench/stress/) against a fresh `postroom serve` (SQLite, optionally
 * `--workers N`: the workers forward their store calls to the primary, src/cli/cluster.ts; with
 * `--sqlite-workers own-store` each opens the store itself), or against any server with `--port P` (users and password must exist then:
 * `--user-names a,b --password P`). `--tls`: every client connects over implicit TLS (to the serve's
 * IMAPS port, or `--port` is one). Exits 1 on any error the checks find, and prints them by kind
 * with an example transcript of each. docs/benchmarks.md describes what is checked.
 */
import { parseArgs } from 'node:util';
import { runStress, stressReport } from './stress/run.js';
import { STRESS_PASSWORD, startStressServer, type StressServer } from './stress/server.js';

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '600' },
    users: { type: 'string', default: '20' },
    workers: { type: 'string', default: '1' },
    'sqlite-workers': { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 100_000) },
    target: { type: 'string', default: '40' },
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'user-names': { type: 'string' },
    password: { type: 'string' },
    tls: { type: 'boolean', default: false },
  },
});

const clients = Number(values.clients);
let server: StressServer | null = null;
let port = Number(values.port);
let users = values['user-names']?.split(',') ?? [];
if (!values.port) {
  const mode = values['sqlite-workers'];
  if (mode !== undefined && mode !== 'forward' && mode !== 'own-store') throw new Error('--sqlite-workers must be forward or own-store');
  server = await startStressServer({ users: Number(values.users), workers: Number(values.workers), maxConnections: clients * 2 + 50, ...(mode ? { sqliteWorkers: mode } : {}), tls: values.tls });
  port = values.tls ? server.tlsPort! : server.port;
  users = server.users;
}
const say = (line: string): void => void process.stdout.write(`${line}\n`);
say(`stress: ${clients} clients, ${users.length} users, ${values.seconds} s, seed ${values.seed}${values.tls ? ', implicit TLS' : ''}, ` +
  (server ? `postroom serve --workers ${values.workers}${values['sqlite-workers'] ? ` --sqlite-workers ${values['sqlite-workers']}` : ''} (pid ${server.pid}, port ${port})` : `server at ${values.host}:${port}`));
let failed = false;
try {
  const result = await runStress({
    host: values.host,
    port,
    tls: values.tls,
    users,
    password: values.password ?? STRESS_PASSWORD,
    clients,
    seconds: Number(values.seconds),
    seed: Number(values.seed),
    target: Number(values.target),
    progress: say,
  });
  say(stressReport(result));
  failed = result.errorCount > 0;
} finally {
  if (server) {
    const code = await server.stop();
    const warnings = server.log.filter((l) => /"level":40/.test(l));
    if (warnings.length) say(`server logged ${warnings.length} warnings:\n${warnings.slice(0, 10).join('\n')}`);
    const serious = server.log.filter((l) => /"level":(50|60)/.test(l));
    if (serious.length) {
      say(`server logged ${serious.length} errors:\n${serious.slice(0, 10).join('\n')}`);
      failed = true;
    }
    if (code !== 0) {
      say(`server exited with ${code}`);
      failed = true;
    }
  }
}
process.exit(failed ? 1 : 0);
