/**
 * The upkeep of a data folder several processes open (SqliteStoreOptions.shared; docs/sqlite.md,
 * "Several processes on one data folder"), done by the one process that maintains it.
 *
 * Body files. In one process a released body file is unlinked after a grace period, unless a content
 * row names its bytes again or this process is installing them (BlobFiles' `installing` set) — a
 * check and an unlink no other install can come between. With several processes another one may be
 * between renaming the same bytes into place and committing the row that names them, and nothing in
 * this process knows. So, when shared:
 * - the transaction that releases a content records its file in `released_files` (recordRelease);
 * - a process installing a body first commits a row in `file_installs` (InstallRegistry), and drops
 *   it once the transaction that was to reference the body has finished;
 * - the maintaining process, once a second, takes the released files past the grace period and, in a
 *   group-commit job — under the database's write lock, which no other process's install row can
 *   pass — unlinks each that no content row and no install row names (reap()).
 * An install row commits before the file is renamed into place: if the reaper's job came first, the
 * rename comes after the unlink and the file is there; if the row came first, the reaper sees it.
 * Install rows a crashed process left behind are ignored, and dropped, after STALE_INSTALL_MS.
 *
 * Deleted mailboxes. Any process may DELETE one (a tombstone row and a `mailbox_purges` row, in one
 * transaction); only the maintaining process purges their messages (mailbox-purge.ts), and it
 * looks for such rows at the same tick.
 */
import type { StoreContext } from './context.js';

/** An install row older than this (ms) was left by a process that died; the file may go. */
export const STALE_INSTALL_MS = 60 * 60_000;
/** How often (ms) the maintaining process looks for files past their grace and for mailboxes to purge. */
const UPKEEP_INTERVAL_MS = 1_000;
/** Released files decided per job: each is a lookup or two and maybe an unlink, under the write lock. */
const REAP_BATCH = 200;

/** Inside the transaction that released a content (contents.ts releaseContents): its file is to go. */
export function recordRelease(ctx: StoreContext, sha256: Buffer): void {
  ctx.sql
    .get('INSERT INTO released_files (sha256, released_at) VALUES (?, ?) ON CONFLICT (sha256) DO UPDATE SET released_at = excluded.released_at')
    .run(sha256, Date.now());
}

/** BlobFiles' hook when shared: an install is announced to every process before the file is renamed into place. */
export class InstallRegistry {
  /** This process's install rows by hex digest (several sessions may install the same bytes at once). */
  private readonly rows = new Map<string, number[]>();

  constructor(private readonly ctx: StoreContext) {}

  /** Commits the install row (the rename may follow once this resolves). */
  async register(sha256: Buffer): Promise<void> {
    const id = await this.ctx.group.run(
      () => Number(this.ctx.sql.get('INSERT INTO file_installs (sha256, started_at) VALUES (?, ?)').run(sha256, Date.now()).lastInsertRowid),
      // Only seen, never relied on after a crash (the row would be stale then): no sync waited for.
      'soon',
    );
    const key = sha256.toString('hex');
    this.rows.set(key, [...(this.rows.get(key) ?? []), id]);
  }

  /** The transaction that was to reference the body has finished: one install row of it goes. */
  unregister(sha256: Buffer): void {
    const key = sha256.toString('hex');
    const ids = this.rows.get(key);
    const id = ids?.pop();
    if (!ids || id === undefined) return;
    if (ids.length === 0) this.rows.delete(key);
    this.ctx.group
      .run(() => this.ctx.sql.get('DELETE FROM file_installs WHERE id = ?').run(id), 'soon')
      .catch((err: unknown) => this.ctx.logger?.warn({ err }, 'could not drop a file install row; it is dropped as stale later'));
  }
}

/** The maintaining process's timer: released files past their grace, and mailboxes left to purge. */
export class SharedUpkeep {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly ctx: StoreContext) {}

  start(): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.tick().finally(() => (this.running = undefined));
    }, UPKEEP_INTERVAL_MS);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.reap(this.ctx.releasedFileGraceMs);
      if (this.ctx.sql.get('SELECT 1 FROM mailbox_purges LIMIT 1').get() !== undefined) this.ctx.purger.kick(this.ctx);
    } catch (err) {
      this.ctx.logger?.warn({ err }, 'removing released message files failed; tried again in a second');
    }
  }

  /**
   * Deletes the released files past `graceMs` that nothing names any more, in jobs of REAP_BATCH;
   * returns how many were unlinked.
   */
  async reap(graceMs: number): Promise<number> {
    const { ctx } = this;
    let removed = 0;
    for (;;) {
      const cut = Date.now() - graceMs;
      const due = ctx.sql.get('SELECT sha256 FROM released_files WHERE released_at <= ? ORDER BY released_at LIMIT ?').pluck().all(cut, REAP_BATCH) as Buffer[];
      if (due.length === 0) return removed;
      removed += await ctx.group.run(() => {
        const staleBefore = Date.now() - STALE_INSTALL_MS;
        const still = ctx.sql.get('SELECT released_at FROM released_files WHERE sha256 = ?').pluck();
        const referenced = ctx.sql.get('SELECT 1 FROM contents WHERE sha256 = ?');
        const installing = ctx.sql.get('SELECT 1 FROM file_installs WHERE sha256 = ? AND started_at > ?');
        const done = ctx.sql.get('DELETE FROM released_files WHERE sha256 = ?');
        let n = 0;
        for (const sha256 of due) {
          const at = still.get(sha256) as number | undefined;
          if (at === undefined || at > cut) continue; // released again since: its own grace
          if (referenced.get(sha256) === undefined && installing.get(sha256, staleBefore) === undefined && !ctx.files.isInstalling(sha256.toString('hex'))) {
            ctx.files.removeSync(sha256);
            n++;
          }
          done.run(sha256);
        }
        ctx.sql.get('DELETE FROM file_installs WHERE started_at <= ?').run(staleBefore);
        return n;
      }, 'soon');
      if (due.length < REAP_BATCH) return removed;
    }
  }

  /** Stops the timer after the tick in progress. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
