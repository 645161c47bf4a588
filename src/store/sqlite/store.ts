/**
 * SqliteStore: the durable default MailStore. One database per server, DATA/mail.sqlite, with large
 * bodies in DATA/blobs/ (why: docs/architecture.md, "Storage (SQLite)").
 */
import { closeSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { ChangeFeed, type FeedRelay } from '../change-feed.js';
import { StoreError } from '../errors.js';
import { validateMailboxName } from '../names.js';
import { TextCache } from '../search-eval.js';
import type { ChangeListener, MailboxChange, MailStore, OpenOptions, QuotaDefaults, QuotaLimits, QuotaState, UserMailbox } from '../types.js';
import { quotaState, writeLimits } from './quota.js';
import { AclRows, sharedWith } from './acl.js';
import { AnyRows } from './any-rows.js';
import type { SharedMailboxRef } from '../acl.js';
import { SnapshotCache } from './snapshot-cache.js';
import { StructureCache } from './structure-cache.js';
import { StatusSums } from './mailbox-status.js';
import { MailboxRows } from './mailbox-rows.js';
import { MailboxLists } from './mailbox-lists.js';
import { HeaderCache } from './header-cache.js';
import { SortCache } from './sort-cache.js';
import { BlobFiles } from './blob-files.js';
import { reserveSlots } from './direct-slots.js';
import { readBodySync, readHeadSync } from './contents.js';
import { DATABASE_FILE, Statements, openDatabase } from './database.js';
import { Checkpointer, type CheckpointerOptions } from './checkpointer.js';
import { readTransaction, retryBusy, type SharedAccess, type StoreContext, type UserScope } from './context.js';
import { insertMailbox } from './mailbox-tree.js';
import { LATEST_VERSION, currentVersion, migrate } from './schema.js';
import type { Database } from 'better-sqlite3';
import { rollBackUnfinishedCopies } from './chunked-copy.js';
import { MailboxPurger } from './mailbox-purge.js';
import { InstallRegistry, SharedUpkeep } from './shared-upkeep.js';
import { lockFolder, type FolderLock } from './folder-lock.js';
import { ContentIds } from './content-ids.js';
import { startupCheck, type IntegrityResult } from './database-check.js';
import { checkStore, type CheckOptions, type CheckReport } from './check.js';
import { StoreHealth, type HealthStatus } from './health.js';
import { resolveSqliteLimits, type SqliteLimits } from './limits.js';
import { IDENTITY_FILE, reconcileIdentity, refuseNewDatabaseWithBlobs } from './store-identity.js';
import { computeSearchColumns } from './search-columns.js';
import { SqliteUserMailbox } from './user-mailbox.js';
import { GroupCommit } from './group-commit.js';
import { DEFAULT_SOON_SYNC_DELAY_MS, WalSync, type FileSyncer } from './wal-sync.js';
import { prefillWal } from './wal-prefill.js';
import { SyncThread } from './sync-thread.js';
import { deriveContent } from './message-writes.js';
import type { MessageStructure } from '../../mime/types.js';
import type { SqliteTimings } from '../../metrics/types.js';
import { reportTimings } from './timings.js';
import { backupStore, type BackupProgress, type BackupSummary } from './backup.js';
import { writeProblem } from './readiness.js';
import type { UserImporter } from '../migrate/types.js';
import { sqliteMigrationTarget } from './importer.js';

export interface SqliteStoreOptions {
  /** The server's data folder; created when missing. */
  directory: string;
  logger?: Logger;
  /** Bodies up to this size are kept inline in the database (default 256 KiB). */
  inlineMax?: number;
  /**
   * Whether new body files (those above inlineMax) are written with O_DIRECT, past the page cache
   * (docs/sqlite.md, "Body files are written past the page cache"). Default DEFAULT_DIRECT_BODY_WRITES.
   */
  directBodyWrites?: boolean;
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
   * Replaces the free-space reading of the data folder (statfs) that ends a disk-full episode
   * (tests of a disk made full by a replaced walSyncer only).
   */
  freeBytes?: () => number | undefined;
  /**
   * WAL checkpoints (checkpointer.ts): how often to look for new writes to copy into the database
   * (default 1,000 ms); the database file's fdatasync can be replaced (tests of the order only).
   */
  checkpoints?: Omit<CheckpointerOptions, 'onError'>;
  /** Overrides of the store's limits (limits.ts): the orphan sweep's grace, the startup check's size bound. */
  limits?: Partial<SqliteLimits>;
  /**
   * 'serve' (default): refuse a damaged or mismatched data folder, sweep orphans. 'check' (what
   * `postroom check` uses when no server runs): the database must exist; a damaged one still
   * opens, nothing is swept and blobs/ is left as it is, so the check can report it all.
   */
  purpose?: 'serve' | 'check';
  /**
   * SORT/THREAD keys kept in memory, in messages over all mailboxes (default 500,000): a repeated
   * SORT of a mailbox held here reads nothing from the database. Columns are read as commands need
   * them: about 80 bytes a message for SORT (DATE), 400 with every key (THREAD, all sort keys) —
   * 40 MB for a 100,000-message mailbox sorted every way (measured, bench mailbox).
   */
  sortCacheMessages?: number;
  /**
   * Header blocks kept in memory for FETCH BODY[HEADER.FIELDS (…)] and BODY[HEADER] of ranges, in
   * bytes over all users (default 16 MiB, HEADER_CACHE_BYTES; 0 keeps none): a repeated header
   * FETCH reads no body from the database (header-cache.ts).
   */
  headerCacheBytes?: number;
  /**
   * Parsed MIME structures kept in memory for FETCH (ENVELOPE, BODYSTRUCTURE, the header ranges of
   * HEADER.FIELDS), in messages over all users (default 32,768, STRUCTURE_CACHE_ENTRIES: about
   * 2.5 KB each for ordinary mail with the encoded items kept beside them, some 80 MB when full;
   * 0 keeps none). A FETCH of a
   * message whose structure is not kept reads and parses it again (structure-cache.ts).
   */
  structureCacheEntries?: number;
  /**
   * Mailboxes of users' LIST rows kept in memory between LISTs while their tree does not change,
   * over all users (default 100,000, MAILBOX_LIST_ENTRIES: ~150 bytes each, at most 1,024 users'
   * lists; 0 keeps none). Off anyway when other processes write the folder (own-store workers):
   * their changes fire no trigger here (mailbox-lists.ts).
   */
  mailboxListCacheEntries?: number;
  /**
   * Mailbox rows (by id) kept in memory until a trigger sees the row change (default 10,000,
   * MAILBOX_ROW_ENTRIES: ~250 bytes each; 0 keeps none): a STATUS of an unchanged mailbox then reads
   * nothing from the database, a SELECT three statements fewer. Off anyway when other processes
   * write the folder (own-store workers), as the kept lists are (mailbox-rows.ts).
   */
  mailboxRowCacheEntries?: number;
  /**
   * How long the WAL sync of a flag change (acknowledged without waiting for it, docs/sqlite.md)
   * may wait for a write that does wait, so that one fdatasync covers both (default 2 ms,
   * DEFAULT_SOON_SYNC_DELAY_MS in wal-sync.ts; 0: it starts at once). What a power cut may take
   * of acknowledged flag changes grows by as much.
   */
  flagSyncDelayMs?: number;
  /** Reports each write's wait for the WAL sync and each checkpoint's duration (metrics). */
  timings?: SqliteTimings;
  /** RFC 9208 limits of users that have none set with setQuota(); default: unlimited. */
  quotaDefaults?: QuotaDefaults;
  /**
   * Other processes of this server open the same data folder (`serve --workers N --sqlite-workers
   * own-store`; docs/sqlite.md, "Several processes on one data folder"): locking_mode=NORMAL,
   * writes retried asynchronously while another process holds the write lock (busyWaitMs), reads of
   * several statements in one read transaction. `maintains`: this process (the primary, opened
   * first) does the folder's upkeep — clearing tmp/, the orphan sweep, deleting released body
   * files, purging deleted mailboxes, checkpoints, snapshot saves at close; the others (the workers)
   * do none of it. Absent: this process holds the folder alone (the exclusive lock).
   */
  shared?: { maintains: boolean };
}

/** A process joining a folder another one maintains: the schema must already be this build's. */
function joinedVersion(db: Database, directory: string): number {
  const version = currentVersion(db);
  if (version !== LATEST_VERSION) {
    throw new StoreError('cannot', `the database in ${directory} is at schema version ${version}, not ${LATEST_VERSION}: the process that maintains the folder migrates it first`);
  }
  return version;
}

/**
 * Deletes body files no content row refers to — only when blobs/ is known to belong to this
 * database (store-identity.ts) and only those past the grace period. Strays are reported, never
 * touched.
 */
function sweepOrphans(ctx: StoreContext, limits: SqliteLimits, logger: Logger | undefined): void {
  const { id, maySweep } = reconcileIdentity(ctx.db, ctx.files, logger);
  const ignore = new Set([IDENTITY_FILE]);
  if (!maySweep) {
    const { strays } = ctx.files.list(ignore);
    if (strays.length > 0) logStrays(ctx, strays, logger);
    return;
  }
  const referenced = ctx.sql.get('SELECT 1 FROM contents WHERE sha256 = ? AND body IS NULL');
  const result = ctx.files.sweep((hex) => referenced.get(Buffer.from(hex, 'hex')) !== undefined, limits.orphanGraceMinutes * 60_000, ignore);
  if (result.removed > 0 || result.young > 0) {
    logger?.info(
      { removed: result.removed, keptYoung: result.young, graceMinutes: limits.orphanGraceMinutes, storeId: id },
      'unreferenced message files in blobs/ (left by an interrupted write): removed those past the grace period',
    );
  }
  if (result.strays.length > 0) logStrays(ctx, result.strays, logger);
}

function logStrays(ctx: StoreContext, strays: string[], logger: Logger | undefined): void {
  logger?.warn(
    { blobs: ctx.files.root, count: strays.length, entries: strays.slice(0, 20) },
    `${ctx.files.root} holds entries that are not message files; they are left alone (move them elsewhere; "postroom check --quarantine" does)`,
  );
}

/**
 * Not larger: 1 MiB (measured, issue 23) saved the bodies of 256 KiB–1 MiB their file's sync stage
 * but put them through the checkpointer's copy on the event loop, added 13–25 % main-thread CPU to
 * their APPENDs and held them whole in memory per read (docs/sqlite.md, "Where a body goes").
 */
const DEFAULT_INLINE_MAX = 256 * 1024;
/**
 * Off by default: through the page cache, as Dovecot and Cyrus write mail, a body just delivered is
 * still cached when the client fetches it. O_DIRECT pays off where fresh page-cache pages are dear
 * (a VM whose host backs guest memory lazily: bench/RESULTS.md).
 */
export const DEFAULT_DIRECT_BODY_WRITES = false;
const DEFAULT_RELEASED_FILE_GRACE_MS = 5 * 60_000;
/** At close, stop starting new snapshot saves after this long (each takes ~20–60 ms per 100,000 messages). */
const SNAPSHOT_SAVE_BUDGET_MS = 2_000;

export class SqliteStore implements MailStore {
  readonly delimiter = '/';
  /** Keeps exactly the (CRLF) bytes it was given. */
  readonly lineEnds = 'crlf' as const;
  /**
   * True: watch() reports every change there can be and servers need not poll — one process holds
   * the exclusive database lock, or (`shared`, several processes of one serve) every process's
   * changes are relayed to the others (relayChanges, src/cli/feed-relay.ts).
   */
  readonly crossProcessChanges = true;
  /** EMAILID, PREVIEW and save dates (message-extras.ts, schema v17). */
  readonly messageExtras = true;
  /** RFC 5464 annotations (metadata.ts). */
  readonly metadata = true;
  /** RFC 4467 mailbox access keys (UserMailbox.urlauthKey/resetUrlauthKeys). */
  readonly urlauthKeys = true;
  private readonly texts = new TextCache();
  private closed = false;

  private constructor(
    private readonly ctx: StoreContext,
    private readonly checkpointer: Checkpointer,
    private integrityResult: IntegrityResult,
    /** The data folder. */
    readonly directory: string,
    /** A shared folder's upkeep, in the process that maintains it (shared-upkeep.ts). */
    private readonly upkeep?: SharedUpkeep,
    /** And its lock on the folder (folder-lock.ts), released after the connection closes. */
    private readonly folderLock?: FolderLock,
  ) {}

  static async open(options: SqliteStoreOptions): Promise<SqliteStore> {
    const limits = resolveSqliteLimits(options.limits);
    const forCheck = options.purpose === 'check';
    const shared: SharedAccess | undefined = options.shared ? { busyWaitMs: limits.busyWaitMs, maintains: options.shared.maintains } : undefined;
    /** Whether this process does the upkeep of the folder (all of it when it holds the folder alone). */
    const maintains = shared?.maintains !== false;
    const dbPath = join(options.directory, DATABASE_FILE);
    const existed = (statSync(dbPath, { throwIfNoEntry: false })?.size ?? 0) > 0;
    if (forCheck && !existed) throw new StoreError('damaged', `${dbPath} is missing or empty: there is no database to check`, { file: dbPath });
    // 0700 and 0600: the folder holds everybody's mail. SQLite gives the WAL the database file's mode.
    mkdirSync(options.directory, { recursive: true, mode: 0o700 });
    // Held until after the connection closes (context.ts, databaseFd): never closed while SQLite holds its lock.
    closeSync(openSync(dbPath, 'a', 0o600)); // created 0600 if missing (no lock is held yet)
    // A shared folder's maintaining process holds serve.lock: no second server opens it (folder-lock.ts).
    const folderLock = shared?.maintains ? lockFolder(options.directory) : undefined;
    let databaseFd: number;
    let db;
    try {
      databaseFd = openSync(dbPath, 'r+');
    } catch (err) {
      folderLock?.release();
      throw err;
    }
    try {
      db = openDatabase(options.directory, { shared: options.shared !== undefined });
    } catch (err) {
      closeSync(databaseFd);
      folderLock?.release();
      throw err;
    }
    let syncThread: SyncThread | undefined;
    let refusedNew = false;
    try {
      // Before anything else touches the folder: a damaged database stops here, named, rather than
      // answering every SELECT with an error later (database-check.ts).
      const integrity: IntegrityResult = existed && maintains
        ? startupCheck(db, dbPath, databaseFd, limits.startupCheckMaxMegabytes * 1024 * 1024)
        : { at: new Date().toISOString(), checked: 'full', ok: true, problems: [], ms: 0 };
      if (!integrity.ok && !forCheck) {
        throw new StoreError(
          'damaged',
          `${dbPath} is damaged: ${integrity.problems.slice(0, 5).join('; ')}. Stop here, keep a copy of the data folder as it is, ` +
            'and restore mail.sqlite from a backup (docs/sqlite.md, "Damaged data"); "postroom check" lists what else is affected.',
          { file: dbPath },
        );
      }
      if (integrity.checked === 'full') options.logger?.info({ file: dbPath, ms: integrity.ms, ok: integrity.ok }, 'database check done');
      else options.logger?.info({ file: dbPath, limitMegabytes: limits.startupCheckMaxMegabytes }, 'database larger than the startup check limit: only its header was checked; "postroom check" checks it all');
      const databaseIsNew = currentVersion(db) === 0;
      syncThread = new SyncThread((err) => options.logger?.error({ err }, 'the fsync thread stopped; syncing on the thread pool from now on'));
      // Its start (tens of ms) runs beside the rest of the open, not in the first write's way.
      syncThread.prestart(Math.max(1, limits.syncThreadsAtOpen));
      // And the GC that making the body slots' memory sets off runs now, not in the first large APPEND.
      if (!forCheck) reserveSlots();
      const files = new BlobFiles(options.directory, syncThread, options.directBodyWrites ?? DEFAULT_DIRECT_BODY_WRITES, { clearTmp: maintains });
      if (!forCheck && maintains) {
        refusedNew = databaseIsNew;
        refuseNewDatabaseWithBlobs(options.directory, files, databaseIsNew);
        refusedNew = false;
      }
      const durable = new WalSync(`${dbPath}-wal`, options.walSyncer, syncThread, options.flagSyncDelayMs ?? DEFAULT_SOON_SYNC_DELAY_MS);
      const feed = new ChangeFeed({
        onListenerError: (err) => options.logger?.error({ err }, 'change listener failed'),
      });
      const health = new StoreHealth(options.directory, options.logger, options.freeBytes);
      const ctx: StoreContext = {
        db,
        sql: new Statements(db),
        files,
        syncThread,
        databaseFd,
        feed,
        durable,
        group: new GroupCommit(db, durable, undefined, undefined, {
          onBackgroundSyncError: (err) => options.logger?.error({ err, file: `${dbPath}-wal` }, 'background WAL sync of a flag change failed'),
          syncEveryWrite: () => health.diskFull,
          ...(shared ? { busyWaitMs: shared.busyWaitMs } : {}),
        }),
        delimiter: '/',
        inlineMax: options.inlineMax ?? DEFAULT_INLINE_MAX,
        releasedFileGraceMs: options.releasedFileGraceMs ?? DEFAULT_RELEASED_FILE_GRACE_MS,
        logger: options.logger,
        health,
        snapshots: new SnapshotCache(),
        sortKeys: new SortCache(options.sortCacheMessages),
        structures: new StructureCache(options.structureCacheEntries),
        statusSums: new StatusSums(),
        // Off when other processes write too (their changes fire no trigger here), for a check,
        // and on an older schema asked for by a test.
        mailboxLists: new MailboxLists(!shared && !forCheck && options.schemaVersion === undefined, options.mailboxListCacheEntries),
        mailboxRows: new MailboxRows(!shared && !forCheck && options.schemaVersion === undefined, options.mailboxRowCacheEntries),
        headers: new HeaderCache(options.headerCacheBytes),
        expungedRetention: limits.expungedRetention,
        purger: new MailboxPurger(maintains),
        contentIds: new ContentIds(),
        aclRows: new AclRows(),
        privateSeenRows: new AnyRows('private_seen'),
        ...(options.quotaDefaults ? { quotaDefaults: options.quotaDefaults } : {}),
        ...(shared ? { shared } : {}),
      };
      // The process that maintains the folder migrates it (first, before the others open); the
      // others find it at this build's version or refuse, and write no step of their own.
      const version = maintains ? migrate(
        db,
        {
          readBody: (id) => readBodySync(ctx, id),
          searchColumns: (raw, json) => computeSearchColumns(raw, JSON.parse(json) as MessageStructure),
          derive: deriveContent,
          readHead: (id, octets) => readHeadSync(ctx, id, octets),
          log: (level, message, fields) => options.logger?.[level](fields, message),
        },
        options.schemaVersion,
      ) : joinedVersion(db, options.directory);
      if (options.schemaVersion === undefined && !forCheck && maintains) {
        const undone = rollBackUnfinishedCopies(ctx);
        if (undone > 0) options.logger?.warn({ messages: undone }, 'removed the messages of a COPY the last run did not finish');
        sweepOrphans(ctx, limits, options.logger);
      }
      // Before any write but the store's own, so nothing writes to the WAL meanwhile (wal-prefill.ts).
      if (limits.walPrefillMegabytes > 0 && !forCheck && maintains) prefillWal(`${dbPath}-wal`, limits.walPrefillMegabytes * 1024 * 1024, options.logger);
      await durable.sync(); // a migration's commits, like every write, are synced before use (and the prefill's zeros)
      // After the migrations (the triggers name their tables): LIST rows kept until the tree changes.
      ctx.mailboxLists.watch(db);
      // Mailbox rows by id likewise, until their row changes.
      ctx.mailboxRows.watch(db);
      const checkpointer = new Checkpointer(db, dbPath, durable, ctx.group, {
        thread: syncThread,
        databaseFd,
        ...options.checkpoints,
        onError: (err) => options.logger?.error({ err }, 'WAL checkpoint failed; SQLite checkpoints by itself from now on'),
        onTransientError: (err) => ctx.health.classify(err),
        ...(shared ? { shared: true } : {}),
      });
      if (options.timings) reportTimings(durable, checkpointer, options.timings, ctx.group);
      if (maintains) checkpointer.start();
      if (shared) files.registry = new InstallRegistry(ctx);
      const upkeep = shared && maintains && !forCheck ? new SharedUpkeep(ctx) : undefined;
      upkeep?.start();
      // Deleted mailboxes a crash or kill -9 left half-purged: their messages go now, in slices.
      if (options.schemaVersion === undefined && !forCheck && maintains) ctx.purger.kick(ctx);
      options.logger?.debug({ directory: options.directory, version }, 'sqlite store open');
      return new SqliteStore(ctx, checkpointer, integrity, options.directory, upkeep, folderLock);
    } catch (err) {
      await syncThread?.close();
      db.close();
      closeSync(databaseFd);
      folderLock?.release();
      // A start refused over a missing database leaves the folder as it found it.
      if (refusedNew && !existed) for (const suffix of ['', '-wal', '-shm']) rmSync(`${dbPath}${suffix}`, { force: true });
      throw err;
    }
  }

  async open(user: string, options: OpenOptions = {}): Promise<UserMailbox> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    try {
      return await this.openUser(user, options);
    } catch (err) {
      throw this.ctx.health.classify(err);
    }
  }

  private async openUser(user: string, options: OpenOptions): Promise<UserMailbox> {
    const { ctx } = this;
    const inbox = validateMailboxName('INBOX', ctx.delimiter);
    const findUser = (): number | undefined => ctx.sql.get('SELECT id FROM users WHERE name = ?').pluck().get(user) as number | undefined;
    const hasInbox = (id: number): boolean => ctx.sql.get('SELECT 1 FROM mailboxes WHERE user_id = ? AND name = ?').get(id, inbox) !== undefined;
    const known = findUser();
    if (known !== undefined && hasInbox(known)) {
      // The usual LOGIN: nothing to write, so no wait for a checkpoint and no WAL sync.
      return new SqliteUserMailbox({ ctx, userId: known, user, origin: options.origin }, this.texts);
    }
    // These writes commit outside the group commit's queue (after any checkpoint hold, retried while another process writes).
    const userId = await retryBusy(ctx, () => ctx.db.transaction(() => {
      const found = findUser();
      if (found !== undefined) return found;
      const id = Number(ctx.sql.get('INSERT INTO users (name) VALUES (?)').run(user).lastInsertRowid);
      // A new user starts with INBOX subscribed, as in every store (clients that show only
      // subscribed folders would otherwise hide it).
      ctx.sql.get('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)').run(id, 'INBOX');
      return id;
    }).immediate());
    const scope: UserScope = { ctx, userId, user, origin: options.origin };
    await retryBusy(ctx, () => {
      // Read again inside the retry: another process may have made INBOX meanwhile.
      if (!hasInbox(userId)) ctx.db.transaction(() => !hasInbox(userId) && insertMailbox(scope, inbox, false)).immediate();
    });
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

  /** The result of the database check made at open (database-check.ts). */
  integrity(): IntegrityResult {
    return { ...this.integrityResult, problems: [...this.integrityResult.problems] };
  }

  /** Disk-full episode and damage met while serving (health.ts). */
  health(): HealthStatus {
    return this.ctx.health.status();
  }

  /**
   * Verifies every body against its SHA-256, every reference and the database pages (check.ts);
   * damaged bodies found are refused from then on. Runs alongside serving.
   */
  async check(options: CheckOptions = {}): Promise<CheckReport> {
    if (this.closed) throw new StoreError('unavailable', 'the store is closed');
    return checkStore(this.ctx, options);
  }

  /**
   * Resolves once the messages of every deleted mailbox are purged (DELETE answers before that,
   * mailbox-purge.ts). For tests and tools that look at the files.
   */
  async purged(): Promise<void> {
    this.ctx.purger.kick(this.ctx);
    await this.ctx.purger.idle();
  }

  /**
   * The SQL of the statements this store has prepared so far, and preparing such a list ahead in
   * another store: `serve`'s start-up warm-up (src/cli/warm-up.ts) hands what its throwaway store
   * used to the real one, so a first command does not pay for SQLite's prepare of each statement it
   * meets. Statements are prepared by text as at their first use; a text that does not prepare is
   * left to that first use.
   */
  preparedSql(): string[] {
    return this.ctx.sql.texts();
  }

  prepareAhead(texts: Iterable<string>): number {
    return this.ctx.sql.prepareAhead(texts);
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

  /** The users that have mail here (the store keeps users the users file may have dropped). */
  knownUsers(): string[] {
    return this.ctx.sql.get('SELECT name FROM users ORDER BY name').pluck().all() as string[];
  }

  /** For /readyz: null when open and writable, otherwise what is wrong (health.ts). */
  async readiness(): Promise<string | null> {
    if (this.closed) return 'the store is closed';
    // A disk-full episode is said as such (issue 13), even when the probe below happens to fit in
    // the few bytes that freed up — until the folder has room again (StoreHealth.spaceReturned),
    // when the probe decides and the next write ends the episode.
    const full = this.ctx.health.status().diskFull;
    if (full && !this.ctx.health.spaceReturned) return `disk full since ${new Date(full.since).toISOString()}: ${full.refused} writes refused (${full.file})`;
    return writeProblem(this.ctx.db, join(this.directory, DATABASE_FILE), this.ctx.files.tmp);
  }

  /** A consistent single-file copy of the store, taken while it is in use (backup.ts). */
  backup(destination: string, onProgress?: (p: BackupProgress) => void): Promise<BackupSummary> {
    if (this.closed) return Promise.reject(new StoreError('unavailable', 'the store is closed'));
    return backupStore(this.ctx.db, this.ctx.files, destination, onProgress, this.ctx.shared !== undefined);
  }

  watch(user: string, listener: ChangeListener): () => void {
    return this.ctx.feed.watch(user, listener);
  }

  /**
   * Other processes open the same folder (SqliteStoreOptions.shared): this store's changes go to
   * `relay` as well, and the function returned delivers theirs to this store's listeners.
   */
  relayChanges(relay: FeedRelay): (user: string, change: MailboxChange) => void {
    return this.ctx.feed.relayTo(relay);
  }

  async sharedMailboxes(user: string): Promise<SharedMailboxRef[]> {
    return readTransaction(this.ctx, () => sharedWith(this.ctx, user));
  }

  async getQuota(user: string): Promise<QuotaState> {
    const userId = await this.userId(user);
    return readTransaction(this.ctx, () => quotaState(this.ctx, userId, user, this.ctx.quotaDefaults));
  }

  async setQuota(user: string, limits: QuotaLimits | null): Promise<void> {
    const userId = await this.userId(user);
    await writeLimits(this.ctx, userId, limits);
  }

  /** The user's row id, creating the user (and INBOX) as open() does. */
  private async userId(user: string): Promise<number> {
    await this.open(user);
    return this.ctx.sql.get('SELECT id FROM users WHERE name = ?').pluck().get(user) as number;
  }

  /** Every user with mail in the store (the source side of `postroom migrate`). */
  async users(): Promise<string[]> {
    return this.ctx.sql.get('SELECT name FROM users ORDER BY name').pluck().all() as string[];
  }

  /** Users other than `owner` with private \Seen rows or /private annotations in owner's mail (`postroom migrate`). */
  async viewers(owner: string): Promise<string[]> {
    const names = this.ctx.sql
      .get(
        `SELECT p.viewer FROM private_seen p JOIN mailboxes b ON b.id = p.mailbox_id JOIN users u ON u.id = b.user_id WHERE u.name = ?
         UNION SELECT m.viewer FROM metadata m JOIN users u ON u.id = m.user_id WHERE u.name = ? AND m.viewer <> ''`,
      )
      .pluck()
      .all(owner, owner) as string[];
    return names.filter((n) => n !== owner).sort();
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
    await this.upkeep?.close();
    await this.ctx.purger.close(); // after its slice in progress; the rest at the next open
    await this.checkpointer.close();
    await this.ctx.group.drain();
    if (this.ctx.shared && !this.ctx.shared.maintains) return this.closeConnection();
    if (this.upkeep) {
      // The other processes are gone (the primary closes last): what was released goes now, as
      // flushPendingRemovals does for one process; the rest at the next open.
      try {
        await this.upkeep.reap(0);
      } catch (err) {
        this.ctx.logger?.warn({ err }, 'could not remove released message files at close; they go at the next start');
      }
    }
    try {
      const saved = this.ctx.snapshots.saveChanged(this.ctx, SNAPSHOT_SAVE_BUDGET_MS);
      if (saved > 0) await this.ctx.durable.sync();
      this.ctx.logger?.debug({ saved }, 'saved mailbox snapshots');
    } catch (err) {
      // Only a speed-up is lost: the next SELECT reads the mailbox in full.
      this.ctx.logger?.warn({ err }, 'could not save mailbox snapshots');
    }
    this.ctx.files.flushPendingRemovals();
    await this.closeConnection();
  }

  private async closeConnection(): Promise<void> {
    await this.ctx.group.drain();
    await this.ctx.durable.close();
    await this.ctx.syncThread.close();
    this.ctx.db.close(); // SQLite checkpoints the rest (with its own fsyncs) and removes the WAL
    closeSync(this.ctx.databaseFd); // only now: closing it drops the process's locks on the file
    this.folderLock?.release();
  }
}
