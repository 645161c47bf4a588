/**
 * One user's mail with the shared namespace (RFC 4314 + RFC 2342): the user's own mailboxes as the
 * store has them, plus the mailboxes other users share with the user, under
 * "Shared/<owner>/<name>" (names.ts). This is the ONE place where rights are checked: every call
 * that reaches another user's mailbox goes through access() and the right RFC 4314 §4 asks for;
 * the protocol layers only read MailboxInfo.myRights to present them (READ-ONLY, PERMANENTFLAGS)
 * and to refuse early. The owner of a mailbox has every right (src/store/acl.ts), so the user's
 * own mailboxes pass straight through, unchanged and unchecked.
 *
 * "No right, no trace": a mailbox of another user that the user may not `l`ook up is answered
 * exactly like a name that does not exist (same error kind and text), and LIST leaves it out.
 *
 * Another user's mail is reached through that user's own store handle (MailStore.open), opened on
 * first use with this session's origin, so its change feed — the owner's — tells every session,
 * the owner's included, what this user did there; watchFor() subscribes to the right feed.
 * Per-user \Seen (docs/sharing.md): in another user's mailbox whose store keeps it (privateSeen and
 * setPrivateSeen), this user's \Seen is their own row, not the message's flag — every read here
 * shows the message as this user sees it (private-seen.ts), and every \Seen change is theirs.
 *
 * Writes across two owners (COPY/MOVE from one user's mailbox to another's) are a read and an
 * APPEND per message, acknowledged once every APPEND is durable; MOVE then flags and expunges the
 * originals (not one atomic step, unlike MOVE within one user's mail: docs/sharing.md).
 */
import { StoreError } from '../errors.js';
import { effectiveRights, permittedFlags, rightForFlag, type AclEntry } from '../acl.js';
import type {
  AppendInput,
  AppendInputs,
  ReplaceResult,
  AppendResult,
  ByteRange,
  ChangeListener,
  CopyResult,
  CreateMailboxOptions,
  Flag,
  FlagChange,
  FlagOperation,
  FlagUpdateResult,
  KeywordLimitOptions,
  MailboxInfo,
  MailboxSnapshot,
  MailboxChange,
  MailboxStatus,
  MailStore,
  MessageMeta,
  MessageRecord,
  MessageStream,
  RecentClaimOptions,
  RenameMailboxOptions,
  SearchQuery,
  SearchOptions,
  SortableMessage,
  SortKeyNames,
  UserMailbox,
  UrlauthKeyOptions,
  MessageExtras,
  MessageExtrasOptions,
  MessageHead,
  MessageHeadOptions,
  MetadataEntry,
  MetadataOptions,
  MetadataWrite,
  SetMetadataOptions,
} from '../types.js';
import type { MessageStructure } from '../../mime/types.js';
import { sortData } from '../sort/sort-data.js';
import { messageHeads } from '../message-heads.js';
import { appendAllOrNone, mapAppendInputs, replaceMessage } from '../append-many.js';
import { messagesChangedSince } from '../changed-since.js';
import { parseSharedId, parseSharedName, sharedId, sharedName, type SharedName } from './names.js';
import { changeIsFor, isPrivateEntry } from '../metadata.js';
import { asViewer, isSeenFlag, needsViewerRows, queryForViewer, seenRows, viewerFlags, type SeenRows } from './private-seen.js';

/** Where a mailbox id leads: the handle that holds it, its id there, and the user's rights. */
interface Access {
  handle: UserMailbox;
  id: string;
  owner: string;
  rights: string;
}

export class SharedNamespaceMail implements UserMailbox {
  private readonly owners = new Map<string, Promise<UserMailbox>>();
  private readonly delimiter: string;

  constructor(
    private readonly store: MailStore,
    private readonly own: UserMailbox,
    private readonly origin: string | undefined,
    readonly prefix: string,
  ) {
    this.delimiter = store.delimiter;
  }

  get user(): string {
    return this.own.user;
  }

  // --- resolving ------------------------------------------------------------------------------

  private ownerHandle(owner: string): Promise<UserMailbox> {
    let handle = this.owners.get(owner);
    if (!handle) {
      handle = this.store.open(owner, this.origin === undefined ? {} : { origin: this.origin });
      handle.catch(() => this.owners.delete(owner));
      this.owners.set(owner, handle);
    }
    return handle;
  }

  /** The one answer for a shared name the user may not see, whether it exists or not. */
  private noTrace(name: string): StoreError {
    return new StoreError('nonexistent', `Mailbox doesn't exist: ${name}`);
  }

  private noPerm(): StoreError {
    return new StoreError('noperm', 'Permission denied');
  }

  private async rightsOf(handle: UserMailbox, owner: string, id: string): Promise<string> {
    const acl: AclEntry[] = handle.getAcl ? await handle.getAcl(id) : [];
    return effectiveRights(this.user, owner, acl);
  }

  /**
   * Another user's mailbox by shared id, with the user's rights; `right` is required (StoreError
   * 'noperm'), and without `l` the mailbox does not exist for this user.
   */
  private async access(mailboxId: string, right?: string): Promise<Access> {
    const ref = parseSharedId(mailboxId);
    if (!ref) throw new StoreError('nonexistent', 'no such mailbox');
    if (ref.owner === '') throw new StoreError('cannot', 'This name cannot hold messages');
    const handle = await this.ownerHandle(ref.owner);
    let rights: string;
    try {
      rights = await this.rightsOf(handle, ref.owner, ref.id);
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'nonexistent') throw new StoreError('nonexistent', 'no such mailbox');
      throw err;
    }
    if (!rights.includes('l')) throw new StoreError('nonexistent', 'no such mailbox');
    if (right) for (const r of right) if (!rights.includes(r)) throw this.noPerm();
    return { handle, id: ref.id, owner: ref.owner, rights };
  }

  /**
   * The owner's handle, only when the owner shares something the user may see: a name of anyone
   * else is not looked up at all (opening a handle would create the user in some stores, and the
   * answer must not depend on whether the user exists).
   */
  private async visibleOwner(owner: string, name: string): Promise<UserMailbox> {
    const refs = this.store.sharedMailboxes ? await this.store.sharedMailboxes(this.user) : [];
    if (!refs.some((r) => r.owner === owner && effectiveRights(this.user, r.owner, r.acl).includes('l'))) throw this.noTrace(name);
    return this.ownerHandle(owner);
  }

  /**
   * The shared-namespace reading of a name, or null for the user's own. A user who already has a
   * mailbox of their own named like the prefix keeps it and everything under it (mail kept from
   * before sharing existed must stay reachable): for that user the shared namespace is off.
   */
  private async parse(name: string): Promise<SharedName | null> {
    const shared = parseSharedName(name, this.prefix, this.delimiter);
    if (!shared || !(await this.active())) return null;
    return shared;
  }

  /** False when the user's own tree holds the prefix (see parse). */
  async active(): Promise<boolean> {
    try {
      await this.own.get(this.prefix);
      return false;
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'nonexistent') return true;
      throw err;
    }
  }

  private translate(info: MailboxInfo, owner: string, rights: string, subscribed: ReadonlySet<string>): MailboxInfo {
    const name = sharedName(this.prefix, this.delimiter, owner, info.name);
    const out: MailboxInfo = { id: sharedId(owner, info.id), name, noselect: info.noselect, subscribed: subscribed.has(name), myRights: rights };
    if (info.noinferiors) out.noinferiors = true;
    if (info.readOnly) out.readOnly = true;
    return out;
  }

  private virtual(name: string, subscribed: ReadonlySet<string>): MailboxInfo {
    return { id: sharedId('', name), name, noselect: true, subscribed: subscribed.has(name), myRights: '' };
  }

  /** The shared part of the tree: every mailbox the user may `l`, with \Noselect parents. */
  private async sharedList(): Promise<MailboxInfo[]> {
    if (!this.store.sharedMailboxes) return [];
    const refs = await this.store.sharedMailboxes(this.user);
    // Nothing shared with this user (the common case): no subscriptions to read for it (every LIST).
    if (refs.length === 0) return [];
    const subscribed = new Set(await this.own.subscriptions());
    const out = new Map<string, MailboxInfo>();
    const byOwner = new Map<string, Map<string, string>>();
    for (const ref of refs) {
      const rights = effectiveRights(this.user, ref.owner, ref.acl);
      if (!rights.includes('l')) continue;
      let ids = byOwner.get(ref.owner);
      if (!ids) byOwner.set(ref.owner, (ids = new Map()));
      ids.set(ref.mailboxId, rights);
    }
    for (const [owner, ids] of byOwner) {
      const handle = await this.ownerHandle(owner);
      for (const info of await handle.list()) {
        const rights = ids.get(info.id);
        if (rights === undefined) continue;
        const shown = this.translate(info, owner, rights, subscribed);
        out.set(shown.name, shown);
        // Parents the user may not see are shown as \Noselect names only (RFC 4314 §4, LIST).
        const levels = shown.name.split(this.delimiter);
        for (let i = 1; i < levels.length; i++) {
          const parent = levels.slice(0, i).join(this.delimiter);
          if (!out.has(parent)) out.set(parent, this.virtual(parent, subscribed));
        }
      }
    }
    return [...out.values()];
  }

  // --- the mailbox tree -----------------------------------------------------------------------

  async list(): Promise<MailboxInfo[]> {
    const own = await this.own.list();
    // active() from the list in hand: asking the store for the prefix by name costs a thrown
    // 'nonexistent' error on every LIST of a user without such a mailbox.
    if (own.some((b) => b.name === this.prefix)) return own;
    return [...own, ...(await this.sharedList())];
  }

  async get(name: string): Promise<MailboxInfo> {
    const shared = await this.parse(name);
    if (!shared) return this.own.get(name);
    if (shared.inner === '') {
      const found = (await this.sharedList()).find((b) => b.name === name);
      if (!found) throw this.noTrace(name);
      return found;
    }
    const handle = await this.visibleOwner(shared.owner, name);
    let info: MailboxInfo;
    let rights: string;
    try {
      info = await handle.get(shared.inner);
      rights = await this.rightsOf(handle, shared.owner, info.id);
    } catch (err) {
      if (err instanceof StoreError && err.kind === 'nonexistent') throw this.noTrace(name);
      throw err;
    }
    if (!rights.includes('l')) {
      // A parent of something the user may see is there as a \Noselect name.
      const parent = (await this.sharedList()).find((b) => b.name === name);
      if (parent) return parent;
      throw this.noTrace(name);
    }
    return this.translate(info, shared.owner, rights, new Set(await this.own.subscriptions()));
  }

  async create(name: string, options: CreateMailboxOptions = {}): Promise<MailboxInfo> {
    const shared = await this.parse(name);
    if (!shared) return this.own.create(name, options);
    if (shared.inner === '') throw this.noPerm();
    const handle = await this.visibleOwner(shared.owner, name);
    // RFC 4314 §4: "k" on the nearest existing parent; none at the top of the owner's tree.
    const levels = shared.inner.split(this.delimiter);
    let parent: MailboxInfo | null = null;
    for (let i = levels.length - 1; i >= 1 && !parent; i--) {
      parent = await handle.get(levels.slice(0, i).join(this.delimiter)).catch(() => null);
    }
    if (!parent) throw this.noPerm();
    const rights = await this.rightsOf(handle, shared.owner, parent.id);
    if (!rights.includes('l')) throw this.noPerm();
    if (!rights.includes('k')) throw this.noPerm();
    const created = await handle.create(shared.inner, options.specialUse ? { specialUse: options.specialUse } : {});
    // RFC 4314 §4: a new mailbox SHOULD inherit the ACL of its parent.
    if (handle.getAcl && handle.setAcl) for (const e of await handle.getAcl(parent.id)) await handle.setAcl(created.id, e.identifier, e.rights);
    return this.translate(created, shared.owner, await this.rightsOf(handle, shared.owner, created.id), new Set(await this.own.subscriptions()));
  }

  async delete(name: string): Promise<void> {
    const shared = await this.parse(name);
    if (!shared) return this.own.delete(name);
    const info = await this.get(name);
    if (shared.inner === '' || parseSharedId(info.id)?.owner === '') throw this.noPerm();
    const a = await this.access(info.id, 'x');
    await a.handle.delete(shared.inner);
  }

  async rename(from: string, to: string, options?: RenameMailboxOptions): Promise<void> {
    const source = await this.parse(from);
    const target = await this.parse(to);
    if (!source && !target) return this.own.rename(from, to, options);
    if (!source || !target || source.owner !== target.owner || target.inner === '') {
      // Across owners a RENAME would have to move mail between users: refused (Dovecot does too).
      if (source) await this.get(from);
      throw new StoreError('cannot', 'Cannot rename across namespaces');
    }
    const info = await this.get(from);
    const a = await this.access(info.id, 'x');
    const levels = target.inner.split(this.delimiter);
    let parent: MailboxInfo | null = null;
    for (let i = levels.length - 1; i >= 1 && !parent; i--) parent = await a.handle.get(levels.slice(0, i).join(this.delimiter)).catch(() => null);
    if (!parent || !(await this.rightsOf(a.handle, a.owner, parent.id)).includes('k')) throw this.noPerm();
    await a.handle.rename(source.inner, target.inner, options);
  }

  subscribe(name: string, subscribed: boolean): Promise<void> {
    return this.own.subscribe(name, subscribed);
  }

  subscriptions(): Promise<string[]> {
    return this.own.subscriptions();
  }

  // --- ACLs -----------------------------------------------------------------------------------

  async getAcl(mailboxId: string): Promise<AclEntry[]> {
    if (!parseSharedId(mailboxId)) return this.own.getAcl ? this.own.getAcl(mailboxId) : [];
    const a = await this.access(mailboxId, 'a');
    return a.handle.getAcl ? a.handle.getAcl(a.id) : [];
  }

  async setAcl(mailboxId: string, identifier: string, rights: string | null): Promise<void> {
    if (!parseSharedId(mailboxId)) {
      if (!this.own.setAcl) throw new StoreError('cannot', 'This store keeps no access control lists');
      return this.own.setAcl(mailboxId, identifier, rights);
    }
    const a = await this.access(mailboxId, 'a');
    if (!a.handle.setAcl) throw new StoreError('cannot', 'This store keeps no access control lists');
    await a.handle.setAcl(a.id, identifier, rights);
  }

  // --- annotations (RFC 5464) --------------------------------------------------------------

  /**
   * RFC 5464 §3.3 with ACL: another user's mailbox needs `l` (else it does not exist) and one of
   * `r s w i p` (else NO [NOPERM]), to read and to write; writing a /shared entry also needs `w`,
   * as Cyrus asks — a shared value is changed for everyone, like a flag other than \Seen/\Deleted
   * (RFC 4314 §4). /private entries there are this user's own (the owner's handle keeps them per
   * viewer). The user's own mailboxes and server scope pass straight through.
   */
  private async metadataAccess(mailboxId: string, writes?: readonly MetadataWrite[]): Promise<Access> {
    const a = await this.access(mailboxId);
    if (!/[rswip]/.test(a.rights)) throw this.noPerm();
    if (writes?.some((w) => !isPrivateEntry(w.entry)) && !a.rights.includes('w')) throw this.noPerm();
    return a;
  }

  async getMetadata(mailboxId: string | null, options: MetadataOptions = {}): Promise<MetadataEntry[]> {
    if (mailboxId === null || !parseSharedId(mailboxId)) {
      if (!this.own.getMetadata) throw new StoreError('cannot', 'This store keeps no annotations');
      return this.own.getMetadata(mailboxId, options);
    }
    const a = await this.metadataAccess(mailboxId);
    if (!a.handle.getMetadata) throw new StoreError('cannot', 'This store keeps no annotations');
    return a.handle.getMetadata(a.id, { viewer: this.user });
  }

  async setMetadata(mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
    if (mailboxId === null || !parseSharedId(mailboxId)) {
      if (!this.own.setMetadata) throw new StoreError('cannot', 'This store keeps no annotations');
      return this.own.setMetadata(mailboxId, writes, options);
    }
    const a = await this.metadataAccess(mailboxId, writes);
    if (!a.handle.setMetadata) throw new StoreError('cannot', 'This store keeps no annotations');
    await a.handle.setMetadata(a.id, writes, { ...options, viewer: this.user });
  }

  // --- URLAUTH keys (RFC 4467) ---------------------------------------------------------------

  /**
   * This user's key of a mailbox the user may read: one of the user's own, or — for another user's
   * mailbox where the ACL grants `r` (RFC 4467 §7 GENURLAUTH: a URL for any message the user can
   * read) — the key the owner's store keeps for this user (RFC 4467 §2.2: "two users sharing the
   * same mailbox each have a different mailbox access key for that mailbox"). So a reader's URLs
   * verify with the reader's key only, are revoked by the reader's RESETKEY (not by the owner's or
   * another reader's) and by DELETE, and stop working when the reader loses `r`: URLFETCH reads them
   * with the authorizing user's rights at that moment. `holder` is always this user here.
   */
  async urlauthKey(mailboxId: string, options: UrlauthKeyOptions = {}): Promise<Buffer | null> {
    const create = options.create === true;
    if (!parseSharedId(mailboxId)) {
      if (!this.own.urlauthKey) throw new StoreError('cannot', 'This store keeps no URLAUTH keys');
      return this.own.urlauthKey(mailboxId, { create });
    }
    const a = await this.access(mailboxId, 'r');
    if (!a.handle.urlauthKey) throw new StoreError('cannot', 'This store keeps no URLAUTH keys');
    return a.handle.urlauthKey(a.id, { create, holder: this.user });
  }

  /**
   * RESETKEY replaces this user's key only (RFC 4467 §7: "in the user's mailbox access key table"):
   * for the user's own mailboxes as the store does it; for another user's mailbox the user reads
   * (`r`), the key the owner's store keeps for this user — the owner's and the other readers' URLs
   * still verify. Without a mailbox: every key the user holds, in the user's own mailboxes and in
   * those of others (the store removes them by holder, also for mailboxes no longer shared).
   */
  async resetUrlauthKeys(mailboxId?: string): Promise<void> {
    if (mailboxId === undefined || !parseSharedId(mailboxId)) {
      if (!this.own.resetUrlauthKeys) throw new StoreError('cannot', 'This store keeps no URLAUTH keys');
      return this.own.resetUrlauthKeys(mailboxId);
    }
    const a = await this.access(mailboxId, 'r');
    if (!a.handle.resetUrlauthKeys) throw new StoreError('cannot', 'This store keeps no URLAUTH keys');
    await a.handle.resetUrlauthKeys(a.id, { holder: this.user });
  }

  /** The owner of a mailbox by id (the user for the user's own). */
  ownerOf(mailboxId: string): string {
    return parseSharedId(mailboxId)?.owner || this.user;
  }

  /**
   * Subscribes to the changes of the mailbox with this id: the owner's feed, with the owner's
   * mailbox ids turned into this view's. For the user's own mailboxes, the user's feed as is.
   */
  watchFor(mailboxId: string, listener: ChangeListener): () => void {
    const ref = parseSharedId(mailboxId);
    // Another user's own \Seen (setPrivateSeen) is published on the owner's feed for that user only.
    // So are another user's /private annotations (metadata).
    const forMe = (change: MailboxChange): boolean => changeIsFor(change, this.user);
    if (!ref || ref.owner === '') return this.store.watch(this.user, (change) => forMe(change) && listener(change));
    const owner = ref.owner;
    const shown = (change: MailboxChange): MailboxChange => {
      if (change.kind === 'mailboxes' || change.kind === 'sieve' || change.mailboxId === undefined) return change;
      return { ...change, mailboxId: sharedId(owner, change.mailboxId) };
    };
    // The owner's flag changes of this mailbox carry the owner's \Seen: it is replaced by this
    // user's, kept here from the store's rows and this user's own changes. Until the rows are
    // read, changes wait in order (a few milliseconds; the view only queues them anyway).
    let seen: Map<number, boolean> | null = null;
    let off = false;
    const waiting: MailboxChange[] = [];
    const deliver = (change: MailboxChange): void => {
      if (change.kind !== 'flags' || change.mailboxId !== ref.id || off || !seen) return listener(shown(change));
      if (change.viewer !== undefined) {
        for (const c of change.changes) seen.set(c.uid, c.flags.some(isSeenFlag));
        return listener(shown(change));
      }
      const mine = seen;
      listener(shown({ ...change, changes: change.changes.map((c) => ({ ...c, flags: viewerFlags(c.flags, mine.get(c.uid) ?? false) })) }));
    };
    const stop = this.store.watch(owner, (change) => {
      // The owner's server annotations are none of this user's business.
      if (!forMe(change) || (change.kind === 'metadata' && change.mailboxId === undefined)) return;
      if (seen || off) deliver(change);
      else waiting.push(change);
    });
    void this.ownerHandle(owner)
      .then(async (handle) => {
        if (!handle.privateSeen || !handle.setPrivateSeen) return null;
        return handle.privateSeen(ref.id, this.user);
      })
      .then(
        (rows) => {
          if (rows === null) off = true;
          else seen = new Map(rows.map((r) => [r.uid, r.seen]));
        },
        // The mailbox went (or cannot be read): nothing of it will be shown anyway.
        () => {
          seen = new Map();
        },
      )
      .then(() => {
        for (let c = waiting.shift(); c; c = waiting.shift()) deliver(c);
      });
    return stop;
  }

  /** True when this user's \Seen of the mailbox is their own (another user's, in a store that keeps it). */
  private privateSeenOn(a: Access): boolean {
    return a.owner !== this.user && typeof a.handle.privateSeen === 'function' && typeof a.handle.setPrivateSeen === 'function';
  }

  /** This user's \Seen rows of the mailbox, or null when the \Seen of the messages is theirs to read. */
  private async rowsFor(a: Access): Promise<SeenRows | null> {
    if (!this.privateSeenOn(a)) return null;
    return seenRows(await a.handle.privateSeen!(a.id, this.user));
  }

  // --- one mailbox ----------------------------------------------------------------------------

  async status(mailboxId: string): Promise<MailboxStatus> {
    if (!parseSharedId(mailboxId)) return this.own.status(mailboxId);
    const a = await this.access(mailboxId, 'r');
    const st = await a.handle.status(a.id);
    const rows = await this.rowsFor(a);
    if (!rows) return st;
    let seen = 0;
    for (const r of rows.values()) if (r.seen) seen++;
    return { ...st, unseen: Math.max(0, st.messages - seen) };
  }

  async snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    if (!parseSharedId(mailboxId)) return this.own.snapshot(mailboxId);
    const a = await this.access(mailboxId, 'r');
    const snap = await a.handle.snapshot(a.id);
    const rows = await this.rowsFor(a);
    const info = this.translate(snap.mailbox, a.owner, a.rights, new Set(await this.own.subscriptions()));
    // A new object: a store may keep the snapshot it returned (its messages are the owner's view).
    return { ...snap, mailbox: info, messages: rows ? snap.messages.map((m) => asViewer(m, rows)) : snap.messages };
  }

  async claimRecent(mailboxId: string, options?: RecentClaimOptions): Promise<number> {
    if (!parseSharedId(mailboxId)) return this.own.claimRecent(mailboxId, options);
    const a = await this.access(mailboxId, 'r');
    return a.handle.claimRecent(a.id, options);
  }

  async records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
    if (!parseSharedId(mailboxId)) return this.own.records(mailboxId, uids);
    const a = await this.access(mailboxId, 'r');
    const records = await a.handle.records(a.id, uids);
    const rows = await this.rowsFor(a);
    return rows ? records.map((r) => asViewer(r, rows)) : records;
  }

  async structure(mailboxId: string, uid: number): Promise<MessageStructure> {
    if (!parseSharedId(mailboxId)) return this.own.structure(mailboxId, uid);
    const a = await this.access(mailboxId, 'r');
    return a.handle.structure(a.id, uid);
  }

  async messageHeads(mailboxId: string, uids: number[], options?: MessageHeadOptions): Promise<MessageHead[]> {
    if (!parseSharedId(mailboxId)) return messageHeads(this.own, mailboxId, uids, options);
    const a = await this.access(mailboxId, 'r');
    return messageHeads(a.handle, a.id, uids, options);
  }

  async read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
    if (!parseSharedId(mailboxId)) return this.own.read(mailboxId, uid, range);
    const a = await this.access(mailboxId, 'r');
    return a.handle.read(a.id, uid, range);
  }

  stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream {
    if (!parseSharedId(mailboxId)) return this.own.stream(mailboxId, uid, range);
    // The rights are looked up asynchronously: `pinned` says when the bytes are held (or not).
    const inner = this.access(mailboxId, 'r').then((a) => a.handle.stream(a.id, uid, range));
    const pinned = inner.then((s) => s.pinned);
    pinned.catch(() => undefined);
    return {
      pinned,
      async *[Symbol.asyncIterator]() {
        yield* await inner;
      },
    };
  }

  async search(mailboxId: string, query: SearchQuery, options: SearchOptions = {}): Promise<number[]> {
    if (!parseSharedId(mailboxId)) return this.own.search(mailboxId, query, options);
    const a = await this.access(mailboxId, 'r');
    if (!this.privateSeenOn(a) || !needsViewerRows(query)) return a.handle.search(a.id, query, options);
    return a.handle.search(a.id, queryForViewer(query, await a.handle.privateSeen!(a.id, this.user)), options);
  }

  async messageExtras(mailboxId: string, uids: number[], options?: MessageExtrasOptions): Promise<MessageExtras[]> {
    const target = parseSharedId(mailboxId) ? await this.access(mailboxId, 'r') : { handle: this.own, id: mailboxId };
    if (!target.handle.messageExtras) throw new StoreError('cannot', 'this store keeps no EMAILID or PREVIEW');
    return target.handle.messageExtras(target.id, uids, options);
  }

  async sortData(mailboxId: string, keys?: SortKeyNames): Promise<readonly SortableMessage[]> {
    if (!parseSharedId(mailboxId)) return sortData(this.own, mailboxId, undefined, keys);
    const a = await this.access(mailboxId, 'r');
    return sortData(a.handle, a.id, undefined, keys);
  }

  async expungedSince(mailboxId: string, since: number): Promise<number[] | null> {
    if (!parseSharedId(mailboxId)) return this.own.expungedSince ? this.own.expungedSince(mailboxId, since) : null;
    const a = await this.access(mailboxId, 'r');
    return a.handle.expungedSince ? a.handle.expungedSince(a.id, since) : null;
  }

  async changedSince(mailboxId: string, since: number): Promise<MessageMeta[]> {
    if (!parseSharedId(mailboxId)) return messagesChangedSince(this.own, mailboxId, since);
    const a = await this.access(mailboxId, 'r');
    const changed = await messagesChangedSince(a.handle, a.id, since);
    const rows = await this.rowsFor(a);
    if (!rows) return changed;
    // Also the messages whose \Seen this user changed after `since` (their row's modseq).
    const listed = new Set(changed.map((m) => m.uid));
    const more = [...rows.values()].filter((r) => r.modseq > since && !listed.has(r.uid)).map((r) => r.uid);
    const extra = more.length > 0 ? await a.handle.records(a.id, more) : [];
    return [...changed, ...extra.map((r): MessageMeta => ({ uid: r.uid, flags: r.flags, modseq: r.modseq }))]
      .map((m) => asViewer(m, rows))
      .sort((x, y) => x.uid - y.uid);
  }

  // --- writes ---------------------------------------------------------------------------------

  async append(mailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<AppendResult> {
    if (!parseSharedId(mailboxId)) return this.own.append(mailboxId, input, options);
    const a = await this.access(mailboxId, 'i');
    return this.appendTo(a, input, options);
  }

  /**
   * APPEND into another user's mailbox. RFC 4314 §4: flags the user may not set are dropped, the
   * APPEND does not fail. With per-user \Seen the user's \Seen becomes their own row, not the
   * owner's flag — set right after the message is durable (a second write: a crash in between
   * leaves the message unseen for the user, never lost).
   */
  private async appendTo(a: Access, input: AppendInput, options?: KeywordLimitOptions): Promise<AppendResult> {
    const flags = permittedFlags(input.flags ?? [], a.rights);
    // The owner's flags are not what this user's records() shows (per-user \Seen): no `flags`.
    if (!this.privateSeenOn(a) || !flags.some(isSeenFlag)) return withoutFlags(await a.handle.append(a.id, { ...input, flags }, options));
    const res = withoutFlags(await a.handle.append(a.id, { ...input, flags: flags.filter((f) => !isSeenFlag(f)) }, options));
    const set = await a.handle.setPrivateSeen!(a.id, this.user, [res.uid], true);
    return { ...res, modseq: Math.max(res.modseq, ...set.changed.map((c) => c.modseq)) };
  }

  /** RFC 3502: all or none, through the one helper (src/store/append-many.ts), with the flags the rights allow. */
  async appendMany(mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]> {
    const a = await this.resolve(mailboxId, 'i');
    const privateSeen = this.privateSeenOn(a);
    const seenAt: boolean[] = [];
    // A non-owner's \Seen of the new messages is their own row, written once the messages are.
    const permit = (input: AppendInput): AppendInput => {
      const flags = permittedFlags(input.flags ?? [], a.rights);
      if (!privateSeen) return { ...input, flags };
      seenAt.push(flags.some(isSeenFlag));
      return { ...input, flags: flags.filter((f) => !isSeenFlag(f)) };
    };
    const done = await appendAllOrNone(a.handle, a.id, Array.isArray(inputs) ? inputs.map(permit) : mapAppendInputs(inputs, permit), options);
    const seenUids = done.filter((_, i) => seenAt[i]).map((d) => d.uid);
    if (seenUids.length === 0) return done;
    const set = await a.handle.setPrivateSeen!(a.id, this.user, seenUids, true);
    const modseq = new Map(set.changed.map((c) => [c.uid, c.modseq]));
    return done.map((d) => ({ ...d, modseq: Math.max(d.modseq, modseq.get(d.uid) ?? 0) }));
  }

  async updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options?: { unchangedSince?: number; maxKeywords?: number },
  ): Promise<FlagUpdateResult> {
    if (!parseSharedId(mailboxId)) return this.own.updateFlags(mailboxId, uids, operation, flags, options);
    const a = await this.access(mailboxId);
    if (!this.privateSeenOn(a)) return this.updateSharedFlags(a, uids, operation, flags, options, false);
    // Per-user \Seen: the \Seen part of the STORE is this user's row (with `s`, RFC 4314 §4); the
    // rest goes to the message's flags by the usual rights, keeping the owner's \Seen as it is.
    const askedSeen = flags.some(isSeenFlag);
    const seenTo = operation === 'set' ? askedSeen : askedSeen ? operation === 'add' : null;
    const seenPart = seenTo !== null && a.rights.includes('s');
    const others = flags.filter((f) => !isSeenFlag(f));
    const othersPermitted = permittedFlags(others, a.rights).length > 0 || (operation === 'set' && ['t', 'w'].some((r) => a.rights.includes(r)));
    if (!seenPart && !othersPermitted) {
      if (flags.length === 0 && operation !== 'set') return { changed: [], conflicts: [] };
      throw this.noPerm();
    }
    let targets = uids;
    const conflicts = new Set<number>();
    if (options?.unchangedSince !== undefined) {
      // RFC 7162 UNCHANGEDSINCE against the modseq this user sees (the greater of message and row).
      const since = options.unchangedSince;
      const current = await this.records(mailboxId, uids);
      for (const r of current) if (r.modseq > since) conflicts.add(r.uid);
      targets = current.filter((r) => !conflicts.has(r.uid)).map((r) => r.uid);
    }
    const touched = new Set<number>();
    if (othersPermitted && targets.length > 0) {
      const res = await this.updateSharedFlags(a, targets, operation, others, options, true);
      for (const c of res.changed) touched.add(c.uid);
      for (const u of res.conflicts) conflicts.add(u);
    }
    if (seenPart && targets.length > 0) {
      const res = await a.handle.setPrivateSeen!(a.id, this.user, targets, seenTo, options?.unchangedSince === undefined ? {} : { unchangedSince: options.unchangedSince });
      for (const c of res.changed) touched.add(c.uid);
      for (const u of res.conflicts) conflicts.add(u);
    }
    // What the user sees of the messages now: their flags and modseq after both writes.
    const changed: FlagChange[] = touched.size === 0 ? [] : (await this.records(mailboxId, [...touched])).map((r) => ({ uid: r.uid, flags: r.flags, modseq: r.modseq }));
    return { changed, conflicts: [...conflicts].sort((x, y) => x - y) };
  }

  /**
   * STORE on the message's own flags of another user's mailbox, by RFC 4314 §4: the flags the user
   * has the right for change, the others stay; none at all is NO [NOPERM]. `keepSeen`: the
   * owner's \Seen is not this user's to replace (per-user \Seen).
   */
  private async updateSharedFlags(
    a: Access,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options: { unchangedSince?: number; maxKeywords?: number } | undefined,
    keepSeen: boolean,
  ): Promise<FlagUpdateResult> {
    const mayAll = ['s', 't', 'w'].every((r) => a.rights.includes(r));
    if (mayAll && !(keepSeen && operation === 'set')) return a.handle.updateFlags(a.id, uids, operation, flags, options);
    const allowed = permittedFlags(flags, a.rights);
    // RFC 4314 §4: STORE changes the flags the user has the right for and SHOULD NOT fail while
    // there is one; with none (or no right at all for a replacing STORE) it is refused.
    const anyRight = ['s', 't', 'w'].some((r) => a.rights.includes(r));
    if (operation !== 'set') {
      if (allowed.length === 0) {
        if (flags.length === 0) return { changed: [], conflicts: [] };
        throw this.noPerm();
      }
      return a.handle.updateFlags(a.id, uids, operation, allowed, options);
    }
    if (!anyRight) throw this.noPerm();
    // A replacing STORE keeps, per message, the flags the user may not change.
    const records = await a.handle.records(a.id, uids);
    const groups = new Map<string, { flags: Flag[]; uids: number[] }>();
    for (const r of records) {
      const kept = r.flags.filter((f) => !a.rights.includes(rightForFlag(f)) || (keepSeen && isSeenFlag(f)));
      const next = [...new Set([...kept, ...allowed])].sort();
      const key = next.join(' ');
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { flags: next, uids: [] }));
      g.uids.push(r.uid);
    }
    const changed: FlagChange[] = [];
    const conflicts: number[] = [];
    for (const g of groups.values()) {
      const res = await a.handle.updateFlags(a.id, g.uids, 'set', g.flags, options);
      changed.push(...res.changed);
      conflicts.push(...res.conflicts);
    }
    changed.sort((x, y) => x.uid - y.uid);
    conflicts.sort((x, y) => x - y);
    return { changed, conflicts };
  }

  async copy(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    if (!parseSharedId(fromMailboxId) && !parseSharedId(toMailboxId)) return this.own.copy(fromMailboxId, uids, toMailboxId, options);
    const from = await this.resolve(fromMailboxId, 'r');
    const to = await this.resolve(toMailboxId, 'i');
    if (from.owner === to.owner && ['s', 't', 'w'].every((r) => to.rights.includes(r))) {
      const result = await from.handle.copy(from.id, uids, to.id, options);
      await this.carrySeen(from, to, result);
      return result;
    }
    return this.copyAcross(from, uids, to, options);
  }

  async move(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    if (!parseSharedId(fromMailboxId) && !parseSharedId(toMailboxId)) return this.own.move(fromMailboxId, uids, toMailboxId, options);
    // RFC 6851 §3.3 with RFC 4314: MOVE is COPY + STORE \Deleted + EXPUNGE, so "t" and "e" on the source.
    const from = await this.resolve(fromMailboxId, 'rte');
    const to = await this.resolve(toMailboxId, 'i');
    if (from.owner === to.owner && ['s', 't', 'w'].every((r) => to.rights.includes(r))) {
      // This user's own \Seen of the messages, read before the MOVE takes their rows away.
      const seen = this.privateSeenOn(from) ? await this.rowsFor(from) : null;
      const result = await from.handle.move(from.id, uids, to.id, options);
      await this.carrySeen(from, to, result, seen);
      return result;
    }
    const result = await this.copyAcross(from, uids, to, options);
    const moved = result.mapping.map(([src]) => src);
    if (moved.length > 0) {
      await from.handle.updateFlags(from.id, moved, 'add', ['\\Deleted']);
      await from.handle.expunge(from.id, moved);
    }
    return result;
  }

  /**
   * RFC 8508 §3.3 with RFC 4314: REPLACE is APPEND to the target and STORE \Deleted + EXPUNGE of
   * the old message, so "i" on the target and "t" and "e" on the source. One write when both are
   * the same owner's, otherwise the append and then the expunge (replaceMessage's fallback).
   */
  async replace(fromMailboxId: string, uid: number, toMailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<ReplaceResult> {
    if (!parseSharedId(fromMailboxId) && !parseSharedId(toMailboxId)) return replaceMessage(this.own, fromMailboxId, uid, toMailboxId, input, options);
    const from = await this.resolve(fromMailboxId, 'te');
    const to = await this.resolve(toMailboxId, 'i');
    const permitted = { ...input, flags: permittedFlags(input.flags ?? [], to.rights) };
    if (from.owner === to.owner) return replaceMessage(from.handle, from.id, uid, to.id, permitted, options);
    const appended = withoutFlags(await to.handle.append(to.id, permitted, options));
    await from.handle.updateFlags(from.id, [uid], 'add', ['\\Deleted']);
    const removed = await from.handle.expunge(from.id, [uid]);
    return { appended, expunged: removed.includes(uid) };
  }

  async expunge(mailboxId: string, uids?: number[]): Promise<number[]> {
    if (!parseSharedId(mailboxId)) return this.own.expunge(mailboxId, uids);
    const a = await this.access(mailboxId, 'e');
    return a.handle.expunge(a.id, uids);
  }

  async close(): Promise<void> {
    const handles = [...this.owners.values()];
    this.owners.clear();
    for (const h of handles) await h.then((x) => x.close()).catch(() => undefined);
    await this.own.close();
  }

  /** Own mailboxes resolve to the user's handle with every right. */
  private async resolve(mailboxId: string, right: string): Promise<Access> {
    if (!parseSharedId(mailboxId)) return { handle: this.own, id: mailboxId, owner: this.user, rights: 'lrswipkxtea' };
    return this.access(mailboxId, right);
  }

  /**
   * After a COPY or MOVE within one owner's mail by another user: the copies take this user's
   * \Seen (their rows in the target), as they had it in the source. The owner's flags, \Seen
   * included, were copied by the store as they are.
   */
  private async carrySeen(from: Access, to: Access, result: CopyResult, known?: SeenRows | null): Promise<void> {
    if (!this.privateSeenOn(to) || result.mapping.length === 0) return;
    const rows = known ?? (await this.rowsFor(from));
    const seenIn = (uid: number): boolean => (rows ? rows.get(uid)?.seen ?? false : false);
    // From the user's own (or a not-private) mailbox their \Seen is the message's flag.
    const sourceFlags = rows ? null : new Map((await from.handle.records(from.id, result.mapping.map(([src]) => src))).map((r) => [r.uid, r.flags]));
    const seenTargets = result.mapping
      .filter(([src]) => (sourceFlags ? (sourceFlags.get(src) ?? []).some(isSeenFlag) : seenIn(src)))
      .map(([, dst]) => dst);
    if (seenTargets.length > 0 && to.rights.includes('s')) await to.handle.setPrivateSeen!(to.id, this.user, seenTargets, true);
  }

  /** COPY between two owners' mail (or without every flag right): read and APPEND each message. */
  private async copyAcross(from: Access, uids: number[], to: Access, options?: KeywordLimitOptions): Promise<CopyResult> {
    // The flags as this user sees them: their own \Seen in another user's mailbox.
    const rows = await this.rowsFor(from);
    const records = (await from.handle.records(from.id, uids)).map((r) => (rows ? asViewer(r, rows) : r));
    const mapping: Array<[number, number]> = [];
    let uidValidity = 0;
    for (const r of records) {
      const content = await from.handle.read(from.id, r.uid);
      const res = await this.appendTo(to, { content, flags: r.flags, internalDate: r.internalDate }, options);
      uidValidity = res.uidValidity;
      mapping.push([r.uid, res.uid]);
    }
    if (mapping.length === 0) uidValidity = (await to.handle.status(to.id)).uidValidity;
    return { uidValidity, mapping };
  }
}

/**
 * The handle a protocol session should use: with the shared namespace when the store keeps ACLs
 * (getAcl/setAcl and sharedMailboxes), otherwise the store's own handle unchanged.
 */
export async function openWithSharing(store: MailStore, user: string, origin: string | undefined, prefix: string): Promise<UserMailbox> {
  const own = await store.open(user, origin === undefined ? {} : { origin });
  if (!store.sharedMailboxes || !own.getAcl || !own.setAcl) return own;
  const view = new SharedNamespaceMail(store, own, origin, prefix);
  // Anything else the handle offers (Sieve script storage...) is the user's own.
  return new Proxy(view, {
    get(target, prop, receiver) {
      if (prop in target) return Reflect.get(target, prop, receiver);
      const value: unknown = Reflect.get(own, prop, own);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(own) : value;
    },
  }) as UserMailbox;
}

/**
 * True for a handle made by openWithSharing() with the shared namespace on (off for a user whose
 * own tree holds the prefix).
 */
export async function hasSharedNamespace(mail: UserMailbox): Promise<boolean> {
  const view = mail as Partial<SharedNamespaceMail>;
  return typeof view.watchFor === 'function' && typeof view.active === 'function' && (await view.active());
}

/** AppendResult.flags are the owner's; a sharing user's records() may differ, so they are dropped. */
function withoutFlags(result: AppendResult): AppendResult {
  if (result.flags === undefined) return result;
  const { flags: _owners, ...rest } = result;
  return rest;
}
