/** One user's mail as seen through one handle; it can only reach the UserState it was given. */
import { randomBytes } from 'node:crypto';
import { expungedSince } from '../expunged.js';
import { changedSince } from './modseq-order.js';
import type { MessageStructure } from '../../mime/types.js';
import { sortedUnique, findMessage, toInfo, usageOf, type StoredMessage } from './state.js';
import { effectiveLimits } from '../quota.js';
import type {
  KeywordLimitOptions,
  RenameMailboxOptions,
  AppendInput,
  AppendInputs,
  ReplaceResult,
  AppendResult,
  ByteRange,
  CopyResult,
  Flag,
  FlagOperation,
  FlagUpdateResult,
  MailboxInfo,
  MailboxSnapshot,
  MailboxStatus,
  MessageMeta,
  MessageRecord,
  RecentClaimOptions,
  SearchQuery,
  SearchOptions,
  SortableMessage,
  SpecialUse,
  CreateMailboxOptions,
  UserMailbox,
  MessageStream,
  QuotaState,
  MessageExtras,
  MessageExtrasOptions,
  PrivateSeen,
} from '../types.js';
import * as seen from './private-seen.js';
import * as meta from './metadata.js';
import type { MetadataEntry, MetadataOptions, MetadataWrite, SetMetadataOptions, UrlauthKeyOptions, UrlauthResetOptions } from '../types.js';
import type { MessageHead, MessageHeadOptions } from '../types.js';
import { headerRange } from '../message-heads.js';
import { publish, type HandleContext } from './context.js';
import { normalizeRights, sortAcl, validateIdentifier, type AclEntry } from '../acl.js';
import { StoreError } from '../errors.js';
import type { MailboxState } from './state.js';
import { hasFlag } from './flags.js';
import * as msg from './messages.js';
import * as tree from './tree.js';
import { MemorySieveScripts } from './sieve.js';
import type { SieveScriptInfo, VacationMemory } from '../sieve-storage.js';

export class MemoryUserMailbox implements UserMailbox {
  private readonly sieve: MemorySieveScripts;

  constructor(private readonly ctx: HandleContext) {
    this.sieve = new MemorySieveScripts(ctx.state.sieve);
  }

  get user(): string {
    return this.ctx.state.user;
  }

  async list(): Promise<MailboxInfo[]> {
    return tree.listMailboxes(this.ctx);
  }

  async create(name: string, options: CreateMailboxOptions = {}): Promise<MailboxInfo> {
    return tree.createMailbox(this.ctx, name, options.specialUse, options.maxMailboxes);
  }

  async delete(name: string): Promise<void> {
    tree.deleteMailbox(this.ctx, name);
  }

  async rename(from: string, to: string, options?: RenameMailboxOptions): Promise<void> {
    tree.renameMailbox(this.ctx, from, to, options?.maxMailboxes);
  }

  async subscribe(name: string, subscribed: boolean): Promise<void> {
    tree.setSubscribed(this.ctx, name, subscribed);
  }

  async subscriptions(): Promise<string[]> {
    return [...this.ctx.state.subscriptions].sort();
  }

  async getAcl(mailboxId: string): Promise<AclEntry[]> {
    return (this.boxById(mailboxId).acl ?? []).map((e) => ({ ...e }));
  }

  async setAcl(mailboxId: string, identifier: string, rights: string | null): Promise<void> {
    const box = this.boxById(mailboxId);
    const rest = (box.acl ?? []).filter((e) => e.identifier !== identifier);
    box.acl = sortAcl(rights ? [...rest, { identifier: validateIdentifier(identifier), rights: normalizeRights(rights) }] : rest);
    if (box.acl.length === 0) delete box.acl;
    publish(this.ctx, { kind: 'mailboxes' });
  }

  async urlauthKey(mailboxId: string, options: UrlauthKeyOptions = {}): Promise<Buffer | null> {
    const box = this.boxById(mailboxId);
    const holder = options.holder ?? this.user;
    let key = box.urlauthKeys?.get(holder);
    if (!key && options.create) (box.urlauthKeys ??= new Map()).set(holder, (key = randomBytes(32)));
    return key ? Buffer.from(key) : null;
  }

  async resetUrlauthKeys(mailboxId?: string, options: UrlauthResetOptions = {}): Promise<void> {
    if (mailboxId !== undefined) {
      const holder = options.holder ?? this.user;
      (this.boxById(mailboxId).urlauthKeys ??= new Map()).set(holder, randomBytes(32));
      publish(this.ctx, { kind: 'urlauth', mailboxId, viewer: holder });
      return;
    }
    // Every key this user holds, in anyone's mailboxes; the other owners' feeds are told too.
    const user = this.user;
    const owners = new Set<string>();
    for (const state of this.ctx.store.users()) {
      for (const box of state.byId.values()) {
        if (!box.urlauthKeys?.delete(user)) continue;
        if (box.urlauthKeys.size === 0) delete box.urlauthKeys;
        if (state.user !== user) owners.add(state.user);
      }
    }
    publish(this.ctx, { kind: 'urlauth', viewer: user });
    for (const owner of owners) {
      const change = { kind: 'urlauth' as const, viewer: user, ...(this.ctx.origin === undefined ? {} : { origin: this.ctx.origin }) };
      this.ctx.store.feed.publish(owner, change);
    }
  }

  async privateSeen(mailboxId: string, viewer: string): Promise<PrivateSeen[]> {
    return seen.privateSeen(this.ctx, mailboxId, viewer);
  }

  async setPrivateSeen(mailboxId: string, viewer: string, uids: number[], value: boolean, options: { unchangedSince?: number } = {}): Promise<FlagUpdateResult> {
    return seen.setPrivateSeen(this.ctx, mailboxId, viewer, uids, value, options.unchangedSince);
  }

  async getMetadata(mailboxId: string | null, options: MetadataOptions = {}): Promise<MetadataEntry[]> {
    return meta.getMetadata(this.ctx, mailboxId, options.viewer);
  }

  async setMetadata(mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
    meta.setMetadata(this.ctx, mailboxId, writes, options);
  }

  private boxById(mailboxId: string): MailboxState {
    const box = this.ctx.state.byId.get(mailboxId);
    if (!box) throw new StoreError('nonexistent', 'no such mailbox');
    return box;
  }

  async get(name: string): Promise<MailboxInfo> {
    return toInfo(this.ctx.state, tree.byName(this.ctx, name));
  }

  async status(mailboxId: string): Promise<MailboxStatus> {
    const box = msg.selectable(this.ctx, mailboxId);
    let unseen = 0;
    let recent = 0;
    for (const m of box.messages) {
      if (!hasFlag(m.flags, '\\Seen')) unseen++;
      if (m.uid >= box.recentMark) recent++;
    }
    return {
      messages: box.messages.length,
      unseen,
      uidNext: box.uidNext,
      uidValidity: box.uidValidity,
      highestModseq: box.highestModseq,
      size: box.size,
      recent,
    };
  }

  async snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    const box = msg.selectable(this.ctx, mailboxId);
    return {
      mailbox: toInfo(this.ctx.state, box),
      uidValidity: box.uidValidity,
      uidNext: box.uidNext,
      highestModseq: box.highestModseq,
      messages: box.messages.map((m) => ({ uid: m.uid, flags: [...m.flags], modseq: m.modseq })),
    };
  }

  async expungedSince(mailboxId: string, since: number): Promise<number[] | null> {
    return expungedSince(msg.selectable(this.ctx, mailboxId).expunged, since);
  }

  async claimRecent(mailboxId: string, options: RecentClaimOptions = {}): Promise<number> {
    const box = msg.selectable(this.ctx, mailboxId);
    const mark = box.recentMark;
    // Read and moved in one synchronous step: no other claim can come between.
    const through = Math.min(options.through ?? box.uidNext - 1, box.uidNext - 1);
    if (!options.peek && through >= mark) box.recentMark = through + 1;
    return mark;
  }

  async changedSince(mailboxId: string, since: number): Promise<MessageMeta[]> {
    return changedSince(msg.selectable(this.ctx, mailboxId), since);
  }

  async records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
    const box = msg.selectable(this.ctx, mailboxId);
    return sortedUnique(uids)
      .map((uid) => findMessage(box, uid))
      .filter((m): m is StoredMessage => m !== undefined)
      .map(msg.toRecord);
  }

  async structure(mailboxId: string, uid: number): Promise<MessageStructure> {
    // A copy: the cached structure is shared by every COPY of the message and must stay intact.
    return structuredClone(msg.structureOf(msg.messageOf(this.ctx, mailboxId, uid).content));
  }

  async read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
    return msg.readMessage(this.ctx, mailboxId, uid, range);
  }

  async messageHeads(mailboxId: string, uids: number[], options: MessageHeadOptions = {}): Promise<MessageHead[]> {
    const box = msg.selectable(this.ctx, mailboxId);
    const out: MessageHead[] = [];
    for (const uid of sortedUnique(uids)) {
      const m = findMessage(box, uid);
      if (!m) continue;
      // The shared structure (read-only by the contract, unlike structure()'s copy), and the
      // header a view of the stored bytes, as read() gives.
      const structure = msg.structureOf(m.content);
      const { start, end } = headerRange(structure);
      out.push(options.header ? { uid, structure, header: m.content.raw.subarray(start, end) } : { uid, structure });
    }
    return out;
  }

  stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream {
    return msg.streamMessage(this.ctx, mailboxId, uid, range);
  }

  async messageExtras(mailboxId: string, uids: number[], options: MessageExtrasOptions = {}): Promise<MessageExtras[]> {
    return msg.messageExtras(this.ctx, mailboxId, uids, options);
  }

  async search(mailboxId: string, query: SearchQuery, options: SearchOptions = {}): Promise<number[]> {
    return msg.searchMessages(this.ctx, mailboxId, query, options);
  }

  async sortData(mailboxId: string): Promise<readonly SortableMessage[]> {
    return msg.sortData(this.ctx, mailboxId);
  }

  async quota(): Promise<QuotaState> {
    const { limits, source } = await effectiveLimits(this.ctx.state.user, this.ctx.state.quota, this.ctx.store.quotaDefaults);
    return { usage: usageOf(this.ctx.state), limits, source };
  }

  append(mailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<AppendResult> {
    return msg.appendMessage(this.ctx, mailboxId, input, options?.maxKeywords);
  }

  replace(fromMailboxId: string, uid: number, toMailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<ReplaceResult> {
    return msg.replaceMessage(this.ctx, fromMailboxId, uid, toMailboxId, input, options?.maxKeywords);
  }

  appendMany(mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]> {
    return msg.appendMessages(this.ctx, mailboxId, inputs, options?.maxKeywords);
  }

  async updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options: { unchangedSince?: number; maxKeywords?: number } = {},
  ): Promise<FlagUpdateResult> {
    return msg.updateFlags(this.ctx, mailboxId, uids, operation, flags, options.unchangedSince, options.maxKeywords);
  }

  async copy(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return msg.copyMessages(this.ctx, fromMailboxId, uids, toMailboxId, options?.maxKeywords);
  }

  async move(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return msg.moveMessages(this.ctx, fromMailboxId, uids, toMailboxId, options?.maxKeywords);
  }

  async expunge(mailboxId: string, uids?: number[]): Promise<number[]> {
    return msg.expungeMessages(this.ctx, mailboxId, uids);
  }

  async close(): Promise<void> {
    // Nothing is held per handle; the user's state belongs to the store.
  }

  // --- Sieve scripts and vacation memory (../sieve-storage.ts) --------------------------------
  sieveList(): Promise<SieveScriptInfo[]> {
    return this.sieve.sieveList();
  }
  sieveGet(name: string): Promise<string> {
    return this.sieve.sieveGet(name);
  }
  async sievePut(name: string, content: string): Promise<void> {
    await this.sieve.sievePut(name, content);
    publish(this.ctx, { kind: 'sieve' });
  }
  async sieveDelete(name: string): Promise<void> {
    await this.sieve.sieveDelete(name);
    publish(this.ctx, { kind: 'sieve' });
  }
  async sieveRename(from: string, to: string): Promise<void> {
    await this.sieve.sieveRename(from, to);
    publish(this.ctx, { kind: 'sieve' });
  }
  async sieveSetActive(name: string | null): Promise<void> {
    await this.sieve.sieveSetActive(name);
    publish(this.ctx, { kind: 'sieve' });
  }
  sieveActive(): Promise<{ name: string; content: string } | null> {
    return this.sieve.sieveActive();
  }
  vacationRemember(handle: string, address: string, until: Date): Promise<void> {
    return this.sieve.vacationRemember(handle, address, until);
  }
  vacationList(now: Date): Promise<VacationMemory[]> {
    return this.sieve.vacationList(now);
  }
  vacationClaim(handle: string, address: string, now: Date, until: Date): Promise<boolean> {
    return this.sieve.vacationClaim(handle, address, now, until);
  }
  vacationRelease(handle: string, address: string, until: Date): Promise<void> {
    return this.sieve.vacationRelease(handle, address, until);
  }
  vacationAnswered(handle: string, address: string, now: Date): Promise<boolean> {
    return this.sieve.vacationAnswered(handle, address, now);
  }
  vacationPrune(now: Date): Promise<number> {
    return this.sieve.vacationPrune(now);
  }
}
