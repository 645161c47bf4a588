/** LIST / CREATE / DELETE / RENAME / SUBSCRIBE over the `mailboxes` and `subscriptions` tables. */
import { recordExpungedRows } from './expunged-log.js';
import { StoreError } from '../errors.js';
import { compareMailboxNames, isSameOrBelow, parentNames, validateMailboxName } from '../names.js';
import type { MailboxInfo, SpecialUse } from '../types.js';
import { mailboxByName, retryBusy, write, type MailboxRow, type StoreContext, type UserScope } from './context.js';
import { isPurging, tombstoneMailbox } from './mailbox-purge.js';
import { isTombstone } from './tombstone.js';

/** SQLite's substr() counts code points, JavaScript's length counts UTF-16 units. */
function chars(s: string): number {
  return [...s].length;
}

export function toInfo(row: Pick<MailboxRow, 'id' | 'name' | 'noselect' | 'special_use'>, subscribed: boolean): MailboxInfo {
  const info: MailboxInfo = { id: String(row.id), name: row.name, noselect: row.noselect === 1, subscribed };
  if (row.special_use) info.specialUse = row.special_use as SpecialUse;
  return info;
}

/**
 * A UIDVALIDITY never handed out before in this database (RFC 3501 §2.3.1.1: a re-created mailbox
 * must not reuse one). Seconds since the epoch keep values unique across a database rebuilt from
 * an export, the stored counter keeps them unique within one second.
 */
export function nextUidValidity(ctx: StoreContext): number {
  const last = (ctx.sql.get("SELECT value FROM meta WHERE key = 'last_uidvalidity'").get() as { value: number } | undefined)?.value ?? 0;
  const next = Math.max(Math.floor(Date.now() / 1000), last + 1);
  ctx.sql.get("INSERT INTO meta (key, value) VALUES ('last_uidvalidity', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(next);
  return next;
}

export function insertMailbox(scope: UserScope, name: string, noselect: boolean, specialUse?: SpecialUse): MailboxRow {
  const { ctx } = scope;
  return ctx.sql
    .get('INSERT INTO mailboxes (user_id, name, noselect, special_use, uid_validity) VALUES (?, ?, ?, ?, ?) RETURNING *')
    .get(scope.userId, name, noselect ? 1 : 0, specialUse ?? null, nextUidValidity(ctx)) as MailboxRow;
}

function isSubscribed(scope: UserScope, name: string): boolean {
  return scope.ctx.sql.get('SELECT 1 FROM subscriptions WHERE user_id = ? AND name = ?').get(scope.userId, name) !== undefined;
}

function hasChildren(scope: UserScope, name: string): boolean {
  const d = scope.ctx.delimiter;
  return (
    scope.ctx.sql
      .get('SELECT 1 FROM mailboxes WHERE user_id = ? AND substr(name, 1, ?) = ? LIMIT 1')
      .get(scope.userId, chars(name + d), name + d) !== undefined
  );
}

export function listMailboxes(scope: UserScope): MailboxInfo[] {
  const kept = scope.ctx.mailboxLists.get(scope.userId);
  if (kept) return kept;
  // One statement with the subscription joined in (every LIST runs this): the columns toInfo reads,
  // and whether the subscriptions' primary key (user_id, name) holds the name.
  const rows = (
    scope.ctx.sql
      .get(
        `SELECT m.id, m.name, m.noselect, m.special_use, s.name IS NOT NULL AS subscribed
           FROM mailboxes m LEFT JOIN subscriptions s ON s.user_id = m.user_id AND s.name = m.name
          WHERE m.user_id = ?`,
      )
      .all(scope.userId) as Array<Pick<MailboxRow, 'id' | 'name' | 'noselect' | 'special_use'> & { subscribed: number }>
  ).filter((r) => !isTombstone(r.name));
  const d = scope.ctx.delimiter;
  const list = rows.sort((a, b) => compareMailboxNames(a.name, b.name, d)).map((r) => toInfo(r, r.subscribed === 1));
  scope.ctx.mailboxLists.set(scope.ctx.db, scope.userId, list);
  return list;
}

export function getMailbox(scope: UserScope, rawName: string): MailboxInfo {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  // A LIST kept the user's tree (mailbox-lists.ts): the same answer without its two queries.
  const listed = scope.ctx.mailboxLists.byName(scope.userId, name);
  if (listed) return listed;
  const row = mailboxByName(scope, name);
  if (!row) throw new StoreError('nonexistent', `mailbox ${name} does not exist`);
  return toInfo(row, isSubscribed(scope, name));
}

/** Missing parents are created as ordinary mailboxes (RFC 3501 §6.3.3 "create any superior names"). */
function ensureParents(scope: UserScope, name: string): void {
  for (const parent of parentNames(name, scope.ctx.delimiter)) {
    if (!mailboxByName(scope, parent)) insertMailbox(scope, parent, false);
  }
}

/** Whether CREATE of this name must wait: it is a \\Noselect parent whose old messages are still being purged. */
export function createWaitsForPurge(scope: UserScope, rawName: string): boolean {
  let name: string;
  try {
    name = validateMailboxName(rawName, scope.ctx.delimiter);
  } catch {
    return false; // createMailbox says what is wrong with it
  }
  const existing = mailboxByName(scope, name);
  return existing !== undefined && existing.noselect === 1 && isPurging(scope.ctx, existing.id);
}

export function createMailbox(scope: UserScope, rawName: string, specialUse?: SpecialUse, maxMailboxes?: number): MailboxInfo {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  const row = write(scope.ctx, () => {
    const existing = mailboxByName(scope, name);
    if (existing && !existing.noselect) throw new StoreError('alreadyexists', `mailbox ${name} already exists`);
    ensureParents(scope, name);
    // Counted inside the transaction that creates: parallel CREATEs cannot pass the limit together.
    if (maxMailboxes !== undefined && !existing && countMailboxes(scope) + 1 > maxMailboxes) {
      throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
    }
    if (existing && isPurging(scope.ctx, existing.id)) {
      // The caller waits for the purge first (user-mailbox.ts); only a DELETE racing it gets here.
      throw new StoreError('unavailable', `mailbox ${name} is still being deleted; try again`);
    }
    if (existing) {
      // A \Noselect left by DELETE becomes selectable again; its UIDs were never reused, but the
      // mailbox is new to clients, so it gets a fresh UIDVALIDITY.
      return scope.ctx.sql
        .get('UPDATE mailboxes SET noselect = 0, special_use = ?, uid_validity = ? WHERE id = ? RETURNING *')
        .get(specialUse ?? null, nextUidValidity(scope.ctx), existing.id) as MailboxRow;
    }
    return insertMailbox(scope, name, false, specialUse);
  });
  scope.ctx.feed.publish(scope.user, { kind: 'mailboxes', origin: scope.origin });
  return toInfo(row, isSubscribed(scope, name));
}

function countMailboxes(scope: UserScope): number {
  // Deleted mailboxes still being purged (their names start with NUL) do not count.
  return scope.ctx.sql.get("SELECT count(*) FROM mailboxes WHERE user_id = ? AND substr(name, 1, 1) <> char(0)").pluck().get(scope.userId) as number;
}

/**
 * DELETE in one short transaction: the mailbox leaves the user's view (a tombstone, its usage taken
 * off the quota) and its messages are purged afterwards in slices (mailbox-purge.ts), so a mailbox
 * of 20,000 messages does not hold the event loop for a quarter of a second. With children it stays
 * as \Noselect under its name and id (RFC 3501 §6.3.4: the children keep their parent), which no
 * session can select, and its messages are expunged by the same slices.
 */
export async function deleteMailbox(scope: UserScope, rawName: string): Promise<void> {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  if (name === 'INBOX') throw new StoreError('cannot', 'INBOX cannot be deleted');
  const { ctx } = scope;
  // Outside the group commit's queue: after any checkpoint hold, and retried while another process writes.
  const purge = await retryBusy(ctx, () => write(ctx, () => {
    const row = mailboxByName(scope, name);
    if (!row) throw new StoreError('nonexistent', `mailbox ${name} does not exist`);
    const children = hasChildren(scope, name);
    if (children && row.noselect) throw new StoreError('hasChildren', `mailbox ${name} has inferior mailboxes`);
    // RFC 4314 §4: DELETE deletes the ACL, also of a \Noselect parent left for its children and of a
    // mailbox whose messages are still being purged under a hidden name.
    ctx.sql.get('DELETE FROM mailbox_acl WHERE mailbox_id = ?').run(row.id);
    // RFC 5464 §4.1: and its annotations, so a mailbox created under the name inherits none.
    ctx.sql.get('DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ?').run(scope.userId, row.id);
    // RFC 4467: URLs authorized for the deleted mailbox stop working, also if the name comes back.
    ctx.sql.get('DELETE FROM urlauth_keys WHERE mailbox_id = ?').run(row.id);
    return tombstoneMailbox(ctx, row.id, children);
  }));
  await ctx.durable.sync();
  ctx.feed.publish(scope.user, { kind: 'mailboxes', origin: scope.origin });
  if (purge) ctx.purger.kick(ctx);
}

export function renameMailbox(scope: UserScope, rawFrom: string, rawTo: string, maxMailboxes?: number): void {
  const { ctx } = scope;
  const d = ctx.delimiter;
  const from = validateMailboxName(rawFrom, d);
  const to = validateMailboxName(rawTo, d);
  let inboxMoved: { id: number; uids: number[] } | null = null;
  write(ctx, () => {
    const source = mailboxByName(scope, from);
    if (!source) throw new StoreError('nonexistent', `mailbox ${from} does not exist`);
    if (from === to || mailboxByName(scope, to)) throw new StoreError('alreadyexists', `mailbox ${to} already exists`);
    // INBOX may be renamed to its own child: only its messages move (RFC 3501 §6.3.5).
    if (from !== 'INBOX' && isSameOrBelow(to, from, d)) throw new StoreError('cannot', 'a mailbox cannot be moved below itself');
    if (maxMailboxes !== undefined) {
      // Counted inside the transaction that renames, as CREATE does: the missing parents are new,
      // and renaming INBOX leaves INBOX behind besides the new mailbox.
      const added = parentNames(to, d).filter((p) => !mailboxByName(scope, p)).length + (from === 'INBOX' ? 1 : 0);
      if (added > 0 && countMailboxes(scope) + added > maxMailboxes) throw new StoreError('limit', `Too many mailboxes (limit ${maxMailboxes})`);
    }
    ensureParents(scope, to);
    if (from === 'INBOX') {
      // RFC 3501 §6.3.5: INBOX's messages move to the new name; INBOX stays, empty; its children stay.
      const target = insertMailbox(scope, to, false);
      const uids = (ctx.sql.get('SELECT uid FROM messages WHERE mailbox_id = ? ORDER BY uid').pluck().all(source.id) as number[]);
      ctx.sql.get('UPDATE messages SET mailbox_id = ? WHERE mailbox_id = ?').run(target.id, source.id);
      ctx.sql
        .get('UPDATE mailboxes SET uid_next = ?, highest_modseq = ?, recent_uid = ? WHERE id = ?')
        .run(source.uid_next, source.highest_modseq, source.recent_uid, target.id);
      ctx.sql.get('UPDATE mailboxes SET highest_modseq = highest_modseq + 1 WHERE id = ?').run(source.id);
      recordExpungedRows(ctx, source.id, uids, source.highest_modseq + 1);
      // RFC 5464 §4.1: INBOX keeps its annotations and the new mailbox gets a copy of them.
      ctx.sql
        .get('INSERT INTO metadata (user_id, mailbox_id, viewer, entry, value) SELECT user_id, ?, viewer, entry, value FROM metadata WHERE user_id = ? AND mailbox_id = ?')
        .run(target.id, scope.userId, source.id);
      inboxMoved = { id: source.id, uids };
      return;
    }
    const moving = ctx.sql
      .get('SELECT name FROM mailboxes WHERE user_id = ? AND (name = ? OR substr(name, 1, ?) = ?)')
      .pluck()
      .all(scope.userId, from, chars(from + d), from + d) as string[];
    // Children may grow past the name length or depth limits; check all before changing any.
    const renamed = moving.map((name) => [name, validateMailboxName(to + name.slice(from.length), d)] as const);
    const setName = ctx.sql.get('UPDATE mailboxes SET name = ? WHERE user_id = ? AND name = ?');
    const moveSub = ctx.sql.get('UPDATE OR REPLACE subscriptions SET name = ? WHERE user_id = ? AND name = ?');
    for (const [oldName, newName] of renamed) {
      setName.run(newName, scope.userId, oldName);
      moveSub.run(newName, scope.userId, oldName);
    }
  });
  const moved = inboxMoved as { id: number; uids: number[] } | null;
  if (moved && moved.uids.length > 0) ctx.feed.publish(scope.user, { kind: 'expunge', mailboxId: String(moved.id), uids: moved.uids, origin: scope.origin });
  ctx.feed.publish(scope.user, { kind: 'mailboxes', origin: scope.origin });
}

export function setSubscription(scope: UserScope, rawName: string, subscribed: boolean): void {
  const name = validateMailboxName(rawName, scope.ctx.delimiter);
  write(scope.ctx, () => {
    if (subscribed) scope.ctx.sql.get('INSERT OR IGNORE INTO subscriptions (user_id, name) VALUES (?, ?)').run(scope.userId, name);
    else scope.ctx.sql.get('DELETE FROM subscriptions WHERE user_id = ? AND name = ?').run(scope.userId, name);
  });
  scope.ctx.feed.publish(scope.user, { kind: 'mailboxes', origin: scope.origin });
}

export function subscriptionNames(scope: UserScope): string[] {
  return scope.ctx.sql.get('SELECT name FROM subscriptions WHERE user_id = ? ORDER BY name').pluck().all(scope.userId) as string[];
}
