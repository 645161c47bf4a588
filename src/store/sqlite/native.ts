/**
 * better-sqlite3 is a native module that takes a good part of a second to load. It is required on
 * first use — when a SqliteStore is opened — so `import 'postroom'` stays cheap for programs that
 * serve a MemoryStore or their own store (docs/api.md).
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

let loaded: typeof BetterSqlite3 | undefined;

/** The better-sqlite3 Database constructor, loaded on the first call. */
export function sqliteDatabase(): typeof BetterSqlite3 {
  loaded ??= createRequire(import.meta.url)('better-sqlite3') as typeof BetterSqlite3;
  return loaded;
}
