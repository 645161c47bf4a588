/**
 * Fresh PostgreSQL databases for tests. One cluster serves a whole test run: scripts/run-tests.mjs
 * starts it (test/helpers/pg-cluster.ts) and passes its admin URL in POSTROOM_TEST_PG_URL; a test file
 * run on its own (`node --import tsx --test file`) starts one for its process and stops it at exit.
 * Each call of testDatabaseUrl() creates a new, empty database on it.
 */
import pg from 'pg';
import { postgresBinDir, startPgCluster, type PgCluster } from './pg-cluster.js';

export const SHARED_CLUSTER_ENV = 'POSTROOM_TEST_PG_URL';

/** Why PostgreSQL tests cannot run here, or null when they can. In CI they must: see postgresRequired(). */
export function postgresUnavailable(): string | null {
  if (process.env[SHARED_CLUSTER_ENV]) return null;
  return postgresBinDir() ? null : 'PostgreSQL is not installed (run scripts/install-test-deps.sh as root)';
}

let own: Promise<PgCluster> | undefined;

/** A cluster of this process's own (for fault tests that stop and start it, or a file run alone). */
export async function privateCluster(): Promise<PgCluster> {
  const cluster = await startPgCluster();
  process.once('exit', () => cluster.stop());
  return cluster;
}

async function adminUrl(): Promise<string> {
  const shared = process.env[SHARED_CLUSTER_ENV];
  if (shared) return shared;
  own ??= privateCluster();
  return (await own).adminUrl;
}

let counter = 0;

/** Creates an empty database and returns its URL. */
export async function testDatabaseUrl(base?: string): Promise<string> {
  const admin = base ?? (await adminUrl());
  const name = `postroom_${process.pid}_${++counter}_${Date.now().toString(36)}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  try {
    // FILE_COPY: with fsync off it is a plain copy of the small template, much faster than WAL_LOG.
    await client.query(`CREATE DATABASE ${name} TEMPLATE template0 STRATEGY FILE_COPY`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
