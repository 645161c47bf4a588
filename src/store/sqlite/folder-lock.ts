/**
 * One process per data folder. DATA/mail.lock is a tiny SQLite database that the store opens with
 * locking_mode=EXCLUSIVE and writes once, so its connection holds SQLite's exclusive file lock until
 * it closes. A second store — in another process, or in this one (SQLite tracks locks per file
 * across the process's connections) — gets SQLITE_BUSY, reported as a StoreError 'inuse'. The
 * kernel drops the lock when a process dies, so unlike a PID file it never goes stale after kill -9.
 *
 * Why a file of its own rather than the lock of mail.sqlite itself: the mail database runs in
 * locking_mode=NORMAL so that a second connection — the checkpointer's, on a worker thread
 * (checkpointer.ts) — can use it beside the main one.
 */
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { join } from 'node:path';
import { StoreError } from '../errors.js';

export const LOCK_FILE = 'mail.lock';

/** Takes the data folder's lock; the returned connection holds it until closed. */
export function lockDataFolder(directory: string): Database {
  const path = join(directory, LOCK_FILE);
  const db = new BetterSqlite3(path, { timeout: 200 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // A write escalates to the exclusive lock, which exclusive locking mode then keeps.
    db.exec(
      'BEGIN IMMEDIATE; CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY, pid INTEGER, since TEXT); ' +
        `INSERT OR REPLACE INTO holder VALUES (1, ${process.pid}, datetime('now')); COMMIT`,
    );
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreError(
        'inuse',
        `The data folder ${directory} is in use by another postroom process (${path} is locked). ` +
          'Stop that process first, or give this one another --data folder.',
      );
    }
    throw err;
  }
  return db;
}
