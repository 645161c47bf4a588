/**
 * The data folder's exclusivity when several processes open mail.sqlite (SqliteStoreOptions.shared).
 * Alone, a store holds mail.sqlite's exclusive lock, which refuses any other process. Shared, the
 * database runs with locking_mode=NORMAL, which refuses no one; a second server started on the same
 * folder would open it beside the first — two maintaining processes, each deleting body files and
 * purging as if it were the only one. So the maintaining process (the primary) also holds
 * DATA/serve.lock: a small SQLite file of its own, opened with locking_mode=EXCLUSIVE and written
 * once, so its exclusive POSIX lock is held until the process closes it or dies (the OS drops it:
 * a kill -9 leaves no stale lock, unlike a PID file). A process that finds it held is refused with
 * 'inuse'. The workers, which join the primary's folder, do not take it; a store that holds the
 * folder alone (EXCLUSIVE on mail.sqlite) needs none — mail.sqlite's own locks already keep the two
 * modes apart: a NORMAL connection cannot read while an EXCLUSIVE one holds the file, and an
 * EXCLUSIVE one cannot lock it while NORMAL ones have it open.
 */
import { join } from 'node:path';
import { StoreError } from '../errors.js';
import { sqliteDatabase } from './native.js';
import { isBusyError } from './database.js';

export const FOLDER_LOCK_FILE = 'serve.lock';

export interface FolderLock {
  release(): void;
}

export function lockFolder(directory: string): FolderLock {
  const path = join(directory, FOLDER_LOCK_FILE);
  const db = new (sqliteDatabase())(path, { timeout: 0 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.pragma('journal_mode = MEMORY'); // no -journal file beside it
    // The write takes the exclusive lock, which EXCLUSIVE mode then keeps; the row says who holds it.
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER NOT NULL, since TEXT NOT NULL)');
    db.transaction(() => {
      db.exec('DELETE FROM holder');
      db.prepare('INSERT INTO holder (pid, since) VALUES (?, ?)').run(process.pid, new Date().toISOString());
    }).exclusive();
  } catch (err) {
    db.close();
    if (isBusyError(err)) {
      throw new StoreError(
        'inuse',
        `The data folder ${directory} is in use by another postroom server (${path} is locked). Stop that server first, or give this one another --data folder.`,
      );
    }
    throw err;
  }
  return { release: () => db.close() };
}
