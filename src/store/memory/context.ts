/** What the per-user handles share with their MemoryStore: allocation, limits, the feed, caches. */
import type { ChangeFeed } from '../change-feed.js';
import type { TextCache } from '../search-eval.js';
import type { MailboxChange, QuotaDefaults, SpecialUse } from '../types.js';
import type { MailboxState, UserState } from './state.js';

export interface StoreContext {
  readonly delimiter: string;
  readonly feed: ChangeFeed;
  readonly texts: TextCache;
  readonly maxMessageSize: number;
  /** Expunged UIDs kept per mailbox for QRESYNC (src/store/expunged.ts). */
  readonly expungedRetention: number;
  /** Limits of users without their own (MemoryStoreOptions.quotaDefaults). */
  readonly quotaDefaults?: QuotaDefaults;
  now(): Date;
  /** A new key for a SharedContent (cache identity). */
  nextContentKey(): number;
  /** A new, empty mailbox with a fresh id and UIDVALIDITY (not yet linked into a tree). */
  newMailbox(name: string, specialUse?: SpecialUse): MailboxState;
  /** Every user's state: RESETKEY without a mailbox removes the keys a user holds in anyone's mailboxes. */
  users(): Iterable<UserState>;
}

/** A handle's view: its user's state plus the origin stamped on every change it publishes. */
export interface HandleContext {
  readonly store: StoreContext;
  readonly state: UserState;
  readonly origin?: string;
}

type WithoutOrigin<T> = T extends unknown ? Omit<T, 'origin'> : never;

/** Publishes after the change is applied; callers invoke this only once their mutation is complete. */
export function publish(ctx: HandleContext, change: WithoutOrigin<MailboxChange>): void {
  const full = (ctx.origin === undefined ? change : { ...change, origin: ctx.origin }) as MailboxChange;
  ctx.store.feed.publish(ctx.state.user, full);
}
