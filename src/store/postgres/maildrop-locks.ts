/**
 * POP3 maildrop locks across nodes (RFC 1939 §8): PostgreSQL session-level advisory locks, all
 * held on one connection of this node. A node that dies loses its connection and so its locks,
 * which is what a crashed server's sessions deserve; there is no stale lock to clean up.
 *
 * If the lock connection drops while sessions are open, their locks are gone from the server's
 * point of view: on reconnect they are taken again where possible, and a lock another node took
 * meanwhile is reported in the log (that session's UPDATE may then overlap the other's; both only
 * delete messages by UID, so the worst outcome is a DELE that finds its message already gone).
 */
import type { Logger } from '../../util/logger.js';
import pg from 'pg';
import { clientConfig, toStoreError, type ConnectionOptions } from './db.js';

/** The first key of the lock ("POP3"); the second is the user's id. */
const MAILDROP_LOCK = 0x504f5033;

export class PgMaildropLocks {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** user id → how many of our sessions hold it (one, since the POP3 layer excludes locally first). */
  private readonly held = new Map<number, number>();
  private closed = false;

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly logger?: Logger,
  ) {}

  /** True when taken; false when a session on another node holds it. */
  async acquire(userId: number): Promise<boolean> {
    const client = await this.connected();
    try {
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2::int) AS ok', [MAILDROP_LOCK, userId]);
      if (!rows[0]?.ok) return false;
    } catch (err) {
      throw toStoreError(err);
    }
    this.held.set(userId, (this.held.get(userId) ?? 0) + 1);
    return true;
  }

  async release(userId: number): Promise<void> {
    const count = this.held.get(userId) ?? 0;
    if (count <= 0) return;
    if (count > 1) this.held.set(userId, count - 1);
    else this.held.delete(userId);
    const client = this.client;
    if (!client) return; // the connection is gone, and the lock with it
    await client.query('SELECT pg_advisory_unlock($1, $2::int)', [MAILDROP_LOCK, userId]).catch((err: unknown) => {
      this.logger?.warn({ err }, 'could not release a POP3 maildrop lock');
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private connected(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<pg.Client> {
    if (this.closed) throw toStoreError(new Error('Connection terminated: the store is closed'));
    const client = new pg.Client(clientConfig(this.connection));
    const lost = (err?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      if (!this.closed && this.held.size > 0) {
        this.logger?.warn({ err, held: this.held.size }, 'lost the POP3 lock connection; taking the locks again');
        void this.retake();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
    } catch (err) {
      client.removeAllListeners('end');
      throw toStoreError(err);
    }
    this.client = client;
    return client;
  }

  private async retake(): Promise<void> {
    for (let attempt = 0; attempt < 20 && !this.closed && !this.client; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** attempt)).unref());
      try {
        const client = await this.connected();
        for (const userId of this.held.keys()) {
          const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2::int) AS ok', [MAILDROP_LOCK, userId]);
          if (!rows[0]?.ok) this.logger?.warn({ userId }, 'a POP3 maildrop lock was taken by another node while the lock connection was down');
        }
        return;
      } catch {
        // Still down; try again.
      }
    }
  }
}
