/**
 * Per-user entries that last until the store's change feed reports a change of one of `kinds` for
 * that user (another worker's or node's too, through the store's feed), or until the user is the
 * least recently used of more than `maxUsers`: what delivery keeps between messages (the active
 * Sieve script, active-scripts.ts; the mailboxes by name, mailbox-lookups.ts).
 *
 * An entry is watched from the moment it is added, before its owner fills it from the store, so a
 * change committed during that read drops the entry: holds() then tells the filler not to keep
 * what it read.
 */
import type { MailboxChange, MailStore } from '../store/types.js';
import { takeRecent } from '../util/recent-map.js';

export type UserChangeSource = Pick<MailStore, 'watch'>;

interface Watched<E> {
  value: E;
  unwatch: () => void;
}

export class WatchedUsers<E> {
  private readonly entries = new Map<string, Watched<E>>();

  constructor(
    private readonly changes: UserChangeSource,
    private readonly maxUsers: number,
    private readonly kinds: ReadonlySet<MailboxChange['kind']>,
  ) {}

  /** The user's entry, marked as the most recently used; undefined when there is none. */
  get(user: string): E | undefined {
    return takeRecent(this.entries, user)?.value;
  }

  /** Makes `value` the user's entry, watched from now on; the least recently used user goes past the bound. */
  add(user: string, value: E): E {
    const watched: Watched<E> = { value, unwatch: () => undefined };
    watched.unwatch = this.changes.watch(user, (change) => {
      if (this.kinds.has(change.kind)) this.drop(user, value);
    });
    this.entries.set(user, watched);
    if (this.entries.size > this.maxUsers) {
      const [oldest, old] = this.entries.entries().next().value as [string, Watched<E>];
      this.drop(oldest, old.value);
    }
    return value;
  }

  /** Whether `value` is still the user's entry (no change dropped it since it was added). */
  holds(user: string, value: E): boolean {
    return this.entries.get(user)?.value === value;
  }

  /** Forgets the user's entry (only `value`, when given) and stops watching for it. */
  drop(user: string, value?: E): void {
    const watched = this.entries.get(user);
    if (!watched || (value !== undefined && watched.value !== value)) return;
    this.entries.delete(user);
    watched.unwatch();
  }

  /** Users with an entry (tests, metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entry and stops watching. */
  clear(): void {
    for (const user of [...this.entries.keys()]) this.drop(user);
  }
}
