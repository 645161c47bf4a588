/**
 * `npm run bench:metrics-ab [-- --base DIR --rounds 3 --seconds 10 --clients 50]`: what counting
 * costs. The same seeded data and load (bench:load's mixed scenario) against the bench server
 * with metrics on (POSTROOM_BENCH_METRICS=1: what `serve --metrics-port` counts), off, and — with
 * --base, a checkout of an earlier commit — that commit's server, in interleaved rounds
 * (A B C A B C…) so the machine's drift falls on all alike. Prints bench:load's summary table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runLoad, type LoadOptions, type LoadResult } from './load/run-load.js';
import { loadTable, summary } from './load/report.js';
import { merge, totals } from './load/stats.js';
import { BENCH_TMP, PASSWORD, mixedUsers } from './servers/common.js';
import { startPostroom, type RunningServer } from './servers/postroom.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '50' },
  },
});
const spec = mixedUsers(20, 1_000);
type Side = { name: string; start: (runDir: string) => Promise<RunningServer> };
const withEnv = async <T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> => {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    process.env = saved;
  }
};
const sides: Side[] = [
  { name: 'metrics on', start: (runDir) => withEnv({ POSTROOM_BENCH_METRICS: '1' }, () => startPostroom({ runDir, spec })) },
  { name: 'metrics off', start: (runDir) => startPostroom({ runDir, spec }) },
];
if (values.base) {
  const base = (await import(join(values.base, 'bench/servers/postroom.ts'))) as { startPostroom: typeof startPostroom };
  sides.push({ name: 'base commit', start: (runDir) => base.startPostroom({ runDir, spec }) });
}

/**
 * CPU seconds the server process has used (utime + stime from /proc, in clock ticks of 10 ms):
 * CPU per command is what instrumentation adds to, and it moves far less than throughput when
 * other processes share the machine.
 */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const running: RunningServer[] = [];
try {
  for (const [i, side] of sides.entries()) running.push(await side.start(join(BENCH_TMP, 'run', `metrics-ab-${i}`)));
  const base: Omit<LoadOptions, 'port' | 'seed'> = {
    host: '127.0.0.1',
    users: Object.keys(spec.users),
    password: PASSWORD,
    clients: Number(values.clients),
    seconds: Number(values.seconds),
    workers: 2,
    scenario: 'mixed',
    connectConcurrency: 50,
  };
  for (const r of running) await runLoad({ ...base, seconds: 3, port: r.port, seed: 99 });
  const results: LoadResult[][] = sides.map(() => []);
  const cpu = sides.map(() => 0);
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [i, r] of running.entries()) {
      process.stderr.write(`  ${sides[i]!.name}: round ${round + 1}/${values.rounds}\n`);
      const before = cpuSeconds(r.pid);
      results[i]!.push(await runLoad({ ...base, port: r.port, seed: round * 10 + i }));
      cpu[i]! += cpuSeconds(r.pid) - before;
    }
  }
  const rows = results.map((rs, i) => ({ name: sides[i]!.name, table: merge(rs.map((x) => x.table)), seconds: rs.reduce((n, x) => n + x.seconds, 0) }));
  process.stdout.write(`mixed load, ${values.clients} clients, ${values.rounds}×${values.seconds} s per side, interleaved\n\n`);
  process.stdout.write(`${summary(rows, ['metrics off'])}\n\nServer CPU per command (the process's user+system time / commands answered):\n\n`);
  process.stdout.write('| server | CPU s | commands | µs per command | vs metrics off |\n| --- | ---: | ---: | ---: | ---: |\n');
  const perCommand = rows.map((row, i) => (cpu[i]! * 1e6) / Math.max(1, totals(row.table).ok));
  rows.forEach((row, i) =>
    process.stdout.write(`| ${row.name} | ${cpu[i]!.toFixed(1)} | ${totals(row.table).ok} | ${perCommand[i]!.toFixed(0)} | ${(perCommand[i]! / perCommand[1]!).toFixed(3)} |\n`),
  );
  for (const row of rows) process.stdout.write(`\n${row.name}:\n${loadTable(row.table, row.seconds)}\n`);
} finally {
  for (const r of running) await r.stop();
}
