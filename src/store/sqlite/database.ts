/**
 * Opens DATA/mail.sqlite with the settings the durability promise rests on:
 * - WAL journal with synchronous=NORMAL: a COMMIT writes its frames without fsync (it already
 *   survives kill -9), and every write path then awaits WalSync, which fdatasyncs the WAL off the
 *   event loop before anyone is told OK — so a resolved mutation also survives power loss
 *   (wal-sync.ts, docs/architecture.md).
 * - locking_mode=EXCLUSIVE: the connection takes the database's exclusive lock on first write and
 *   keeps it until close. A second process on the same data folder therefore fails fast with
 *   SQLITE_BUSY, which we turn into a clear 'inuse' error. The OS drops the lock when a process dies,
 *   so a kill -9 never leaves a stale lock behind (unlike a PID file).
 * - wal_autocheckpoint=0: SQLite would otherwise checkpoint — copy the WAL into the database and
 *   fsync both — inside whichever COMMIT crosses 1,000 pages, on the event loop (100–190 ms stalls
 *   under the bench's load). Checkpointer runs them instead, with the fsync off the loop.
 *
 * `shared` (`serve --workers N --sqlite-workers own-store`, docs/sqlite.md): locking_mode=NORMAL,
 * so that every worker process opens the database itself and SQLite's own locks order them, and a
 * busy timeout of 0 — SQLite's busy handler sleeps on the calling thread, which here is the event
 * loop every session of the process waits on. BEGIN IMMEDIATE then fails at once with SQLITE_BUSY
 * while another process writes, and is retried asynchronously (GroupCommit, retryBusy in
 * context.ts). Reads in WAL mode take no lock another process's write can hold.
 */
import type { Database, Statement } from 'better-sqlite3';
import { sqliteDatabase } from './native.js';
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { headerProblems } from './database-check.js';

export const DATABASE_FILE = 'mail.sqlite';

export interface OpenDatabaseOptions {
  /** locking_mode=NORMAL and no busy wait, for a data folder several processes open (above). */
  shared?: boolean;
}

/** How long opening a shared database waits for another process's write to end (at start only, before any session). */
const SHARED_OPEN_WAIT_MS = 5_000;

export function openDatabase(directory: string, options: OpenDatabaseOptions = {}): Database {
  const path = join(directory, DATABASE_FILE);
  const db = new (sqliteDatabase())(path, { timeout: options.shared ? 0 : 200 });
  try {
    db.pragma(`locking_mode = ${options.shared ? 'NORMAL' : 'EXCLUSIVE'}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    // Once a checkpoint has let the WAL start over, a WAL grown large under a burst is cut back.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -65536');
    // A write right away takes the exclusive lock now rather than at the first APPEND.
    if (options.shared) createVersionTableShared(db);
    else db.exec('BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL); COMMIT');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreError(
        'inuse',
        `The data folder ${directory} is in use by another postroom process (${path} is locked). ` +
          'Stop that process first, or give this one another --data folder.',
      );
    }
    const code = (err as { code?: string }).code ?? '';
    if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
      const problems = headerProblems(path);
      throw new StoreError(
        'damaged',
        `${path} is damaged: ${[`${(err as Error).message} (${code})`, ...problems].join('; ')}. Keep a copy of the data folder as it is and restore mail.sqlite from a backup (docs/sqlite.md, "Damaged data").`,
        { file: path, cause: err },
      );
    }
    throw err;
  }
  return db;
}

/**
 * The first write of a shared open: another process of the server may be writing, so SQLITE_BUSY
 * is waited out here — synchronously, but only while the process starts, before it serves anyone.
 */
function createVersionTableShared(db: Database): void {
  const deadline = Date.now() + SHARED_OPEN_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.exec('BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL); COMMIT');
      return;
    } catch (err) {
      if (db.inTransaction) db.exec('ROLLBACK');
      if (!isBusyError(err) || Date.now() > deadline) throw err;
      Atomics.wait(pause, 0, 0, 5);
    }
  }
}

/** SQLITE_BUSY and its extended codes: another connection holds the lock asked for. */
export function isBusyError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** Prepared statements by SQL text, so hot paths prepare once. */
export class Statements {
  private readonly cache = new Map<string, Statement>();
  constructor(private readonly db: Database) {}

  get(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  /** The SQL texts prepared so far (what this store's traffic has used). */
  texts(): string[] {
    return [...this.cache.keys()];
  }

  /**
   * Prepares the texts not prepared yet, ahead of their first use; a text this database cannot
   * prepare is left for its first use to report. Returns how many were prepared now.
   */
  prepareAhead(texts: Iterable<string>): number {
    let n = 0;
    for (const sql of texts) {
      if (this.cache.has(sql)) continue;
      try {
        this.cache.set(sql, this.db.prepare(sql));
        n++;
      } catch {
        // Left to the first use, which reports it as it always did.
      }
    }
    return n;
  }
}
