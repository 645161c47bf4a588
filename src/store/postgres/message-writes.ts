/**
 * APPEND, STORE, COPY, MOVE, EXPUNGE. Each is one transaction that takes the row lock of every
 * mailbox it changes (in id order, so two nodes' MOVEs in opposite directions cannot deadlock),
 * raises their modseq by one, allocates UIDs from uid_next, reserves its change-feed slot and
 * queues a hint for the other nodes. The promise resolves after COMMIT returned and the change
 * was published here: a tagged OK means durable (synchronous_commit) and visible to every node.
 */
import { checkKeywordLimit, keywordsOfFlagStrings, type KeywordLookup } from '../keyword-limit.js';
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { applyFlagOperation, normalizeFlags, parseFlags, serializeFlags } from '../sqlite/flags.js';
import type { AppendInput, AppendInputs, AppendResult, Replacing, ReplaceResult, CopyResult, Flag, FlagChange, FlagOperation, FlagUpdateResult } from '../types.js';
import { collectBody, markReleased, storeContent } from './contents.js';
import { mailboxRow, requireSelectable, selectableMailbox, type MailboxRow, type PgScope } from './context.js';
import { RetryTransaction, parseId, transaction } from './db.js';
import { expungeAt } from './mailbox-tree.js';
import type { Reservation } from './sequencer.js';
import { checkUsage, limitsFor } from './quota.js';

/** Runs a write; every reservation made by an attempt is aborted when that attempt rolls back. */
async function write<T>(scope: PgScope, body: (tx: pg.PoolClient, reserved: Reservation[]) => Promise<T>): Promise<{ result: T; reserved: Reservation[] }> {
  let reserved: Reservation[] = [];
  const result = await transaction(
    scope.ctx.pool,
    async (tx) => {
      reserved = [];
      return body(tx, reserved);
    },
    {
      onRollback: () => {
        for (const r of reserved) r.abort();
        reserved = [];
      },
    },
  );
  return { result, reserved };
}

/** Publishes the committed reservations in the order they were made (MOVE: destination first). */
async function publish(reserved: Reservation[]): Promise<void> {
  for (const r of reserved) await r.commit(r.changes);
}

/** A message row insert whose content another node just collected fails its foreign key: store again. */
function retryOnMissingContent(err: unknown): never {
  if ((err as { code?: string }).code === '23503') throw new RetryTransaction('the message body was collected concurrently');
  throw err;
}

/** Keyword questions for keyword-limit.ts, answered inside `tx` (which holds the mailbox row's lock). */
function keywordLookup(tx: pg.PoolClient, mailboxId: number): KeywordLookup {
  return {
    // Newest first, as SQLite's (src/store/sqlite/keyword-check.ts): a keyword in use is nearly
    // always on the latest messages, and the primary key walked backwards finds it at once.
    has: async (k) =>
      (await tx.query("SELECT 1 FROM messages WHERE mailbox_id = $1 AND position(' ' || $2 || ' ' IN ' ' || lower(flags) || ' ') > 0 ORDER BY uid DESC LIMIT 1", [mailboxId, k]))
        .rows.length > 0,
    all: async () =>
      keywordsOfFlagStrings((await tx.query<{ flags: string }>('SELECT DISTINCT flags FROM messages WHERE mailbox_id = $1', [mailboxId])).rows.map((r) => r.flags)),
  };
}

/**
 * APPEND, COPY and MOVE bring `flags` into the mailbox: counted under the mailbox row's lock, which
 * every write to it takes, so parallel writers on any node cannot pass the limit together.
 */
async function checkIncomingKeywords(tx: pg.PoolClient, mailboxId: number, flags: readonly Flag[], maxKeywords: number | undefined): Promise<void> {
  if (maxKeywords === undefined) return;
  await checkKeywordLimit('add', flags, maxKeywords, keywordLookup(tx, mailboxId));
}

export async function appendMessage(scope: PgScope, mailboxId: string, input: AppendInput, maxKeywords?: number): Promise<AppendResult> {
  const { ctx } = scope;
  await selectableMailbox(ctx.pool, scope, mailboxId); // fail before reading a large literal into nowhere
  const flagList = normalizeFlags(input.flags ?? []);
  const flags = serializeFlags(flagList);
  const internalDate = input.internalDate ?? new Date();
  if (Number.isNaN(internalDate.getTime())) throw new StoreError('cannot', 'invalid internal date');
  const collected = await collectBody(input.content);
  const limits = await limitsFor(ctx.pool, scope.userId, scope.user, ctx.quotaDefaults);
  const { result, reserved } = await write(scope, async (tx, reserved) => {
    // The body first, before the mailbox row lock: a large upload must not hold up the mailbox.
    const contentId = await storeContent(tx, ctx.blobs, collected);
    const { rows } = await tx.query<{ id: number; uid: number; highest_modseq: number; uid_validity: number }>(
      `UPDATE mailboxes SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
        WHERE id = $1 AND user_id = $2 AND NOT noselect
        RETURNING id, uid_next - 1 AS uid, highest_modseq, uid_validity`,
      [parseId(mailboxId), scope.userId],
    );
    const box = rows[0];
    if (!box) {
      requireSelectable(await mailboxRow(tx, scope, mailboxId)); // says why: gone, or \Noselect now
      throw new RetryTransaction('the mailbox changed during append');
    }
    // After the mailbox row lock, as every writer takes them; a refusal rolls the UID back.
    await checkUsage(tx, scope.userId, limits, { storage: collected.body.length, messages: 1 });
    await checkIncomingKeywords(tx, box.id, flagList, maxKeywords);
    const r = ctx.feed.reserve(scope.user, box.id, box.highest_modseq);
    reserved.push(r);
    const uid = box.uid;
    r.changes = [{ kind: 'exists', mailboxId, uids: [uid], origin: scope.origin }];
    await tx
      .query(
        `INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, created_modseq, internal_date, size, save_date)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
        [box.id, uid, contentId, flags, box.highest_modseq, internalDate.getTime(), collected.body.length, Date.now()],
      )
      .catch(retryOnMissingContent);
    await ctx.feed.notify(tx, scope.user, [[box.id, box.highest_modseq]]);
    return { uid, uidValidity: box.uid_validity, modseq: box.highest_modseq };
  });
  await publish(reserved);
  return result;
}

/**
 * UserMailbox.appendMany (RFC 3502 MULTIAPPEND): every body is read first; then one transaction
 * stores them, takes n UIDs and one mod-sequence (one write, as every write here), checks the
 * quota for their sum and inserts them all — a failure anywhere rolls all of it back.
 */
export async function appendMessages(
  scope: PgScope,
  mailboxId: string,
  inputs: AppendInputs,
  maxKeywords?: number,
  /** RFC 8508 REPLACE: the message removed in the same transaction (UserMailbox.replace). */
  replacing?: Replacing,
): Promise<AppendResult[]> {
  const { ctx } = scope;
  await selectableMailbox(ctx.pool, scope, mailboxId);
  const prepared: Array<{ collected: Awaited<ReturnType<typeof collectBody>>; flags: string; internalDate: Date }> = [];
  const incoming = new Set<Flag>();
  for await (const input of inputs) {
    const internalDate = input.internalDate ?? new Date();
    if (Number.isNaN(internalDate.getTime())) throw new StoreError('cannot', 'invalid internal date');
    const flags = normalizeFlags(input.flags ?? []);
    for (const f of flags) incoming.add(f);
    prepared.push({ collected: await collectBody(input.content), flags: serializeFlags(flags), internalDate });
  }
  if (prepared.length === 0) return [];
  const storage = prepared.reduce((n, p) => n + p.collected.body.length, 0);
  const limits = await limitsFor(ctx.pool, scope.userId, scope.user, ctx.quotaDefaults);
  const { result, reserved } = await write(scope, async (tx, reserved) => {
    const contentIds: number[] = [];
    for (const p of prepared) contentIds.push(await storeContent(tx, ctx.blobs, p.collected));
    const { rows } = await tx.query<{ id: number; first: number; highest_modseq: number; uid_validity: number }>(
      `UPDATE mailboxes SET uid_next = uid_next + $3, highest_modseq = highest_modseq + 1
        WHERE id = $1 AND user_id = $2 AND NOT noselect
        RETURNING id, uid_next - $3 AS first, highest_modseq, uid_validity`,
      [parseId(mailboxId), scope.userId, prepared.length],
    );
    const box = rows[0];
    if (!box) {
      requireSelectable(await mailboxRow(tx, scope, mailboxId));
      throw new RetryTransaction('the mailbox changed during append');
    }
    await checkUsage(tx, scope.userId, limits, { storage, messages: prepared.length });
    await checkIncomingKeywords(tx, box.id, [...incoming], maxKeywords);
    const r = ctx.feed.reserve(scope.user, box.id, box.highest_modseq);
    reserved.push(r);
    const out: AppendResult[] = [];
    for (const [i, p] of prepared.entries()) {
      const uid = Number(box.first) + i;
      await tx
        .query(
          `INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, created_modseq, internal_date, size, save_date)
           VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8)`,
          [box.id, uid, contentIds[i], p.flags, box.highest_modseq, p.internalDate.getTime(), p.collected.body.length, Date.now()],
        )
        .catch(retryOnMissingContent);
      out.push({ uid, uidValidity: box.uid_validity, modseq: box.highest_modseq });
    }
    r.changes = [{ kind: 'exists', mailboxId, uids: out.map((o) => o.uid), origin: scope.origin }];
    await ctx.feed.notify(tx, scope.user, [[box.id, box.highest_modseq]]);
    const sourceId = replacing ? parseId(replacing.mailboxId) : null;
    if (replacing && sourceId !== null) {
      replacing.expunged = false;
      // Only this user's mailbox: the id comes from the client's session, never trusted alone.
      const { rows: gone } = await tx.query<{ uid: number; content_id: number }>(
        `DELETE FROM messages WHERE mailbox_id = $1 AND uid = $2 AND mailbox_id IN (SELECT id FROM mailboxes WHERE user_id = $3)
         RETURNING uid, content_id`,
        [sourceId, replacing.uid, scope.userId],
      );
      if (gone.length > 0) {
        await markReleased(tx, gone.map((g) => g.content_id));
        const expunged = await expungeAt(tx, scope, sourceId, [replacing.uid]);
        expunged.reservation.changes = [{ kind: 'expunge', mailboxId: replacing.mailboxId, uids: [replacing.uid], origin: scope.origin }];
        reserved.push(expunged.reservation);
        await ctx.feed.notify(tx, scope.user, [[sourceId, expunged.modseq]]);
        replacing.expunged = true;
      }
    }
    return out;
  });
  await publish(reserved);
  return result;
}

/** UserMailbox.replace (RFC 8508): appendMessages with the old message removed in its transaction. */
export async function replaceMessage(scope: PgScope, fromId: string, uid: number, toId: string, input: AppendInput, maxKeywords?: number): Promise<ReplaceResult> {
  await selectableMailbox(scope.ctx.pool, scope, fromId);
  const replacing: Replacing = { mailboxId: fromId, uid };
  const [appended] = await appendMessages(scope, toId, [input], maxKeywords, replacing);
  return { appended: appended!, expunged: replacing.expunged === true };
}

export async function updateFlags(
  scope: PgScope,
  mailboxId: string,
  uids: number[],
  operation: FlagOperation,
  flags: Flag[],
  unchangedSince: number | undefined,
  maxKeywords?: number,
): Promise<FlagUpdateResult> {
  const { ctx } = scope;
  const wanted = normalizeFlags(flags);
  const { result, reserved } = await write(scope, async (tx, reserved): Promise<FlagUpdateResult> => {
    const box = await selectableMailbox(tx, scope, mailboxId, true);
    // Under the mailbox row's lock, which every write to the mailbox takes: parallel STOREs, on
    // this node or another, cannot pass the limit together.
    await checkKeywordLimit(operation, wanted, maxKeywords, keywordLookup(tx, box.id));
    const { rows } = await tx.query<{ uid: number; flags: string; modseq: number }>(
      'SELECT uid, flags, modseq FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid',
      [box.id, uids.filter((u) => Number.isSafeInteger(u))],
    );
    // RFC 7162 §3.1.3 allows one modseq for every message changed by the same STORE.
    const modseq = box.highest_modseq + 1;
    const changed: FlagChange[] = [];
    const conflicts: number[] = [];
    for (const row of rows) {
      if (unchangedSince !== undefined && row.modseq > unchangedSince) {
        conflicts.push(row.uid);
        continue;
      }
      const next = applyFlagOperation(parseFlags(row.flags), operation, wanted);
      if (next !== null) changed.push({ uid: row.uid, flags: next, modseq });
    }
    if (changed.length === 0) return { changed, conflicts };
    await tx.query('UPDATE mailboxes SET highest_modseq = $1 WHERE id = $2', [modseq, box.id]);
    await tx.query(
      `UPDATE messages m SET flags = u.flags, modseq = $1
         FROM unnest($2::bigint[], $3::text[]) AS u(uid, flags)
        WHERE m.mailbox_id = $4 AND m.uid = u.uid`,
      [modseq, changed.map((c) => c.uid), changed.map((c) => serializeFlags(c.flags)), box.id],
    );
    const r = ctx.feed.reserve(scope.user, box.id, modseq);
    r.changes = [{ kind: 'flags', mailboxId, changes: changed.map((c) => ({ ...c, flags: [...c.flags] })), origin: scope.origin }];
    reserved.push(r);
    await ctx.feed.notify(tx, scope.user, [[box.id, modseq]]);
    return { changed, conflicts };
  });
  await publish(reserved);
  return result;
}

/** Locks both mailboxes (in id order) and checks them, as the user's. */
async function lockPair(tx: pg.PoolClient, scope: PgScope, fromId: string, toId: string): Promise<{ source: MailboxRow; target: MailboxRow }> {
  const ids = [parseId(fromId), parseId(toId)];
  if (ids.some((id) => id === null)) throw new StoreError('nonexistent', 'no such mailbox');
  const { rows } = await tx.query<MailboxRow>('SELECT * FROM mailboxes WHERE id = ANY($1::bigint[]) AND user_id = $2 ORDER BY id FOR UPDATE', [
    ids,
    scope.userId,
  ]);
  const find = (id: number | null): MailboxRow => {
    const row = rows.find((r) => r.id === id);
    if (!row) throw new StoreError('nonexistent', 'no such mailbox');
    return requireSelectable(row);
  };
  return { source: find(ids[0]!), target: find(ids[1]!) };
}

export async function copyMessages(
  scope: PgScope,
  fromId: string,
  uids: number[],
  toId: string,
  removeSource: boolean,
  maxKeywords?: number,
): Promise<CopyResult> {
  const { ctx } = scope;
  // A MOVE stays within the user: it changes no usage and is never refused for quota.
  const limits = removeSource ? {} : await limitsFor(ctx.pool, scope.userId, scope.user, ctx.quotaDefaults);
  const { result, reserved } = await write(scope, async (tx, reserved): Promise<CopyResult> => {
    const { source, target } = await lockPair(tx, scope, fromId, toId);
    const found = await tx.query<{ uid: number; size: number; flags: string }>('SELECT uid, size, flags FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[]) ORDER BY uid', [
      source.id,
      uids.filter((u) => Number.isSafeInteger(u)),
    ]);
    const sourceUids = found.rows.map((r) => r.uid);
    if (sourceUids.length === 0) return { uidValidity: target.uid_validity, mapping: [] };
    // All or nothing, against the usage locked in this transaction.
    await checkUsage(tx, scope.userId, limits, { storage: found.rows.reduce((n, r) => n + Number(r.size), 0), messages: sourceUids.length });
    await checkIncomingKeywords(tx, target.id, [...keywordsOfFlagStrings(found.rows.map((r) => r.flags))], maxKeywords);
    const first = target.uid_next;
    const modseq = target.highest_modseq + 1;
    await tx.query('UPDATE mailboxes SET uid_next = uid_next + $1, highest_modseq = $2 WHERE id = $3', [sourceUids.length, modseq, target.id]);
    // Copies share the source's content rows: a reference is a row, never bytes.
    await tx
      .query(
        // RFC 8514: saved in the target now ($6); the internal date is the source's.
        `INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, created_modseq, internal_date, size, save_date)
         SELECT $1, $2 + ord - 1, m.content_id, m.flags, $3, $3, m.internal_date, m.size, $6
           FROM unnest($4::bigint[]) WITH ORDINALITY AS u(uid, ord) JOIN messages m ON m.mailbox_id = $5 AND m.uid = u.uid`,
        [target.id, first, modseq, sourceUids, source.id, Date.now()],
      )
      .catch(retryOnMissingContent);
    const mapping = sourceUids.map((uid, i): [number, number] => [uid, first + i]);
    const toTarget = ctx.feed.reserve(scope.user, target.id, modseq);
    toTarget.changes = [{ kind: 'exists', mailboxId: toId, uids: mapping.map((m) => m[1]), origin: scope.origin }];
    reserved.push(toTarget);
    const hints: Array<[number, number]> = [[target.id, modseq]];
    if (removeSource) {
      await tx.query('DELETE FROM messages WHERE mailbox_id = $1 AND uid = ANY($2::bigint[])', [source.id, sourceUids]);
      // The same mailbox (MOVE into itself) has just taken its next modseq: take another.
      const gone = await expungeAt(tx, scope, source.id, sourceUids);
      gone.reservation.changes = [{ kind: 'expunge', mailboxId: fromId, uids: sourceUids, origin: scope.origin }];
      reserved.push(gone.reservation);
      hints.push([source.id, gone.modseq]);
    }
    await ctx.feed.notify(tx, scope.user, hints);
    return { uidValidity: target.uid_validity, mapping };
  });
  await publish(reserved);
  return result;
}

export async function expungeMessages(scope: PgScope, mailboxId: string, uids: number[] | undefined): Promise<number[]> {
  const { ctx } = scope;
  const { result, reserved } = await write(scope, async (tx, reserved): Promise<number[]> => {
    const box = await selectableMailbox(tx, scope, mailboxId, true);
    const deleted = "strpos(' ' || flags || ' ', ' \\Deleted ') > 0";
    const { rows } = await tx.query<{ uid: number; content_id: number }>(
      uids === undefined
        ? `DELETE FROM messages WHERE mailbox_id = $1 AND ${deleted} RETURNING uid, content_id`
        : `DELETE FROM messages WHERE mailbox_id = $1 AND ${deleted} AND uid = ANY($2::bigint[]) RETURNING uid, content_id`,
      uids === undefined ? [box.id] : [box.id, uids.filter((u) => Number.isSafeInteger(u))],
    );
    if (rows.length === 0) return [];
    const removed = rows.map((r) => r.uid).sort((a, b) => a - b);
    await markReleased(tx, rows.map((r) => r.content_id));
    const { modseq, reservation } = await expungeAt(tx, scope, box.id, removed);
    reservation.changes = [{ kind: 'expunge', mailboxId, uids: removed, origin: scope.origin }];
    reserved.push(reservation);
    await ctx.feed.notify(tx, scope.user, [[box.id, modseq]]);
    return removed;
  });
  await publish(reserved);
  return result;
}
