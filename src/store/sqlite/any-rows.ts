/**
 * Whether a table holds any row, remembered until a row is inserted: for statements that a store
 * without such rows can skip (a LIST's shared-mailbox query without ACL rows, an EXPUNGE's delete
 * of private \Seen rows nobody ever wrote). Only this process writes the database (it holds the
 * exclusive lock, database.ts), so the remembered answer goes stale only where this process
 * inserts — each such place calls noteInsert() in the same synchronous step as its INSERT — and
 * deletes can only turn "some" into "none", where "some" merely runs the statement. A rolled-back
 * insert leaves the answer unknown, and the next any() reads the table again.
 */
import type { StoreContext } from './context.js';

export class AnyRows {
  private known: boolean | undefined;

  constructor(private readonly table: string) {}

  any(ctx: StoreContext): boolean {
    this.known ??= ctx.sql.get(`SELECT EXISTS (SELECT 1 FROM ${this.table}) AS found`).pluck().get() === 1;
    return this.known;
  }

  /** A row was inserted: "none" no longer holds. */
  noteInsert(): void {
    this.known = undefined;
  }
}
