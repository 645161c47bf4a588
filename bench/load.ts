/**
 * `npm run bench:load -- --port 1143 [--clients 50] [--seconds 30] [--workers 2] [--scenario mixed] [--rate N]
 *   [--users 20 | --user-names a,b] [--password P]`: the load generator against any IMAP server
 * (no TLS). Users must exist with an INBOX and an Archive folder; the bench:vs-dovecot runner
 * seeds them. Prints per-command counts, rate, p50 and p99, and errors (wrong answers included).
 */
import { parseArgs } from 'node:util';
import { runLoad } from './load/run-load.js';
import { loadTable } from './load/report.js';
import type { ScenarioName } from './load/scenario.js';
import { PASSWORD } from './servers/common.js';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    clients: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    scenario: { type: 'string', default: 'mixed' },
    users: { type: 'string', default: '10' },
    'user-names': { type: 'string' },
    password: { type: 'string', default: PASSWORD },
    rate: { type: 'string' },
  },
});
if (!values.port) {
  process.stderr.write('bench:load needs --port\n');
  process.exit(2);
}
const users = values['user-names']?.split(',') ?? Array.from({ length: Number(values.users) }, (_, i) => `user${i + 1}`);
const scenario = values.scenario as ScenarioName;
if (scenario === 'idle') {
  process.stderr.write('the idle scenario needs a memory probe of the server: use bench:vs-dovecot\n');
  process.exit(2);
}
const result = await runLoad({
  host: values.host,
  port: Number(values.port),
  users,
  password: values.password,
  clients: Number(values.clients),
  seconds: Number(values.seconds),
  workers: Number(values.workers),
  scenario,
  seed: 1,
  connectConcurrency: 50,
  ...(values.rate ? { rate: Number(values.rate) } : {}),
});
process.stdout.write(`${scenario}: ${values.clients} clients, ${result.seconds.toFixed(1)} s\n${loadTable(result.table, result.seconds)}\n`);
