/**
 * A pooled connection lost while checked out, between two queries of a transaction (PostgreSQL
 * stopped or the backend terminated while the body awaits something else). pg-pool listens for a
 * connection's 'error' only while it is idle; without our own listener the 'error' event ends the
 * process — seen once in CI as a node dying when PostgreSQL was stopped under load
 * (test/e2e/postgres-faults.test.ts). Here: the transaction fails with a StoreError, the process
 * lives, and the pool serves the next query on a new connection.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createPool, transaction } from '../../src/store/postgres/db.js';
import { StoreError } from '../../src/store/errors.js';
import { testDatabaseUrl } from '../helpers/postgres.js';

describe('PostgreSQL: a checked-out connection lost between queries', () => {
  const pools: pg.Pool[] = [];
  after(async () => {
    for (const p of pools) await p.end().catch(() => undefined);
  });

  it('fails the transaction with a StoreError instead of ending the process; the pool goes on', async () => {
    const url = await testDatabaseUrl();
    const pool = createPool({ connectionString: url }, () => undefined);
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    pools.push(pool, admin);

    let uncaught: unknown;
    const onUncaught = (err: unknown): void => {
      uncaught = err;
    };
    process.on('uncaughtException', onUncaught);
    try {
      const attempt = transaction(pool, async (client) => {
        const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        // Ended from outside while this body awaits something that is not a query.
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
        await new Promise((resolve) => setTimeout(resolve, 200));
        await client.query('SELECT 1');
        return 'committed';
      });
      await assert.rejects(attempt, (err: unknown) => err instanceof StoreError);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(uncaught, undefined, `no uncaught 'error' event: ${String(uncaught)}`);
      const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
      assert.equal(rows[0]!.one, 1, 'the pool serves the next query');
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });
});
