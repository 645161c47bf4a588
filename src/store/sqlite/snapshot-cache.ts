/**
 * SELECT of a large mailbox needs every message's UID, flags and modseq. Reading 100,000 rows costs
 * ~70–130 ms; this cache keeps the last snapshot of recently selected mailboxes and brings it up to
 * date from the rows whose modseq grew, which is cheap because every change to a mailbox raises its
 * HIGHESTMODSEQ (appends, flag changes, expunges alike). Only this process writes the database (it
 * holds the exclusive lock), so nothing can change behind the cache's back.
 */
import type { MessageMeta } from '../types.js';
import type { MailboxRow, StoreContext } from './context.js';
import { parseFlags } from './flags.js';

interface Entry {
  highestModseq: number;
  messages: MessageMeta[];
}

/** Mailboxes smaller than this are read directly: the cache would save nothing worth its memory. */
const MIN_MESSAGES = 2_000;
/** Most mailboxes kept (least recently used dropped). */
const MAX_ENTRIES = 32;

export class SnapshotCache {
  private readonly entries = new Map<number, Entry>();

  /** The messages of `box` in UID order; the array returned is the caller's to keep. */
  messages(ctx: StoreContext, box: MailboxRow): MessageMeta[] {
    const entry = this.entries.get(box.id);
    if (entry) {
      this.entries.delete(box.id);
      if (entry.highestModseq === box.highest_modseq || this.catchUp(ctx, box, entry)) {
        this.entries.set(box.id, entry);
        return entry.messages.slice();
      }
    }
    const messages = readAll(ctx, box.id);
    if (messages.length >= MIN_MESSAGES) {
      this.entries.set(box.id, { highestModseq: box.highest_modseq, messages });
      if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as number);
      return messages.slice();
    }
    return messages;
  }

  /** Forgets a mailbox (deleted, or its messages moved by RENAME INBOX). */
  forget(mailboxId: number): void {
    this.entries.delete(mailboxId);
  }

  /**
   * Applies the rows changed since the entry was taken. Returns false when messages were removed
   * (the count no longer adds up), in which case the caller reads everything again.
   */
  private catchUp(ctx: StoreContext, box: MailboxRow, entry: Entry): boolean {
    const changed = ctx.sql
      .get('SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? AND modseq > ? ORDER BY uid')
      .all(box.id, entry.highestModseq) as Array<{ uid: number; flags: string; modseq: number }>;
    const list = entry.messages;
    for (const row of changed) {
      const meta: MessageMeta = { uid: row.uid, flags: parseFlags(row.flags), modseq: row.modseq };
      const last = list.length ? list[list.length - 1]!.uid : 0;
      if (row.uid > last) {
        list.push(meta);
        continue;
      }
      const i = indexOf(list, row.uid);
      if (i < 0) return false; // a UID below the last one that we never saw: resync fully
      list[i] = meta;
    }
    const count = ctx.sql.get('SELECT COUNT(*) FROM messages WHERE mailbox_id = ?').pluck().get(box.id) as number;
    if (count !== list.length) return false;
    entry.highestModseq = box.highest_modseq;
    return true;
  }
}

function indexOf(list: MessageMeta[], uid: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = list[mid]!.uid;
    if (v === uid) return mid;
    if (v < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function readAll(ctx: StoreContext, mailboxId: number): MessageMeta[] {
  // One JSON value instead of 100,000 rows: better-sqlite3's per-row cost dominated, and JSON.parse
  // builds the arrays far faster.
  const json = ctx.sql
    .get('SELECT json_group_array(json_array(uid, flags, modseq) ORDER BY uid) FROM messages WHERE mailbox_id = ?')
    .pluck()
    .get(mailboxId) as string;
  const rows = JSON.parse(json) as Array<[number, string, number]>;
  const messages: MessageMeta[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    messages[i] = { uid: r[0], flags: parseFlags(r[1]), modseq: r[2] };
  }
  return messages;
}
