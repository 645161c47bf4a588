/**
 * The refcounted `contents` table: one row per distinct body. Messages (including COPY results)
 * point at a content; the last message to let go deletes the row, and its file once committed.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { ByteRange } from '../types.js';
import { StoreError } from '../errors.js';
import { STREAM_CHUNK, bufferChunks } from '../pinned-stream.js';
import type { StoreContext } from './context.js';
import { INSERT_CONTENT_SORT, contentSortParams, type SearchColumns, type SortColumns } from './schema.js';

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
  derived: { structureJson: string; search: SearchColumns; sort: SortColumns },
): number {
  const { structureJson, search } = derived;
  const id = Number(
    ctx.sql
      .get("INSERT INTO contents (sha256, size, refs, body, structure) VALUES (?, ?, 0, ?, '')")
      .run(sha256, size, body).lastInsertRowid,
  );
  ctx.sql.get('INSERT INTO content_structures (content_id, structure) VALUES (?, ?)').run(id, structureJson);
  ctx.sql
    .get('INSERT INTO content_search (content_id, hdr_from, hdr_to, hdr_cc, hdr_bcc, hdr_subject, sent_day) VALUES (?, ?, ?, ?, ?, ?, ?)')
    .run(id, search.from, search.to, search.cc, search.bcc, search.subject, search.sentDay);
  ctx.sql.get(INSERT_CONTENT_SORT).run(...contentSortParams(id, derived.sort));
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
    ctx.sql.get('DELETE FROM content_structures WHERE content_id = ?').run(id);
    ctx.sql.get('DELETE FROM contents WHERE id = ?').run(id);
    if (row.external) filesToRemove.push(row.sha256);
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

/** Synchronous whole-body read, for migrations and search fallbacks over small bodies. */
export function readBodySync(ctx: StoreContext, contentId: number): Buffer {
  const row = contentById(ctx, contentId);
  if (row.external) return readFileSync(ctx.files.pathFor(row.sha256));
  return (ctx.sql.get('SELECT body FROM contents WHERE id = ?').get(contentId) as { body: Buffer }).body;
}

function readInline(ctx: StoreContext, contentId: number, start: number, end: number): Buffer {
  // substr() on a BLOB counts from 1 and returns a BLOB.
  const r = ctx.sql.get('SELECT substr(body, ?, ?) AS part FROM contents WHERE id = ?').get(start + 1, end - start, contentId) as {
    part: Buffer | null;
  };
  return r.part ?? Buffer.alloc(0);
}

export async function readBody(ctx: StoreContext, contentId: number, range?: ByteRange): Promise<Buffer> {
  const row = contentById(ctx, contentId);
  const { start, end } = clampRange(row.size, range);
  if (!row.external) return readInline(ctx, contentId, start, end);
  const handle = await open(ctx.files.pathFor(row.sha256), 'r');
  try {
    const out = Buffer.allocUnsafe(end - start);
    let done = 0;
    while (done < out.length) {
      const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return done === out.length ? out : out.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** A body's range as pinned for a stream: inline bytes read now, or the file's place. */
export type PinnedBody = Buffer | { path: string; start: number; end: number };

/**
 * Pins a body's range for a stream read later (see pinned-stream.ts): an inline body's range (at
 * most inlineMax octets) is read now; a file is opened only when read, and survives an EXPUNGE
 * meanwhile because released files are deleted after a grace period (removeFiles).
 */
export function pinBody(ctx: StoreContext, contentId: number, range?: ByteRange): PinnedBody {
  const row = contentById(ctx, contentId);
  const { start, end } = clampRange(row.size, range);
  return row.external ? { path: ctx.files.pathFor(row.sha256), start, end } : readInline(ctx, contentId, start, end);
}

export async function* readPinnedBody(body: PinnedBody): AsyncIterable<Buffer> {
  if (Buffer.isBuffer(body)) {
    yield* bufferChunks(body, STREAM_CHUNK);
  } else if (body.end > body.start) {
    const file = createReadStream(body.path, { start: body.start, end: body.end - 1, highWaterMark: STREAM_CHUNK });
    for await (const chunk of file) yield chunk as Buffer;
  }
}
