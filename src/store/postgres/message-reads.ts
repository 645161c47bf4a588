/** STATUS, SELECT snapshots, \Recent, records, structure, bytes and SEARCH. */
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import { STREAM_CHUNK, bufferChunks } from '../pinned-stream.js';
import type { TextCache } from '../search-eval.js';
import { runSearch, type SearchTarget } from '../search-run.js';
import { TimeSlice } from '../../util/time-slice.js';
import type { SearchQuery } from '../search-query.js';
import { messagePreview, previewBytesNeeded } from '../../mime/index.js';
import { headerRange } from '../message-heads.js';
import { emailIdOf, type MessageExtras, type MessageExtrasOptions, type MessageHead, type MessageHeadOptions, type ByteRange, type MailboxSnapshot, type MailboxStatus, type MessageMeta, type MessageRecord, type MessageStream, type RecentClaimOptions } from '../types.js';
import { parseFlags } from '../sqlite/flags.js';
import { clampRange } from './contents.js';
import { inMailbox, selectableMailbox, toInfo, type MailboxRow, type PgScope } from './context.js';
import { parseId } from './db.js';
import { numbered, planQuery } from './search-sql.js';

export async function mailboxStatus(scope: PgScope, mailboxId: string): Promise<MailboxStatus> {
  const [row] = await inMailbox<MailboxRow & { _k: number; messages: number; size: number; unseen: number; recent: number }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, b.uid_next, b.uid_validity, b.highest_modseq, count(*) AS messages, coalesce(sum(m.size), 0)::bigint AS size,
            count(*) FILTER (WHERE strpos(' ' || m.flags || ' ', ' \\Seen ') = 0) AS unseen,
            count(*) FILTER (WHERE m.uid >= b.recent_uid) AS recent
       FROM messages m WHERE m.mailbox_id = b.id`,
  );
  const r = row!;
  return {
    messages: r.messages,
    unseen: r.unseen,
    uidNext: r.uid_next,
    uidValidity: r.uid_validity,
    highestModseq: r.highest_modseq,
    size: r.size,
    recent: r.recent,
  };
}

export async function mailboxSnapshot(scope: PgScope, mailboxId: string): Promise<MailboxSnapshot> {
  const id = parseId(mailboxId);
  // One statement: the mailbox's counters and its messages come from the same snapshot.
  const { rows } = await scope.ctx.pool.query<
    MailboxRow & { subscribed: boolean; uids: number[] | null; flags: string[] | null; modseqs: number[] | null }
  >(
    `SELECT b.*, EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = b.user_id AND s.name = b.name) AS subscribed,
            a.uids, a.flags, a.modseqs
       FROM mailboxes b
       CROSS JOIN LATERAL (SELECT array_agg(uid ORDER BY uid) AS uids, array_agg(flags ORDER BY uid) AS flags,
                                  array_agg(modseq ORDER BY uid) AS modseqs
                             FROM messages WHERE mailbox_id = b.id) a
      WHERE b.id = $1 AND b.user_id = $2`,
    [id ?? -1, scope.userId],
  );
  const box = rows[0];
  if (!box) throw new StoreError('nonexistent', 'no such mailbox');
  if (box.noselect) throw new StoreError('cannot', `mailbox ${box.name} is \\Noselect and cannot hold messages`);
  const uids = box.uids ?? [];
  const flags = box.flags ?? [];
  const modseqs = box.modseqs ?? [];
  const messages: MessageMeta[] = new Array<MessageMeta>(uids.length);
  for (let i = 0; i < uids.length; i++) messages[i] = { uid: uids[i]!, flags: parseFlags(flags[i]!), modseq: modseqs[i]! };
  // The session builds its view from this: every change up to here must be published first, so
  // the ones after reach it in order (cluster-feed.ts).
  await scope.ctx.feed.syncTo(scope.user, box.id, box.highest_modseq);
  return { mailbox: toInfo(box, box.subscribed), uidValidity: box.uid_validity, uidNext: box.uid_next, highestModseq: box.highest_modseq, messages };
}

/**
 * \Recent (RFC 3501 §2.3.2): the lowest UID recent for the caller; unless `peek`, the mark moves
 * past `through` (at most to UIDNEXT) in the same statement that reads it, under the row lock, so
 * the claims of two sessions — on any nodes — never overlap. The mark only grows.
 */
export async function claimRecent(scope: PgScope, mailboxId: string, options: RecentClaimOptions): Promise<number> {
  const { pool } = scope.ctx;
  const box = await selectableMailbox(pool, scope, mailboxId);
  const last = Math.min(options.through ?? box.uid_next - 1, box.uid_next - 1);
  if (options.peek || box.recent_uid > last) return box.recent_uid;
  const { rows } = await pool.query<{ recent_uid: number }>(
    `UPDATE mailboxes b SET recent_uid = GREATEST(old.recent_uid, LEAST($2::bigint, b.uid_next - 1) + 1)
       FROM (SELECT id, recent_uid FROM mailboxes WHERE id = $1 FOR UPDATE) old
      WHERE b.id = old.id RETURNING old.recent_uid`,
    [box.id, options.through ?? Number.MAX_SAFE_INTEGER],
  );
  if (!rows[0]) throw new StoreError('nonexistent', 'no such mailbox');
  return rows[0].recent_uid;
}

interface RecordRow {
  uid: number;
  flags: string;
  modseq: number;
  internal_date: number;
  size: number;
  save_date: number | string | null;
}

function toRecord(r: RecordRow): MessageRecord {
  return {
    uid: r.uid,
    flags: parseFlags(r.flags),
    modseq: r.modseq,
    internalDate: new Date(r.internal_date),
    size: r.size,
    saveDate: r.save_date === null ? null : new Date(Number(r.save_date)),
  };
}

export async function messageRecords(scope: PgScope, mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
  const rows = await inMailbox<RecordRow & { _k: number }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, uid, flags, modseq, internal_date, size, save_date FROM messages
      WHERE mailbox_id = b.id AND uid = ANY($3::bigint[]) ORDER BY uid`,
    [uids.filter((u) => Number.isSafeInteger(u))],
  );
  return rows.map(toRecord);
}

/**
 * UserMailbox.changedSince: a range scan of messages_modseq (mailbox_id, modseq), so a resync
 * after a few changes reads those rows and not the mailbox.
 */
export async function changedSince(scope: PgScope, mailboxId: string, since: number): Promise<MessageMeta[]> {
  const rows = await inMailbox<{ _k: number; uid: number; flags: string; modseq: number }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    'SELECT 1 AS _k, uid, flags, modseq FROM messages WHERE mailbox_id = b.id AND modseq > $3',
    [Math.min(Math.max(since, 0), Number.MAX_SAFE_INTEGER)],
  );
  const out = rows.map((r) => ({ uid: Number(r.uid), flags: parseFlags(r.flags), modseq: Number(r.modseq) }));
  return out.sort((a, b) => a.uid - b.uid);
}

interface ContentOf {
  content_id: number;
  size: number;
}

async function contentOf(scope: PgScope, mailboxId: string, uid: number): Promise<ContentOf> {
  const [row] = await inMailbox<ContentOf & { _k: number }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    'SELECT 1 AS _k, content_id, size FROM messages WHERE mailbox_id = b.id AND uid = $3',
    [Number.isSafeInteger(uid) ? uid : -1],
  );
  if (!row) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return row;
}

export async function messageStructure(scope: PgScope, mailboxId: string, uid: number): Promise<MessageStructure> {
  const [row] = await inMailbox<{ _k: number; structure: string }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    'SELECT 1 AS _k, c.structure FROM messages m JOIN contents c ON c.id = m.content_id WHERE m.mailbox_id = b.id AND m.uid = $3',
    [Number.isSafeInteger(uid) ? uid : -1],
  );
  if (!row) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return JSON.parse(row.structure) as MessageStructure;
}

async function collectBytes(parts: AsyncIterable<Buffer>, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for await (const part of parts) {
    part.copy(out, at);
    at += part.length;
  }
  return at === size ? out : out.subarray(0, at);
}

export async function readMessage(scope: PgScope, mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
  const content = await contentOf(scope, mailboxId, uid);
  const { start, end } = clampRange(content.size, range);
  return collectBytes(scope.ctx.blobs.read(scope.ctx.pool, content.content_id, start, end), end - start);
}

/**
 * UserMailbox.messageHeads: the messages' structures in one statement and their header blocks in
 * one more (BlobStore.heads; a block it does not answer is read alone) — a FETCH of 100 messages'
 * HEADER.FIELDS made 300 round trips.
 */
export async function messageHeads(scope: PgScope, mailboxId: string, uids: number[], options: MessageHeadOptions = {}): Promise<MessageHead[]> {
  const { pool, blobs } = scope.ctx;
  const rows = await inMailbox<{ _k: number; uid: number; content_id: number; structure: string }>(
    pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, m.uid, m.content_id, c.structure FROM messages m JOIN contents c ON c.id = m.content_id
      WHERE m.mailbox_id = b.id AND m.uid = ANY($3::bigint[]) ORDER BY m.uid`,
    [uids.filter((u) => Number.isSafeInteger(u))],
  );
  const out: MessageHead[] = rows.map((r) => ({ uid: r.uid, structure: JSON.parse(r.structure) as MessageStructure }));
  if (!options.header) return out;
  const ranges = out.map((h) => headerRange(h.structure));
  const wanted = rows.map((r, i) => ({ id: Number(r.content_id), octets: ranges[i]!.end })).filter((w, i) => ranges[i]!.start === 0);
  const heads = blobs.heads ? await blobs.heads(pool, wanted) : new Map<number, Buffer>();
  for (let i = 0; i < out.length; i++) {
    const { start, end } = ranges[i]!;
    const id = Number(rows[i]!.content_id);
    const found = start === 0 ? heads.get(id) : undefined;
    out[i]!.header = found && found.length === end ? found : await collectBytes(blobs.read(pool, id, start, end), end - start);
  }
  return out;
}

/**
 * The message is looked up at the call (`pinned` settles then); its bytes are read chunk by chunk
 * as the stream is consumed. An EXPUNGE after the lookup does not cut the stream short: released
 * contents are collected only after a grace period (contents.ts).
 */
export function streamMessage(scope: PgScope, mailboxId: string, uid: number, range?: ByteRange): { stream: MessageStream; pin: Promise<unknown> } {
  const lookup = contentOf(scope, mailboxId, uid);
  const pinned = lookup.then(() => undefined);
  pinned.catch(() => undefined); // also surfaces on the first read, for callers that do not wait
  const { blobs, pool } = scope.ctx;
  const body = (async function* () {
    const content = await lookup;
    const { start, end } = clampRange(content.size, range);
    for await (const part of blobs.read(pool, content.content_id, start, end)) yield* bufferChunks(part, STREAM_CHUNK);
  })();
  return { stream: Object.assign(body, { pinned }), pin: pinned };
}

/** How many bodies a residual search holds at once (they are read in batches of about this size). */
const SEARCH_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * `progress`: after each batch the residual query evaluated, its last UID (the database's filter
 * decided the rows it left out in the one query before).
 */
export async function searchMessages(scope: PgScope, mailboxId: string, query: SearchQuery, texts: TextCache, progress?: (throughUid: number) => void): Promise<number[]> {
  const { filter, residual } = planQuery(query);
  const { pool, blobs } = scope.ctx;
  const from = 'FROM messages m JOIN contents c ON c.id = m.content_id WHERE m.mailbox_id = b.id AND';
  if (!residual) {
    const rows = await inMailbox<{ _k: number; uid: number }>(
      pool,
      scope,
      mailboxId,
      `SELECT 1 AS _k, m.uid ${from} ${numbered(filter.sql, 3)} ORDER BY m.uid`,
      filter.params,
    );
    return rows.map((r) => r.uid);
  }
  const rows = await inMailbox<RecordRow & { _k: number; content_id: number; structure: string; sha256: Buffer }>(
    pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, m.uid, m.flags, m.modseq, m.internal_date, m.size, m.save_date, m.content_id, c.structure, c.sha256 ${from} ${numbered(filter.sql, 3)} ORDER BY m.uid`,
    filter.params,
  );
  // The evaluation runs key by key over a batch and yields between steps (search-run.ts, as the
  // SQLite and memory stores do): thousands of BODY keys over large bodies never hold the loop.
  const slice = new TimeSlice();
  const needsBytes = usesMessageBytes(residual);
  const out: number[] = [];
  for (let i = 0; i < rows.length; ) {
    // A batch of bodies, read only when the residual query looks into messages.
    let batchEnd = i;
    let bytes = 0;
    while (batchEnd < rows.length && (batchEnd === i || bytes + rows[batchEnd]!.size <= SEARCH_BATCH_BYTES)) bytes += rows[batchEnd++]!.size;
    const batch = rows.slice(i, batchEnd);
    const bodies = new Map<number, Buffer>();
    if (needsBytes) {
      for (const row of batch) {
        if (!bodies.has(row.content_id)) bodies.set(row.content_id, await collectBytes(blobs.read(pool, row.content_id, 0, row.size), row.size));
      }
    }
    const toTarget = (row: (typeof batch)[number]): SearchTarget => {
      let structure: MessageStructure | undefined;
      return {
        record: toRecord(row),
        raw: () => bodies.get(row.content_id) ?? Buffer.alloc(0),
        structure: () => (structure ??= JSON.parse(row.structure) as MessageStructure),
        cacheKey: `c${row.content_id}`,
        emailId: () => emailIdOf(row.sha256),
      };
    };
    out.push(...(await runSearch(residual, batch, toTarget, { texts, slice })));
    i = batchEnd;
    if (progress && i < rows.length) progress(batch[batch.length - 1]!.uid);
  }
  return out;
}

/** Whether evaluating `q` reads a message's bytes (headers, body, sent date), not just its record. */
function usesMessageBytes(q: SearchQuery): boolean {
  switch (q.type) {
    case 'and':
    case 'or':
      return q.of.some(usesMessageBytes);
    case 'not':
      return usesMessageBytes(q.of);
    case 'all':
    case 'uid':
    case 'flag':
    case 'size':
    case 'modseq':
    case 'internaldate':
    case 'arrival':
      return false;
    default:
      // header, body, text, sentdate — and anything new, to be safe.
      return true;
  }
}

/**
 * UserMailbox.expungedSince (QRESYNC, RFC 7162 §3.2): the expunged table has held every expunge
 * since the first schema version (other nodes' feeds catch up from it) and is not pruned, so the
 * answer is always complete.
 */
export async function expungedSince(scope: PgScope, mailboxId: string, since: number): Promise<number[]> {
  const [row] = await inMailbox<{ _k: number; uids: Array<string | number> | null }>(
    scope.ctx.pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, array_agg(e.uid ORDER BY e.uid) AS uids FROM expunged e WHERE e.mailbox_id = b.id AND e.modseq > $3`,
    [since],
  );
  return (row?.uids ?? []).map(Number);
}


/**
 * UserMailbox.messageExtras: EMAILID from the content's digest, the preview kept at APPEND. A
 * content stored before schema v5 has none: 'compute' reads the bytes the preview needs, computes
 * it and keeps it on the content row (any node may do so; they compute the same text).
 */
export async function messageExtras(scope: PgScope, mailboxId: string, uids: number[], options: MessageExtrasOptions = {}): Promise<MessageExtras[]> {
  const { pool, blobs } = scope.ctx;
  const rows = await inMailbox<{ _k: number; uid: number; content_id: number; sha256: Buffer; preview: string | null; structure: string | null }>(
    pool,
    scope,
    mailboxId,
    `SELECT 1 AS _k, m.uid, m.content_id, c.sha256, c.preview, CASE WHEN c.preview IS NULL AND $4::boolean THEN c.structure END AS structure
       FROM messages m JOIN contents c ON c.id = m.content_id
      WHERE m.mailbox_id = b.id AND m.uid = ANY($3::bigint[]) ORDER BY m.uid`,
    [uids.filter((u) => Number.isSafeInteger(u)), options.preview === 'compute'],
  );
  const out: MessageExtras[] = [];
  const computed = new Map<number, string>();
  for (const row of rows) {
    const extras: MessageExtras = { uid: Number(row.uid), emailId: emailIdOf(row.sha256) };
    if (options.preview) {
      let preview = row.preview ?? computed.get(row.content_id) ?? null;
      if (preview === null && row.structure !== null) {
        const structure = JSON.parse(row.structure) as MessageStructure;
        const end = previewBytesNeeded(structure);
        try {
          preview = messagePreview(await collectBytes(blobs.read(pool, row.content_id, 0, end), end), structure);
          computed.set(row.content_id, preview);
        } catch {
          preview = ''; // the content went meanwhile (expunged): RFC 8970 allows no NIL without LAZY
        }
      }
      extras.preview = preview ?? (options.preview === 'compute' ? '' : null);
    }
    out.push(extras);
  }
  for (const [id, preview] of computed) await pool.query('UPDATE contents SET preview = $2 WHERE id = $1 AND preview IS NULL', [id, preview]);
  return out;
}
