/**
 * MemoryStore: a complete MailStore kept in process memory. It is the reference backend (the
 * conformance suite is written against its behaviour), the store for tests and demos, and a
 * readable example for anyone writing their own backend. Nothing survives a restart.
 */
import { DEFAULT_EXPUNGED_RETENTION, emptyExpungedLog } from '../expunged.js';
import { ChangeFeed } from '../change-feed.js';
import { StoreError } from '../errors.js';
import { TextCache } from '../search-eval.js';
import { validateMailboxName } from '../names.js';
import type { ChangeListener, MailStore, OpenOptions, QuotaLimits, QuotaState, QuotaDefaults, SpecialUse, UserMailbox } from '../types.js';
import { effectiveLimits, validateLimits } from '../quota.js';
import { aclNames, type SharedMailboxRef } from '../acl.js';
import type { StoreContext } from './context.js';
import { usageOf, type MailboxState, type UserState } from './state.js';
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
  /**
   * Expunged UIDs remembered per mailbox for QRESYNC (src/store/expunged.ts). Default
   * DEFAULT_EXPUNGED_RETENTION (50,000).
   */
  expungedRetention?: number;
  /** Bound of the decoded-text cache used by SEARCH BODY/TEXT (entries). Default 1000. */
  searchCacheEntries?: number;
  /** RFC 9208 limits of users that have none set with setQuota(); default: unlimited. */
  quotaDefaults?: QuotaDefaults;
}

const MAX_UIDVALIDITY = 0xffffffff;

export class MemoryStore implements MailStore {
  readonly delimiter: string;
  readonly crossProcessChanges = false;
  /** EMAILID, PREVIEW and save dates (messages.ts). */
  readonly messageExtras = true;
  /** RFC 5464 annotations (metadata.ts). */
  readonly metadata = true;
  /** RFC 4467 mailbox access keys (UserMailbox.urlauthKey/resetUrlauthKeys). */
  readonly urlauthKeys = true;
  /** Keeps exactly the (CRLF) bytes it was given. */
  readonly lineEnds = 'crlf' as const;
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
      expungedRetention: options.expungedRetention ?? DEFAULT_EXPUNGED_RETENTION,
      now: options.now ?? (() => new Date()),
      newMailbox: (name, specialUse) => this.newMailbox(name, specialUse),
      nextContentKey: () => ++this.contentKeys,
      users: () => this.users.values(),
      ...(options.quotaDefaults ? { quotaDefaults: options.quotaDefaults } : {}),
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

  /**
   * Marks one of `user`'s mailboxes read-only (an archive) or writable again: MailboxInfo.readOnly,
   * and every change of its messages or flags refused with StoreError 'noperm'.
   */
  async setReadOnly(user: string, name: string, readOnly = true): Promise<void> {
    const handle = await this.open(user);
    const id = (await handle.get(name)).id;
    const box = this.users.get(user)!.byId.get(id)!;
    if (readOnly) box.readOnly = true;
    else delete box.readOnly;
    this.feed.publish(user, { kind: 'mailboxes' });
  }

  /**
   * Gives a mailbox a new, higher UIDVALIDITY and renumbers its messages from UID 1, as a backend
   * that lost its UID mapping would (a test kit's fault; RFC 3501 §2.3.1.1), and publishes the
   * `uidvalidity` change: selected sessions end with BYE. Returns the new UIDVALIDITY.
   */
  resetUidValidity(user: string, name: string): number {
    const state = this.users.get(user);
    const box = state?.byName.get(validateMailboxName(name, this.delimiter));
    if (!state || !box || box.noselect) throw new StoreError('nonexistent', `no mailbox ${name}`);
    const next = this.allocateUidValidity();
    box.uidValidity = next > box.uidValidity ? next : box.uidValidity + 1;
    box.messages.forEach((m, i) => (m.uid = i + 1));
    box.uidNext = box.messages.length + 1;
    box.recentMark = box.uidNext;
    delete box.sortData;
    this.feed.publish(user, { kind: 'uidvalidity', mailboxId: box.id });
    return box.uidValidity;
  }

  async getQuota(user: string): Promise<QuotaState> {
    await this.open(user);
    const state = this.users.get(user)!;
    const { limits, source } = await effectiveLimits(user, state.quota, this.options.quotaDefaults);
    return { usage: usageOf(state), limits, source };
  }

  async setQuota(user: string, limits: QuotaLimits | null): Promise<void> {
    await this.open(user);
    const state = this.users.get(user)!;
    if (limits === null) delete state.quota;
    else state.quota = validateLimits(limits);
  }

  async sharedMailboxes(user: string): Promise<SharedMailboxRef[]> {
    const out: SharedMailboxRef[] = [];
    for (const state of this.users.values()) {
      if (state.user === user) continue;
      for (const box of state.byId.values()) {
        if (!box.acl?.some((e) => aclNames(e.identifier, user))) continue;
        out.push({ owner: state.user, mailboxId: box.id, name: box.name, acl: box.acl.map((e) => ({ ...e })) });
      }
    }
    return out;
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
      byModseq: [],
      size: 0,
      expunged: emptyExpungedLog(),
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
