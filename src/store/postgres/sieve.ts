/** Sieve scripts and vacation memory of one user in PostgreSQL (contract: ../sieve-storage.ts; tables: schema v2). */
import { StoreError } from '../errors.js';
import { vacationKey, type SieveScriptInfo, type SieveScriptStorage, type VacationMemory } from '../sieve-storage.js';
import type { PgScope } from './context.js';
import { query, transaction, type Queryable } from './db.js';

/** Key of the per-user advisory lock that orders script changes across nodes ("siev"). */
const SIEVE_LOCK = 0x73696576;

export class PgSieveScripts implements SieveScriptStorage {
  constructor(private readonly scope: PgScope) {}

  private get pool() {
    return this.scope.ctx.pool;
  }

  /**
   * A change under the user's script lock, durable once COMMIT returned; then this node's watchers
   * of the user hear it (kind 'sieve'), and the other nodes' from the notification sent at COMMIT.
   */
  private async locked<T>(body: (tx: Queryable) => Promise<T>): Promise<T> {
    const result = await transaction(this.pool, async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [SIEVE_LOCK, this.scope.userId]);
      const value = await body(tx);
      await this.scope.ctx.feed.notifySieve(tx, this.scope.user);
      return value;
    });
    this.scope.ctx.feed.publishNow(this.scope.user, { kind: 'sieve', origin: this.scope.origin });
    return result;
  }

  private async exists(tx: Queryable, name: string): Promise<boolean> {
    return (await tx.query('SELECT 1 FROM sieve_scripts WHERE user_id = $1 AND name = $2', [this.scope.userId, name])).rows.length > 0;
  }

  async sieveList(): Promise<SieveScriptInfo[]> {
    const rows = await query<{ name: string; active: boolean; size: number }>(
      this.pool,
      'SELECT name, active, octet_length(content) AS size FROM sieve_scripts WHERE user_id = $1 ORDER BY name COLLATE "C"',
      [this.scope.userId],
    );
    return rows.map((r) => ({ name: r.name, active: r.active, size: Number(r.size) }));
  }

  async sieveGet(name: string): Promise<string> {
    const rows = await query<{ content: string }>(this.pool, 'SELECT content FROM sieve_scripts WHERE user_id = $1 AND name = $2', [this.scope.userId, name]);
    const row = rows[0];
    if (!row) throw new StoreError('nonexistent', `no script named ${name}`);
    return row.content;
  }

  async sievePut(name: string, content: string): Promise<void> {
    await this.locked((tx) =>
      tx.query(
        'INSERT INTO sieve_scripts (user_id, name, content) VALUES ($1, $2, $3) ON CONFLICT (user_id, name) DO UPDATE SET content = excluded.content',
        [this.scope.userId, name, content],
      ),
    );
  }

  async sieveDelete(name: string): Promise<void> {
    await this.locked(async (tx) => {
      const rows = (await tx.query<{ active: boolean }>('SELECT active FROM sieve_scripts WHERE user_id = $1 AND name = $2', [this.scope.userId, name])).rows;
      if (!rows[0]) throw new StoreError('nonexistent', `no script named ${name}`);
      if (rows[0].active) throw new StoreError('inuse', `script ${name} is active`);
      await tx.query('DELETE FROM sieve_scripts WHERE user_id = $1 AND name = $2', [this.scope.userId, name]);
    });
  }

  async sieveRename(from: string, to: string): Promise<void> {
    await this.locked(async (tx) => {
      if (!(await this.exists(tx, from))) throw new StoreError('nonexistent', `no script named ${from}`);
      if (from === to) return;
      if (await this.exists(tx, to)) throw new StoreError('alreadyexists', `a script named ${to} exists`);
      await tx.query('UPDATE sieve_scripts SET name = $1 WHERE user_id = $2 AND name = $3', [to, this.scope.userId, from]);
    });
  }

  async sieveSetActive(name: string | null): Promise<void> {
    await this.locked(async (tx) => {
      if (name !== null && !(await this.exists(tx, name))) throw new StoreError('nonexistent', `no script named ${name}`);
      await tx.query('UPDATE sieve_scripts SET active = false WHERE user_id = $1 AND active', [this.scope.userId]);
      if (name !== null) await tx.query('UPDATE sieve_scripts SET active = true WHERE user_id = $1 AND name = $2', [this.scope.userId, name]);
    });
  }

  async sieveActive(): Promise<{ name: string; content: string } | null> {
    const rows = await query<{ name: string; content: string }>(this.pool, 'SELECT name, content FROM sieve_scripts WHERE user_id = $1 AND active', [
      this.scope.userId,
    ]);
    return rows[0] ?? null;
  }

  async vacationRemember(handle: string, address: string, until: Date): Promise<void> {
    await query(
      this.pool,
      `INSERT INTO sieve_vacation (user_id, handle, address, until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, handle, address) DO UPDATE SET until = excluded.until`,
      [this.scope.userId, handle, vacationKey(address), until],
    );
  }

  async vacationClaim(handle: string, address: string, now: Date, until: Date): Promise<boolean> {
    // One statement: the row is inserted, or an ended one updated (a row returned); while a live
    // row exists the WHERE fails and nothing returns. ON CONFLICT takes the row lock, so of two
    // concurrent claims on any nodes the second waits, then sees the first one's row (Read Committed).
    const rows = await query(
      this.pool,
      `INSERT INTO sieve_vacation (user_id, handle, address, until) VALUES ($1, $2, $3, $4)
       ON CONFLICT (user_id, handle, address) DO UPDATE SET until = excluded.until WHERE sieve_vacation.until <= $5
       RETURNING 1`,
      [this.scope.userId, handle, vacationKey(address), until, now],
    );
    return rows.length === 1;
  }

  async vacationRelease(handle: string, address: string, until: Date): Promise<void> {
    await query(this.pool, 'DELETE FROM sieve_vacation WHERE user_id = $1 AND handle = $2 AND address = $3 AND until = $4', [
      this.scope.userId,
      handle,
      vacationKey(address),
      until,
    ]);
  }

  async vacationAnswered(handle: string, address: string, now: Date): Promise<boolean> {
    const rows = await query(this.pool, 'SELECT 1 FROM sieve_vacation WHERE user_id = $1 AND handle = $2 AND address = $3 AND until > $4', [
      this.scope.userId,
      handle,
      vacationKey(address),
      now,
    ]);
    return rows.length > 0;
  }

  async vacationList(now: Date): Promise<VacationMemory[]> {
    const rows = await query<{ handle: string; address: string; until: Date }>(
      this.pool,
      'SELECT handle, address, until FROM sieve_vacation WHERE user_id = $1 AND until > $2 ORDER BY handle, address',
      [this.scope.userId, now],
    );
    return rows.map((r) => ({ handle: r.handle, address: r.address, until: new Date(r.until) }));
  }

  async vacationPrune(now: Date): Promise<number> {
    const rows = await query(this.pool, 'DELETE FROM sieve_vacation WHERE user_id = $1 AND until <= $2 RETURNING 1', [this.scope.userId, now]);
    return rows.length;
  }
}
