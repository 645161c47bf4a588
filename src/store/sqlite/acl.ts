/**
 * RFC 4314 access control lists in the SQLite store: table mailbox_acl (schema.ts, version 11), one
 * row per (mailbox, identifier), removed with the mailbox by its foreign key (and explicitly when
 * DELETE leaves the name as \Noselect, mailbox-tree.ts).
 */
import { aclNames, normalizeRights, sortAcl, validateIdentifier, type AclEntry, type SharedMailboxRef } from '../acl.js';
import type { StoreContext, UserScope } from './context.js';
import { mailboxById } from './context.js';
import { AnyRows } from './any-rows.js';

export function readAcl(scope: UserScope, mailboxId: string): AclEntry[] {
  const box = mailboxById(scope, mailboxId);
  return scope.ctx.sql.get('SELECT identifier, rights FROM mailbox_acl WHERE mailbox_id = ? ORDER BY identifier').all(box.id) as AclEntry[];
}

export async function writeAcl(scope: UserScope, mailboxId: string, identifier: string, rights: string | null): Promise<void> {
  const box = mailboxById(scope, mailboxId);
  const id = validateIdentifier(identifier);
  const normal = rights ? normalizeRights(rights) : '';
  await scope.ctx.group.run(() => {
    if (!normal) scope.ctx.sql.get('DELETE FROM mailbox_acl WHERE mailbox_id = ? AND identifier = ?').run(box.id, id);
    else {
      scope.ctx.sql
        .get('INSERT INTO mailbox_acl (mailbox_id, identifier, rights) VALUES (?, ?, ?) ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = excluded.rights')
        .run(box.id, id, normal);
      // In the same synchronous step as the row: no sharedWith can run between them.
      scope.ctx.aclRows.noteInsert();
    }
  });
  scope.ctx.feed.publish(scope.user, { kind: 'mailboxes', origin: scope.origin });
}

/** MailStore.sharedMailboxes: mailboxes of other users whose ACL names `user`, "anyone" or "authenticated". */
export function sharedWith(ctx: StoreContext, user: string): SharedMailboxRef[] {
  // Every LIST asks (shared-view.ts); with no ACL row at all — a server nobody shares on — the
  // join below cannot return anything.
  if (!ctx.aclRows.any(ctx)) return [];
  const ids = [user, 'anyone', 'authenticated'].flatMap((i) => [i, `-${i}`]);
  const rows = ctx.sql
    .get(
      `SELECT u.name AS owner, b.id AS box, b.name AS name, a.identifier AS identifier, a.rights AS rights
         FROM mailbox_acl a JOIN mailboxes b ON b.id = a.mailbox_id JOIN users u ON u.id = b.user_id
        WHERE u.name <> ? AND a.mailbox_id IN (SELECT mailbox_id FROM mailbox_acl WHERE identifier IN (${ids.map(() => '?').join(',')}))
        ORDER BY b.id, a.identifier`,
    )
    .all(user, ...ids) as Array<{ owner: string; box: number; name: string; identifier: string; rights: string }>;
  const byBox = new Map<number, SharedMailboxRef>();
  for (const r of rows) {
    let ref = byBox.get(r.box);
    if (!ref) byBox.set(r.box, (ref = { owner: r.owner, mailboxId: String(r.box), name: r.name, acl: [] }));
    ref.acl.push({ identifier: r.identifier, rights: r.rights });
  }
  return [...byBox.values()].filter((ref) => ref.acl.some((e) => aclNames(e.identifier, user))).map((ref) => ({ ...ref, acl: sortAcl(ref.acl) }));
}

/**
 * Whether mailbox_acl holds any row, remembered between LISTs (any-rows.ts). Only writeAcl inserts
 * rows; deletes (writeAcl, DELETE of a mailbox, foreign-key cascades) can only turn "some" into
 * "none", and "some" merely runs the query.
 */
export class AclRows extends AnyRows {
  constructor() {
    super('mailbox_acl');
  }
}
