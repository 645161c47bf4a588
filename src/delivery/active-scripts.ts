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
import type { MailboxChange, MailStore } from '../store/types.js';

const SCRIPT_CHANGES: ReadonlySet<MailboxChange['kind']> = new Set(['sieve']);

export type ActiveScriptSource = Pick<MailStore, 'watch'>;

interface Entry<T> {
  value: Promise<T>;
  /** The value once `value` has resolved (and the entry is still the user's). */
  settled: { value: T } | null;
  unwatch: () => void;
}

export class ActiveScriptCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly changes: ActiveScriptSource,
    private readonly maxUsers: number,
    /** The change kinds that drop a user's entry: the scripts ('sieve'); IMAP Sieve adds 'metadata'. */
    private readonly kinds: ReadonlySet<MailboxChange['kind']> = SCRIPT_CHANGES,
  ) {}

  /** The user's value, from `load` on first use and after each change of the user's scripts. */
  get(user: string, load: () => Promise<T>): Promise<T> {
    const found = this.entries.get(user);
    if (found) {
      this.touch(user, found);
      return found.value;
    }
    const entry: Entry<T> = { value: undefined as unknown as Promise<T>, settled: null, unwatch: () => undefined };
    entry.unwatch = this.changes.watch(user, (change) => {
      if (this.kinds.has(change.kind)) this.drop(user, entry);
    });
    this.entries.set(user, entry);
    entry.value = load();
    entry.value.then(
      (value) => {
        if (this.entries.get(user) === entry) entry.settled = { value };
      },
      () => this.drop(user, entry),
    );
    if (this.entries.size > this.maxUsers) {
      const [oldest, old] = this.entries.entries().next().value as [string, Entry<T>];
      this.drop(oldest, old);
    }
    return entry.value;
  }

  /**
   * The user's value when it is known already (loaded, and no change since), without a promise —
   * asked several times per delivery, and each await was a turn of the microtask queue; else
   * undefined (then `get`).
   */
  known(user: string): { value: T } | undefined {
    const found = this.entries.get(user);
    if (!found?.settled) return undefined;
    this.touch(user, found);
    return found.settled;
  }

  private touch(user: string, entry: Entry<T>): void {
    this.entries.delete(user);
    this.entries.set(user, entry); // most recently used last
  }

  /** Users with an entry (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entry and stops watching (the filter is closed). */
  clear(): void {
    for (const [user, entry] of [...this.entries]) this.drop(user, entry);
  }

  private drop(user: string, entry: Entry<T>): void {
    if (this.entries.get(user) === entry) this.entries.delete(user);
    entry.unwatch();
  }
}
