/**
 * RFC 4314 access control lists in the PostgreSQL store: table mailbox_acl (schema.ts, version 4),
 * one row per (mailbox, identifier), removed with the mailbox by its foreign key (and explicitly
 * when DELETE leaves the name as \Noselect, mailbox-tree.ts).
 */
import { aclNames, normalizeRights, sortAcl, validateIdentifier, type AclEntry, type SharedMailboxRef } from '../acl.js';
import { mailboxRow, type PgContext, type PgScope } from './context.js';

export async function readAcl(scope: PgScope, mailboxId: string): Promise<AclEntry[]> {
  const box = await mailboxRow(scope.ctx.pool, scope, mailboxId);
  const { rows } = await scope.ctx.pool.query<AclEntry>('SELECT identifier, rights FROM mailbox_acl WHERE mailbox_id = $1 ORDER BY identifier COLLATE "C"', [box.id]);
  return rows;
}

export async function writeAcl(scope: PgScope, mailboxId: string, identifier: string, rights: string | null): Promise<void> {
  const box = await mailboxRow(scope.ctx.pool, scope, mailboxId);
  const id = validateIdentifier(identifier);
  const normal = rights ? normalizeRights(rights) : '';
  if (!normal) await scope.ctx.pool.query('DELETE FROM mailbox_acl WHERE mailbox_id = $1 AND identifier = $2', [box.id, id]);
  else
    await scope.ctx.pool.query(
      'INSERT INTO mailbox_acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3) ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = excluded.rights',
      [box.id, id, normal],
    );
  scope.ctx.feed.publishNow(scope.user, { kind: 'mailboxes', origin: scope.origin });
}

/** MailStore.sharedMailboxes: mailboxes of other users whose ACL names `user`, "anyone" or "authenticated". */
export async function sharedWith(ctx: PgContext, user: string): Promise<SharedMailboxRef[]> {
  const ids = [user, 'anyone', 'authenticated'].flatMap((i) => [i, `-${i}`]);
  const { rows } = await ctx.pool.query<{ owner: string; box: string; name: string; identifier: string; rights: string }>(
    `SELECT u.name AS owner, b.id::text AS box, b.name AS name, a.identifier AS identifier, a.rights AS rights
       FROM mailbox_acl a JOIN mailboxes b ON b.id = a.mailbox_id JOIN users u ON u.id = b.user_id
      WHERE u.name <> $1 AND a.mailbox_id IN (SELECT mailbox_id FROM mailbox_acl WHERE identifier = ANY($2::text[]))
      ORDER BY b.id`,
    [user, ids],
  );
  const byBox = new Map<string, SharedMailboxRef>();
  for (const r of rows) {
    let ref = byBox.get(r.box);
    if (!ref) byBox.set(r.box, (ref = { owner: r.owner, mailboxId: r.box, name: r.name, acl: [] }));
    ref.acl.push({ identifier: r.identifier, rights: r.rights });
  }
  return [...byBox.values()].filter((ref) => ref.acl.some((e) => aclNames(e.identifier, user))).map((ref) => ({ ...ref, acl: sortAcl(ref.acl) }));
}
