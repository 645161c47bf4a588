/**
 * Is mail.sqlite whole? Two checks, both naming the file and the problem:
 *
 * - the header (instant, any size): SQLite writes whole pages, so a file that is not a whole number
 *   of pages, or — with no WAL waiting to be copied back — shorter than its header says, was cut
 *   short or added to (a truncated copy or restore);
 * - `PRAGMA quick_check`: every page of every b-tree, without comparing indexes to tables. It reads
 *   the whole file, about 1 s per GB from the page cache (0.4 s for 500 MB on the 2-core
 *   development machine), on the connection's thread — the event loop — so at startup it runs only
 *   up to a size limit (limits.ts, `startupCheckMaxMegabytes`), and `postroom check` runs it on a
 *   live server one table at a time.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Database } from 'better-sqlite3';

export interface IntegrityResult {
  /** When the check ran. */
  at: string;
  /** 'full': header and quick_check; 'header': the database was over the size limit for quick_check. */
  checked: 'full' | 'header';
  ok: boolean;
  problems: string[];
  ms: number;
}

const MAX_PROBLEMS = 20;

function pageSizeOf(header: Buffer): number {
  const raw = header.readUInt16BE(16);
  return raw === 1 ? 65536 : raw;
}

/**
 * What the file's own size and header say, without SQLite. Empty when all is well (or the file is new).
 *
 * `heldFd`: a descriptor of the file this process keeps open while its connection holds SQLite's
 * lock. It must be given whenever this process has the database open: POSIX drops every lock a
 * process holds on a file when it closes *any* descriptor of that file, so opening and closing the
 * file here would let another process in beside the connection.
 */
export function headerProblems(path: string, heldFd?: number): string[] {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size === 0) return [];
  if (size < 100) return [`the file is ${size} bytes, too short to hold even the SQLite header`];
  const header = Buffer.alloc(100);
  if (heldFd !== undefined) {
    readSync(heldFd, header, 0, 100, 0);
  } else {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, header, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  }
  if (header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return ['it does not start with the SQLite header: this is not a database file (or its first page was overwritten)'];
  const pageSize = pageSizeOf(header);
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) return [`its header gives an impossible page size (${pageSize})`];
  const problems: string[] = [];
  if (size % pageSize !== 0) {
    problems.push(
      `its size (${size} bytes) is not a whole number of ${pageSize}-byte pages (${size % pageSize} bytes past the last whole one): the file was cut short or added to`,
    );
  }
  const headerPages = header.readUInt32BE(28);
  const headerValid = headerPages > 0 && header.readUInt32BE(24) === header.readUInt32BE(92);
  const walBytes = statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0;
  // With WAL frames waiting, a crash during a checkpoint can leave the file short of its header
  // until the next checkpoint copies the rest; only without them is a short file damage.
  if (headerValid && walBytes <= 32 && Math.floor(size / pageSize) < headerPages) {
    problems.push(`it holds ${Math.floor(size / pageSize)} pages but its header says ${headerPages}: the file was cut short`);
  }
  return problems;
}

function quickCheckRows(db: Database, table?: string): string[] {
  try {
    const sql = table === undefined ? `quick_check(${MAX_PROBLEMS})` : `quick_check("${table.replace(/"/g, '""')}")`;
    const rows = db.pragma(sql) as Array<{ quick_check: string }>;
    return rows
      .flatMap((r) => r.quick_check.split('\n'))
      .map((r) => r.trim())
      .filter((r) => r !== 'ok' && r !== '' && r !== '*** in database main ***');
  } catch (err) {
    return [`${(err as Error).message}${(err as { code?: string }).code ? ` (${(err as { code?: string }).code})` : ''}`];
  }
}

/** `PRAGMA quick_check` over the whole file; the problems it lists (none: ok). */
export function quickCheck(db: Database): string[] {
  return quickCheckRows(db).slice(0, MAX_PROBLEMS);
}

/**
 * The same check table by table, yielding to the event loop between tables, for a server that is
 * serving meanwhile: it stalls for the largest table only (and misses what only a whole-file check
 * sees, such as pages no table uses). Returns the problems and the longest stall.
 */
export async function quickCheckByTable(db: Database): Promise<{ problems: string[]; longestStallMs: number }> {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  const problems: string[] = [];
  let longestStallMs = 0;
  for (const table of tables) {
    await new Promise((r) => setImmediate(r));
    const started = performance.now();
    for (const p of quickCheckRows(db, table)) problems.push(`${table}: ${p}`);
    longestStallMs = Math.max(longestStallMs, performance.now() - started);
    if (problems.length >= MAX_PROBLEMS) break;
  }
  return { problems: problems.slice(0, MAX_PROBLEMS), longestStallMs };
}

/** The check `SqliteStore.open` runs: the header always, quick_check up to `maxBytes`. */
export function startupCheck(db: Database, path: string, heldFd: number, maxBytes: number): IntegrityResult {
  const started = performance.now();
  const problems = headerProblems(path, heldFd);
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  const full = size <= maxBytes;
  if (full) problems.push(...quickCheck(db));
  return { at: new Date().toISOString(), checked: full ? 'full' : 'header', ok: problems.length === 0, problems, ms: Math.round(performance.now() - started) };
}
