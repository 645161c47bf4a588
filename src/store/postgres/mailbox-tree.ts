/**
 * LIST / CREATE / DELETE / RENAME / SUBSCRIBE. Tree changes of one user are serialised across
 * nodes by a transaction-scoped advisory lock on the user, so checks ("does the target exist?")
 * and changes cannot interleave with another node's; message writes do not take it.
 */
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { compareMailboxNames, isSameOrBelow, parentNames, validateMailboxName } from '../names.js';
import type { MailboxInfo, SpecialUse } from '../types.js';
import { markReleased } from './contents.js';
import { toInfo, type MailboxRow, type PgScope } from './context.js';
import { transaction, type Queryable } from './db.js';
import type { Reservation } from './sequencer.js';

/** The first key of the per-user tree lock ("tree" in ASCII); the second is the user id. */
const TREE_LOCK = 0x74726565;

async function lockTree(tx: Queryable, scope: PgScope): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [TREE_LOCK, scope.userId]);
}

/**
 * A UIDVALIDITY never handed out before in this database (RFC 3501 §2.3.1.1): seconds since the
 * epoch, or one more than the last one, under the meta row's lock (one counter for all nodes).
 */
export async function nextUidValidity(tx: Queryable): Promise<number> {
  const { rows } = await tx.query<{ value: number }>(
    `UPDATE postroom_meta SET value = greatest(value + 1, floor(extract(epoch FROM clock_timestamp()))::bigint)
      WHERE key = 'last_uidvalidity' RETURNING value`,
  );
  return rows[0]!.value;
}

export async function insertMailbox(tx: Queryable, userId: number, name: string, specialUse?: SpecialUse): Promise<MailboxRow> {
  const { rows } = await tx.query<MailboxRow>(
    'INSERT INTO mailboxes (user_id, name, special_use, uid_validity) VALUES ($1, $2, $3, $4) RETURNING *',
    [userId, name, specialUse ?? null, await nextUidValidity(tx)],
  );
  return rows[0]!;
}

async function byName(tx: Queryable, scope: PgScope, name: string, lock = false): Promise<MailboxRow | undefined> {
  const { rows } = await tx.query<MailboxRow>(`SELECT * FROM mailboxes WHERE user_id = $1 AND name = $2${lock ? ' FOR UPDATE' : ''}`, [
    scope.userId,
    name,
  ]);
  return rows[0];
}

async function isSubscribed(db: Queryable, scope: PgScope, name: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM subscriptions WHERE user_id = $1 AND name = $2', [scope.userId, name]);
  return rows.length > 0;
}

async function hasChildren(tx: Queryable, scope: PgScope, name: string): Promise<boolean> {
  const { rows } = await tx.query('SELECT 1 FROM mailboxes WHERE user_id = $1 AND starts_with(name, $2) LIMIT 1', [
    scope.userId,
    name + scope.ctx.delimiter,
  ]);
  return rows.length > 0;
}

export async function listMailboxes(scope: PgScope): Promise<MailboxInfo[]> {
  const { rows } = await scope.ctx.pool.query<MailboxRow & { subscribed: boolean }>(
    `SELECT m.*, EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = m.user_id AND s.name = m.name) AS subscribed
       FROM mailboxes m WHERE m.user_id = $1`,
    [scope.userId],
  );
  const d = scope.ctx.delimiter;
  return rows.sort((a, b) => compareMailboxNames(a.name, b.name, d)).map((r) => toInfo(r, r.subscribed));
}

export async function getMailbox(scope: PgScope, rawName: string): Promise<MailboxInfo> {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  const { rows } = await scope.ctx.pool.query<MailboxRow & { subscribed: boolean }>(
    `SELECT m.*, EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = m.user_id AND s.name = m.name) AS subscribed
       FROM mailboxes m WHERE m.user_id = $1 AND m.name = $2`,
    [scope.userId, name],
  );
  const row = rows[0];
  if (!row) throw new StoreError('nonexistent', `mailbox ${name} does not exist`);
  return toInfo(row, row.subscribed);
}

/** Missing parents become ordinary mailboxes (RFC 3501 §6.3.3 "create any superior names"). */
async function ensureParents(tx: Queryable, scope: PgScope, name: string): Promise<void> {
  for (const parent of parentNames(name, scope.ctx.delimiter)) {
    if (!(await byName(tx, scope, parent))) await insertMailbox(tx, scope.userId, parent);
  }
}

async function countMailboxes(tx: Queryable, scope: PgScope): Promise<number> {
  return Number((await tx.query<{ n: string }>('SELECT count(*) AS n FROM mailboxes WHERE user_id = $1', [scope.userId])).rows[0]!.n);
}

/** A tree change: its transaction tells the other nodes; this node's watchers hear it after COMMIT. */
async function treeChange<T>(scope: PgScope, body: (tx: pg.PoolClient, reserved: Reservation[]) => Promise<T>): Promise<T> {
  const { ctx } = scope;
  let reserved: Reservation[] = [];
  const result = await transaction(
    ctx.pool,
    async (tx) => {
      reserved = [];
      await lockTree(tx, scope);
      const value = await body(tx, reserved);
      await ctx.feed.notify(tx, scope.user, [], true);
      return value;
    },
    { onRollback: () => reserved.forEach((r) => r.abort()) },
  );
  for (const r of reserved) await r.commit(r.changes);
  ctx.feed.publishNow(scope.user, { kind: 'mailboxes', origin: scope.origin });
  return result;
}

export async function createMailbox(scope: PgScope, rawName: string, specialUse?: SpecialUse, maxMailboxes?: number): Promise<MailboxInfo> {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  const row = await treeChange(scope, async (tx) => {
    const existing = await byName(tx, scope, name, true);
    if (existing && !existing.noselect) throw new StoreError('alreadyexists', `mailbox ${name} already exists`);
    await ensureParents(tx, scope, name);
    // Counted under the user's tree lock (treeChange), in the transaction that creates: parallel
    // CREATEs, on this node or another, cannot pass the limit together.
    if (maxMailboxes !== undefined && !existing && (await countMailboxes(tx, scope)) + 1 > maxMailboxes) {
      throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
    }
    if (existing) {
      // A \Noselect left by DELETE becomes selectable again; its UIDs were never reused, but it is
      // new to clients, so it gets a fresh UIDVALIDITY.
      const { rows } = await tx.query<MailboxRow>(
        'UPDATE mailboxes SET noselect = false, special_use = $1, uid_validity = $2 WHERE id = $3 RETURNING *',
        [specialUse ?? null, await nextUidValidity(tx), existing.id],
      );
      return rows[0]!;
    }
    return insertMailbox(tx, scope.userId, name, specialUse);
  });
  return toInfo(row, await isSubscribed(scope.ctx.pool, scope, name));
}

/**
 * Raises a mailbox's modseq for a change that removes messages (inside the transaction holding its
 * row lock), records the UIDs as expunged at that modseq, and reserves the change-feed slot.
 */
export async function expungeAt(
  tx: Queryable,
  scope: PgScope,
  mailboxId: number,
  uids: readonly number[],
  extraSet = '',
): Promise<{ modseq: number; reservation: Reservation }> {
  const { rows } = await tx.query<{ highest_modseq: number }>(
    `UPDATE mailboxes SET highest_modseq = highest_modseq + 1${extraSet} WHERE id = $1 RETURNING highest_modseq`,
    [mailboxId],
  );
  const modseq = rows[0]!.highest_modseq;
  if (uids.length > 0) {
    await tx.query('INSERT INTO expunged (mailbox_id, uid, modseq) SELECT $1, u, $2 FROM unnest($3::bigint[]) AS u', [mailboxId, modseq, uids]);
    // Every viewer's own \Seen of them goes too (private-seen.ts).
    await tx.query('DELETE FROM private_seen WHERE mailbox_id = $1 AND uid = ANY($2::bigint[])', [mailboxId, uids]);
  }
  const reservation = scope.ctx.feed.reserve(scope.user, mailboxId, modseq);
  reservation.changes = uids.length ? [{ kind: 'expunge', mailboxId: String(mailboxId), uids: [...uids], origin: scope.origin }] : [];
  return { modseq, reservation };
}

export async function deleteMailbox(scope: PgScope, rawName: string): Promise<void> {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  if (name === 'INBOX') throw new StoreError('cannot', 'INBOX cannot be deleted');
  await treeChange(scope, async (tx, reserved) => {
    const row = await byName(tx, scope, name, true);
    if (!row) throw new StoreError('nonexistent', `mailbox ${name} does not exist`);
    const children = await hasChildren(tx, scope, name);
    if (children && row.noselect) throw new StoreError('hasChildren', `mailbox ${name} has inferior mailboxes`);
    const { rows } = await tx.query<{ uid: number; content_id: number }>(
      'DELETE FROM messages WHERE mailbox_id = $1 RETURNING uid, content_id',
      [row.id],
    );
    await markReleased(tx, rows.map((r) => r.content_id));
    if (children) {
      // RFC 3501 §6.3.4: the name stays as \Noselect so its children keep their parent.
      const uids = rows.map((r) => r.uid).sort((a, b) => a - b);
      const { modseq, reservation } = await expungeAt(tx, scope, row.id, uids, ', noselect = true, special_use = NULL');
      reserved.push(reservation);
      await scope.ctx.feed.notify(tx, scope.user, [[row.id, modseq]]);
      // RFC 4314 §4: DELETE deletes the ACL (the row stays only as a parent).
      await tx.query('DELETE FROM mailbox_acl WHERE mailbox_id = $1', [row.id]);
      // RFC 4467: URLs authorized for the deleted mailbox stop working (the row stays as a parent).
      await tx.query('DELETE FROM urlauth_keys WHERE mailbox_id = $1', [row.id]);
    } else {
      await tx.query('DELETE FROM mailboxes WHERE id = $1', [row.id]);
    }
    // RFC 5464 §4.1: the annotations go with the mailbox, also when the name stays as \Noselect.
    await tx.query('DELETE FROM metadata WHERE user_id = $1 AND mailbox_id = $2', [scope.userId, row.id]);
  });
}

export async function renameMailbox(scope: PgScope, rawFrom: string, rawTo: string, maxMailboxes?: number): Promise<void> {
  const d = scope.ctx.delimiter;
  const from = validateMailboxName(rawFrom, d);
  const to = validateMailboxName(rawTo, d);
  await treeChange(scope, async (tx, reserved) => {
    const source = await byName(tx, scope, from, true);
    if (!source) throw new StoreError('nonexistent', `mailbox ${from} does not exist`);
    if (from === to || (await byName(tx, scope, to))) throw new StoreError('alreadyexists', `mailbox ${to} already exists`);
    // INBOX may be renamed to its own child: only its messages move (RFC 3501 §6.3.5).
    if (from !== 'INBOX' && isSameOrBelow(to, from, d)) throw new StoreError('cannot', 'a mailbox cannot be moved below itself');
    if (maxMailboxes !== undefined) {
      // Counted under the user's tree lock, as CREATE does: the missing parents are new, and
      // renaming INBOX leaves INBOX behind besides the new mailbox.
      let added = from === 'INBOX' ? 1 : 0;
      for (const parent of parentNames(to, d)) if (!(await byName(tx, scope, parent))) added++;
      if (added > 0 && (await countMailboxes(tx, scope)) + added > maxMailboxes) throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
    }
    await ensureParents(tx, scope, to);
    if (from === 'INBOX') {
      // RFC 3501 §6.3.5: INBOX's messages move to the new name; INBOX stays, empty, with its children.
      const target = await insertMailbox(tx, scope.userId, to);
      const moved = await tx.query<{ uid: number }>('UPDATE messages SET mailbox_id = $1 WHERE mailbox_id = $2 RETURNING uid', [target.id, source.id]);
      await tx.query('UPDATE mailboxes SET uid_next = $1, highest_modseq = $2, recent_uid = $3 WHERE id = $4', [
        source.uid_next,
        source.highest_modseq,
        source.recent_uid,
        target.id,
      ]);
      // RFC 5464 §4.1: INBOX keeps its annotations and the new mailbox gets a copy of them.
      await tx.query('INSERT INTO metadata (user_id, mailbox_id, viewer, entry, value) SELECT user_id, $1, viewer, entry, value FROM metadata WHERE user_id = $2 AND mailbox_id = $3', [
        target.id,
        scope.userId,
        source.id,
      ]);
      const uids = moved.rows.map((r) => r.uid).sort((a, b) => a - b);
      const { modseq, reservation } = await expungeAt(tx, scope, source.id, uids);
      reserved.push(reservation);
      await scope.ctx.feed.notify(tx, scope.user, [[source.id, modseq]]);
      return;
    }
    const { rows } = await tx.query<{ name: string }>(
      'SELECT name FROM mailboxes WHERE user_id = $1 AND (name = $2 OR starts_with(name, $3))',
      [scope.userId, from, from + d],
    );
    // Children may grow past the name length or depth limits; check all before changing any.
    const renamed = rows.map((r) => [r.name, validateMailboxName(to + r.name.slice(from.length), d)] as const);
    for (const [oldName, newName] of renamed) {
      await tx.query('UPDATE mailboxes SET name = $1 WHERE user_id = $2 AND name = $3', [newName, scope.userId, oldName]);
      const sub = await tx.query('DELETE FROM subscriptions WHERE user_id = $1 AND name = $2', [scope.userId, oldName]);
      if (sub.rowCount) {
        await tx.query('INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [scope.userId, newName]);
      }
    }
  });
}

export async function setSubscription(scope: PgScope, rawName: string, subscribed: boolean): Promise<void> {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  await treeChange(scope, async (tx) => {
    if (subscribed) await tx.query('INSERT INTO subscriptions (user_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [scope.userId, name]);
    else await tx.query('DELETE FROM subscriptions WHERE user_id = $1 AND name = $2', [scope.userId, name]);
  });
}

export async function subscriptionNames(scope: PgScope): Promise<string[]> {
  const { rows } = await scope.ctx.pool.query<{ name: string }>('SELECT name FROM subscriptions WHERE user_id = $1 ORDER BY name COLLATE "C"', [
    scope.userId,
  ]);
  return rows.map((r) => r.name);
}
