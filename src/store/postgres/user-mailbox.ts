/** One user's mail through one handle: the MailStore contract mapped onto the SQL modules. */
import { readUrlauthKey, resetUrlauthKeys } from './urlauth-keys.js';
import type { MessageStructure } from '../../mime/types.js';
import type { TextCache } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import type { SearchOptions } from '../types.js';
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
  MessageStream,
  QuotaState,
  PrivateSeen,
  RecentClaimOptions,
  SpecialUse,
  CreateMailboxOptions,
  UserMailbox,
  MessageExtras,
  MessageExtrasOptions,
  MessageHead,
  MessageHeadOptions,
} from '../types.js';
import { quotaState } from './quota.js';
import { readAcl, writeAcl } from './acl.js';
import { readPrivateSeen, writePrivateSeen } from './private-seen.js';
import { readMetadata, writeMetadata } from './metadata.js';
import type { MetadataEntry, MetadataOptions, MetadataWrite, SetMetadataOptions, UrlauthKeyOptions, UrlauthResetOptions } from '../types.js';
import type { AclEntry } from '../acl.js';
import type { PgScope } from './context.js';
import { toStoreError } from './db.js';
import { createMailbox, deleteMailbox, getMailbox, listMailboxes, renameMailbox, setSubscription, subscriptionNames } from './mailbox-tree.js';
import {
  changedSince,
  claimRecent,
  expungedSince,
  mailboxSnapshot,
  mailboxStatus,
  messageRecords,
  messageExtras,
  messageStructure,
  readMessage,
  messageHeads,
  searchMessages,
  streamMessage,
} from './message-reads.js';
import { appendMessage, appendMessages, replaceMessage, copyMessages, expungeMessages, updateFlags } from './message-writes.js';
import { PgSieveScripts } from './sieve.js';
import type { SieveScriptInfo, VacationMemory } from '../sieve-storage.js';

/** Every call's errors pass through toStoreError: an unreachable database is `unavailable`. */
async function translated<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    throw toStoreError(err);
  }
}

export class PgUserMailbox implements UserMailbox {
  /**
   * Streams this handle asked for whose message is still being looked up. Its writes wait for
   * them: a FETCH that asked for a body before its own session's EXPUNGE must get the body, even
   * though the two queries travel on different pooled connections.
   */
  private readonly pins = new Set<Promise<unknown>>();

  private readonly sieve: PgSieveScripts;

  constructor(
    private readonly scope: PgScope,
    private readonly texts: TextCache,
  ) {
    this.sieve = new PgSieveScripts(scope);
  }

  get user(): string {
    return this.scope.user;
  }

  private async afterPins(): Promise<void> {
    if (this.pins.size > 0) await Promise.allSettled([...this.pins]);
  }

  private mutate<T>(work: () => Promise<T>): Promise<T> {
    return translated(this.afterPins().then(work));
  }

  list(): Promise<MailboxInfo[]> {
    return translated(listMailboxes(this.scope));
  }
  create(name: string, options?: CreateMailboxOptions): Promise<MailboxInfo> {
    return this.mutate(() => createMailbox(this.scope, name, options?.specialUse, options?.maxMailboxes));
  }
  delete(name: string): Promise<void> {
    return this.mutate(() => deleteMailbox(this.scope, name));
  }
  rename(from: string, to: string, options?: RenameMailboxOptions): Promise<void> {
    return this.mutate(() => renameMailbox(this.scope, from, to, options?.maxMailboxes));
  }
  subscribe(name: string, subscribed: boolean): Promise<void> {
    return this.mutate(() => setSubscription(this.scope, name, subscribed));
  }
  getAcl(mailboxId: string): Promise<AclEntry[]> {
    return translated(readAcl(this.scope, mailboxId));
  }
  setAcl(mailboxId: string, identifier: string, rights: string | null): Promise<void> {
    return this.mutate(() => writeAcl(this.scope, mailboxId, identifier, rights));
  }
  getMetadata(mailboxId: string | null, options: MetadataOptions = {}): Promise<MetadataEntry[]> {
    return translated(readMetadata(this.scope, mailboxId, options.viewer));
  }
  setMetadata(mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
    return this.mutate(() => writeMetadata(this.scope, mailboxId, writes, options));
  }
  urlauthKey(mailboxId: string, options: UrlauthKeyOptions = {}): Promise<Buffer | null> {
    return translated(readUrlauthKey(this.scope, mailboxId, options.holder ?? this.scope.user, options.create === true));
  }
  resetUrlauthKeys(mailboxId?: string, options: UrlauthResetOptions = {}): Promise<void> {
    return this.mutate(() => resetUrlauthKeys(this.scope, mailboxId, options.holder));
  }
  privateSeen(mailboxId: string, viewer: string): Promise<PrivateSeen[]> {
    return translated(readPrivateSeen(this.scope, mailboxId, viewer));
  }
  setPrivateSeen(mailboxId: string, viewer: string, uids: number[], seen: boolean, options: { unchangedSince?: number } = {}): Promise<FlagUpdateResult> {
    return this.mutate(() => writePrivateSeen(this.scope, mailboxId, viewer, uids, seen, options.unchangedSince));
  }
  subscriptions(): Promise<string[]> {
    return translated(subscriptionNames(this.scope));
  }
  get(name: string): Promise<MailboxInfo> {
    return translated(getMailbox(this.scope, name));
  }
  status(mailboxId: string): Promise<MailboxStatus> {
    return translated(mailboxStatus(this.scope, mailboxId));
  }
  snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    return translated(mailboxSnapshot(this.scope, mailboxId));
  }
  expungedSince(mailboxId: string, since: number): Promise<number[] | null> {
    return translated(expungedSince(this.scope, mailboxId, since));
  }
  claimRecent(mailboxId: string, options?: RecentClaimOptions): Promise<number> {
    return translated(claimRecent(this.scope, mailboxId, options ?? {}));
  }
  changedSince(mailboxId: string, since: number): Promise<MessageMeta[]> {
    return translated(changedSince(this.scope, mailboxId, since));
  }
  records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
    return translated(messageRecords(this.scope, mailboxId, uids));
  }
  structure(mailboxId: string, uid: number): Promise<MessageStructure> {
    return translated(messageStructure(this.scope, mailboxId, uid));
  }
  read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
    return translated(readMessage(this.scope, mailboxId, uid, range));
  }
  messageHeads(mailboxId: string, uids: number[], options?: MessageHeadOptions): Promise<MessageHead[]> {
    return translated(messageHeads(this.scope, mailboxId, uids, options));
  }
  stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream {
    const { stream, pin } = streamMessage(this.scope, mailboxId, uid, range);
    this.pins.add(pin);
    void pin.finally(() => this.pins.delete(pin)).catch(() => undefined);
    const inner = stream[Symbol.asyncIterator]();
    const pinned = stream.pinned!.catch((err: unknown) => Promise.reject(toStoreError(err)));
    pinned.catch(() => undefined);
    return Object.assign(
      {
        [Symbol.asyncIterator]: () => ({
          next: () => translated(inner.next()),
          return: (value?: unknown) => inner.return?.(value) ?? Promise.resolve({ done: true as const, value: undefined }),
        }),
      },
      { pinned },
    ) as MessageStream;
  }
  messageExtras(mailboxId: string, uids: number[], options?: MessageExtrasOptions): Promise<MessageExtras[]> {
    return translated(messageExtras(this.scope, mailboxId, uids, options));
  }
  search(mailboxId: string, query: SearchQuery, options: SearchOptions = {}): Promise<number[]> {
    return translated(searchMessages(this.scope, mailboxId, query, this.texts, options.progress));
  }
  quota(): Promise<QuotaState> {
    return translated(quotaState(this.scope.ctx.pool, this.scope.userId, this.scope.user, this.scope.ctx.quotaDefaults));
  }
  append(mailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<AppendResult> {
    return this.mutate(() => appendMessage(this.scope, mailboxId, input, options?.maxKeywords));
  }

  replace(fromMailboxId: string, uid: number, toMailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<ReplaceResult> {
    return this.mutate(() => replaceMessage(this.scope, fromMailboxId, uid, toMailboxId, input, options?.maxKeywords));
  }

  appendMany(mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]> {
    return this.mutate(() => appendMessages(this.scope, mailboxId, inputs, options?.maxKeywords));
  }

  updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options?: { unchangedSince?: number; maxKeywords?: number },
  ): Promise<FlagUpdateResult> {
    return this.mutate(() => updateFlags(this.scope, mailboxId, uids, operation, flags, options?.unchangedSince, options?.maxKeywords));
  }
  copy(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return this.mutate(() => copyMessages(this.scope, fromMailboxId, uids, toMailboxId, false, options?.maxKeywords));
  }
  move(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return this.mutate(() => copyMessages(this.scope, fromMailboxId, uids, toMailboxId, true, options?.maxKeywords));
  }
  expunge(mailboxId: string, uids?: number[]): Promise<number[]> {
    return this.mutate(() => expungeMessages(this.scope, mailboxId, uids));
  }
  async close(): Promise<void> {
    // Nothing per handle: connections belong to the store's pool.
  }

  // --- Sieve scripts and vacation memory (../sieve-storage.ts) --------------------------------
  sieveList(): Promise<SieveScriptInfo[]> {
    return this.sieve.sieveList();
  }
  sieveGet(name: string): Promise<string> {
    return this.sieve.sieveGet(name);
  }
  sievePut(name: string, content: string): Promise<void> {
    return this.sieve.sievePut(name, content);
  }
  sieveDelete(name: string): Promise<void> {
    return this.sieve.sieveDelete(name);
  }
  sieveRename(from: string, to: string): Promise<void> {
    return this.sieve.sieveRename(from, to);
  }
  sieveSetActive(name: string | null): Promise<void> {
    return this.sieve.sieveSetActive(name);
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
