/**
 * APPEND, STORE, COPY, MOVE, EXPUNGE. Each is one write transaction in the group commit; the change
 * feed hears about it, and blob files it released are deleted, only after the WAL holding it was
 * synced (group-commit.ts, wal-sync.ts), so nothing a client was told about can be lost by a crash.
 */
import { insertExpungedRows, pruneExpungedRows } from './expunged-log.js';
import { readFile } from 'node:fs/promises';
import { messagePreview, parseMessage } from '../../mime/index.js';
import { StoreError } from '../errors.js';
import type { AppendInput, AppendInputs, AppendResult, Replacing, ReplaceResult, CopyResult, Flag, FlagChange, FlagOperation, FlagUpdateResult } from '../types.js';
import { collectContent, releaseCollected, type Collected } from './content.js';
import { addReference, findContent, insertContent, releaseContents, removeFiles } from './contents.js';
import { jsonList, selectableMailbox, type MailboxRow, type UserScope } from './context.js';
import { applyFlagOperation, normalizeFlags, parseFlags, serializeFlags } from './flags.js';
import { computeSearchColumns } from './search-columns.js';
import { computeSortColumns } from './sort-columns.js';
import { DELETED_TEST, type SearchColumns, type SortColumns } from './schema.js';
import { ADD_USAGE, checkUsage, limitsFor } from './quota.js';
import { COPY_CHUNK, copyInChunks } from './chunked-copy.js';
import { checkKeywordLimitSync, keywordsOfFlagStrings } from '../keyword-limit.js';
import { checkIncomingKeywords, keywordLookup } from './keyword-check.js';

export interface Parsed {
  structureJson: string;
  search: SearchColumns;
  sort: SortColumns;
  /** RFC 8970 preview text (content_structures.preview). */
  preview: string;
}

/** Everything a new body is parsed for, once: structure, search columns, sort keys. */
export function deriveContent(raw: Buffer): Parsed {
  const structure = parseMessage(raw);
  return {
    structureJson: JSON.stringify(structure),
    search: computeSearchColumns(raw, structure),
    sort: computeSortColumns(raw, structure),
    preview: messagePreview(raw, structure),
  };
}

/**
 * `claimRecent`: the caller has the mailbox selected and reports the new message itself
 * (AppendOptions.claimRecent): the \Recent mark moves past it in this transaction — the row the
 * append updates anyway — instead of in a second write ('soon', with a WAL sync of its own)
 * when the caller's session claims it right after.
 */
export async function appendMessage(scope: UserScope, mailboxId: string, input: AppendInput, maxKeywords?: number, claimRecent = false): Promise<AppendResult> {
  const { ctx } = scope;
  selectableMailbox(scope, mailboxId); // fail before reading a large literal into a mailbox that does not exist
  const flags = normalizeFlags(input.flags ?? []);
  const internalDate = input.internalDate ?? new Date();
  if (Number.isNaN(internalDate.getTime())) throw new StoreError('cannot', 'invalid internal date');
  if (input.sha256) {
    // The caller says which bytes these are: when they are stored already, add a reference
    // without reading them again (one message delivered to many recipients).
    const known = await appendKnownContent(scope, mailboxId, input.sha256, flags, internalDate, maxKeywords);
    if (known) return known;
  }
  const { limits } = await limitsFor(ctx, scope.userId, scope.user, ctx.quotaDefaults);
  const collected = await collectContent(input.content, ctx.inlineMax, ctx.files);
  const tempPath = collected.kind === 'file' ? collected.tempPath : null;
  let installed = false;
  try {
    // Identical bytes are stored once; only a new body needs parsing (once, here, never at FETCH).
    // Whether the bytes are new is decided again inside the transaction, where finding the
    // content and adding the reference are one step that no expunge can come between. If the
    // last other reference went meanwhile (the check out here saw the content, the transaction
    // does not), the body is parsed after all and the write tried once more — with the parse in
    // hand it cannot miss again. Another session's EXPUNGE never fails a valid APPEND.
    // Only a body that will be installed must be on disk, in place, before the COMMIT that refers
    // to it. Its syncs (BlobFiles.install, on the sync threads) run while the event loop parses it:
    // the bytes are in hand (kept while written, or read back), the file is renamed, and the parse
    // waits for nothing but the CPU.
    const prepare = async (): Promise<Parsed> => {
      if (collected.kind === 'inline') return deriveContent(collected.body);
      const raw = collected.body ?? (await readFile(collected.tempPath));
      const placed = ctx.files.install(collected.tempPath, collected.sha256, collected.closed).then(() => {
        installed = true;
      });
      try {
        return deriveContent(raw);
      } finally {
        await placed;
      }
    };
    let parsed = findContent(ctx, collected.sha256) ? null : await prepare();
    let result: AppendResult | null = null;
    while (!result) {
      const known = parsed;
      result = await ctx.group.run((): AppendResult | null => {
        const box = selectableMailbox(scope, mailboxId);
        checkUsage(ctx, scope.userId, limits, { storage: collected.size, messages: 1 });
        checkIncomingKeywords(ctx, box.id, flags, maxKeywords);
        let contentId = findContent(ctx, collected.sha256)?.id;
        if (contentId === undefined) {
          if (!known) return null; // gone since the check above: parse, then write again
          contentId = insertContent(ctx, collected.sha256, collected.size, collected.kind === 'inline' ? collected.body : null, known);
        }
        ctx.snapshots.noteWrite(box.id);
        addReference(ctx, contentId);
        const uid = box.uid_next;
        const modseq = box.highest_modseq + 1;
        // The mark never exceeds uid_next, so the claim always covers the new message.
        const claims = claimRecent && box.recent_uid <= uid;
        // The mailbox row once, its usage with it (quota.ts addUsage).
        if (claims) ctx.sql.get(`UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, recent_uid = ?, ${ADD_USAGE} WHERE id = ?`).run(uid + 1, modseq, uid + 1, collected.size, 1, box.id);
        else ctx.sql.get(`UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, ${ADD_USAGE} WHERE id = ?`).run(uid + 1, modseq, collected.size, 1, box.id);
        ctx.sql
          .get('INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
          .run(box.id, uid, contentId, serializeFlags(flags), modseq, internalDate.getTime(), collected.size, Date.now());
        return { uid, uidValidity: box.uid_validity, modseq, flags, ...(claims ? { recentFrom: box.recent_uid } : {}) };
      });
      if (!result) parsed = await prepare();
    }
    ctx.feed.publish(scope.user, { kind: 'exists', mailboxId, uids: [result.uid], origin: scope.origin });
    return result;
  } finally {
    releaseCollected(collected);
    if (installed) ctx.files.installed(collected.sha256);
    // Still there only when the body was deduplicated or the transaction failed before install.
    else if (tempPath) ctx.files.discardSync(tempPath);
  }
}

interface PreparedAppend {
  collected: Collected;
  flags: Flag[];
  internalDate: Date;
  parsed?: Parsed;
  installed: boolean;
}

/**
 * UserMailbox.appendMany (RFC 3502 MULTIAPPEND): every body is read first (large ones into temp
 * files), then parsed and (when large) put in place; then one transaction checks the quota for
 * their sum and adds them all — or, if anything fails, none. Nothing is put in place before the
 * last body has arrived, and not when the quota already refuses the sum, so a client that goes
 * away in the middle or a message too many leaves no body file behind (only a transaction failing
 * after the install can, swept at a later open as after a crash). As in the single APPEND, bytes
 * stored already are not parsed again (imaptest's MULTIAPPENDs come from an mbox of 200 messages,
 * most of them in the mailbox already).
 */
export async function appendMessages(
  scope: UserScope,
  mailboxId: string,
  inputs: AppendInputs,
  maxKeywords?: number,
  /** RFC 8508 REPLACE: the message removed in the same transaction (UserMailbox.replace). */
  replacing?: Replacing,
): Promise<AppendResult[]> {
  const { ctx } = scope;
  selectableMailbox(scope, mailboxId);
  const { limits } = await limitsFor(ctx, scope.userId, scope.user, ctx.quotaDefaults);
  const items: PreparedAppend[] = [];
  let released: Buffer[] = [];
  try {
    for await (const input of inputs) {
      const internalDate = input.internalDate ?? new Date();
      if (Number.isNaN(internalDate.getTime())) throw new StoreError('cannot', 'invalid internal date');
      const collected = await collectContent(input.content, ctx.inlineMax, ctx.files);
      items.push({ collected, flags: normalizeFlags(input.flags ?? []), internalDate, installed: false });
    }
    if (items.length === 0) return [];
    const storage = items.reduce((n, i) => n + i.collected.size, 0);
    // Checked again inside the transaction; here it spares installing bodies that cannot be kept.
    checkUsage(ctx, scope.userId, limits, { storage, messages: items.length });
    // Only a body not stored yet is parsed (and, when large, put in place): as in appendMessage,
    // whether it is stored is decided again inside the transaction, and a body whose last other
    // reference went meanwhile makes the transaction change nothing and return null — then every
    // body still unparsed is parsed and the write tried once more, which cannot miss again.
    const prepare = async (item: PreparedAppend): Promise<void> => {
      const collected = item.collected;
      if (item.parsed) return;
      if (collected.kind === 'inline') {
        item.parsed = deriveContent(collected.body);
        return;
      }
      // As appendMessage: the body is renamed into place and synced while the loop parses it.
      const raw = collected.body ?? (await readFile(collected.tempPath));
      const placed = ctx.files.install(collected.tempPath, collected.sha256, collected.closed).then(() => {
        item.installed = true;
      });
      try {
        item.parsed = deriveContent(raw);
      } finally {
        await placed;
      }
    };
    for (const item of items) if (!findContent(ctx, item.collected.sha256)) await prepare(item);
    let results: AppendResult[] | null = null;
    while (!results) {
      results = await ctx.group.run((): AppendResult[] | null => {
        const box = selectableMailbox(scope, mailboxId);
        checkUsage(ctx, scope.userId, limits, { storage, messages: items.length });
        checkIncomingKeywords(ctx, box.id, [...new Set(items.flatMap((i) => i.flags))], maxKeywords);
        // Every body's row, or the parse to make one, before anything is written.
        const known = items.map((item) => findContent(ctx, item.collected.sha256)?.id);
        if (items.some((item, i) => known[i] === undefined && !item.parsed)) return null;
        ctx.snapshots.noteWrite(box.id);
        const out: AppendResult[] = [];
        let uid = box.uid_next;
        let modseq = box.highest_modseq;
        const savedAt = Date.now();
        const insert = ctx.sql.get('INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
        for (const [i, item] of items.entries()) {
          const c = item.collected;
          // Looked up again when new: the same bytes twice in one MULTIAPPEND make one row.
          const contentId = known[i] ?? findContent(ctx, c.sha256)?.id ?? insertContent(ctx, c.sha256, c.size, c.kind === 'inline' ? c.body : null, item.parsed!);
          addReference(ctx, contentId);
          modseq += 1;
          insert.run(box.id, uid, contentId, serializeFlags(item.flags), modseq, item.internalDate.getTime(), c.size, savedAt);
          out.push({ uid, uidValidity: box.uid_validity, modseq });
          uid += 1;
        }
        ctx.sql.get(`UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, ${ADD_USAGE} WHERE id = ?`).run(uid, modseq, storage, items.length, box.id);
        if (replacing) released = removeReplaced(scope, replacing);
        return out;
      });
      if (!results) for (const item of items) await prepare(item);
    }
    removeFiles(ctx, released);
    ctx.feed.publish(scope.user, { kind: 'exists', mailboxId, uids: results.map((r) => r.uid), origin: scope.origin });
    if (replacing?.expunged) ctx.feed.publish(scope.user, { kind: 'expunge', mailboxId: replacing.mailboxId, uids: [replacing.uid], origin: scope.origin });
    return results;
  } finally {
    for (const item of items) {
      releaseCollected(item.collected);
      if (item.installed) ctx.files.installed(item.collected.sha256);
      else if (item.collected.kind === 'file') ctx.files.discardSync(item.collected.tempPath);
    }
  }
}

/** Inside the transaction of a REPLACE: removes the replaced message, if it is still there. */
function removeReplaced(scope: UserScope, replacing: Replacing): Buffer[] {
  const { ctx } = scope;
  const source = selectableMailbox(scope, replacing.mailboxId); // read now: the append may have moved its modseq
  const row = ctx.sql.get('SELECT uid, content_id, size FROM messages WHERE mailbox_id = ? AND uid = ?').get(source.id, replacing.uid) as
    | { uid: number; content_id: number; size: number }
    | undefined;
  if (!row) return [];
  ctx.snapshots.noteWrite(source.id);
  replacing.expunged = true;
  return deleteRows(scope, source.id, source.highest_modseq, [row]);
}

/** UserMailbox.replace (RFC 8508): appendMessages with the old message removed in its transaction. */
export async function replaceMessage(scope: UserScope, fromId: string, uid: number, toId: string, input: AppendInput, maxKeywords?: number): Promise<ReplaceResult> {
  selectableMailbox(scope, fromId);
  const replacing: Replacing = { mailboxId: fromId, uid };
  const [appended] = await appendMessages(scope, toId, [input], maxKeywords, replacing);
  return { appended: appended!, expunged: replacing.expunged === true };
}

/** APPEND of bytes the store already holds, by digest; null when it does not hold them (any more). */
async function appendKnownContent(
  scope: UserScope,
  mailboxId: string,
  sha256: Buffer,
  flags: Flag[],
  internalDate: Date,
  maxKeywords: number | undefined,
): Promise<AppendResult | null> {
  const { ctx } = scope;
  if (!findContent(ctx, sha256)) return null;
  const { limits } = await limitsFor(ctx, scope.userId, scope.user, ctx.quotaDefaults);
  const result = await ctx.group.run(() => {
    const content = findContent(ctx, sha256);
    if (!content) return null; // released meanwhile: the caller reads the bytes after all
    const box = selectableMailbox(scope, mailboxId);
    checkUsage(ctx, scope.userId, limits, { storage: content.size, messages: 1 });
    checkIncomingKeywords(ctx, box.id, flags, maxKeywords);
    ctx.snapshots.noteWrite(box.id);
    addReference(ctx, content.id);
    const uid = box.uid_next;
    const modseq = box.highest_modseq + 1;
    ctx.sql.get(`UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, ${ADD_USAGE} WHERE id = ?`).run(uid + 1, modseq, content.size, 1, box.id);
    ctx.sql
      .get('INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(box.id, uid, content.id, serializeFlags(flags), modseq, internalDate.getTime(), content.size, Date.now());
    return { uid, uidValidity: box.uid_validity, modseq, flags };
  });
  if (result) ctx.feed.publish(scope.user, { kind: 'exists', mailboxId, uids: [result.uid], origin: scope.origin });
  return result;
}

interface FlagRow {
  uid: number;
  flags: string;
  modseq: number;
}

export async function updateFlags(
  scope: UserScope,
  mailboxId: string,
  uids: number[],
  operation: FlagOperation,
  flags: Flag[],
  unchangedSince: number | undefined,
  maxKeywords?: number,
): Promise<FlagUpdateResult> {
  const { ctx } = scope;
  const wanted = normalizeFlags(flags);
  const published: FlagChange[] = [];
  // Through the group commit, like APPEND, but with durability 'soon': the tagged OK follows the
  // COMMIT (a kill -9 keeps the change) and the WAL sync runs behind it (docs/sqlite.md).
  const result = await ctx.group.run((): FlagUpdateResult => {
    const box = selectableMailbox(scope, mailboxId);
    checkKeywordLimitSync(operation, wanted, maxKeywords, keywordLookup(ctx, box.id));
    ctx.snapshots.noteWrite(box.id);
    const rows = ctx.sql
      .get('SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid')
      .all(box.id, jsonList(uids)) as FlagRow[];
    // RFC 7162 §3.1.3 allows one modseq for every message changed by the same STORE.
    const modseq = box.highest_modseq + 1;
    const changed: FlagChange[] = [];
    const conflicts: number[] = [];
    const update = ctx.sql.get('UPDATE messages SET flags = ?, modseq = ? WHERE mailbox_id = ? AND uid = ?');
    for (const row of rows) {
      if (unchangedSince !== undefined && row.modseq > unchangedSince) {
        conflicts.push(row.uid);
        continue;
      }
      const current = parseFlags(row.flags);
      const next = applyFlagOperation(current, operation, wanted);
      if (next === null) continue;
      update.run(serializeFlags(next), modseq, box.id, row.uid);
      changed.push({ uid: row.uid, flags: next, modseq });
      published.push({ uid: row.uid, flags: next, modseq });
    }
    if (published.length > 0) ctx.sql.get('UPDATE mailboxes SET highest_modseq = ? WHERE id = ?').run(modseq, box.id);
    return { changed, conflicts };
  }, 'soon');
  if (published.length > 0) ctx.feed.publish(scope.user, { kind: 'flags', mailboxId, changes: published, origin: scope.origin });
  return result;
}

interface CopyRow {
  uid: number;
  content_id: number;
  flags: string;
  internal_date: number;
  size: number;
}

export async function copyMessages(
  scope: UserScope,
  fromId: string,
  uids: number[],
  toId: string,
  removeSource: boolean,
  maxKeywords?: number,
): Promise<CopyResult> {
  // A large COPY in several transactions, still all-or-nothing (chunked-copy.ts). A MOVE stays one
  // transaction: the IMAP command cuts it into chunks itself, which RFC 6851 §3.3 allows.
  if (!removeSource && uids.length > COPY_CHUNK) return copyInChunks(scope, fromId, uids, toId, maxKeywords);
  const { ctx } = scope;
  let files: Buffer[] = [];
  // A MOVE stays within the user: it changes no usage and is never refused for quota.
  const limits = removeSource ? {} : (await limitsFor(ctx, scope.userId, scope.user, ctx.quotaDefaults)).limits;
  const result = await ctx.group.run(() => {
    const source = selectableMailbox(scope, fromId);
    const target = selectableMailbox(scope, toId);
    ctx.snapshots.noteWrite(target.id);
    if (removeSource) ctx.snapshots.noteWrite(source.id);
    const rows = ctx.sql
      .get(
        'SELECT uid, content_id, flags, internal_date, size FROM messages WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid',
      )
      .all(source.id, jsonList(uids)) as CopyRow[];
    if (rows.length === 0) return { uidValidity: target.uid_validity, mapping: [] as Array<[number, number]> };
    // All or nothing, checked against the usage in this transaction.
    checkUsage(ctx, scope.userId, limits, { storage: rows.reduce((n, r) => n + r.size, 0), messages: rows.length });
    checkIncomingKeywords(ctx, target.id, [...keywordsOfFlagStrings(rows.map((r) => r.flags))], maxKeywords);
    const modseq = target.highest_modseq + 1;
    let next = target.uid_next;
    const mapping: Array<[number, number]> = [];
    // RFC 8514: COPY and MOVE save the message in the target now; the internal date is kept.
    const savedAt = Date.now();
    const insert = ctx.sql.get(
      'INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size, save_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const row of rows) {
      insert.run(target.id, next, row.content_id, row.flags, modseq, row.internal_date, row.size, savedAt);
      addReference(ctx, row.content_id);
      mapping.push([row.uid, next]);
      next++;
    }
    ctx.sql.get(`UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, ${ADD_USAGE} WHERE id = ?`).run(next, modseq, rows.reduce((n, r) => n + r.size, 0), rows.length, target.id);
    if (removeSource) files = deleteRows(scope, source.id, source.highest_modseq, rows);
    return { uidValidity: target.uid_validity, mapping };
  });
  removeFiles(ctx, files);
  if (result.mapping.length > 0) {
    ctx.feed.publish(scope.user, { kind: 'exists', mailboxId: toId, uids: result.mapping.map((m) => m[1]), origin: scope.origin });
    if (removeSource) ctx.feed.publish(scope.user, { kind: 'expunge', mailboxId: fromId, uids: result.mapping.map((m) => m[0]), origin: scope.origin });
  }
  return result;
}

/** Deletes message rows (inside a transaction); RFC 7162 §3.2.10 wants HIGHESTMODSEQ to grow on expunge. */
function deleteRows(scope: UserScope, mailboxId: number, highestModseq: number, rows: ReadonlyArray<{ uid: number; content_id: number; size: number }>): Buffer[] {
  const { ctx } = scope;
  const del = ctx.sql.get('DELETE FROM messages WHERE mailbox_id = ? AND uid = ?');
  for (const row of rows) del.run(mailboxId, row.uid);
  const uids = rows.map((r) => r.uid);
  // Every viewer's own \Seen of them goes too (private-seen.ts) — when anyone ever had one.
  if (ctx.privateSeenRows.any(ctx)) ctx.sql.get('DELETE FROM private_seen WHERE mailbox_id = ? AND uid IN (SELECT value FROM json_each(?))').run(mailboxId, jsonList(uids));
  // The mailbox row once: usage (quota.ts addUsage), HIGHESTMODSEQ and the expunged log's count
  // (expunged-log.ts) in one statement rather than three.
  const expungedCount = ctx.sql
    .get(
      'UPDATE mailboxes SET usage_storage = usage_storage - ?, usage_messages = usage_messages - ?, highest_modseq = ?, expunged_count = expunged_count + ? WHERE id = ? RETURNING expunged_count',
    )
    .pluck()
    .get(
      rows.reduce((n, r) => n + r.size, 0),
      rows.length,
      highestModseq + 1,
      rows.length,
      mailboxId,
    ) as number;
  insertExpungedRows(ctx, mailboxId, uids, highestModseq + 1);
  pruneExpungedRows(ctx, mailboxId, expungedCount, rows.length);
  return releaseContents(
    ctx,
    rows.map((r) => r.content_id),
  );
}

/** expungeMessages looks each candidate up instead of reading every \Deleted row when candidates × this < its messages. */
const SCAN_FRACTION = 4;

/** Whether an expunge of `uids` reads the mailbox's \Deleted rows (most of the mailbox named) rather than each candidate. */
function scansDeleted(box: MailboxRow, uids: number[] | undefined): boolean {
  return uids === undefined || uids.length * SCAN_FRACTION >= box.usage_messages;
}

/**
 * Whether expungeMessages could remove anything: some \Deleted message in the mailbox (when it
 * scans them) or among the few candidates — the same two reads its transaction makes, to one row.
 */
function anyDeleted(scope: UserScope, box: MailboxRow, uids: number[] | undefined): boolean {
  if (uids !== undefined && uids.length === 0) return false;
  const sql = scope.ctx.sql;
  if (scansDeleted(box, uids)) return sql.get(`SELECT 1 FROM messages INDEXED BY messages_deleted WHERE mailbox_id = ? AND ${DELETED_TEST} LIMIT 1`).get(box.id) !== undefined;
  return sql.get(`SELECT 1 FROM messages WHERE mailbox_id = ? AND ${DELETED_TEST} AND uid IN (SELECT value FROM json_each(?)) LIMIT 1`).get(box.id, jsonList(uids!)) !== undefined;
}

export async function expungeMessages(scope: UserScope, mailboxId: string, uids: number[] | undefined): Promise<number[]> {
  const { ctx } = scope;
  // Nothing \Deleted among the candidates: the answer is a read, with no write transaction and no
  // turn of the event loop waiting for the group commit's batch. The IMAP EXPUNGE of a mailbox of
  // more than 1,000 messages names them in chunks (imap/commands/chunks.ts), and the chunks without
  // a \Deleted message — all but one in the usual EXPUNGE — each cost a transaction and, by that
  // turn, sent the chunk before's untagged EXPUNGEs in a write of their own ahead of the tagged OK
  // (bench/RESULTS.md, "LIST p99 after the list cache"). A read sees every committed write, so
  // "none" here is what the transaction would have found at this moment.
  if (!anyDeleted(scope, selectableMailbox(scope, mailboxId), uids)) return [];
  let files: Buffer[] = [];
  const removed = await ctx.group.run(() => {
    const box = selectableMailbox(scope, mailboxId);
    ctx.snapshots.noteWrite(box.id);
    type Row = { uid: number; content_id: number; size: number };
    let rows: Row[];
    if (scansDeleted(box, uids)) {
      // The candidates are most of the mailbox (EXPUNGE names every message a session knows): the
      // mailbox's \Deleted rows, from their partial index (schema v25: only they are read, not
      // every row of the mailbox as before), filtered by the candidates. INDEXED BY: without
      // statistics the planner would take the primary key and test every row's flags.
      rows = ctx.sql.get(`SELECT uid, content_id, size FROM messages INDEXED BY messages_deleted WHERE mailbox_id = ? AND ${DELETED_TEST} ORDER BY uid`).all(box.id) as Row[];
      if (uids !== undefined && rows.length > 0) {
        // The few \Deleted rows looked up among the many candidates, not a Set of every candidate
        // (an EXPUNGE of a 1,000-message mailbox names all 1,000: ~50 KB of Set per command).
        const deleted = new Map(rows.map((r) => [r.uid, r]));
        const named: Row[] = [];
        for (const uid of uids) {
          const row = deleted.get(uid);
          if (row === undefined) continue;
          named.push(row);
          deleted.delete(uid);
          if (deleted.size === 0) break;
        }
        rows = named.length > 1 ? named.sort((a, b) => a.uid - b.uid) : named;
      }
    } else {
      // A few candidates (UID EXPUNGE of some): each looked up, in a mailbox that may hold many
      // \Deleted messages nobody named.
      rows = ctx.sql
        .get(`SELECT uid, content_id, size FROM messages WHERE mailbox_id = ? AND ${DELETED_TEST} AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`)
        .all(box.id, jsonList(uids!)) as Row[];
    }
    if (rows.length === 0) return [];
    files = deleteRows(scope, box.id, box.highest_modseq, rows);
    return rows.map((r) => r.uid);
  });
  removeFiles(ctx, files);
  if (removed.length > 0) ctx.feed.publish(scope.user, { kind: 'expunge', mailboxId, uids: removed, origin: scope.origin });
  return removed;
}
