/**
 * MemoryStore: a complete MailStore kept in process memory. It is the reference backend (the
 * conformance suite is written against its behaviour), the store for tests and demos, and a
 * readable example for anyone writing their own backend. Nothing survives a restart.
 */
import { ChangeFeed } from '../change-feed.js';
import { StoreError } from '../errors.js';
import { TextCache } from '../search-eval.js';
import type { ChangeListener, MailStore, OpenOptions, SpecialUse, UserMailbox } from '../types.js';
import type { StoreContext } from './context.js';
import type { MailboxState, UserState } from './state.js';
import { MemoryUserMailbox } from './user-handle.js';

export interface MemoryStoreOptions {
  /** Hierarchy delimiter; default "/". */
  delimiter?: string;
  /**
   * Supplies UIDVALIDITY for each new mailbox. The default is a per-store counter seeded from the
   * clock, so a mailbox re-created under an old name never repeats a previous value (RFC 3501 §2.3.1.1).
   */
  uidValidity?: () => number;
  /** Largest message accepted, in octets (StoreError 'toobig' beyond it). Default 64 MiB. */
  maxMessageSize?: number;
  /** The feed to publish to; pass one to share it with other components. */
  feed?: ChangeFeed;
  /** Clock for default internal dates. */
  now?: () => Date;
  /** Bound of the decoded-text cache used by SEARCH BODY/TEXT (entries). Default 1000. */
  searchCacheEntries?: number;
}

const MAX_UIDVALIDITY = 0xffffffff;

export class MemoryStore implements MailStore {
  readonly delimiter: string;
  readonly crossProcessChanges = false;
  private readonly users = new Map<string, UserState>();
  private readonly context: StoreContext;
  private readonly feed: ChangeFeed;
  private lastUidValidity = 0;
  private nextId = 1;
  private contentKeys = 0;
  private closed = false;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    this.delimiter = options.delimiter ?? '/';
    this.feed = options.feed ?? new ChangeFeed();
    this.context = {
      delimiter: this.delimiter,
      feed: this.feed,
      texts: new TextCache(options.searchCacheEntries ?? 1000),
      maxMessageSize: options.maxMessageSize ?? 64 * 1024 * 1024,
      now: options.now ?? (() => new Date()),
      newMailbox: (name, specialUse) => this.newMailbox(name, specialUse),
      nextContentKey: () => ++this.contentKeys,
    };
  }

  async open(user: string, options: OpenOptions = {}): Promise<UserMailbox> {
    if (this.closed) throw new StoreError('unavailable', 'store is closed');
    let state = this.users.get(user);
    if (!state) {
      state = { user, byName: new Map(), byId: new Map(), subscriptions: new Set(['INBOX']), sieve: { scripts: new Map(), active: null, vacation: new Map() } };
      const inbox = this.newMailbox('INBOX');
      state.byName.set(inbox.name, inbox);
      state.byId.set(inbox.id, inbox);
      this.users.set(user, state);
    }
    return new MemoryUserMailbox({ store: this.context, state, origin: options.origin });
  }

  watch(user: string, listener: ChangeListener): () => void {
    return this.feed.watch(user, listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.context.texts.clear();
  }

  private newMailbox(name: string, specialUse?: SpecialUse): MailboxState {
    const box: MailboxState = {
      id: String(this.nextId++),
      name,
      noselect: false,
      uidValidity: this.allocateUidValidity(),
      uidNext: 1,
      highestModseq: 1,
      recentMark: 1,
      messages: [],
      size: 0,
    };
    if (specialUse) box.specialUse = specialUse;
    return box;
  }

  private allocateUidValidity(): number {
    if (this.options.uidValidity) return this.options.uidValidity();
    const now = Math.floor(Date.now() / 1000);
    this.lastUidValidity = Math.max(this.lastUidValidity + 1, now);
    if (this.lastUidValidity > MAX_UIDVALIDITY) this.lastUidValidity = 1;
    return this.lastUidValidity;
  }
}
