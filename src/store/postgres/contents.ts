/**
 * Message bodies: one `contents` row per distinct SHA-256, its bytes through the BlobStore, its MIME
 * structure and search columns computed once at APPEND.
 *
 * References and release across nodes (why no reference count): a message row is the reference.
 * Inserting one checks its foreign key, which takes a KEY SHARE lock on the content row; the
 * collector deletes a content only when no message refers to it, and PostgreSQL's foreign key
 * check, run against the latest committed rows, fails the DELETE if an APPEND or COPY on any node
 * committed a reference meanwhile. The other order fails the APPEND's insert instead, which then
 * stores the bytes again and retries. So a content never vanishes under a message, and no row
 * lock is held across nodes for longer than one statement.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '../../util/logger.js';
import type pg from 'pg';
import { messagePreview, parseMessage } from '../../mime/index.js';
import { headerColumns, type IndexedHeader } from '../search-columns.js';
import type { MessageStructure } from '../../mime/types.js';
import { sentDayOf } from '../search-eval.js';
import type { MessageContent } from '../types.js';
import type { BlobStore } from './blob-store.js';
import type { Queryable } from './db.js';

export interface CollectedBody {
  body: Buffer;
  sha256: Buffer;
}

/** Gathers APPEND content into one buffer (the MIME parser needs it whole), hashing on the way. */
export async function collectBody(content: MessageContent): Promise<CollectedBody> {
  if (Buffer.isBuffer(content)) return { body: content, sha256: createHash('sha256').update(content).digest() };
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of content) {
    const piece = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    hash.update(piece);
    parts.push(piece);
    size += piece.length;
  }
  return { body: parts.length === 1 ? parts[0]! : Buffer.concat(parts, size), sha256: hash.digest() };
}

export { INDEXED_HEADERS, type IndexedHeader } from '../search-columns.js';

/**
 * Folded header text as UTF-8 bytes, occurrences joined by NUL: bytea, because PostgreSQL text
 * cannot hold the NUL that keeps two occurrences apart (nor a NUL a decoded header may contain).
 * Byte-substring search over UTF-8 matches exactly what a substring search over the text would.
 */
export type SearchColumns = Record<IndexedHeader, Buffer | null> & { sentDay: string | null };

export function searchColumns(raw: Buffer, structure: MessageStructure): SearchColumns {
  return { ...headerColumnBytes(headerColumns(raw, structure)), sentDay: sentDayOf(structure.envelope.date) };
}

/** The header columns as the bytea values the table keeps. */
export function headerColumnBytes(text: Record<IndexedHeader, string | null>): Record<IndexedHeader, Buffer | null> {
  const bytes = (t: string | null): Buffer | null => (t === null ? null : Buffer.from(t, 'utf8'));
  return { from: bytes(text.from), to: bytes(text.to), cc: bytes(text.cc), bcc: bytes(text.bcc), subject: bytes(text.subject) };
}

export interface ContentRef {
  id: number;
  size: number;
}

/**
 * The id of the content holding `body`, inserting it (row and bytes, in `tx`) when it is new. A
 * concurrent insert of the same bytes on another node makes ON CONFLICT wait for it and then find
 * its row.
 */
export async function storeContent(tx: pg.ClientBase, blobs: BlobStore, collected: CollectedBody): Promise<number> {
  for (;;) {
    const found = await tx.query<{ id: number }>('SELECT id FROM contents WHERE sha256 = $1', [collected.sha256]);
    if (found.rows[0]) return found.rows[0].id;
    const structure = parseMessage(collected.body);
    const s = searchColumns(collected.body, structure);
    const inserted = await tx.query<{ id: number }>(
      `INSERT INTO contents (sha256, size, structure, cm_from, cm_to, cm_cc, cm_bcc, cm_subject, sent_day, preview)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (sha256) DO NOTHING RETURNING id`,
      [collected.sha256, collected.body.length, JSON.stringify(structure), s.from, s.to, s.cc, s.bcc, s.subject, s.sentDay, messagePreview(collected.body, structure)],
    );
    const id = inserted.rows[0]?.id;
    if (id === undefined) continue; // another node inserted it first: take its row
    await blobs.put(tx, id, collected.body);
    return id;
  }
}

/** Marks contents whose messages were just deleted as candidates for the collector. */
export async function markReleased(tx: Queryable, contentIds: readonly number[]): Promise<void> {
  if (contentIds.length === 0) return;
  await tx.query('UPDATE contents SET released_at = now() WHERE id = ANY($1::bigint[])', [[...new Set(contentIds)].sort((a, b) => a - b)]);
}

/**
 * Deletes contents released more than `graceMs` ago that no message refers to, at most `batch`
 * per call. The grace period lets a FETCH that pinned a body just before its EXPUNGE stream it to
 * the end. Each content is its own statement: a foreign-key failure (a reference committed by
 * another node meanwhile) costs only that one, which simply stays.
 */
export async function collectGarbage(pool: pg.Pool, blobs: BlobStore, graceMs: number, batch = 200, logger?: Logger): Promise<number> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM contents WHERE released_at < now() - make_interval(secs => $1) ORDER BY released_at LIMIT $2`,
    [graceMs / 1000, batch],
  );
  const deleted: number[] = [];
  for (const { id } of rows) {
    try {
      const r = await pool.query(
        `DELETE FROM contents c WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.content_id = c.id)`,
        [id],
      );
      if (r.rowCount === 1) deleted.push(id);
      else await pool.query('UPDATE contents SET released_at = NULL WHERE id = $1 AND EXISTS (SELECT 1 FROM messages m WHERE m.content_id = $1)', [id]);
    } catch (err) {
      if ((err as { code?: string }).code !== '23503') throw err;
      logger?.debug({ content: id }, 'content referenced again while being collected; kept');
    }
  }
  if (deleted.length > 0) await blobs.removed(deleted);
  return deleted.length;
}

export function clampRange(size: number, range?: { start: number; end: number }): { start: number; end: number } {
  const start = Math.min(Math.max(range?.start ?? 0, 0), size);
  const end = Math.min(Math.max(range?.end ?? size, start), size);
  return { start, end };
}
