/**
 * The PostgreSQL plumbing every part of the store shares: a pool with our own type parsers (not
 * the process-wide ones: a framework user's own `pg` code keeps its settings), transactions that
 * retry on serialization failures and deadlocks, and the one place where driver and server errors
 * become StoreErrors.
 */
import pg from 'pg';
import { StoreError } from '../errors.js';

export type Queryable = Pick<pg.ClientBase, 'query'>;

const INT8 = 20;
const INT8_ARRAY = 1016;
const INT4_ARRAY = 1007;

/**
 * bigint columns (UIDs, modseqs, sizes, ids) come back as numbers: every value we store stays far
 * below 2^53. The default (strings) would leak into every comparison.
 */
export const PG_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8 && format !== 'binary') return (value: string) => Number(value);
    if (oid === INT8_ARRAY && format !== 'binary') return pg.types.getTypeParser(INT4_ARRAY as Parameters<typeof pg.types.getTypeParser>[0], 'text');
    return pg.types.getTypeParser(oid, format ?? 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface ConnectionOptions {
  /** postgres://user:password@host:port/database; PG* environment variables fill in what it leaves out. */
  connectionString?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long a command waits for a connection before failing with `unavailable` (default 5 s). */
  connectTimeoutMs?: number;
}

export function clientConfig(options: ConnectionOptions): pg.ClientConfig {
  return {
    ...(options.connectionString ? { connectionString: options.connectionString } : {}),
    types: PG_TYPES,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    application_name: 'postroom',
    keepAlive: true,
  };
}

export function createPool(options: ConnectionOptions, onIdleError: (err: Error) => void): pg.Pool {
  const pool = new pg.Pool({ ...clientConfig(options), max: options.poolSize ?? 10, idleTimeoutMillis: 30_000 });
  // A pooled connection that dies while idle (server restart) is dropped by the pool; without a
  // listener the 'error' event would end the process.
  pool.on('error', onIdleError);
  return pool;
}

interface PgErrorLike {
  code?: string;
  message?: string;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'EAI_AGAIN', 'ENETUNREACH']);

/** True for errors that mean "the database cannot be reached right now", not "your request is wrong". */
export function isConnectionError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, message } = err as PgErrorLike;
  // Errors from outside (an APPEND content that failed: ImapError's `code` is a response code) pass.
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300')) {
    return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly|not queryable/i.test(
    typeof message === 'string' ? message : '',
  );
}

/** The error a store method throws: StoreErrors pass through, an unreachable database is `unavailable`. */
export function toStoreError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  if (isConnectionError(err)) {
    return new StoreError('unavailable', `the mail database is unavailable (${(err as PgErrorLike).message ?? String(err)})`);
  }
  if ((err as PgErrorLike | null)?.code === '57014') return new StoreError('unavailable', 'the mail database cancelled the statement');
  return err;
}

/** Serialization failure, deadlock, or a reference to a content row another node just collected. */
function retryable(err: unknown): boolean {
  const code = (err as PgErrorLike | null)?.code;
  return code === '40001' || code === '40P01' || err instanceof RetryTransaction;
}

/** Thrown inside a transaction body to roll back and run it again (bounded). */
export class RetryTransaction extends Error {}

const MAX_ATTEMPTS = 6;

/**
 * Runs `body` in a transaction on one pooled connection and COMMITs; resolves only after COMMIT
 * returned (synchronous_commit: durable). Rolls back on any error and runs `body` again for the
 * retryable ones; `onRollback` runs after every rollback, so callers undo what they announced.
 */
export async function transaction<T>(
  pool: pg.Pool,
  body: (client: pg.PoolClient, attempt: number) => Promise<T>,
  options: { onRollback?: () => void; readOnly?: boolean } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw toStoreError(err);
    }
    let broken: Error | undefined;
    // pg-pool listens for a connection's 'error' only while it is idle. Checked out, a connection
    // lost between two queries (PostgreSQL stopped while the body awaits something else) emits
    // 'error' with no listener, which would end the process. Kept here: the next query fails
    // (→ NO [UNAVAILABLE]) and the connection is closed on release, not reused.
    const lost = (err: Error): void => {
      broken ??= err;
    };
    client.on('error', lost);
    try {
      await client.query(options.readOnly ? 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY' : 'BEGIN');
      const result = await body(client, attempt);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError as Error;
      }
      options.onRollback?.();
      if (retryable(err) && attempt < MAX_ATTEMPTS && !broken) {
        await new Promise((resolve) => setTimeout(resolve, attempt * 5 * Math.random()));
        continue;
      }
      if (err instanceof RetryTransaction) throw new StoreError('unavailable', `${err.message}; retry`);
      throw toStoreError(err);
    } finally {
      client.removeListener('error', lost);
      client.release(broken); // a connection that was lost or could not roll back is closed, not reused
    }
  }
}

/** One statement on any pooled connection, errors translated. */
export async function query<R extends pg.QueryResultRow>(pool: pg.Pool, text: string, values?: unknown[]): Promise<R[]> {
  try {
    return (await pool.query<R>(text, values)).rows;
  } catch (err) {
    throw toStoreError(err);
  }
}

/** A mailbox id as the contract hands it to us: a decimal string, or nothing we ever issued. */
export function parseId(id: string): number | null {
  if (!/^\d{1,15}$/.test(id)) return null;
  return Number(id);
}
