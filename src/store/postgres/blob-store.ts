/**
 * Where message bytes live. The `contents` row (digest, size, parsed structure, search columns) is
 * always in PostgreSQL; the bytes go through this seam, so an object store could hold them later.
 *
 * The contract a BlobStore keeps:
 *  - `put` runs inside the transaction that inserts the content row, before it commits; a store
 *    outside the database must have the bytes durable when put resolves (an aborted transaction
 *    then leaves an orphan for `sweep`, never a row without bytes).
 *  - `read` yields [start, end) in pieces, touching only what the range needs; never the whole body
 *    in one buffer.
 *  - `removed` is told after the collector's transaction deleted content rows.
 */
import type { Queryable } from './db.js';

export interface BlobStore {
  put(tx: Queryable, contentId: number, body: Buffer): Promise<void>;
  read(db: Queryable, contentId: number, start: number, end: number): AsyncIterable<Buffer>;
  removed(contentIds: readonly number[]): Promise<void>;
  /**
   * Optional: the first octets of many bodies at once (the schema v10 upgrade reads every
   * message's header). A body missing from the answer is read with `read` instead.
   */
  heads?(db: Queryable, wanted: ReadonlyArray<{ id: number; octets: number }>): Promise<Map<number, Buffer>>;
}

/** The largest chunk row (the bound: no body in one value). */
export const CHUNK_SIZE = 1024 * 1024;

/**
 * The most one read statement fetches: what a stream of a large body holds at a time. bytea
 * arrives as hex text, twice its size, and node-postgres decodes it from a string: slices this
 * small keep that string (120 KiB) in V8's young generation, which is collected at once, instead
 * of the large-object space, which grew the heap by tens of MB while a slow client's FETCH waited.
 */
const READ_SLICE = 60 * 1024;

/** Bodies in `content_chunks` rows of CHUNK_SIZE octets (the last one shorter). */
export class PgChunkStore implements BlobStore {
  constructor(private readonly chunkSize = CHUNK_SIZE) {}

  async put(tx: Queryable, contentId: number, body: Buffer): Promise<void> {
    // A few chunks per statement keeps round trips low without building one huge message.
    const perStatement = Math.max(1, Math.floor((4 * 1024 * 1024) / this.chunkSize));
    const chunks = Math.max(1, Math.ceil(body.length / this.chunkSize));
    for (let first = 0; first < chunks; first += perStatement) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let seq = first; seq < Math.min(chunks, first + perStatement); seq++) {
        values.push(seq, body.subarray(seq * this.chunkSize, (seq + 1) * this.chunkSize));
        rows.push(`($1, $${values.length}, $${values.length + 1})`);
      }
      await tx.query(`INSERT INTO content_chunks (content_id, seq, data) VALUES ${rows.join(', ')}`, [contentId, ...values]);
    }
  }

  async *read(db: Queryable, contentId: number, start: number, end: number): AsyncIterable<Buffer> {
    // One statement per slice of at most READ_SLICE octets, never crossing a chunk: a stream holds
    // one slice at a time, and a short range reads only the chunk (and the bytes) it covers.
    for (let at = start; at < end; ) {
      const seq = Math.floor(at / this.chunkSize);
      const from = at - seq * this.chunkSize;
      const length = Math.min(end - at, this.chunkSize - from, READ_SLICE);
      const { rows } = await db.query<{ part: Buffer }>(
        'SELECT substring(data FROM $3 FOR $4) AS part FROM content_chunks WHERE content_id = $1 AND seq = $2',
        [contentId, seq, from + 1, length],
      );
      const part = rows[0]?.part;
      if (!part || part.length === 0) throw new Error(`chunk ${seq} of content ${contentId} is missing`);
      yield part;
      at += part.length;
    }
  }

  async removed(): Promise<void> {
    // ON DELETE CASCADE took the chunks with their content rows.
  }

  /** Heads that lie within the first chunk, in one statement; longer ones are left to read(). */
  async heads(db: Queryable, wanted: ReadonlyArray<{ id: number; octets: number }>): Promise<Map<number, Buffer>> {
    const within = wanted.filter((w) => w.octets > 0 && w.octets <= this.chunkSize);
    const out = new Map<number, Buffer>();
    if (within.length === 0) return out;
    const { rows } = await db.query<{ id: string; part: Buffer }>(
      `SELECT w.id, substring(c.data FROM 1 FOR w.octets) AS part
         FROM unnest($1::bigint[], $2::int[]) AS w(id, octets) JOIN content_chunks c ON c.content_id = w.id AND c.seq = 0`,
      [within.map((w) => w.id), within.map((w) => w.octets)],
    );
    const asked = new Map(within.map((w) => [w.id, w.octets]));
    for (const r of rows) {
      const id = Number(r.id);
      // A first chunk shorter than asked for is damage: read() says so for that body alone.
      if (r.part.length === asked.get(id)) out.set(id, r.part);
    }
    return out;
  }
}
