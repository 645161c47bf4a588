/**
 * Schema v24, second part: quota usage moves from one row per user (quota_usage, v8) into each
 * mailbox's row (mailboxes.usage_storage, usage_messages), in steps. Why: every message write
 * updates its mailbox row anyway, so usage kept there costs no 4 KiB WAL page of its own per
 * delivery or APPEND (quota.ts).
 *
 * v24's own transaction adds the columns (0 by default: no row is rewritten) and records in
 * `meta` the first mailbox id not yet counted. Each step counts the messages of mailboxes from
 * that mark on — until USAGE_FOLD_STEP messages were counted, at least one mailbox — and moves
 * the mark, in one transaction; the last removes the mark and drops quota_usage. A mailbox being
 * purged (deleted, its messages still going) counts nothing: its usage left the user's at DELETE.
 * The counts come from the messages themselves, as v8's backfill did, not from quota_usage, which
 * could not say how a user's usage splits over mailboxes.
 */
import type { Database } from 'better-sqlite3';

export const USAGE_FOLD_MARK = 'mailbox_usage_next';

/** Messages counted per step (at least one whole mailbox): tens of milliseconds. */
export const USAGE_FOLD_STEP = 50_000;

/** v24's schema change for usage: run inside the migration's transaction. */
export function startUsageFold(db: Database): void {
  db.exec(`
    ALTER TABLE mailboxes ADD COLUMN usage_storage INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE mailboxes ADD COLUMN usage_messages INTEGER NOT NULL DEFAULT 0;
  `);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET value = 0').run(USAGE_FOLD_MARK);
}

/** One step, inside a transaction of its own: true while mailboxes are left to count. */
export function usageFoldStep(db: Database): boolean {
  const next = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(USAGE_FOLD_MARK) as number | undefined;
  if (next === undefined) return false;
  const nextBox = db.prepare('SELECT id, EXISTS (SELECT 1 FROM mailbox_purges p WHERE p.mailbox_id = mailboxes.id) AS purging FROM mailboxes WHERE id >= ? ORDER BY id LIMIT 1');
  const held = db.prepare('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM messages WHERE mailbox_id = ?');
  const set = db.prepare('UPDATE mailboxes SET usage_storage = ?, usage_messages = ? WHERE id = ?');
  let from = next;
  let counted = 0;
  while (counted < USAGE_FOLD_STEP) {
    const box = nextBox.get(from) as { id: number; purging: number } | undefined;
    if (!box) {
      db.prepare('DELETE FROM meta WHERE key = ?').run(USAGE_FOLD_MARK);
      db.exec('DROP TABLE IF EXISTS quota_usage');
      return false;
    }
    const h = box.purging ? { n: 0, bytes: 0 } : (held.get(box.id) as { n: number; bytes: number });
    set.run(h.bytes, h.n, box.id);
    counted += Math.max(1, h.n);
    from = box.id + 1;
  }
  db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(from, USAGE_FOLD_MARK);
  return true;
}
