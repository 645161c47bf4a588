/** SELECT snapshots, \Recent, records, structure and bytes (STATUS: mailbox-status.ts, SEARCH: search.ts). */
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import type { ByteRange, MailboxSnapshot, MessageHead, MessageHeadOptions, MessageMeta, MessageRecord, MessageStream, RecentClaimOptions, SortableMessage, SortKeyNames } from '../types.js';
import { headerRange } from '../message-heads.js';
import type { StoreContext } from './context.js';
import { pinBody, readBody, readPinnedBody, readStructureJson, type PinnedBody } from './contents.js';
import { pinnedStream } from '../pinned-stream.js';
import { jsonList, readTransaction, selectableMailbox, type UserScope } from './context.js';
import { parseFlags } from './flags.js';
import { toInfo } from './mailbox-tree.js';
import { isTombstone } from './tombstone.js';

export async function mailboxSnapshot(scope: UserScope, mailboxId: string): Promise<MailboxSnapshot> {
  // Read in slices when large (snapshot-cache.ts); `box` is then the row the messages answer for.
  const { box, messages } = await scope.ctx.snapshots.messagesInSlices(scope.ctx, selectableMailbox(scope, mailboxId), () =>
    selectableMailbox(scope, mailboxId),
  );
  const subscribed = scope.ctx.sql.get('SELECT 1 FROM subscriptions WHERE user_id = ? AND name = ?').get(scope.userId, box.name) !== undefined;
  return { mailbox: toInfo(box, subscribed), uidValidity: box.uid_validity, uidNext: box.uid_next, highestModseq: box.highest_modseq, messages };
}

export async function claimRecent(scope: UserScope, mailboxId: string, options: RecentClaimOptions): Promise<number> {
  const box = selectableMailbox(scope, mailboxId);
  const last = (b: { uid_next: number }): number => Math.min(options.through ?? b.uid_next - 1, b.uid_next - 1);
  // The mark only grows: once it is past `through`, nothing up to there can be claimed any more.
  if (options.peek || box.recent_uid > last(box)) return box.recent_uid;
  // Batched with other writes. The mark is read again inside the transaction: that read and the
  // move are the one atomic step that makes two sessions' claims disjoint. Durability 'soon': a
  // power cut that loses the move only makes the same messages \Recent once more.
  return scope.ctx.group.run(() => {
    const fresh = selectableMailbox(scope, mailboxId);
    const through = last(fresh);
    if (fresh.recent_uid <= through) scope.ctx.sql.get('UPDATE mailboxes SET recent_uid = ? WHERE id = ?').run(through + 1, fresh.id);
    return fresh.recent_uid;
  }, 'soon');
}

export interface RecordRow {
  uid: number;
  flags: string;
  modseq: number;
  internal_date: number;
  size: number;
  content_id: number;
  save_date: number | null;
}

export function toRecord(r: RecordRow): MessageRecord {
  return recordOf(r.uid, r.flags, r.modseq, r.internal_date, r.size, r.save_date);
}

function recordOf(uid: number, flags: string, modseq: number, internalDate: number, size: number, saveDate: number | null): MessageRecord {
  return { uid, flags: parseFlags(flags), modseq, internalDate: new Date(internalDate), size, saveDate: saveDate === null ? null : new Date(saveDate) };
}

/**
 * The rows of `uids` of a mailbox, as arrays of `columns` (raw: better-sqlite3 builds no object
 * per row, half the cost of a 100-row FETCH page's records): by a range of the primary key when the
 * UIDs lie close together (a FETCH of a sequence range: `uid BETWEEN` costs a third less than
 * `IN (json_each)`), else by the list. The first column must be `uid`.
 */
function rowsOf(scope: UserScope, mailboxId: number, uids: readonly number[], columns: string): unknown[][] {
  if (uids.length === 0) return [];
  let min = Infinity;
  let max = -Infinity;
  let increasing = true;
  for (let i = 0; i < uids.length; i++) {
    const u = uids[i]!;
    if (u < min) min = u;
    if (u > max) max = u;
    if (i > 0 && u <= uids[i - 1]!) increasing = false;
  }
  if (Number.isSafeInteger(min) && Number.isSafeInteger(max) && max - min < uids.length * 2) {
    const rows = scope.ctx.sql
      .get(`SELECT ${columns} FROM messages WHERE mailbox_id = ? AND uid BETWEEN ? AND ? ORDER BY uid`)
      .raw()
      .all(mailboxId, min, max) as unknown[][];
    // Every UID of the range, each once: the rows are exactly those asked for.
    if (increasing && max - min + 1 === uids.length) return rows;
    const wanted = new Set(uids);
    return rows.filter((r) => wanted.has(r[0] as number));
  }
  return scope.ctx.sql
    .get(`SELECT ${columns} FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`)
    .raw()
    .all(mailboxId, jsonList(uids)) as unknown[][];
}

export function messageRecords(scope: UserScope, mailboxId: string, uids: number[]): MessageRecord[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = rowsOf(scope, box.id, uids, 'uid, flags, modseq, internal_date, size, save_date');
  const out = new Array<MessageRecord>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const [uid, flags, modseq, internalDate, size, saveDate] = rows[i] as [number, string, number, number, number, number | null];
    out[i] = recordOf(uid, flags, modseq, internalDate, size, saveDate);
  }
  return out;
}

/**
 * UserMailbox.changedSince: through messages_by_modseq (mailbox_id, modseq), so a resync after a
 * few changes reads those rows and not the mailbox. Sorted here rather than by SQL, which would
 * otherwise walk the primary key (uid order) and test every row's modseq.
 */
export function changedSince(scope: UserScope, mailboxId: string, since: number): MessageMeta[] {
  const box = selectableMailbox(scope, mailboxId);
  const rows = scope.ctx.sql
    .get('SELECT uid, flags, modseq FROM messages INDEXED BY messages_by_modseq WHERE mailbox_id = ? AND modseq > ?')
    .all(box.id, since) as Array<{ uid: number; flags: string; modseq: number }>;
  rows.sort((a, b) => a.uid - b.uid);
  return rows.map((r) => ({ uid: r.uid, flags: parseFlags(r.flags), modseq: r.modseq }));
}

function contentOf(scope: UserScope, mailboxId: string, uid: number): number {
  // One statement for the common case (FETCH asks once per message): the message, in a mailbox
  // of this user's that can hold messages. Anything else goes the long way, for the right error.
  const found = scope.ctx.sql
    .get(
      'SELECT m.content_id AS id, b.name AS name, b.noselect AS noselect FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.mailbox_id = ? AND m.uid = ? AND b.user_id = ?',
    )
    .get(/^\d+$/.test(mailboxId) ? Number(mailboxId) : -1, uid, scope.userId) as { id: number; name: string; noselect: number } | undefined;
  if (found && !found.noselect && !isTombstone(found.name)) return found.id;
  const box = selectableMailbox(scope, mailboxId);
  const id = scope.ctx.sql.get('SELECT content_id FROM messages WHERE mailbox_id = ? AND uid = ?').pluck().get(box.id, uid) as number | undefined;
  if (id === undefined) throw new StoreError('nonexistent', `no message with UID ${uid}`);
  return id;
}

export function messageStructure(scope: UserScope, mailboxId: string, uid: number): MessageStructure {
  const contentId = contentOf(scope, mailboxId, uid);
  return scope.ctx.structures.get(contentId, () => readStructureJson(scope.ctx, contentId));
}

export function readMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
  return readBody(scope.ctx, contentOf(scope, mailboxId, uid), range);
}

export function streamMessage(scope: UserScope, mailboxId: string, uid: number, range?: ByteRange): MessageStream {
  return pinnedStream(() => readTransaction(scope.ctx, () => pinBody(scope.ctx, contentOf(scope, mailboxId, uid), range)), readPinnedBody);
}

/**
 * Every message's SORT/THREAD keys, from the cache (sort-cache.ts) or content_sort; `keys` (the
 * caller's hint) are read ahead in slices when not cached, and the list answers for the mailbox
 * as it is after them.
 */
export function sortData(scope: UserScope, mailboxId: string, keys: SortKeyNames = []): Promise<readonly SortableMessage[]> {
  return scope.ctx.sortKeys.listInSlices(scope.ctx, selectableMailbox(scope, mailboxId), () => selectableMailbox(scope, mailboxId), keys);
}

/**
 * UserMailbox.messageHeads: one statement for the messages' content ids, the structures from the
 * cache (the misses in one more), and the header blocks from the header cache (the inline misses
 * in one more, a file's through readBody). A FETCH of 100 messages' HEADER.FIELDS made 300.
 */
export async function messageHeads(scope: UserScope, mailboxId: string, uids: number[], options: MessageHeadOptions = {}): Promise<MessageHead[]> {
  const { ctx } = scope;
  const box = selectableMailbox(scope, mailboxId);
  const rows = rowsOf(scope, box.id, uids, 'uid, content_id').map(([uid, id]) => ({ uid: uid as number, id: id as number }));
  const structures = new Map<number, MessageStructure>();
  const missing: number[] = [];
  for (const r of rows) {
    const hit = ctx.structures.peek(r.id);
    if (hit) structures.set(r.id, hit);
    else missing.push(r.id);
  }
  if (missing.length > 0) {
    const found = ctx.sql
      .get('SELECT content_id AS id, structure FROM content_structures WHERE content_id IN (SELECT value FROM json_each(?))')
      .all(jsonList(missing)) as Array<{ id: number; structure: string }>;
    for (const f of found) structures.set(f.id, ctx.structures.get(f.id, () => f.structure));
  }
  const out: MessageHead[] = [];
  for (const r of rows) {
    const structure = structures.get(r.id);
    if (!structure) throw new StoreError('unavailable', `content ${r.id} is missing`);
    out.push({ uid: r.uid, structure });
  }
  if (options.header) await fillHeaders(ctx, rows, out);
  return out;
}

/** Header blocks of `heads` (rows[i] is heads[i]'s content), from the cache or read. */
async function fillHeaders(ctx: StoreContext, rows: ReadonlyArray<{ id: number }>, heads: MessageHead[]): Promise<void> {
  const misses: Array<{ at: number; id: number; start: number; end: number }> = [];
  for (let i = 0; i < heads.length; i++) {
    const id = rows[i]!.id;
    const range = headerRange(heads[i]!.structure);
    // A body found damaged is refused as read() refuses it: readBody throws its error.
    const hit = ctx.health.knownDamage(id) === undefined ? ctx.headers.get(id) : undefined;
    if (hit && hit.length === range.end - range.start) heads[i]!.header = hit;
    else misses.push({ at: i, id, ...range });
  }
  if (misses.length === 0) return;
  // The inline ones in one statement (a range that is the whole body goes through readBody, which
  // checks a whole read's SHA-256); anything unusual — a file, a short body, known damage — too.
  const parts = new Map<number, Buffer>();
  const inline = ctx.sql
    .get(
      `SELECT c.id AS id, substr(c.body, j.value ->> 1, j.value ->> 2) AS part
         FROM json_each(?) j JOIN contents c ON c.id = j.value ->> 0 WHERE c.body IS NOT NULL`,
    )
    .all(JSON.stringify(misses.map((m) => [m.id, m.start + 1, m.end - m.start]))) as Array<{ id: number; part: Buffer | null }>;
  for (const p of inline) if (p.part) parts.set(p.id, p.part);
  // Every lookup before the first await: the rows read above answer for one moment. An EXPUNGE
  // committed while a file is being read may release a content row, but not its file, which
  // outlives it by a grace period (pinBody, removeFiles) — so no message of the answer goes missing
  // halfway ("content N is missing", found by imaptest's checking stress).
  const pinned = new Map<number, PinnedBody>();
  for (const m of misses) {
    const length = m.end - m.start;
    const part = parts.get(m.id);
    const size = heads[m.at]!.structure.size;
    if (part && part.length === length && length < size && ctx.health.knownDamage(m.id) === undefined) {
      ctx.headers.set(m.id, part);
      heads[m.at]!.header = part;
    } else {
      // A file, a whole body (its SHA-256 is checked), or damage: as read() would, refusing damage.
      pinned.set(m.at, pinBody(ctx, m.id, { start: m.start, end: m.end }));
    }
  }
  for (const m of misses) {
    const body = pinned.get(m.at);
    if (body === undefined) continue;
    const header = Buffer.isBuffer(body) ? body : await collectPinned(body);
    ctx.headers.set(m.id, header);
    heads[m.at]!.header = header;
  }
}

async function collectPinned(body: PinnedBody): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readPinnedBody(body)) parts.push(part);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
