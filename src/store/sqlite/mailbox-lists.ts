/**
 * Each user's mailbox list (LIST's rows), kept until the tree changes.
 *
 * A client sends `LIST "" "*"` at every sync (imaptest and the persistent-1 mix at the start of
 * every round), and the user's tree has almost always not changed since the last one. The query
 * behind it (mailboxes joined with subscriptions, about 35–100 µs for two mailboxes under load,
 * plus the sort and the objects) was more than half of a LIST's CPU (bench/list-status-cpu.ts,
 * issue 23). Here the list is answered from memory while nothing in the user's tree moved.
 *
 * What "moved" means is told by SQLite itself rather than by each place that writes: TEMP triggers
 * on this connection (not in the schema, so no migration and nothing in the file) call back on any
 * INSERT or DELETE of a `mailboxes` or `subscriptions` row and on any UPDATE of the columns a list
 * shows (`name`, `noselect`, `special_use`; the counters every message write moves — uid_next,
 * highest_modseq, usage — do not fire them). So CREATE, DELETE, RENAME, SUBSCRIBE, a purge's
 * tombstone, the importer, a user's removal — and any write added later — all drop the user's list
 * in the statement that changes it. A rolled-back change has dropped a list for nothing, which only
 * costs the next LIST its query; a list is never kept from inside a transaction, so it cannot hold
 * something a rollback took away.
 *
 * Only this process writes the database in the default setup (it holds the exclusive lock). When
 * other processes share it (`--sqlite-workers own-store`) their writes fire no trigger here, so
 * the cache is off (`enabled` false) and every LIST runs the query.
 *
 * Bounded: MAX_USERS lists and `maxEntries` mailboxes over all of them (the store's
 * mailboxListCacheEntries), least recently used dropped.
 */
import type { Database } from 'better-sqlite3';
import type { MailboxInfo } from '../types.js';
import { takeRecent } from '../../util/recent-map.js';

/** Users whose lists are kept. */
const MAX_USERS = 1_024;
/** Mailboxes kept over all the lists by default (~150 bytes each; the store's mailboxListCacheEntries). */
export const MAILBOX_LIST_ENTRIES = 100_000;

/** The SQL function the TEMP triggers call with the user_id of the row they saw change. */
const CHANGED_FN = 'postroom_mailbox_tree_changed';

interface Kept {
  list: readonly MailboxInfo[];
  /** The list by name, made at the first lookup (byName). */
  byName?: Map<string, MailboxInfo>;
}

export class MailboxLists {
  private readonly kept = new Map<number, Kept>();
  private entries = 0;
  /** Lists dropped by a trigger (tests and diagnostics). */
  invalidations = 0;

  readonly enabled: boolean;

  /** `maxEntries`: mailboxes kept over all the lists; 0 keeps none (every LIST runs its query). */
  constructor(enabled: boolean, private readonly maxEntries: number = MAILBOX_LIST_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`mailboxListCacheEntries: a whole number >= 0, not ${maxEntries}`);
    this.enabled = enabled && maxEntries > 0;
  }

  /**
   * Registers the callback and creates the TEMP triggers on `db` (after migrations: the tables must
   * exist). Idempotent per connection.
   */
  watch(db: Database): void {
    if (!this.enabled) return;
    db.function(CHANGED_FN, { deterministic: false, varargs: false }, (userId: unknown) => {
      if (this.drop(Number(userId))) this.invalidations++;
      return null;
    });
    const fire = (when: string, table: string, row: 'new' | 'old'): string =>
      `CREATE TEMP TRIGGER IF NOT EXISTS postroom_tree_${table}_${when.split(' ')[0]!.toLowerCase()}_${row}
         AFTER ${when} ON main.${table} BEGIN SELECT ${CHANGED_FN}(${row}.user_id); END;`;
    db.exec(
      [
        fire('INSERT', 'mailboxes', 'new'),
        fire('DELETE', 'mailboxes', 'old'),
        // Both rows: an UPDATE could in principle move a mailbox between users.
        fire('UPDATE OF user_id, name, noselect, special_use', 'mailboxes', 'old'),
        fire('UPDATE OF user_id, name, noselect, special_use', 'mailboxes', 'new'),
        fire('INSERT', 'subscriptions', 'new'),
        fire('DELETE', 'subscriptions', 'old'),
        fire('UPDATE', 'subscriptions', 'old'),
        fire('UPDATE', 'subscriptions', 'new'),
      ].join('\n'),
    );
  }

  /** The kept list of `userId` (a fresh array of frozen entries), or undefined. */
  get(userId: number): MailboxInfo[] | undefined {
    if (!this.enabled) return undefined;
    return takeRecent(this.kept, userId)?.list.slice();
  }

  /**
   * `name`'s entry in the kept list of `userId`: what getMailbox would read (STATUS, SELECT and
   * EXAMINE look a mailbox up by name first). Undefined when no list is kept or the name is not in
   * it — the caller asks the database then (a name not listed may still be a tombstone's).
   */
  byName(userId: number, name: string): MailboxInfo | undefined {
    if (!this.enabled) return undefined;
    const kept = this.kept.get(userId);
    if (!kept) return undefined;
    kept.byName ??= new Map(kept.list.map((info) => [info.name, info]));
    return kept.byName.get(name);
  }

  /** Keeps `list` for `userId` unless a transaction is open (its changes may yet be rolled back). */
  set(db: Database, userId: number, list: MailboxInfo[]): void {
    if (!this.enabled || db.inTransaction) return;
    this.drop(userId);
    for (const info of list) Object.freeze(info);
    this.kept.set(userId, { list: list.slice() });
    this.entries += list.length;
    for (const id of this.kept.keys()) {
      if (this.kept.size <= MAX_USERS && this.entries <= this.maxEntries) break;
      this.drop(id);
    }
  }

  /** Forgets `userId`'s list; whether there was one. */
  drop(userId: number): boolean {
    const kept = this.kept.get(userId);
    if (!kept) return false;
    this.kept.delete(userId);
    this.entries -= kept.list.length;
    return true;
  }
}
