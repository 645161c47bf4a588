/**
 * RFC 5464 annotations in the SQLite store (UserMailbox.getMetadata/setMetadata): table metadata
 * (schema.ts, version 20), one row per (user, mailbox or 0 for the server scope, viewer or '' for
 * /shared, entry). DELETE removes a mailbox's rows; RENAME keeps them (they hang on the id); a
 * renamed INBOX's new mailbox gets a copy (mailbox-tree.ts).
 */
import { StoreError } from '../errors.js';
import { checkWrites, isPrivateEntry, lastWrites, metadataChanges, tooMany } from '../metadata.js';
import type { MetadataEntry, MetadataWrite, SetMetadataOptions } from '../types.js';
import { mailboxById, type UserScope } from './context.js';

const SERVER = 0;

function targetId(scope: UserScope, mailboxId: string | null): number {
  return mailboxId === null ? SERVER : mailboxById(scope, mailboxId).id;
}

function rows(scope: UserScope, target: number, viewer: string): MetadataEntry[] {
  const list = scope.ctx.sql
    .get("SELECT entry, value FROM metadata WHERE user_id = ? AND mailbox_id = ? AND viewer IN ('', ?) ORDER BY entry")
    .all(scope.userId, target, viewer) as Array<{ entry: string; value: Uint8Array }>;
  return list.map((r) => ({ entry: r.entry, value: Buffer.from(r.value) }));
}

export function readMetadata(scope: UserScope, mailboxId: string | null, viewer = scope.user): MetadataEntry[] {
  return rows(scope, targetId(scope, mailboxId), viewer);
}

export async function writeMetadata(scope: UserScope, mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
  checkWrites(writes);
  const { ctx } = scope;
  const viewer = options.viewer ?? scope.user;
  const effective = lastWrites(writes);
  await ctx.group.run(() => {
    // Looked up, counted and written in one step of the group commit: nothing comes between.
    const target = targetId(scope, mailboxId);
    const existing = new Set(rows(scope, target, viewer).map((e) => `${isPrivateEntry(e.entry) ? 'p' : 's'}${e.entry}`));
    const before = existing.size;
    let after = before;
    for (const w of effective) {
      const had = existing.has(`${isPrivateEntry(w.entry) ? 'p' : 's'}${w.entry}`);
      if (had && w.value === null) after--;
      if (!had && w.value !== null) after++;
    }
    if (tooMany(before, after, options.maxEntries)) throw new StoreError('limit', 'Too many annotations');
    const del = ctx.sql.get('DELETE FROM metadata WHERE user_id = ? AND mailbox_id = ? AND viewer = ? AND entry = ?');
    const put = ctx.sql.get(
      'INSERT INTO metadata (user_id, mailbox_id, viewer, entry, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, mailbox_id, viewer, entry) DO UPDATE SET value = excluded.value',
    );
    for (const w of effective) {
      const who = isPrivateEntry(w.entry) ? viewer : '';
      if (w.value === null) del.run(scope.userId, target, who, w.entry);
      else put.run(scope.userId, target, who, w.entry, w.value);
    }
  });
  for (const change of metadataChanges(mailboxId, effective, viewer, scope.origin)) ctx.feed.publish(scope.user, change);
}
