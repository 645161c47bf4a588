/**
 * Each user's active Sieve script, compiled, kept between deliveries: reading it from the store
 * and hashing its text was a store call and a SHA-256 per delivery (bench/sieve-steps.ts). An
 * entry lasts until the store's change feed says the user's scripts changed (MailboxChange kind
 * 'sieve': ManageSieve PUTSCRIPT/SETACTIVE/RENAMESCRIPT/DELETESCRIPT, `postroom sieve`, another
 * worker or node through PostgreSQL's notifications), or until it is the least recently used of
 * more than `maxUsers`.
 *
 * The user is watched before the script is read, so a change committed while it is read drops the
 * entry it fills: the next delivery reads again. A failed read is not kept.
 */
import type { MailboxChange } from '../store/types.js';
import { WatchedUsers, type UserChangeSource } from './watched-users.js';

const SCRIPT_CHANGES: ReadonlySet<MailboxChange['kind']> = new Set(['sieve']);

export type ActiveScriptSource = UserChangeSource;

interface Entry<T> {
  value: Promise<T>;
  /** The value once `value` has resolved (and the entry is still the user's). */
  settled: { value: T } | null;
}

export class ActiveScriptCache<T> {
  private readonly entries: WatchedUsers<Entry<T>>;

  constructor(
    changes: ActiveScriptSource,
    maxUsers: number,
    /** The change kinds that drop a user's entry: the scripts ('sieve'); IMAP Sieve adds 'metadata'. */
    kinds: ReadonlySet<MailboxChange['kind']> = SCRIPT_CHANGES,
  ) {
    this.entries = new WatchedUsers(changes, maxUsers, kinds);
  }

  /** The user's value, from `load` on first use and after each change of the user's scripts. */
  get(user: string, load: () => Promise<T>): Promise<T> {
    const found = this.entries.get(user);
    if (found) return found.value;
    const entry = this.entries.add(user, { value: undefined as unknown as Promise<T>, settled: null });
    entry.value = load();
    entry.value.then(
      (value) => {
        if (this.entries.holds(user, entry)) entry.settled = { value };
      },
      () => this.entries.drop(user, entry),
    );
    return entry.value;
  }

  /**
   * The user's value when it is known already (loaded, and no change since), without a promise —
   * asked several times per delivery, and each await was a turn of the microtask queue; else
   * undefined (then `get`).
   */
  known(user: string): { value: T } | undefined {
    return this.entries.get(user)?.settled ?? undefined;
  }

  /** Users with an entry (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entry and stops watching (the filter is closed). */
  clear(): void {
    this.entries.clear();
  }
}
