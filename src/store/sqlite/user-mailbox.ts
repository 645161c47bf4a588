/** One user's mail through one handle: a thin adapter from the MailStore contract to the SQL modules. */
import { expungedSinceRows } from './expunged-log.js';
import type { MessageStructure } from '../../mime/types.js';
import type { TextCache } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import type { MessageHead, MessageHeadOptions, SearchOptions } from '../types.js';
import type {
  KeywordLimitOptions,
  RenameMailboxOptions,
  AppendInput,
  AppendInputs,
  AppendOptions,
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
  SortableMessage,
  SortKeyNames,
  SpecialUse,
  CreateMailboxOptions,
  UserMailbox,
  MessageStream,
  QuotaState,
  MessageExtras,
  MessageExtrasOptions,
  PrivateSeen,
} from '../types.js';
import { messageExtras } from './message-extras.js';
import { createUrlauthKey, readUrlauthKey, resetUrlauthKeys } from './urlauth-keys.js';
import { quotaState } from './quota.js';
import { readAcl, writeAcl } from './acl.js';
import { readPrivateSeen, writePrivateSeen } from './private-seen.js';
import { readMetadata, writeMetadata } from './metadata.js';
import type { MetadataEntry, MetadataOptions, MetadataWrite, SetMetadataOptions, UrlauthKeyOptions, UrlauthResetOptions } from '../types.js';
import type { AclEntry } from '../acl.js';
import { readTransaction, retryBusy, type UserScope } from './context.js';
import { StoreError } from '../errors.js';
import {
  createMailbox,
  createWaitsForPurge,
  deleteMailbox,
  getMailbox,
  listMailboxes,
  renameMailbox,
  setSubscription,
  subscriptionNames,
} from './mailbox-tree.js';
import {
  claimRecent,
  mailboxSnapshot,
  changedSince,
  messageRecords,
  messageStructure,
  readMessage,
  messageHeads,
  sortData,
  streamMessage,
} from './message-reads.js';
import { mailboxStatus } from './mailbox-status.js';
import { searchMessages } from './search.js';
import { SqliteSieveScripts } from './sieve.js';
import type { SieveScriptInfo, VacationMemory } from '../sieve-storage.js';
import { appendMessage, appendMessages, replaceMessage, copyMessages, expungeMessages, updateFlags } from './message-writes.js';

export class SqliteUserMailbox implements UserMailbox {
  private readonly sieve: SqliteSieveScripts;

  constructor(
    private readonly scope: UserScope,
    private readonly texts: TextCache,
  ) {
    this.sieve = new SqliteSieveScripts(scope);
  }

  get user(): string {
    return this.scope.user;
  }

  /**
   * Every call goes through here: the SQL runs synchronously, so the async wrapper turns its throws
   * into rejections, as the contract expects; a full disk or damaged data becomes the StoreError
   * kind the protocols map (health.ts), logged once rather than per failure.
   */
  private async call<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.scope.ctx.health.classify(err);
    }
  }

  /**
   * A read: as `call`, its statements in one read transaction when other processes share the
   * database (readTransaction in context.ts), so that they all see the same moment.
   */
  private reading<T>(fn: () => T | Promise<T>): Promise<T> {
    // Alone in the folder (the default) a read needs no transaction: no wrapper made per read.
    if (!this.scope.ctx.shared) return this.call(fn);
    return this.call(() => readTransaction(this.scope.ctx, fn));
  }

  /** A write: as `call`, and its success ends a disk-full episode. */
  private async write<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = await this.call(fn);
    this.scope.ctx.health.writeSucceeded();
    return result;
  }

  list(): Promise<MailboxInfo[]> {
    return this.reading(() => listMailboxes(this.scope));
  }
  // Mailbox-tree writes commit synchronously, outside the group commit's queue: they wait while a
  // checkpoint holds writes back (checkpointer.ts), and like message writes they resolve only once
  // the WAL holding them is synced (wal-sync.ts).
  create(name: string, options?: CreateMailboxOptions): Promise<MailboxInfo> {
    return this.write(async () => {
      const { ctx } = this.scope;
      // A \Noselect parent deleted a moment ago may still hold messages being purged: they must be
      // gone before the name becomes selectable again (bounded: each round finishes a purge).
      for (let round = 0; round < 100 && createWaitsForPurge(this.scope, name); round++) {
        ctx.purger.kick(ctx);
        await ctx.purger.idle();
      }
      const info = await retryBusy(ctx, () => createMailbox(this.scope, name, options?.specialUse, options?.maxMailboxes));
      await this.scope.ctx.durable.sync();
      return info;
    });
  }
  delete(name: string): Promise<void> {
    return this.write(() => deleteMailbox(this.scope, name));
  }
  rename(from: string, to: string, options?: RenameMailboxOptions): Promise<void> {
    return this.write(async () => {
      await retryBusy(this.scope.ctx, () => renameMailbox(this.scope, from, to, options?.maxMailboxes));
      await this.scope.ctx.durable.sync();
    });
  }
  subscribe(name: string, subscribed: boolean): Promise<void> {
    return this.write(async () => {
      await retryBusy(this.scope.ctx, () => setSubscription(this.scope, name, subscribed));
      await this.scope.ctx.durable.sync();
    });
  }
  getAcl(mailboxId: string): Promise<AclEntry[]> {
    return this.reading(() => readAcl(this.scope, mailboxId));
  }
  setAcl(mailboxId: string, identifier: string, rights: string | null): Promise<void> {
    return this.write(() => writeAcl(this.scope, mailboxId, identifier, rights));
  }
  getMetadata(mailboxId: string | null, options: MetadataOptions = {}): Promise<MetadataEntry[]> {
    return this.reading(() => readMetadata(this.scope, mailboxId, options.viewer));
  }
  setMetadata(mailboxId: string | null, writes: MetadataWrite[], options: SetMetadataOptions = {}): Promise<void> {
    return this.write(() => writeMetadata(this.scope, mailboxId, writes, options));
  }
  privateSeen(mailboxId: string, viewer: string): Promise<PrivateSeen[]> {
    return this.reading(() => readPrivateSeen(this.scope, mailboxId, viewer));
  }
  setPrivateSeen(mailboxId: string, viewer: string, uids: number[], seen: boolean, options: { unchangedSince?: number } = {}): Promise<FlagUpdateResult> {
    return this.write(() => writePrivateSeen(this.scope, mailboxId, viewer, uids, seen, options.unchangedSince));
  }
  async urlauthKey(mailboxId: string, options: UrlauthKeyOptions = {}): Promise<Buffer | null> {
    const holder = options.holder ?? this.scope.user;
    const key = await this.reading(() => readUrlauthKey(this.scope, mailboxId, holder));
    if (key || !options.create) return key;
    return this.write(() => createUrlauthKey(this.scope, mailboxId, holder));
  }
  resetUrlauthKeys(mailboxId?: string, options: UrlauthResetOptions = {}): Promise<void> {
    return this.write(() => resetUrlauthKeys(this.scope, mailboxId, options.holder));
  }
  subscriptions(): Promise<string[]> {
    return this.reading(() => subscriptionNames(this.scope));
  }
  get(name: string): Promise<MailboxInfo> {
    return this.reading(() => getMailbox(this.scope, name));
  }
  status(mailboxId: string): Promise<MailboxStatus> {
    return this.reading(() => mailboxStatus(this.scope, mailboxId));
  }
  snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    return this.reading(() => mailboxSnapshot(this.scope, mailboxId));
  }
  expungedSince(mailboxId: string, since: number): Promise<number[] | null> {
    return this.reading(() => expungedSinceRows(this.scope, mailboxId, since));
  }
  /**
   * On a full disk the claim cannot be written; SELECT still works, as a peek: this session sees
   * the new messages as \Recent and so may one other session. A full disk must not stop anyone
   * from reading mail over a flag that RFC 9051 dropped.
   */
  async claimRecent(mailboxId: string, options?: RecentClaimOptions): Promise<number> {
    const peeked = await this.reading(() => claimRecent(this.scope, mailboxId, { ...options, peek: true }));
    if (options?.peek === true) return peeked;
    try {
      return await this.reading(() => claimRecent(this.scope, mailboxId, options ?? {}));
    } catch (err) {
      // (The mark as it was before: a claim that committed but could not be synced is not ours.)
      if (err instanceof StoreError && err.kind === 'nospace') return peeked;
      throw err;
    }
  }
  changedSince(mailboxId: string, since: number): Promise<MessageMeta[]> {
    return this.reading(() => changedSince(this.scope, mailboxId, since));
  }
  records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
    return this.reading(() => messageRecords(this.scope, mailboxId, uids));
  }
  structure(mailboxId: string, uid: number): Promise<MessageStructure> {
    return this.reading(() => messageStructure(this.scope, mailboxId, uid));
  }
  read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
    return this.reading(() => readMessage(this.scope, mailboxId, uid, range));
  }
  messageHeads(mailboxId: string, uids: number[], options?: MessageHeadOptions): Promise<MessageHead[]> {
    return this.reading(() => messageHeads(this.scope, mailboxId, uids, options));
  }
  stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream {
    const health = this.scope.ctx.health;
    const inner = streamMessage(this.scope, mailboxId, uid, range);
    const pinned = inner.pinned?.catch((err: unknown) => {
      throw health.classify(err);
    });
    pinned?.catch(() => undefined); // a caller that only iterates hears of it there
    const stream = (async function* () {
      try {
        yield* inner;
      } catch (err) {
        throw health.classify(err);
      }
    })();
    return pinned ? Object.assign(stream, { pinned }) : stream;
  }
  messageExtras(mailboxId: string, uids: number[], options?: MessageExtrasOptions): Promise<MessageExtras[]> {
    return this.reading(() => messageExtras(this.scope, mailboxId, uids, options));
  }

  search(mailboxId: string, query: SearchQuery, options: SearchOptions = {}): Promise<number[]> {
    return this.reading(() => searchMessages(this.scope, mailboxId, query, this.texts, options.progress));
  }
  sortData(mailboxId: string, keys?: SortKeyNames): Promise<readonly SortableMessage[]> {
    return this.reading(() => sortData(this.scope, mailboxId, keys));
  }
  quota(): Promise<QuotaState> {
    return this.reading(() => quotaState(this.scope.ctx, this.scope.userId, this.scope.user, this.scope.ctx.quotaDefaults));
  }

  append(mailboxId: string, input: AppendInput, options?: AppendOptions): Promise<AppendResult> {
    return this.write(() => appendMessage(this.scope, mailboxId, input, options?.maxKeywords, options?.claimRecent === true));
  }

  replace(fromMailboxId: string, uid: number, toMailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<ReplaceResult> {
    return this.write(() => replaceMessage(this.scope, fromMailboxId, uid, toMailboxId, input, options?.maxKeywords));
  }

  appendMany(mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]> {
    return this.write(() => appendMessages(this.scope, mailboxId, inputs, options?.maxKeywords));
  }

  updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options?: { unchangedSince?: number; maxKeywords?: number },
  ): Promise<FlagUpdateResult> {
    return this.write(() => updateFlags(this.scope, mailboxId, uids, operation, flags, options?.unchangedSince, options?.maxKeywords));
  }
  copy(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return this.write(() => copyMessages(this.scope, fromMailboxId, uids, toMailboxId, false, options?.maxKeywords));
  }
  move(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult> {
    return this.write(() => copyMessages(this.scope, fromMailboxId, uids, toMailboxId, true, options?.maxKeywords));
  }
  expunge(mailboxId: string, uids?: number[]): Promise<number[]> {
    return this.write(() => expungeMessages(this.scope, mailboxId, uids));
  }
  async close(): Promise<void> {
    // Nothing per handle: statements and the connection belong to the store.
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
