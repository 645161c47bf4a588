#!/usr/bin/env node
// Runs every test file under test/ with node's built-in runner (tsx for TypeScript).
// Usage: node scripts/run-tests.mjs [substring filter...]
//
// When some selected file uses PostgreSQL (test/helpers/postgres.ts or stores.ts), one throwaway
// cluster is started for the whole run (test/helpers/pg-cluster.ts) and its admin URL passed to
// every file in POSTROOM_TEST_PG_URL; each file makes its own databases on it. It is stopped after.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tsImport } from 'tsx/esm/api';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.test\.(ts|mts|js|mjs)$/.test(name)) out.push(p);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const usesPostgres = files.some((f) => /helpers\/(postgres|stores)\.js/.test(readFileSync(f, 'utf8')));
let cluster;
const env = { ...process.env, NODE_ENV: 'test' };
if (usesPostgres && !process.env.POSTROOM_TEST_PG_URL) {
  const { postgresBinDir, startPgCluster } = await tsImport('../test/helpers/pg-cluster.ts', import.meta.url);
  if (postgresBinDir()) {
    cluster = await startPgCluster();
    env.POSTROOM_TEST_PG_URL = cluster.adminUrl;
    const stop = () => cluster?.stop();
    process.on('exit', stop);
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  }
}

const res = spawnSync(
  process.execPath,
  // --expose-gc: memory tests collect garbage before they measure what the server holds.
  ['--expose-gc', '--import', 'tsx', '--test', '--test-reporter=spec', `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`, ...files],
  { stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
