/**
 * Whether a table holds any row, remembered until a row is inserted: for statements that a store
 * without such rows can skip (a LIST's shared-mailbox query without ACL rows, an EXPUNGE's delete
 * of private \Seen rows nobody ever wrote). Only this process writes the database (it holds the
 * exclusive lock, database.ts), so the remembered answer goes stale only where this process
 * inserts — each such place calls noteInsert() in the same synchronous step as its INSERT — and
 * deletes can only turn "some" into "none", where "some" merely runs the statement. A rolled-back
 * insert leaves the answer unknown, and the next any() reads the table again.
 *
 * When other processes share the database (context.ts, SharedAccess) they insert too, unseen here:
 * a remembered "none" then holds only while `PRAGMA data_version` — which moves whenever another
 * connection commits — is what it was when the table was read (one pragma per any(), ~1 µs).
 */
import type { StoreContext } from './context.js';

export class AnyRows {
  private known: boolean | undefined;
  /** Shared databases: data_version when `known` was read. */
  private version = 0;

  constructor(private readonly table: string) {}

  any(ctx: StoreContext): boolean {
    if (ctx.shared && this.known === false && dataVersion(ctx) !== this.version) this.known = undefined;
    if (this.known === undefined) {
      // Read before the table: a commit in between makes the next any() read it again.
      if (ctx.shared) this.version = dataVersion(ctx);
      this.known = ctx.sql.get(`SELECT EXISTS (SELECT 1 FROM ${this.table}) AS found`).pluck().get() === 1;
    }
    return this.known;
  }

  /** A row was inserted: "none" no longer holds. */
  noteInsert(): void {
    this.known = undefined;
  }
}

/** SQLite's count of commits by other connections to this database, as this connection sees it. */
function dataVersion(ctx: StoreContext): number {
  return ctx.sql.get('PRAGMA data_version').pluck().get() as number;
}
