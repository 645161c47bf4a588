/**
 * `npx tsx bench/profile-postroom.ts [--scenario mixed] [--clients 50] [--seconds 15] [--messages 1000]
 *   [--big 100000] [--workers N] [--persistent]`: Postroom alone under one load, started with `node --cpu-prof`;
 * prints the load table and the hottest functions and files of the server's profile.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad } from './load/run-load.js';
import { loadTable } from './load/report.js';
import type { ScenarioName } from './load/scenario.js';
import { BENCH_TMP, PASSWORD, mixedUsers, type SeedSpec } from './servers/common.js';
import { startPostroom } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string', default: 'mixed' },
    clients: { type: 'string', default: '50' },
    seconds: { type: 'string', default: '15' },
    messages: { type: 'string', default: '1000' },
    big: { type: 'string', default: '100000' },
    workers: { type: 'string' },
    persistent: { type: 'boolean', default: false },
  },
});
const scenario = values.scenario as Exclude<ScenarioName, 'idle'>;
const spec: SeedSpec = scenario === 'fetch' ? { users: { big: Number(values.big) } } : mixedUsers(20, Number(values.messages));
const dir = join(BENCH_TMP, 'profiles');
rmSync(dir, { recursive: true, force: true });
const server = await startPostroom({
  runDir: join(BENCH_TMP, 'run', 'profile'),
  spec,
  nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir],
  ...(values.workers ? { serveArgs: ['--workers', values.workers] } : {}),
});
const result = await runLoad({
  host: '127.0.0.1',
  port: server.port,
  users: Object.keys(spec.users),
  password: PASSWORD,
  clients: Number(values.clients),
  seconds: Number(values.seconds),
  workers: 2,
  scenario,
  seed: 3,
  connectConcurrency: 50,
  ...(values.persistent ? { persistent: true } : {}),
});
await server.stop();
process.stdout.write(`${scenario}, ${values.clients} clients, ${values.seconds} s\n${loadTable(result.table, result.seconds)}\n\n`);
for (const f of readdirSync(dir).sort()) {
  process.stdout.write(execFileSync(process.execPath, ['--import', 'tsx', 'bench/profile-summary.ts', join(dir, f), '25'], { encoding: 'utf8' }));
}
