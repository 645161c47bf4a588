/**
 * PostgresStore: one store shared by many Postroom nodes (docs/cluster.md). Every node opens it
 * with the same database URL; mail, UIDs, modseqs and \Recent live in the database, each node's
 * sessions hear the others' changes through LISTEN/NOTIFY (cluster-feed.ts), and POP3 maildrop
 * locks hold across nodes (maildrop-locks.ts).
 */
import type { Logger } from '../../util/logger.js';
import type pg from 'pg';
import { StoreError } from '../errors.js';
import type { MaildropLockProvider } from '../cross-process-locks.js';
import { validateMailboxName } from '../names.js';
import { TextCache } from '../search-eval.js';
import type { ChangeListener, MailStore, OpenOptions, QuotaDefaults, QuotaLimits, QuotaState, UserMailbox } from '../types.js';
import { quotaState, writeLimits } from './quota.js';
import { sharedWith } from './acl.js';
import type { SharedMailboxRef } from '../acl.js';
import { PgChunkStore, type BlobStore } from './blob-store.js';
import { ClusterFeed } from './cluster-feed.js';
import { collectGarbage } from './contents.js';
import type { PgContext, PgScope } from './context.js';
import { createPool, toStoreError, transaction, type ConnectionOptions } from './db.js';
import { PgMaildropLocks } from './maildrop-locks.js';
import { insertMailbox } from './mailbox-tree.js';
import { migrate } from './schema.js';
import { PgUserMailbox } from './user-mailbox.js';
import { pgMigrationTarget } from './importer.js';
import type { UserImporter } from '../migrate/types.js';
import { redactUrl } from './url.js';

export interface PostgresStoreOptions extends ConnectionOptions {
  logger?: Logger;
  /** Where message bytes go (default: `content_chunks` rows in the same database). */
  blobs?: BlobStore;
  /**
   * How long a body whose last message went stays before the collector deletes it (default 5
   * minutes): a FETCH that pinned it just before the EXPUNGE still streams it to the end.
   */
  releasedGraceMs?: number;
  /** How often this node runs the collector (default 60 s; 0: never, e.g. for tools). */
  collectIntervalMs?: number;
  /** How often followed mailboxes are checked for changes whose notification was lost (default 30 s). */
  feedCheckIntervalMs?: number;
  /** Stop migrating at this schema version (tests of the upgrade path only). */
  schemaVersion?: number;
  /** RFC 9208 limits of users that have none set with setQuota(); default: unlimited. */
  quotaDefaults?: QuotaDefaults;
}

const DEFAULT_RELEASED_GRACE_MS = 5 * 60_000;
const DEFAULT_COLLECT_INTERVAL_MS = 60_000;

export class PostgresStore implements MailStore, MaildropLockProvider {
  readonly delimiter = '/';
  /** Keeps exactly the (CRLF) bytes it was given. */
  readonly lineEnds = 'crlf' as const;
  /** Other nodes' changes reach watch() through LISTEN/NOTIFY: sessions need not poll. */
  readonly crossProcessChanges = true;
  /** EMAILID, PREVIEW and save dates (message-reads.ts messageExtras, schema v5). */
  readonly messageExtras = true;
  /** RFC 5464 annotations (metadata.ts, schema v8). */
  readonly metadata = true;
  /** RFC 4467 mailbox access keys (UserMailbox.urlauthKey/resetUrlauthKeys). */
  readonly urlauthKeys = true;
  private readonly texts = new TextCache();
  private collectTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly ctx: PgContext,
    private readonly locks: PgMaildropLocks,
    private readonly options: PostgresStoreOptions,
  ) {}

  /**
   * Connects, migrates the schema (under a lock shared with the other nodes) and starts listening.
   * Fails with a clear message when the database cannot be reached or has a newer schema.
   */
  static async open(options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const where = redactUrl(options.connectionString);
    if (options.connectionString !== undefined && !/^postgres(ql)?:\/\//.test(options.connectionString)) {
      throw new StoreError('cannot', `the database URL ${where} is not of the form postgres://user:password@host:port/database`);
    }
    const logger = options.logger;
    const pool = createPool(options, (err) => logger?.warn({ err }, 'an idle PostgreSQL connection failed; the pool replaces it'));
    const feed = new ClusterFeed(pool, { connection: options, logger, checkIntervalMs: options.feedCheckIntervalMs });
    const blobs = options.blobs ?? new PgChunkStore();
    try {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw new StoreError('unavailable', `cannot connect to PostgreSQL at ${where}: ${(err as Error).message}`);
      }
      // The migration's batched steps await blob reads between queries: a connection lost then
      // must fail the open, not end the process (pg-pool listens only while a connection is idle).
      let lost: Error | undefined;
      const onLost = (err: Error): void => {
        lost ??= err;
      };
      client.on('error', onLost);
      try {
        const version = await migrate(client, options.schemaVersion, undefined, { blobs, ...(logger ? { logger } : {}) });
        logger?.debug({ database: where, version }, 'postgres schema ready');
        // A tagged OK promises durability; with this off, a PostgreSQL crash can lose acknowledged mail.
        const { rows } = await client.query<{ synchronous_commit: string }>('SHOW synchronous_commit');
        if (rows[0]?.synchronous_commit === 'off') {
          logger?.warn({ database: where }, 'synchronous_commit is off: a PostgreSQL crash can lose mail the server acknowledged');
        }
      } finally {
        client.removeListener('error', onLost);
        client.release(lost);
      }
      await feed.start();
    } catch (err) {
      await feed.close().catch(() => undefined);
      await pool.end().catch(() => undefined);
      if (err instanceof StoreError) throw err;
      throw new StoreError('unavailable', `PostgreSQL at ${where}: ${(err as Error).message}`);
    }
    const ctx: PgContext = {
      pool,
      feed,
      blobs,
      delimiter: '/',
      logger,
      ...(options.quotaDefaults ? { quotaDefaults: options.quotaDefaults } : {}),
    };
    const store = new PostgresStore(ctx, new PgMaildropLocks(options, logger), options);
    store.startCollector();
    return store;
  }

  async open(user: string, options: OpenOptions = {}): Promise<UserMailbox> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    try {
      const userId = await this.userId(user, true);
      const scope: PgScope = { ctx: this.ctx, userId, user, origin: options.origin };
      return new PgUserMailbox(scope, this.texts);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  /** The user's id, creating the user (INBOX subscribed) and their INBOX when `create` and missing. */
  private async userId(user: string, create: boolean): Promise<number> {
    const { pool } = this.ctx;
    const found = await pool.query<{ id: number; inbox: boolean }>(
      `SELECT u.id, EXISTS (SELECT 1 FROM mailboxes m WHERE m.user_id = u.id AND m.name = 'INBOX') AS inbox FROM users u WHERE u.name = $1`,
      [user],
    );
    const known = found.rows[0];
    if (known && (known.inbox || !create)) return known.id; // the usual LOGIN: one read
    if (!create) throw new StoreError('nonexistent', `no user ${user}`);
    const inbox = validateMailboxName('INBOX', this.delimiter);
    return transaction(pool, async (tx) => {
      const inserted = await tx.query<{ id: number }>('INSERT INTO users (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id', [user]);
      const id = inserted.rows[0]?.id ?? (await tx.query<{ id: number }>('SELECT id FROM users WHERE name = $1', [user])).rows[0]!.id;
      // A new user starts with INBOX subscribed, as in every store.
      if (inserted.rows[0]) await tx.query('INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [id, inbox]);
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [0x74726565, id]); // the user's tree lock (mailbox-tree.ts)
      const has = await tx.query('SELECT 1 FROM mailboxes WHERE user_id = $1 AND name = $2', [id, inbox]);
      if (has.rows.length === 0) await insertMailbox(tx, id, inbox);
      return id;
    });
  }

  watch(user: string, listener: ChangeListener): () => void {
    return this.ctx.feed.watch(user, listener);
  }

  async sharedMailboxes(user: string): Promise<SharedMailboxRef[]> {
    try {
      return await sharedWith(this.ctx, user);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async getQuota(user: string): Promise<QuotaState> {
    try {
      return await quotaState(this.ctx.pool, await this.userId(user, true), user, this.ctx.quotaDefaults);
    } catch (err) {
      throw toStoreError(err);
    }
  }

  async setQuota(user: string, limits: QuotaLimits | null): Promise<void> {
    const userId = await this.userId(user, true).catch((err: unknown) => Promise.reject(toStoreError(err)));
    await writeLimits(this.ctx.pool, userId, limits).catch((err: unknown) => Promise.reject(toStoreError(err)));
  }

  async lockMaildrop(user: string): Promise<boolean> {
    return this.locks.acquire(await this.userId(user, true).catch((err: unknown) => Promise.reject(toStoreError(err))));
  }

  async unlockMaildrop(user: string): Promise<void> {
    const id = await this.userId(user, false).catch(() => undefined);
    if (id !== undefined) await this.locks.release(id);
  }

  /** Writes a user's mail with the identities it had elsewhere (`postroom migrate`; src/store/migrate/). */
  importUser(user: string): Promise<UserImporter> {
    return pgMigrationTarget(this.ctx, (name) => this.userId(name, true)).importUser(user);
  }

  /** Users other than `owner` with private \Seen rows or /private annotations in owner's mail (`postroom migrate`). */
  async viewers(owner: string): Promise<string[]> {
    const { rows } = await this.ctx.pool.query<{ viewer: string }>(
      `SELECT p.viewer FROM private_seen p JOIN mailboxes b ON b.id = p.mailbox_id JOIN users u ON u.id = b.user_id WHERE u.name = $1
       UNION SELECT m.viewer FROM metadata m JOIN users u ON u.id = m.user_id WHERE u.name = $1 AND m.viewer <> ''`,
      [owner],
    );
    return rows.map((r) => r.viewer).filter((n) => n !== owner).sort();
  }

  /** Every user with mail in the store (for `postroom migrate`). */
  async users(): Promise<string[]> {
    const { rows } = await this.ctx.pool.query<{ name: string }>('SELECT name FROM users ORDER BY name COLLATE "C"');
    return rows.map((r) => r.name);
  }

  /** Deletes bodies released longer ago than the grace period that nothing refers to (also runs by itself). */
  async collectGarbage(graceMs = this.options.releasedGraceMs ?? DEFAULT_RELEASED_GRACE_MS): Promise<number> {
    return collectGarbage(this.ctx.pool, this.ctx.blobs, graceMs, 200, this.ctx.logger);
  }

  /** The pool and the cluster feed, for `postroom migrate`, diagnostics and tests. */
  get internals(): PgContext {
    return this.ctx;
  }

  private startCollector(): void {
    const every = this.options.collectIntervalMs ?? DEFAULT_COLLECT_INTERVAL_MS;
    if (every <= 0) return;
    // Jittered, so nodes started together do not all collect at once.
    this.collectTimer = setInterval(() => {
      this.collectGarbage().catch((err: unknown) => this.ctx.logger?.warn({ err }, 'collecting released message bodies failed'));
    }, every * (0.75 + Math.random() / 2));
    this.collectTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.collectTimer) clearInterval(this.collectTimer);
    await this.ctx.feed.close();
    await this.locks.close();
    await this.ctx.pool.end();
  }
}
