/**
 * SqliteStore: the durable default MailStore. One database per server, DATA/mail.sqlite, with large
 * bodies in DATA/blobs/ (why: docs/architecture.md, "Storage (SQLite)").
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ChangeFeed } from '../change-feed.js';
import { StoreError } from '../errors.js';
import { validateMailboxName } from '../names.js';
import { TextCache } from '../search-eval.js';
import type { ChangeListener, MailStore, OpenOptions, UserMailbox } from '../types.js';
import { SnapshotCache } from './snapshot-cache.js';
import { BlobFiles } from './blob-files.js';
import { readBodySync } from './contents.js';
import { DATABASE_FILE, Statements, openDatabase } from './database.js';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import type { StoreContext, UserScope } from './context.js';
import { insertMailbox } from './mailbox-tree.js';
import { migrate } from './schema.js';
import { computeSearchColumns } from './search-columns.js';
import { SqliteUserMailbox } from './user-mailbox.js';
import { GroupCommit } from './group-commit.js';
import { WalSync, type FileSyncer } from './wal-sync.js';
import type { MessageStructure } from '../../mime/types.js';
import type { UserImporter } from '../migrate/types.js';
import { sqliteMigrationTarget } from './importer.js';

export interface SqliteStoreOptions {
  /** The server's data folder; created when missing. */
  directory: string;
  logger?: Logger;
  /** Bodies up to this size are kept inline in the database (default 256 KiB). */
  inlineMax?: number;
  /**
   * How long the file of a body whose last message went stays on disk (default 5 minutes), so a
   * FETCH that started streaming it just before the EXPUNGE still completes. 0 deletes at once.
   */
  releasedFileGraceMs?: number;
  /** Stop migrating at this schema version (tests of the upgrade path only). */
  schemaVersion?: number;
  /**
   * Replaces the fdatasync of the WAL that every write awaits (tests of the durability order
   * only; the default is the real sync).
   */
  walSyncer?: FileSyncer;
  /**
   * WAL checkpoints (checkpointer.ts): how often to look for new writes to copy into the database
   * (default 1,000 ms); the database file's fdatasync can be replaced (tests of the order only).
   */
  checkpoints?: Omit<CheckpointerOptions, 'onError'>;
}

const DEFAULT_INLINE_MAX = 256 * 1024;
const DEFAULT_RELEASED_FILE_GRACE_MS = 5 * 60_000;
/** At close, stop starting new snapshot saves after this long (each takes ~20–60 ms per 100,000 messages). */
const SNAPSHOT_SAVE_BUDGET_MS = 2_000;

export class SqliteStore implements MailStore {
  readonly delimiter = '/';
  /**
   * True: the exclusive database lock means no other process can change this data, so watch()
   * reports every change there can be and servers need not poll.
   */
  readonly crossProcessChanges = true;
  private readonly texts = new TextCache();
  private closed = false;

  private constructor(
    private readonly ctx: StoreContext,
    private readonly checkpointer: Checkpointer,
  ) {}

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    mkdirSync(options.directory, { recursive: true });
    const db = openDatabase(options.directory);
    try {
      const files = new BlobFiles(options.directory);
      const durable = new WalSync(`${join(options.directory, DATABASE_FILE)}-wal`, options.walSyncer);
      const feed = new ChangeFeed({
        onListenerError: (err) => options.logger?.error({ err }, 'change listener failed'),
      });
      const ctx: StoreContext = {
        db,
        sql: new Statements(db),
        files,
        feed,
        durable,
        group: new GroupCommit(db, durable),
        delimiter: '/',
        inlineMax: options.inlineMax ?? DEFAULT_INLINE_MAX,
        releasedFileGraceMs: options.releasedFileGraceMs ?? DEFAULT_RELEASED_FILE_GRACE_MS,
        logger: options.logger,
        snapshots: new SnapshotCache(),
      };
      const version = migrate(
        db,
        {
          readBody: (id) => readBodySync(ctx, id),
          searchColumns: (raw, json) => computeSearchColumns(raw, JSON.parse(json) as MessageStructure),
        },
        options.schemaVersion,
      );
      if (options.schemaVersion === undefined) {
        const referenced = ctx.sql.get('SELECT 1 FROM contents WHERE sha256 = ? AND body IS NULL');
        const swept = files.sweep((hex) => /^[0-9a-f]{64}$/.test(hex) && referenced.get(Buffer.from(hex, 'hex')) !== undefined);
        if (swept > 0) options.logger?.info({ swept }, 'removed message files left by an interrupted write');
      }
      await durable.sync(); // a migration's commits, like every write, are synced before use
      const checkpointer = new Checkpointer(db, join(options.directory, DATABASE_FILE), durable, ctx.group, {
        ...options.checkpoints,
        onError: (err) => options.logger?.error({ err }, 'WAL checkpoint failed; SQLite checkpoints by itself from now on'),
      });
      checkpointer.start();
      options.logger?.debug({ directory: options.directory, version }, 'sqlite store open');
      return new SqliteStore(ctx, checkpointer);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async open(user: string, options: OpenOptions = {}): Promise<UserMailbox> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    const { ctx } = this;
    const inbox = validateMailboxName('INBOX', ctx.delimiter);
    const findUser = (): number | undefined => ctx.sql.get('SELECT id FROM users WHERE name = ?').pluck().get(user) as number | undefined;
    const hasInbox = (id: number): boolean => ctx.sql.get('SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?').get(id, inbox) !== undefined;
    const known = findUser();
    if (known !== undefined && hasInbox(known)) {
      // The usual LOGIN: nothing to write, so no wait for a checkpoint and no WAL sync.
      return new SqliteUserMailbox({ ctx, userId: known, user, origin: options.origin }, this.texts);
    }
    await ctx.group.whenOpen(); // these writes commit outside the group commit's queue
    const userId = ctx.db.transaction(() => {
      const found = findUser();
      if (found !== undefined) return found;
      const id = Number(ctx.sql.get('INSERT INTO users (name) VALUES (?)').run(user).lastInsertRowid);
      // A new user starts with INBOX subscribed, as in every store (clients that show only
      // subscribed folders would otherwise hide it).
      ctx.sql.get('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)').run(id, 'INBOX');
      return id;
    }).immediate();
    const scope: UserScope = { ctx, userId, user, origin: options.origin };
    if (!hasInbox(userId)) ctx.db.transaction(() => insertMailbox(scope, inbox, false)).immediate();
    await ctx.durable.sync();
    return new SqliteUserMailbox(scope, this.texts);
  }

  /** The connection settings the durability promise rests on (for diagnostics and tests). */
  durability(): {
    journalMode: string;
    synchronous: 'OFF' | 'NORMAL' | 'FULL' | 'EXTRA';
    lockingMode: string;
    /** 0: checkpoints are the Checkpointer's, not SQLite's inside a COMMIT. */
    walAutocheckpoint: number;
    /** WAL fdatasyncs completed so far: each acknowledged write waited for one. */
    walSyncs: number;
    /** Checkpoints completed. */
    checkpoints: number;
  } {
    const db = this.ctx.db;
    const sync = db.pragma('synchronous', { simple: true }) as number;
    return {
      journalMode: String(db.pragma('journal_mode', { simple: true })),
      synchronous: (['OFF', 'NORMAL', 'FULL', 'EXTRA'] as const)[sync] ?? 'OFF',
      lockingMode: String(db.pragma('locking_mode', { simple: true })),
      walAutocheckpoint: db.pragma('wal_autocheckpoint', { simple: true }) as number,
      walSyncs: this.ctx.durable.syncs,
      checkpoints: this.checkpointer.checkpoints,
    };
  }

  /** Runs a WAL checkpoint now (tests and diagnostics; it also runs by itself). */
  checkpoint(): Promise<void> {
    return this.checkpointer.checkpoint();
  }

  /**
   * How many messages of the mailbox hold each body, by hex SHA-256 of the bytes: lets an importer
   * skip what an earlier run brought in without reading every message back.
   */
  async contentDigests(user: string, mailboxId: string): Promise<Map<string, number>> {
    const rows = this.ctx.sql
      .get(
        `SELECT lower(hex(c.sha256)) AS hex, count(*) AS n FROM messages m JOIN contents c ON c.id = m.content_id
          JOIN mailboxes b ON b.id = m.mailbox_id JOIN users u ON u.id = b.user_id
         WHERE u.name = ? AND m.mailbox_id = ? GROUP BY c.sha256`,
      )
      .all(user, Number(mailboxId)) as Array<{ hex: string; n: number }>;
    return new Map(rows.map((r) => [r.hex, r.n]));
  }

  watch(user: string, listener: ChangeListener): () => void {
    return this.ctx.feed.watch(user, listener);
  }

  /** Every user with mail in the store (the source side of `postroom migrate`). */
  async users(): Promise<string[]> {
    return this.ctx.sql.get('SELECT name FROM users ORDER BY name').pluck().all() as string[];
  }

  /** Writes a user's mail with the identities it had elsewhere (`postroom migrate`; src/store/migrate/). */
  importUser(user: string): Promise<UserImporter> {
    const open = async (name: string): Promise<number> => {
      await this.open(name);
      return this.ctx.sql.get('SELECT id FROM users WHERE name = ?').pluck().get(name) as number;
    };
    return sqliteMigrationTarget(this.ctx, open).importUser(user);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.checkpointer.close();
    await this.ctx.group.drain();
    try {
      const saved = this.ctx.snapshots.saveChanged(this.ctx, SNAPSHOT_SAVE_BUDGET_MS);
      if (saved > 0) await this.ctx.durable.sync();
      this.ctx.logger?.debug({ saved }, 'saved mailbox snapshots');
    } catch (err) {
      // Only a speed-up is lost: the next SELECT reads the mailbox in full.
      this.ctx.logger?.warn({ err }, 'could not save mailbox snapshots');
    }
    this.ctx.files.flushPendingRemovals();
    await this.ctx.durable.close();
    this.ctx.db.close(); // SQLite checkpoints the rest (with its own fsyncs) and removes the WAL
  }
}
