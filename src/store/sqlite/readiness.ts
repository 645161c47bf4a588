/**
 * Readiness of the SQLite store for /readyz: the database is open and its folder takes writes.
 * A real write is tried — a file created, written, fsynced and removed in tmp/, where large bodies
 * start — because what fails in practice (a file system remounted read-only after errors, a full
 * disk, permissions changed under a running server) shows there first; and the database file must
 * still be writable for this process.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';

export async function writeProblem(db: Database, databasePath: string, tmpDir: string): Promise<string | null> {
  if (!db.open) return 'the database is closed';
  const probe = join(tmpDir, `.ready-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const handle = await open(probe, 'wx', 0o600);
    try {
      await handle.write('ready\n');
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    return `${tmpDir} does not take writes (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
  try {
    await access(databasePath, constants.W_OK);
  } catch (err) {
    return `${databasePath} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return null;
}
