/**
 * SEARCH in SQLite: what compiles (search-sql.ts) runs as SQL, the rest in code (search-run.ts).
 *
 * better-sqlite3 runs a statement to completion on the event loop, so the mailbox is read in pages
 * of UIDs, each sized to take about one time slice, with a yield between pages: a search over a
 * large mailbox, or with a thousand terms, never holds other sessions for longer than a slice or so.
 * Between pages other sessions may change the mailbox; a page sees the mailbox as it is when read,
 * and a message expunged while its page is being evaluated is left out.
 */
import type { Statement } from 'better-sqlite3';
import type { MessageStructure } from '../../mime/types.js';
import { TimeSlice, DEFAULT_SLICE_MS } from '../../util/time-slice.js';
import type { TextCache } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import { runSearch, SearchTargetGone, type SearchTarget } from '../search-run.js';
import { StoreError } from '../errors.js';
import { contentById, readBodySync, readStructureJson } from './contents.js';
import { emailIdOf } from '../types.js';
import { selectableMailbox, type StoreContext, type UserScope } from './context.js';
import { toRecord, type RecordRow } from './message-reads.js';
import { planQuery } from './search-sql.js';

const FIRST_PAGE = 256;
const MIN_PAGE = 16;
const MAX_PAGE = 16_384;

/** `progress`: after each page, the last UID it covered (every message up to it is decided). */
export async function searchMessages(scope: UserScope, mailboxId: string, query: SearchQuery, texts: TextCache, progress?: (throughUid: number) => void): Promise<number[]> {
  const box = selectableMailbox(scope, mailboxId);
  const { ctx } = scope;
  const slice = new TimeSlice();
  const { filter, residual } = planQuery(query);
  if (slice.due) await slice.yieldNow();
  const columns = residual ? 'm.uid, m.flags, m.modseq, m.internal_date, m.size, m.content_id, m.save_date' : 'm.uid';
  const stmt = searchStatement(
    ctx,
    `SELECT ${columns} FROM messages m LEFT JOIN content_search cs ON cs.content_id = m.content_id
      WHERE m.mailbox_id = ? AND m.uid > ? AND ${filter.sql} ORDER BY m.uid LIMIT ?`,
  );
  // Without a residual only the UIDs are read: plucked, a number per row rather than an object
  // (at 100,000 matches the objects were most of a page's time).
  stmt.pluck(!residual);
  if (slice.due) await slice.yieldNow();
  const out: number[] = [];
  let after = 0;
  let page = FIRST_PAGE;
  for (;;) {
    const started = performance.now();
    const rows = stmt.all(box.id, after, ...filter.params, page) as RecordRow[] | number[];
    const took = performance.now() - started;
    if (rows.length === 0) break;
    if (residual) {
      const records = rows as RecordRow[];
      after = records[records.length - 1]!.uid;
      out.push(...(await runSearch(residual, records, (row) => target(ctx, box.id, row), { texts, slice })));
    } else {
      const uids = rows as number[];
      after = uids[uids.length - 1]!;
      for (let i = 0; i < uids.length; i++) out.push(uids[i]!);
    }
    if (rows.length < page) break;
    progress?.(after);
    // Aim the next page at half a slice of SQL time; a quarter when only UIDs are read, since then
    // pages follow each other until the slice is used up and the last one ends the stretch.
    const aim = residual ? DEFAULT_SLICE_MS / 2 : DEFAULT_SLICE_MS / 4;
    // At most twice the last page: a small page's time says little about a large one's.
    page = Math.max(MIN_PAGE, Math.min(MAX_PAGE, page * 2, Math.round(took > 0 ? (page * aim) / took : page * 2)));
    if (slice.due) await slice.yieldNow();
  }
  return out;
}

function bodyOrEmptyWhenDamaged(ctx: StoreContext, contentId: number): Buffer {
  try {
    return readBodySync(ctx, contentId);
  } catch (err) {
    if (err instanceof StoreError && err.kind === 'damaged') return Buffer.alloc(0);
    throw err;
  }
}

/** A row as the evaluator sees it; body and structure are read when first needed. */
function target(ctx: StoreContext, mailboxId: number, row: RecordRow): SearchTarget {
  let raw: Buffer | undefined;
  let structure: MessageStructure | undefined;
  // The page was read before the evaluation yielded: the message (and, if it was the last
  // reference, its body) may be gone since. That is an expunge, not an error.
  const read = <T>(load: () => T): T => {
    try {
      return load();
    } catch (err) {
      const still = ctx.sql.get('SELECT 1 FROM messages WHERE mailbox_id = ? AND uid = ?').get(mailboxId, row.uid);
      if (still === undefined) throw new SearchTargetGone();
      throw err;
    }
  };
  return {
    record: toRecord(row),
    // A damaged body (a missing file; logged once by StoreHealth) matches nothing rather than
    // failing the search of the whole mailbox.
    raw: () => (raw ??= read(() => bodyOrEmptyWhenDamaged(ctx, row.content_id))),
    structure: () => (structure ??= read(() => JSON.parse(readStructureJson(ctx, row.content_id)) as MessageStructure)),
    cacheKey: `c${row.content_id}`,
    emailId: () => emailIdOf(read(() => contentById(ctx, row.content_id).sha256)),
  };
}

/**
 * Search statements are cached apart from the store's statement cache, and only a few: their text
 * depends on the query's shape, which clients choose, so caching every one would grow without end.
 */
const cached = new WeakMap<StoreContext, Map<string, Statement>>();
const MAX_CACHED = 64;

function searchStatement(ctx: StoreContext, sql: string): Statement {
  let cache = cached.get(ctx);
  if (!cache) cached.set(ctx, (cache = new Map()));
  let stmt = cache.get(sql);
  if (stmt) {
    cache.delete(sql);
  } else {
    stmt = ctx.db.prepare(sql);
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  }
  cache.set(sql, stmt);
  return stmt;
}
