/** What every part of the SQLite store shares: the connection, statements, blob files, change feed. */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../util/logger.js';
import type { ChangeFeed } from '../change-feed.js';
import { StoreError } from '../errors.js';
import type { QuotaDefaults } from '../types.js';
import type { BlobFiles } from './blob-files.js';
import type { Statements } from './database.js';
import type { GroupCommit } from './group-commit.js';
import type { StoreHealth } from './health.js';
import type { SnapshotCache } from './snapshot-cache.js';
import type { StructureCache } from './structure-cache.js';
import type { StatusSums } from './mailbox-status.js';
import type { MailboxLists } from './mailbox-lists.js';
import type { MailboxRows } from './mailbox-rows.js';
import type { HeaderCache } from './header-cache.js';
import type { SortCache } from './sort-cache.js';
import type { SyncThread } from './sync-thread.js';
import type { WalSync } from './wal-sync.js';
import type { MailboxPurger } from './mailbox-purge.js';
import type { ContentIds } from './content-ids.js';
import type { AclRows } from './acl.js';
import type { AnyRows } from './any-rows.js';
import { isTombstone } from './tombstone.js';
import { isBusyError } from './database.js';

/**
 * How a store shares its data folder with other processes of the same server (`serve --workers N
 * --sqlite-workers own-store`, docs/sqlite.md, "Several processes on one data folder").
 */
export interface SharedAccess {
  /**
   * How long a write waits, retried off the event loop, for other processes' writes to let it take
   * the write lock before it fails with 'unavailable' (sqliteLimits.busyWaitMs).
   */
  readonly busyWaitMs: number;
  /**
   * Whether this process does the data folder's upkeep: deleting released body files, purging
   * deleted mailboxes, checkpoints, saving snapshots at close. Exactly one process (the primary).
   */
  readonly maintains: boolean;
}

export interface StoreContext {
  readonly db: Database;
  readonly sql: Statements;
  readonly files: BlobFiles;
  /** Runs the fdatasyncs writes wait for, off libuv's thread pool (sync-thread.ts). */
  readonly syncThread: SyncThread;
  /**
   * A descriptor of mail.sqlite held from before the connection opens until after it closes. Code
   * that reads or syncs the file uses it: POSIX releases all of a process's locks on a file when any
   * descriptor of that file is closed, and SQLite's exclusive lock is such a lock.
   */
  readonly databaseFd: number;
  readonly feed: ChangeFeed;
  /** Batches message writes into one transaction; resolves them once the WAL is synced. */
  readonly group: GroupCommit;
  /** The durability barrier every write awaits before it resolves. */
  readonly durable: WalSync;
  readonly delimiter: string;
  /** Bodies up to this many octets are stored inline as BLOBs; larger ones as files. */
  readonly inlineMax: number;
  /** How long a released body file outlives its last reference (a FETCH may have pinned it). */
  readonly releasedFileGraceMs: number;
  readonly logger?: Logger;
  /** Full disks and damaged data: classified into StoreErrors and logged once (health.ts). */
  readonly health: StoreHealth;
  /** Recent SELECT snapshots of large mailboxes, brought up to date by modseq. */
  readonly snapshots: SnapshotCache;
  /** SORT/THREAD keys of recently sorted mailboxes (sort-cache.ts). */
  readonly sortKeys: SortCache;
  /** Parsed structures of recently read bodies (structure-cache.ts). */
  readonly structures: StructureCache;
  /** STATUS sums of recently counted mailboxes, true while their row is unchanged (mailbox-status.ts). */
  readonly statusSums: StatusSums;
  /** Each user's LIST rows, kept until a trigger sees the tree change (mailbox-lists.ts). */
  readonly mailboxLists: MailboxLists;
  /** Mailbox rows by id, kept until a trigger sees the row change (mailbox-rows.ts). */
  readonly mailboxRows: MailboxRows<MailboxRow>;
  /** Header blocks of recently fetched bodies (header-cache.ts). */
  readonly headers: HeaderCache;
  /** Expunged UIDs kept per mailbox for QRESYNC (limits.ts, expunged-log.ts). */
  readonly expungedRetention: number;
  /** Removes the messages of deleted mailboxes in slices, after DELETE answered (mailbox-purge.ts). */
  readonly purger: MailboxPurger;
  /** RFC 9208 limits of users without their own (SqliteStoreOptions.quotaDefaults). */
  readonly quotaDefaults?: QuotaDefaults;
  /** Ids for new content rows, reserved in blocks (content-ids.ts). */
  readonly contentIds: ContentIds;
  /** Whether any ACL row exists, so a LIST on a server without sharing skips the shared query (acl.ts). */
  readonly aclRows: AclRows;
  /** Whether any private \Seen row exists (shared mailboxes), so an EXPUNGE without them skips their delete (any-rows.ts). */
  readonly privateSeenRows: AnyRows;
  /** Set when other processes open the same data folder (locking_mode=NORMAL); absent: this process holds it alone. */
  readonly shared?: SharedAccess;
}

export interface MailboxRow {
  id: number;
  user_id: number;
  name: string;
  noselect: number;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  recent_uid: number;
  /** Messages in the mailbox (quota usage, schema v24): a size to choose a plan by, not a count to rely on. */
  usage_messages: number;
}

/** A handle's view: which user it may touch. Every lookup by id is checked against this user. */
export interface UserScope {
  readonly ctx: StoreContext;
  readonly userId: number;
  readonly user: string;
  readonly origin: string | undefined;
}

export function mailboxById(scope: UserScope, mailboxId: string): MailboxRow {
  const id = /^\d+$/.test(mailboxId) ? Number(mailboxId) : NaN;
  if (!Number.isSafeInteger(id)) throw new StoreError('nonexistent', 'no such mailbox');
  // Kept rows are checked against the user like the query: another user's id is not found.
  const kept = scope.ctx.mailboxRows.get(id);
  if (kept && kept.user_id === scope.userId && !isTombstone(kept.name)) return kept;
  const row = scope.ctx.sql.get('SELECT * FROM mailboxes WHERE id = ? AND user_id = ?').get(id, scope.userId) as MailboxRow | undefined;
  // A deleted mailbox whose messages are still being purged (mailbox-purge.ts) is gone for its user.
  if (!row || isTombstone(row.name)) throw new StoreError('nonexistent', 'no such mailbox');
  return scope.ctx.mailboxRows.set(scope.ctx.db, row);
}

/** A mailbox that can hold messages (not \Noselect). */
export function selectableMailbox(scope: UserScope, mailboxId: string): MailboxRow {
  const row = mailboxById(scope, mailboxId);
  if (row.noselect) throw new StoreError('cannot', `mailbox ${row.name} is \\Noselect and cannot hold messages`);
  return row;
}

export function mailboxByName(scope: UserScope, name: string): MailboxRow | undefined {
  return scope.ctx.sql.get('SELECT * FROM mailboxes WHERE user_id = ? AND name = ?').get(scope.userId, name) as MailboxRow | undefined;
}

/** Runs `fn` in a write transaction taken up front (BEGIN IMMEDIATE), so it never fails half-way on a lock upgrade. */
export function write<T>(ctx: StoreContext, fn: () => T): T {
  return ctx.db.transaction(fn).immediate();
}

const BUSY_FIRST_PAUSE_MS = 1;
const BUSY_MAX_PAUSE_MS = 16;

/** The pause before try `attempt` (from 1) of a write that found the database busy: short first, doubling, capped. */
export function busyPause(attempt: number): number {
  return Math.min(BUSY_MAX_PAUSE_MS, BUSY_FIRST_PAUSE_MS * 2 ** Math.min(attempt - 1, 8));
}

export function busyTimeout(waitedMs: number, cause?: unknown): StoreError {
  return new StoreError('unavailable', `the mail database stayed busy with other processes' writes for ${Math.round(waitedMs)} ms; try again`, { cause });
}

/**
 * Runs a write that commits on its own, outside the group commit's queue (the mailbox tree, a new
 * user, Sieve scripts): after any checkpoint hold (GroupCommit.whenOpen), and — when other
 * processes share the database — again after a pause whenever its BEGIN IMMEDIATE found the write
 * lock taken (SQLITE_BUSY, which a busy timeout of 0 reports at once), until `busyWaitMs` passed.
 * `fn` must do nothing before its transaction that cannot be done twice: a busy BEGIN ran nothing.
 */
export async function retryBusy<T>(ctx: StoreContext, fn: () => T): Promise<T> {
  await ctx.group.whenOpen();
  if (!ctx.shared) return fn();
  const started = performance.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if (!isBusyError(err)) throw err;
      const waited = performance.now() - started;
      if (waited >= ctx.shared.busyWaitMs) throw busyTimeout(waited, err);
    }
    await new Promise((resolve) => setTimeout(resolve, busyPause(attempt)));
    await ctx.group.whenOpen();
  }
}

/**
 * Runs the reads of `fn` in one read transaction when other processes share the database: in
 * WAL mode each statement outside a transaction sees the database as of its own start, so two
 * statements of one read (a message's row, then its content) could straddle another process's
 * EXPUNGE. One transaction is one snapshot. `fn`'s synchronous part is what runs inside (a read
 * that awaits — a file, a group-commit job — goes on outside, as it does in one process, where
 * its statements could straddle this process's own writes too). A single process needs none:
 * nothing else writes between two statements of one synchronous stretch.
 */
export function readTransaction<T>(ctx: StoreContext, fn: () => T): T {
  if (!ctx.shared || ctx.db.inTransaction) return fn();
  const sql = ctx.sql.get('BEGIN');
  sql.run();
  try {
    return fn();
  } finally {
    if (ctx.db.inTransaction) ctx.sql.get('COMMIT').run();
  }
}

/** A JSON array parameter for `IN (SELECT value FROM json_each(?))`, which keeps large UID lists to one statement. */
export function jsonList(values: readonly number[]): string {
  return JSON.stringify(values);
}
