/**
 * Mailbox rows (`mailboxes`, by id) kept until the row changes.
 *
 * Reads look a mailbox's row up by id before anything else (mailboxById): STATUS once, SELECT
 * three times (the snapshot, the \Recent peek and claim), a write once inside its transaction. It
 * was the most frequent read statement of the persistent-1 mix (~1.3 per command, bench/sql-
 * statement-cpu.ts), and what a STATUS of an unchanged mailbox still ran after its sums were kept
 * (mailbox-status.ts) and its name answered from the kept list (mailbox-lists.ts).
 *
 * The same discipline as mailbox-lists.ts: TEMP triggers on this connection (not in the schema, so
 * no migration) call back on any UPDATE, DELETE or INSERT of a `mailboxes` row — every message write moves
 * its mailbox's row (uid_next, highest_modseq, recent_uid, usage), a RENAME or DELETE its name —
 * and the kept row is dropped in the statement that changes it, whoever wrote it. A rolled-back
 * change has dropped a row for nothing (the next read runs the query); a row is never kept from
 * inside a transaction, so it cannot hold something a rollback took away. Inside a transaction a
 * kept row is still the row as committed, until a statement of the transaction changes it and
 * the trigger drops it. Rows handed out are frozen (callers only read them).
 *
 * Only this process writes the database in the default setup (it holds the exclusive lock); with
 * other processes sharing it (`--sqlite-workers own-store`) their writes fire no trigger here, so
 * it is off there, as the kept lists are.
 *
 * Bounded by the store's `mailboxRowCacheEntries` (0 keeps none), in two generations
 * (RecentCache): a hit moves nothing — takeRecent's delete-and-set on every read of a row
 * allocated a shrunk and regrown hash table each time — and a row unread for two turns goes.
 */
import type { Database } from 'better-sqlite3';
import { RecentCache } from '../../util/recent-map.js';

/** Rows kept by default (~250 bytes each). */
export const MAILBOX_ROW_ENTRIES = 10_000;

/** The SQL function the TEMP triggers call with the id of the row they saw change. */
const CHANGED_FN = 'postroom_mailbox_row_changed';

export class MailboxRows<Row extends { id: number }> {
  private readonly kept: RecentCache<number, Readonly<Row>>;
  /** Rows dropped by a trigger (tests and diagnostics). */
  invalidations = 0;

  readonly enabled: boolean;

  /** `maxEntries`: rows kept; 0 keeps none (every lookup runs its query). */
  constructor(enabled: boolean, maxEntries: number = MAILBOX_ROW_ENTRIES) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new RangeError(`mailboxRowCacheEntries: a whole number >= 0, not ${maxEntries}`);
    this.enabled = enabled && maxEntries > 0;
    this.kept = new RecentCache(maxEntries);
  }

  /** Registers the callback and creates the TEMP triggers on `db` (after migrations). Idempotent per connection. */
  watch(db: Database): void {
    if (!this.enabled) return;
    db.function(CHANGED_FN, { deterministic: false, varargs: false }, (id: unknown) => {
      const before = this.kept.size;
      this.kept.delete(Number(id));
      if (this.kept.size < before) this.invalidations++;
      return null;
    });
    db.exec(
      [
        // One call per updated row (every message write updates one; ~0.5–1 µs a write, measured):
        // the new id is told too only when an UPDATE moved the id.
        `CREATE TEMP TRIGGER IF NOT EXISTS postroom_row_mailboxes_update AFTER UPDATE ON main.mailboxes
           BEGIN SELECT ${CHANGED_FN}(old.id); SELECT ${CHANGED_FN}(new.id) WHERE new.id IS NOT old.id; END;`,
        `CREATE TEMP TRIGGER IF NOT EXISTS postroom_row_mailboxes_delete AFTER DELETE ON main.mailboxes
           BEGIN SELECT ${CHANGED_FN}(old.id); END;`,
        // A new row's id cannot be kept yet, unless an id was given out again after a DELETE.
        `CREATE TEMP TRIGGER IF NOT EXISTS postroom_row_mailboxes_insert AFTER INSERT ON main.mailboxes
           BEGIN SELECT ${CHANGED_FN}(new.id); END;`,
      ].join('\n'),
    );
  }

  /** The kept row of `id`, or undefined. */
  get(id: number): Readonly<Row> | undefined {
    if (!this.enabled) return undefined;
    return this.kept.get(id);
  }

  /** Rows kept now. */
  get size(): number {
    return this.kept.size;
  }

  /** Keeps `row` (frozen) unless a transaction is open (its changes may yet be rolled back). */
  set(db: Database, row: Row): Readonly<Row> {
    if (!this.enabled || db.inTransaction) return row;
    const frozen = Object.freeze(row);
    // Deleted first: RecentCache.set leaves an entry already kept as it is (none should be: a row
    // is read from the database only when none is kept for this user).
    this.kept.delete(row.id);
    this.kept.set(row.id, frozen);
    return frozen;
  }
}
