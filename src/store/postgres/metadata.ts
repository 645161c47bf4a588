/**
 * RFC 5464 annotations in the PostgreSQL store (UserMailbox.getMetadata/setMetadata): table
 * metadata (schema.ts, version 8), one row per (user, mailbox or 0 for the server scope, viewer or
 * '' for /shared, entry). A write runs under the user's annotation lock, so the entry count it
 * checks cannot be passed by a parallel write on another node; its change is published on this
 * node at COMMIT and, through the notification sent at COMMIT, on the others.
 */
import { StoreError } from '../errors.js';
import { checkWrites, isPrivateEntry, lastWrites, metadataChanges, tooMany } from '../metadata.js';
import type { MailboxChange, MetadataEntry, MetadataWrite, SetMetadataOptions } from '../types.js';
import { mailboxRow, type PgScope } from './context.js';
import { transaction, type Queryable } from './db.js';

/** Key of the per-user advisory lock that orders annotation writes across nodes ("meta"). */
const METADATA_LOCK = 0x6d657461;
const SERVER = 0;

async function targetId(db: Queryable, scope: PgScope, mailboxId: string | null): Promise<number> {
  return mailboxId === null ? SERVER : Number((await mailboxRow(db, scope, mailboxId)).id);
}

async function rows(db: Queryable, scope: PgScope, target: number, viewer: string): Promise<MetadataEntry[]> {
  const { rows: list } = await db.query<{ entry: string; value: Buffer }>(
    `SELECT entry, value FROM metadata WHERE user_id = $1 AND mailbox_id = $2 AND viewer IN ('', $3) ORDER BY entry COLLATE "C"`,
    [scope.userId, target, viewer],
  );
  return list.map((r) => ({ entry: r.entry, value: Buffer.from(r.value) }));
}

export async function readMetadata(scope: PgScope, mailboxId: string | null, viewer = scope.user): Promise<MetadataEntry[]> {
  const pool = scope.ctx.pool;
  return rows(pool, scope, await targetId(pool, scope, mailboxId), viewer);
}

export async function writeMetadata(scope: PgScope, mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
  checkWrites(writes);
  const { ctx } = scope;
  const viewer = options.viewer ?? scope.user;
  const effective = lastWrites(writes);
  const changes: MailboxChange[] = metadataChanges(mailboxId, effective, viewer, scope.origin);
  await transaction(ctx.pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [METADATA_LOCK, scope.userId]);
    const target = await targetId(tx, scope, mailboxId);
    const key = (entry: string): string => `${isPrivateEntry(entry) ? 'p' : 's'}${entry}`;
    const existing = new Set((await rows(tx, scope, target, viewer)).map((e) => key(e.entry)));
    const before = existing.size;
    let after = before;
    for (const w of effective) {
      const had = existing.has(key(w.entry));
      if (had && w.value === null) after--;
      if (!had && w.value !== null) after++;
    }
    if (tooMany(before, after, options.maxEntries)) throw new StoreError('limit', 'Too many annotations');
    for (const w of effective) {
      const who = isPrivateEntry(w.entry) ? viewer : '';
      if (w.value === null) await tx.query('DELETE FROM metadata WHERE user_id = $1 AND mailbox_id = $2 AND viewer = $3 AND entry = $4', [scope.userId, target, who, w.entry]);
      else
        await tx.query(
          'INSERT INTO metadata (user_id, mailbox_id, viewer, entry, value) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, mailbox_id, viewer, entry) DO UPDATE SET value = excluded.value',
          [scope.userId, target, who, w.entry, w.value],
        );
    }
    for (const change of changes) if (change.kind === 'metadata') await ctx.feed.notifyMetadata(tx, scope.user, change);
  });
  for (const change of changes) ctx.feed.publishNow(scope.user, change);
}
