/**
 * Each user's mailboxes by name, as delivery looks them up: INBOX (or the detail mailbox) for
 * every message, and a Sieve `fileinto`'s target. Each lookup was a store call of two SQL reads
 * (the row and its subscription), on the path of every delivery — for a name that almost never
 * changes. An entry lasts until the store's change feed says the user's mailboxes changed
 * (MailboxChange kind 'mailboxes': CREATE, DELETE, RENAME, a subscription or ACL change, another
 * node through PostgreSQL's notifications; or 'uidvalidity'), or until its user is the least
 * recently delivered to of more than `maxUsers`.
 *
 * As in ActiveScriptCache, the user is watched before the first read, so a change committed while
 * a name is read drops the entry the read would fill. Only the user's own mailboxes are kept: one
 * another user shares (MailboxInfo.myRights) changes on its owner's feed, not on this user's. A
 * change another node makes reaches this cache a few milliseconds later; a delivery in that window
 * to a mailbox just deleted fails as it would have without the cache a moment earlier (a temporary
 * failure: the MTA tries again), and the pipeline then forgets the user's entry (forget()).
 */
import type { MailboxChange, MailboxInfo, MailStore, UserMailbox } from '../store/types.js';
import { takeRecent } from '../util/recent-map.js';

export type MailboxChangeSource = Pick<MailStore, 'watch'>;

const TREE_CHANGES: ReadonlySet<MailboxChange['kind']> = new Set(['mailboxes', 'uidvalidity']);

interface Entry {
  names: Map<string, MailboxInfo>;
  unwatch: () => void;
}

export class MailboxLookups {
  private readonly users = new Map<string, Entry>();

  constructor(
    private readonly changes: MailboxChangeSource,
    private readonly maxUsers: number,
  ) {}

  /** The mailbox called `name` of the handle's user: at once when known, else from the store (which may throw). */
  get(mail: UserMailbox, name: string): MailboxInfo | Promise<MailboxInfo> {
    const user = mail.user;
    let entry = takeRecent(this.users, user); // most recently used last
    if (entry) {
      const known = entry.names.get(name);
      if (known) return known;
    } else {
      entry = this.watch(user);
    }
    const asked = entry;
    return mail.get(name).then((info) => {
      // Not kept when the user's mailboxes changed meanwhile (the entry was dropped), nor another user's mailbox.
      if (this.users.get(user) === asked && info.myRights === undefined) asked.names.set(name, info);
      return info;
    });
  }

  /** Forgets what is known of `user`'s mailboxes (a delivery into one of them failed). */
  forget(user: string): void {
    const entry = this.users.get(user);
    if (entry) this.drop(user, entry);
  }

  /** Users with an entry (tests). */
  get size(): number {
    return this.users.size;
  }

  /** Forgets everything and stops watching. */
  clear(): void {
    for (const [user, entry] of [...this.users]) this.drop(user, entry);
  }

  private watch(user: string): Entry {
    const entry: Entry = { names: new Map(), unwatch: () => undefined };
    entry.unwatch = this.changes.watch(user, (change) => {
      if (TREE_CHANGES.has(change.kind)) this.drop(user, entry);
    });
    this.users.set(user, entry);
    if (this.users.size > this.maxUsers) {
      const [oldest, old] = this.users.entries().next().value as [string, Entry];
      this.drop(oldest, old);
    }
    return entry;
  }

  private drop(user: string, entry: Entry): void {
    if (this.users.get(user) === entry) this.users.delete(user);
    entry.unwatch();
  }
}
