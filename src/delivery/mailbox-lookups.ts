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
import type { MailboxChange, MailboxInfo, UserMailbox } from '../store/types.js';
import { WatchedUsers, type UserChangeSource } from './watched-users.js';

export type MailboxChangeSource = UserChangeSource;

const TREE_CHANGES: ReadonlySet<MailboxChange['kind']> = new Set(['mailboxes', 'uidvalidity']);

/** One user's mailboxes by name. */
type Names = Map<string, MailboxInfo>;

export class MailboxLookups {
  private readonly users: WatchedUsers<Names>;

  constructor(changes: MailboxChangeSource, maxUsers: number) {
    this.users = new WatchedUsers(changes, maxUsers, TREE_CHANGES);
  }

  /** The mailbox called `name` of the handle's user: at once when known, else from the store (which may throw). */
  get(mail: UserMailbox, name: string): MailboxInfo | Promise<MailboxInfo> {
    const user = mail.user;
    const names = this.users.get(user) ?? this.users.add(user, new Map());
    const known = names.get(name);
    if (known) return known;
    return mail.get(name).then((info) => {
      // Not kept when the user's mailboxes changed meanwhile (the entry was dropped), nor another user's mailbox.
      if (this.users.holds(user, names) && info.myRights === undefined) names.set(name, info);
      return info;
    });
  }

  /** Forgets what is known of `user`'s mailboxes (a delivery into one of them failed). */
  forget(user: string): void {
    this.users.drop(user);
  }

  /** Users with an entry (tests). */
  get size(): number {
    return this.users.size;
  }

  /** Forgets everything and stops watching. */
  clear(): void {
    this.users.clear();
  }
}
