/**
 * The SQLite store's limits, in one place, with their defaults. Each is an option of
 * `SqliteStore.open({ limits: { ... } })` and of the serve config file (`sqliteLimits`,
 * docs/configuration.md).
 */
import { DEFAULT_EXPUNGED_RETENTION } from '../expunged.js';
export interface SqliteLimits {
  /**
   * Minutes a body file in blobs/ must have gone unreferenced (since it was written or arrived)
   * before the startup sweep deletes it. Younger orphans wait for a later start. The sweep runs
   * only when blobs/ is known to belong to this database (store-identity.ts).
   */
  orphanGraceMinutes: number;
  /**
   * `PRAGMA quick_check` runs at every start, before the server listens, on databases up to this
   * size (it reads every page: about 1 s per GB). Larger ones get only the header check at start;
   * `postroom check` checks them in full.
   */
  startupCheckMaxMegabytes: number;
  /**
   * Expunged UIDs remembered per mailbox for QRESYNC (src/store/expunged.ts). Beyond it the
   * oldest are pruned; a client resynchronising from before them gets every UID it may know that
   * is gone instead of the exact list.
   */
  expungedRetention: number;
  /**
   * The WAL file is made this long (MiB, zeros past its end) when the store opens, so that commits
   * overwrite it rather than grow it — an fdatasync that grows a file also commits its size to the
   * filesystem's journal (wal-prefill.ts). 0 here (tests, tools); `postroom serve` uses
   * SERVE_WAL_PREFILL_MEGABYTES unless the config file's `sqliteLimits` says otherwise. At most
   * 64 (the WAL's size limit): more would be cut back after the first checkpoint.
   */
  walPrefillMegabytes: number;
  /**
   * Only where several processes open the data folder (`serve --workers N --sqlite-workers
   * own-store`): how long (ms) a write waits for the others' writes to let it take the database's
   * write lock — tried again every few milliseconds off the event loop — before it fails with
   * 'unavailable' (IMAP: NO [UNAVAILABLE]). A write holds the lock for its transaction only
   * (well under a millisecond to a few), so waits this long mean the disk or a process is stuck.
   */
  busyWaitMs: number;
  /**
   * Threads that run the store's fdatasyncs (sync-thread.ts) started when the store opens, in the
   * background; the rest (up to SYNC_THREADS, 3) start when a sync finds every thread busy. A
   * thread's start costs ~1–3 ms of the main thread and ~20 ms of CPU on its own: begun in the
   * middle of a client's command (the first APPEND whose sync overlapped another, the first large
   * body's file and folder syncs side by side) it lands on that command. 1 here (tests, tools);
   * `postroom serve` uses SERVE_SYNC_THREADS_AT_OPEN. At most 3; 0 counts as 1 (the first always starts at open).
   */
  syncThreadsAtOpen: number;
}

/** `postroom serve`'s walPrefillMegabytes: what the WAL grows to in a few seconds of steady writes anyway. */
export const SERVE_WAL_PREFILL_MEGABYTES = 32;

/** `postroom serve`'s syncThreadsAtOpen: all of them, so none starts during a client's command. */
export const SERVE_SYNC_THREADS_AT_OPEN = 3;

export const DEFAULT_SQLITE_LIMITS: Readonly<SqliteLimits> = Object.freeze({
  orphanGraceMinutes: 60,
  startupCheckMaxMegabytes: 1024,
  expungedRetention: DEFAULT_EXPUNGED_RETENTION,
  walPrefillMegabytes: 0,
  busyWaitMs: 5_000,
  syncThreadsAtOpen: 1,
});

/** Defaults with `overrides` applied; an unknown name or a bad value is an error. */
export function resolveSqliteLimits(overrides: Partial<Record<string, number>> = {}): SqliteLimits {
  const limits: SqliteLimits = { ...DEFAULT_SQLITE_LIMITS };
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_SQLITE_LIMITS, name)) {
      throw new RangeError(`unknown SQLite store limit "${name}" (known: ${Object.keys(DEFAULT_SQLITE_LIMITS).join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`SQLite store limit ${name} must be a number ≥ 0`);
    if (name === 'walPrefillMegabytes' && value > 64) throw new RangeError('SQLite store limit walPrefillMegabytes must be at most 64 (the WAL size limit)');
    if (name === 'syncThreadsAtOpen' && (value > 3 || !Number.isInteger(value))) throw new RangeError('SQLite store limit syncThreadsAtOpen must be a whole number from 0 to 3 (the sync threads there are)');
    limits[name as keyof SqliteLimits] = value;
  }
  return limits;
}
