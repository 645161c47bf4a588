/** Sieve scripts and vacation memory of one user in SQLite (contract: ../sieve-storage.ts; tables: schema v7). */
import { StoreError } from '../errors.js';
import { vacationKey, type SieveScriptInfo, type SieveScriptStorage, type VacationMemory } from '../sieve-storage.js';
import { retryBusy, write, type UserScope } from './context.js';

interface ScriptRow {
  name: string;
  active: number;
  size: number;
}

export class SqliteSieveScripts implements SieveScriptStorage {
  constructor(private readonly scope: UserScope) {}

  /** Reads run synchronously; the wrapper turns throws into rejections and classifies disk/damage errors. */
  private async read<T>(fn: () => T): Promise<T> {
    try {
      return fn();
    } catch (err) {
      throw this.scope.ctx.health.classify(err);
    }
  }

  /**
   * A write: committed, then resolved once the WAL holding it is synced (like mailbox-tree writes).
   * `scripts`: it changed the scripts, which the user's watchers hear (kind 'sieve') once durable.
   */
  private async change<T>(fn: () => T, scripts = false): Promise<T> {
    const { ctx } = this.scope;
    let result: T;
    try {
      result = await retryBusy(ctx, () => write(ctx, fn));
      await ctx.durable.sync();
      ctx.health.writeSucceeded();
    } catch (err) {
      throw ctx.health.classify(err);
    }
    if (scripts) ctx.feed.publish(this.scope.user, { kind: 'sieve', origin: this.scope.origin });
    return result;
  }

  private exists(name: string): boolean {
    return this.scope.ctx.sql.get('SELECT 1 FROM sieve_scripts WHERE user_id = ? AND name = ?').get(this.scope.userId, name) !== undefined;
  }

  sieveList(): Promise<SieveScriptInfo[]> {
    return this.read(() => {
      const rows = this.scope.ctx.sql
        .get('SELECT name, active, length(CAST(content AS BLOB)) AS size FROM sieve_scripts WHERE user_id = ? ORDER BY name')
        .all(this.scope.userId) as ScriptRow[];
      return rows.map((r) => ({ name: r.name, active: r.active === 1, size: r.size }));
    });
  }

  sieveGet(name: string): Promise<string> {
    return this.read(() => {
      const content = this.scope.ctx.sql.get('SELECT content FROM sieve_scripts WHERE user_id = ? AND name = ?').pluck().get(this.scope.userId, name) as
        | string
        | undefined;
      if (content === undefined) throw new StoreError('nonexistent', `no script named ${name}`);
      return content;
    });
  }

  sievePut(name: string, content: string): Promise<void> {
    return this.change(() => {
      this.scope.ctx.sql
        .get('INSERT INTO sieve_scripts (user_id, name, content) VALUES (?, ?, ?) ON CONFLICT (user_id, name) DO UPDATE SET content = excluded.content')
        .run(this.scope.userId, name, content);
    }, true);
  }

  sieveDelete(name: string): Promise<void> {
    return this.change(() => {
      const active = this.scope.ctx.sql.get('SELECT active FROM sieve_scripts WHERE user_id = ? AND name = ?').pluck().get(this.scope.userId, name) as
        | number
        | undefined;
      if (active === undefined) throw new StoreError('nonexistent', `no script named ${name}`);
      if (active === 1) throw new StoreError('inuse', `script ${name} is active`);
      this.scope.ctx.sql.get('DELETE FROM sieve_scripts WHERE user_id = ? AND name = ?').run(this.scope.userId, name);
    }, true);
  }

  sieveRename(from: string, to: string): Promise<void> {
    return this.change(() => {
      if (!this.exists(from)) throw new StoreError('nonexistent', `no script named ${from}`);
      if (from === to) return;
      if (this.exists(to)) throw new StoreError('alreadyexists', `a script named ${to} exists`);
      this.scope.ctx.sql.get('UPDATE sieve_scripts SET name = ? WHERE user_id = ? AND name = ?').run(to, this.scope.userId, from);
    }, true);
  }

  sieveSetActive(name: string | null): Promise<void> {
    return this.change(() => {
      if (name !== null && !this.exists(name)) throw new StoreError('nonexistent', `no script named ${name}`);
      this.scope.ctx.sql.get('UPDATE sieve_scripts SET active = 0 WHERE user_id = ? AND active = 1').run(this.scope.userId);
      if (name !== null) this.scope.ctx.sql.get('UPDATE sieve_scripts SET active = 1 WHERE user_id = ? AND name = ?').run(this.scope.userId, name);
    }, true);
  }

  sieveActive(): Promise<{ name: string; content: string } | null> {
    return this.read(() => {
      const row = this.scope.ctx.sql.get('SELECT name, content FROM sieve_scripts WHERE user_id = ? AND active = 1').get(this.scope.userId) as
        | { name: string; content: string }
        | undefined;
      return row ?? null;
    });
  }

  vacationRemember(handle: string, address: string, until: Date): Promise<void> {
    return this.change(() => {
      this.scope.ctx.sql
        .get('INSERT OR REPLACE INTO sieve_vacation (user_id, handle, address, until) VALUES (?, ?, ?, ?)')
        .run(this.scope.userId, handle, vacationKey(address), until.getTime());
    });
  }

  async vacationClaim(handle: string, address: string, now: Date, until: Date): Promise<boolean> {
    // Most claims find the sender answered: a read says so without a write and its WAL sync. The
    // write below decides on its own; the read only spares it.
    if (await this.vacationAnswered(handle, address, now)) return false;
    // One statement: inserted, or an ended memory replaced (changes 1); a live one stays (changes 0).
    return this.change(
      () =>
        this.scope.ctx.sql
          .get(
            `INSERT INTO sieve_vacation (user_id, handle, address, until) VALUES (?, ?, ?, ?)
             ON CONFLICT (user_id, handle, address) DO UPDATE SET until = excluded.until WHERE sieve_vacation.until <= ?`,
          )
          .run(this.scope.userId, handle, vacationKey(address), until.getTime(), now.getTime()).changes === 1,
    );
  }

  vacationRelease(handle: string, address: string, until: Date): Promise<void> {
    return this.change(() => {
      this.scope.ctx.sql
        .get('DELETE FROM sieve_vacation WHERE user_id = ? AND handle = ? AND address = ? AND until = ?')
        .run(this.scope.userId, handle, vacationKey(address), until.getTime());
    });
  }

  vacationAnswered(handle: string, address: string, now: Date): Promise<boolean> {
    return this.read(() => {
      const until = this.scope.ctx.sql
        .get('SELECT until FROM sieve_vacation WHERE user_id = ? AND handle = ? AND address = ?')
        .pluck()
        .get(this.scope.userId, handle, vacationKey(address)) as number | undefined;
      return until !== undefined && until > now.getTime();
    });
  }

  vacationList(now: Date): Promise<VacationMemory[]> {
    return this.read(() => {
      const rows = this.scope.ctx.sql
        .get('SELECT handle, address, until FROM sieve_vacation WHERE user_id = ? AND until > ? ORDER BY handle, address')
        .all(this.scope.userId, now.getTime()) as Array<{ handle: string; address: string; until: number }>;
      return rows.map((r) => ({ handle: r.handle, address: r.address, until: new Date(r.until) }));
    });
  }

  vacationPrune(now: Date): Promise<number> {
    return this.change(() => this.scope.ctx.sql.get('DELETE FROM sieve_vacation WHERE user_id = ? AND until <= ?').run(this.scope.userId, now.getTime()).changes);
  }
}
