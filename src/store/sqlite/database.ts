/**
 * Opens DATA/mail.sqlite with the settings the durability promise rests on:
 * - WAL journal with synchronous=NORMAL: a COMMIT writes its frames without fsync (it already
 *   survives kill -9), and every write path then awaits WalSync, which fdatasyncs the WAL off the
 *   event loop before anyone is told OK — so a resolved mutation also survives power loss
 *   (wal-sync.ts, docs/architecture.md).
 * - wal_autocheckpoint=0: SQLite would otherwise run a checkpoint — copying the WAL into the
 *   database and fsyncing it — inside whichever COMMIT crosses 1,000 frames, on the event loop
 *   (100–190 ms stalls under the bench's load). Checkpointer runs them on a worker thread instead,
 *   with a connection of its own; that is why this one uses locking_mode=NORMAL, and why the
 *   one-process-per-folder lock lives in a file of its own (folder-lock.ts).
 */
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { join } from 'node:path';

export const DATABASE_FILE = 'mail.sqlite';

export function openDatabase(directory: string): Database {
  const db = new BetterSqlite3(join(directory, DATABASE_FILE), { timeout: 200 });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    // Once a checkpoint has let the WAL start over, a WAL grown large under a burst is cut back.
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -65536');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
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
}
