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
}

export const DEFAULT_SQLITE_LIMITS: Readonly<SqliteLimits> = Object.freeze({
  orphanGraceMinutes: 60,
  startupCheckMaxMegabytes: 1024,
  expungedRetention: DEFAULT_EXPUNGED_RETENTION,
});

/** Defaults with `overrides` applied; an unknown name or a bad value is an error. */
export function resolveSqliteLimits(overrides: Partial<Record<string, number>> = {}): SqliteLimits {
  const limits: SqliteLimits = { ...DEFAULT_SQLITE_LIMITS };
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.prototype.hasOwnProperty.call(DEFAULT_SQLITE_LIMITS, name)) {
      throw new RangeError(`unknown SQLite store limit "${name}" (known: ${Object.keys(DEFAULT_SQLITE_LIMITS).join(', ')})`);
    }
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`SQLite store limit ${name} must be a number ≥ 0`);
    limits[name as keyof SqliteLimits] = value;
  }
  return limits;
}
