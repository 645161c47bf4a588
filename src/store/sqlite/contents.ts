/**
 * The refcounted `contents` table: one row per distinct body. Messages (including COPY results)
 * point at a content; the last message to let go deletes the row, and its file once committed.
 */
import { recordRelease } from './shared-upkeep.js';
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { ByteRange } from '../types.js';
import { StoreError } from '../errors.js';
import { STREAM_CHUNK, bufferChunks } from '../pinned-stream.js';
import type { StoreContext } from './context.js';
import { INSERT_CONTENT_SORT, contentSortParams, type SearchColumns, type SortColumns } from './schema.js';
import { DATABASE_FILE } from './database.js';
import { insertThreadKeys } from './thread-keys.js';

export interface ContentRow {
  id: number;
  sha256: Buffer;
  size: number;
  /** 1 when the bytes are stored in a file rather than inline. */
  external: number;
}

export function findContent(ctx: StoreContext, sha256: Buffer): ContentRow | undefined {
  return ctx.sql.get('SELECT id, sha256, size, body IS NULL AS external FROM contents WHERE sha256 = ?').get(sha256) as
    | ContentRow
    | undefined;
}

export function contentById(ctx: StoreContext, id: number): ContentRow {
  const row = ctx.sql.get('SELECT id, sha256, size, body IS NULL AS external FROM contents WHERE id = ?').get(id) as ContentRow | undefined;
  if (!row) throw new StoreError('unavailable', `content ${id} is missing`);
  return row;
}

export function insertContent(
  ctx: StoreContext,
  sha256: Buffer,
  size: number,
  body: Buffer | null,
  derived: { structureJson: string; search: SearchColumns; sort: SortColumns; preview?: string },
): number {
  const { structureJson, search } = derived;
  // An id from a reserved block: the insert then leaves sqlite_sequence alone (content-ids.ts).
  const id = ctx.contentIds.take(ctx.sql);
  ctx.sql.get("INSERT INTO contents (id, sha256, size, refs, body, structure) VALUES (?, ?, ?, 0, ?, '')").run(id, sha256, size, body);
  // The preview shares the structure's row (schema v24): one leaf page fewer per commit.
  ctx.sql.get('INSERT INTO content_structures (content_id, structure, preview) VALUES (?, ?, ?)').run(id, structureJson, derived.preview ?? null);
  ctx.sql
    .get('INSERT INTO content_search (content_id, cm_from, cm_to, cm_cc, cm_bcc, cm_subject, sent_day) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, search.from, search.to, search.cc, search.bcc, search.subject, search.sentDay);
  ctx.sql.get(INSERT_CONTENT_SORT).run(...contentSortParams(id, derived.sort));
  insertThreadKeys((sql) => ctx.sql.get(sql), id, derived.sort);
  return id;
}

export function addReference(ctx: StoreContext, contentId: number, count = 1): void {
  ctx.sql.get('UPDATE contents SET refs = refs + ? WHERE id = ?').run(count, contentId);
}

/**
 * Drops one reference per entry of `contentIds` (inside the caller's transaction) and deletes
 * contents nobody refers to any more. Returns the file digests to unlink after COMMIT — never
 * before, or a rolled-back transaction could point at a deleted file.
 */
export function releaseContents(ctx: StoreContext, contentIds: readonly number[]): Buffer[] {
  const counts = new Map<number, number>();
  for (const id of contentIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  const filesToRemove: Buffer[] = [];
  const dec = ctx.sql.get('UPDATE contents SET refs = refs - ? WHERE id = ? RETURNING refs, sha256, body IS NULL AS external');
  for (const [id, n] of counts) {
    const row = dec.get(n, id) as { refs: number; sha256: Buffer; external: number } | undefined;
    if (!row || row.refs > 0) continue;
    ctx.sql.get('DELETE FROM content_search WHERE content_id = ?').run(id);
    ctx.sql.get('DELETE FROM content_sort WHERE content_id = ?').run(id);
    ctx.sql.get('DELETE FROM content_thread WHERE content_id = ?').run(id);
    ctx.sql.get('DELETE FROM content_structures WHERE content_id = ?').run(id);
    ctx.sql.get('DELETE FROM contents WHERE id = ?').run(id);
    // No message can ask for its structure or header again (a content id is never reused): out of
    // the FETCH caches now, not when they age out — under a steady APPEND/EXPUNGE mix they filled
    // with the dead, whose heap the garbage collector kept marking. A rollback only costs a miss.
    ctx.structures.forget(id);
    ctx.headers.forget(id);
    if (row.external) {
      // Several processes: the maintaining one deletes it, after the grace (shared-upkeep.ts).
      if (ctx.shared) recordRelease(ctx, row.sha256);
      else filesToRemove.push(row.sha256);
    }
  }
  return filesToRemove;
}

/**
 * Deletes the files of contents whose last reference was committed away — after the store's grace
 * period, so a FETCH that pinned the body a moment earlier still streams it (streamBody), and only
 * if no content row refers to the same bytes again by then (an identical message appended since).
 */
export function removeFiles(ctx: StoreContext, digests: readonly Buffer[]): void {
  for (const d of digests) {
    ctx.files.removeLater(d, ctx.releasedFileGraceMs, () => ctx.sql.get('SELECT 1 FROM contents WHERE sha256 = ?').get(d) !== undefined, (err) =>
      // The content row is gone already; a leftover file is only wasted space, swept at next open.
      ctx.logger?.warn({ err }, 'could not remove message file'),
    );
  }
}

export function readStructureJson(ctx: StoreContext, contentId: number): string {
  const row = ctx.sql.get('SELECT structure FROM content_structures WHERE content_id = ?').get(contentId) as { structure: string } | undefined;
  if (!row) throw new StoreError('unavailable', `content ${contentId} is missing`);
  return row.structure;
}

function clampRange(size: number, range?: ByteRange): { start: number; end: number } {
  const start = Math.min(Math.max(range?.start ?? 0, 0), size);
  const end = Math.min(Math.max(range?.end ?? size, start), size);
  return { start, end };
}

// --- damage ------------------------------------------------------------------------------------
// A body is served only whole and right: its file must exist with the size the row records, a
// read must return every octet asked for, and a read of the whole body must hash to the stored
// SHA-256. Anything else is a 'damaged' StoreError (logged once by StoreHealth, naming the file)
// raised before the protocol announces a size it could not deliver.

/** Where a body lives, for log lines. */
function bodyPlace(ctx: StoreContext, row: ContentRow): string {
  return row.external ? ctx.files.pathFor(row.sha256) : `${ctx.health.databasePath} (content ${row.id}, stored inline)`;
}

function damaged(ctx: StoreContext, row: ContentRow, problem: string): StoreError {
  return ctx.health.bodyDamaged(row.id, bodyPlace(ctx, row), problem);
}

/** Refuses a body already found damaged (by a read, a stream or `postroom check`). */
function usableContent(ctx: StoreContext, contentId: number): ContentRow {
  const row = contentById(ctx, contentId);
  const known = ctx.health.knownDamage(row.id);
  if (known !== undefined) throw damaged(ctx, row, known);
  return row;
}

function checkDigest(ctx: StoreContext, row: ContentRow, bytes: Buffer): void {
  if (!createHash('sha256').update(bytes).digest().equals(row.sha256)) {
    throw damaged(ctx, row, 'its SHA-256 differs from the one stored with it: the bytes were altered');
  }
}

/** The size of a body file, checked against its row before anything is read or announced. */
function checkFileSize(ctx: StoreContext, row: ContentRow, size: number | undefined, isFile = true): void {
  if (size === undefined) throw damaged(ctx, row, `the file ${DATABASE_FILE} refers to is missing`);
  if (!isFile) throw damaged(ctx, row, 'it is not a regular file');
  if (size !== row.size) throw damaged(ctx, row, `the file holds ${size} octets, ${row.size} expected`);
}

async function openBodyFile(ctx: StoreContext, row: ContentRow): Promise<FileHandle> {
  try {
    return await open(ctx.files.pathFor(row.sha256), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') checkFileSize(ctx, row, undefined);
    throw err;
  }
}

/**
 * Synchronous whole-body read, for migrations and search fallbacks over small bodies. A missing
 * file is 'damaged'; the hash is not checked here (SEARCH reads bodies to match words, and a
 * damaged one must not stop the search of a whole mailbox).
 */
export function readBodySync(ctx: StoreContext, contentId: number): Buffer {
  const row = contentById(ctx, contentId);
  if (!row.external) return (ctx.sql.get('SELECT body FROM contents WHERE id = ?').get(contentId) as { body: Buffer }).body;
  try {
    return readFileSync(ctx.files.pathFor(row.sha256));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') checkFileSize(ctx, row, undefined);
    throw err;
  }
}

/**
 * The first `octets` octets of a body (at most its size), synchronously: a message's header for a
 * migration that derives columns from it (schema v22), without reading the rest of a large file.
 */
export function readHeadSync(ctx: StoreContext, contentId: number, octets: number): Buffer {
  const row = contentById(ctx, contentId);
  const length = Math.max(0, Math.min(octets, row.size));
  if (!row.external) return readInline(ctx, row, 0, length);
  const path = ctx.files.pathFor(row.sha256);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') checkFileSize(ctx, row, undefined);
    throw err;
  }
  try {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, out, done, length - done, done);
      if (n === 0) throw damaged(ctx, row, `the file ended after ${done} octets, ${row.size} expected`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function readInline(ctx: StoreContext, row: ContentRow, start: number, end: number): Buffer {
  // substr() on a BLOB counts from 1 and returns a BLOB.
  const r = ctx.sql.get('SELECT substr(body, ?, ?) AS part FROM contents WHERE id = ?').get(start + 1, end - start, row.id) as {
    part: Buffer | null;
  };
  const part = r.part ?? Buffer.alloc(0);
  if (part.length !== end - start) {
    const length = ctx.sql.get('SELECT length(body) FROM contents WHERE id = ?').pluck().get(row.id) as number;
    throw damaged(ctx, row, `the stored body holds ${length} octets, ${row.size} expected`);
  }
  if (start === 0 && end === row.size) checkDigest(ctx, row, part);
  return part;
}

export async function readBody(ctx: StoreContext, contentId: number, range?: ByteRange): Promise<Buffer> {
  const row = usableContent(ctx, contentId);
  const { start, end } = clampRange(row.size, range);
  if (!row.external) return readInline(ctx, row, start, end);
  const handle = await openBodyFile(ctx, row);
  try {
    const stat = await handle.stat();
    checkFileSize(ctx, row, stat.size, stat.isFile());
    const out = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
      if (bytesRead === 0) throw damaged(ctx, row, `the file ended after ${start + done} octets, ${row.size} expected`);
      done += bytesRead;
    }
    if (start === 0 && end === row.size) checkDigest(ctx, row, out);
    return out;
  } finally {
    await handle.close();
  }
}

/** A body's range as pinned for a stream: inline bytes read now, or the file's place. */
export type PinnedBody = Buffer | PinnedFile;

export interface PinnedFile {
  path: string;
  start: number;
  end: number;
  /** Checks the bytes as they stream: the whole body's digest, and that none are missing. */
  verify: {
    /** The stored SHA-256 when the whole body streams (then hashing it costs one pass). */
    sha256: Buffer | undefined;
    damaged: (problem: string) => StoreError;
  };
}

/**
 * Pins a body's range for a stream read later (see pinned-stream.ts): an inline body's range (at
 * most inlineMax octets) is read now; a file is opened only when read, and survives an EXPUNGE
 * meanwhile because released files are deleted after a grace period (removeFiles). Either way the
 * body is checked here — the file's size, the inline bytes' length and digest — so a damaged body
 * fails before FETCH announces its literal or POP3 says +OK.
 */
export function pinBody(ctx: StoreContext, contentId: number, range?: ByteRange): PinnedBody {
  const row = usableContent(ctx, contentId);
  const { start, end } = clampRange(row.size, range);
  if (!row.external) return readInline(ctx, row, start, end);
  const path = ctx.files.pathFor(row.sha256);
  const stat = statSync(path, { throwIfNoEntry: false });
  checkFileSize(ctx, row, stat?.size, stat?.isFile());
  const whole = start === 0 && end === row.size;
  return { path, start, end, verify: { sha256: whole ? row.sha256 : undefined, damaged: (problem) => damaged(ctx, row, problem) } };
}

export async function* readPinnedBody(body: PinnedBody): AsyncIterable<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield* bufferChunks(body, STREAM_CHUNK);
    return;
  }
  if (body.end <= body.start) return;
  const { verify } = body;
  const hash = verify.sha256 ? createHash('sha256') : undefined;
  const want = body.end - body.start;
  let got = 0;
  const file = createReadStream(body.path, { start: body.start, end: body.end - 1, highWaterMark: STREAM_CHUNK });
  for await (const piece of file) {
    const chunk = piece as Buffer;
    got += chunk.length;
    hash?.update(chunk);
    // The last piece is held back until the digest is known: a body altered on disk is cut off
    // (the connection drops, the client has not got a whole wrong message) and, as StoreHealth
    // now knows it damaged, every later read of it is refused before it starts.
    if (got >= want && hash && !hash.digest().equals(verify.sha256!)) {
      throw verify.damaged('its SHA-256 differs from the one stored with it: the bytes were altered');
    }
    yield chunk;
  }
  // The file shrank after its size was checked: never let a short body pass as whole.
  if (got < want) throw verify.damaged(`the file ended after ${body.start + got} octets, ${body.end} expected`);
}
