/**
 * `postroom backup`: a consistent copy of the store in one SQLite file, taken while the server runs.
 *
 * SQLite's online backup API (better-sqlite3's `db.backup()`) copies the database a hundred pages
 * per event-loop turn, so sessions go on meanwhile. It runs on the store's own connection, and
 * SQLite applies that connection's later writes to the copy as well (https://sqlite.org/backup.html),
 * so the copy holds at least everything committed — every acknowledged APPEND — before it started.
 *
 * Large bodies live outside the database (blobs/); the copy gets them inline instead, so one file is
 * the whole backup: restored as DATA/mail.sqlite it serves those bodies from the database (no
 * blobs/ folder needed). The copy is written under a temporary name with mode 0600, checked with
 * `PRAGMA integrity_check`, fsynced and only then renamed to the destination.
 */
import type { Database } from 'better-sqlite3';
import { sqliteDatabase } from './native.js';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { BlobFiles } from './blob-files.js';

export interface BackupProgress {
  phase: 'pages' | 'bodies';
  done: number;
  total: number;
}

export interface BackupSummary {
  /** Size of the backup file. */
  bytes: number;
  users: number;
  mailboxes: number;
  messages: number;
  /** Bodies that were files in blobs/ and are inline in the copy. */
  inlinedBodies: number;
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies the database behind `db` (and the bodies in `files`) to `destination`. `shared`: other
 * processes write the database too (SqliteStoreOptions.shared) — the backup API starts over
 * whenever another connection writes, which under load could be forever, so the pages are copied
 * by `VACUUM INTO` instead: one read transaction, one consistent moment, in one synchronous step
 * (on the primary's event loop, where no IMAP session runs).
 */
export async function backupStore(
  db: Database,
  files: BlobFiles,
  destination: string,
  onProgress?: (p: BackupProgress) => void,
  shared = false,
): Promise<BackupSummary> {
  const temp = join(dirname(destination), `.${basename(destination)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  // Created first, so the copy is never readable by other users, whatever the umask.
  closeSync(openSync(temp, 'wx', 0o600));
  try {
    if (shared) {
      db.prepare('VACUUM INTO ?').run(temp);
      onProgress?.({ phase: 'pages', done: 1, total: 1 });
    } else {
      await db.backup(temp, {
        progress: ({ totalPages, remainingPages }) => {
          onProgress?.({ phase: 'pages', done: totalPages - remainingPages, total: totalPages });
          return 256;
        },
      });
    }
    const summary = await finishCopy(temp, files, onProgress);
    fsyncPath(temp);
    renameSync(temp, destination);
    fsyncPath(dirname(destination));
    return { ...summary, bytes: statSync(destination).size };
  } catch (err) {
    rmSync(temp, { force: true });
    rmSync(`${temp}-journal`, { force: true });
    throw err;
  }
}

/** Makes the copy self-contained (bodies inline, rollback journal instead of WAL) and checks it. */
async function finishCopy(path: string, files: BlobFiles, onProgress?: (p: BackupProgress) => void): Promise<Omit<BackupSummary, 'bytes'>> {
  const copy = new (sqliteDatabase())(path);
  try {
    // One file to carry around: the copy's header says WAL, as the original's does.
    copy.pragma('journal_mode = DELETE');
    const external = copy.prepare('SELECT id, sha256 FROM contents WHERE body IS NULL').all() as Array<{ id: number; sha256: Buffer }>;
    const inline = copy.prepare('UPDATE contents SET body = ? WHERE id = ?');
    let done = 0;
    for (const row of external) {
      let bytes: Buffer;
      try {
        // Asynchronous: a big body must not stop every session while it is read.
        bytes = await readFile(files.pathFor(row.sha256));
      } catch (err) {
        throw new Error(
          `message body ${row.sha256.toString('hex')} could not be read from ${files.root} (${(err as Error).message}); ` +
            'it may have been expunged and removed while the backup ran: run the backup again',
        );
      }
      inline.run(bytes, row.id);
      onProgress?.({ phase: 'bodies', done: ++done, total: external.length });
    }
    const check = copy.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(`the backup copy failed its integrity check: ${String(check)}`);
    const count = (table: string): number => (copy.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number) ?? 0;
    return { users: count('users'), mailboxes: count('mailboxes'), messages: count('messages'), inlinedBodies: external.length };
  } finally {
    copy.close();
  }
}
