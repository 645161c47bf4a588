/** One user's mail through one handle: a thin adapter from the MailStore contract to the SQL modules. */
import type { MessageStructure } from '../../mime/types.js';
import type { TextCache } from '../search-eval.js';
import type { SearchQuery } from '../search-query.js';
import type {
  AppendInput,
  AppendResult,
  ByteRange,
  CopyResult,
  Flag,
  FlagOperation,
  FlagUpdateResult,
  MailboxInfo,
  MailboxSnapshot,
  MailboxStatus,
  MessageRecord,
  SortableMessage,
  SpecialUse,
  UserMailbox,
} from '../types.js';
import type { UserScope } from './context.js';
import {
  createMailbox,
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
  mailboxStatus,
  messageRecords,
  messageStructure,
  readMessage,
  searchMessages,
  sortData,
  streamMessage,
} from './message-reads.js';
import { appendMessage, copyMessages, expungeMessages, updateFlags } from './message-writes.js';

export class SqliteUserMailbox implements UserMailbox {
  constructor(
    private readonly scope: UserScope,
    private readonly texts: TextCache,
  ) {}

  get user(): string {
    return this.scope.user;
  }

  // The SQL runs synchronously; async wrappers turn its throws into rejections, as the contract expects.
  async list(): Promise<MailboxInfo[]> {
    return listMailboxes(this.scope);
  }
  // Mailbox-tree writes commit synchronously, outside the group commit's queue: they wait while a
  // checkpoint holds writes back (checkpointer.ts), and like message writes they resolve only once
  // the WAL holding them is synced (wal-sync.ts).
  async create(name: string, options?: { specialUse?: SpecialUse }): Promise<MailboxInfo> {
    await this.scope.ctx.group.whenOpen();
    const info = createMailbox(this.scope, name, options?.specialUse);
    await this.scope.ctx.durable.sync();
    return info;
  }
  async delete(name: string): Promise<void> {
    await deleteMailbox(this.scope, name);
  }
  async rename(from: string, to: string): Promise<void> {
    await this.scope.ctx.group.whenOpen();
    renameMailbox(this.scope, from, to);
    await this.scope.ctx.durable.sync();
  }
  async subscribe(name: string, subscribed: boolean): Promise<void> {
    await this.scope.ctx.group.whenOpen();
    setSubscription(this.scope, name, subscribed);
    await this.scope.ctx.durable.sync();
  }
  async subscriptions(): Promise<string[]> {
    return subscriptionNames(this.scope);
  }
  async get(name: string): Promise<MailboxInfo> {
    return getMailbox(this.scope, name);
  }
  async status(mailboxId: string): Promise<MailboxStatus> {
    return mailboxStatus(this.scope, mailboxId);
  }
  async snapshot(mailboxId: string): Promise<MailboxSnapshot> {
    return mailboxSnapshot(this.scope, mailboxId);
  }
  async claimRecent(mailboxId: string, options?: { peek?: boolean }): Promise<number> {
    return claimRecent(this.scope, mailboxId, options?.peek === true);
  }
  async records(mailboxId: string, uids: number[]): Promise<MessageRecord[]> {
    return messageRecords(this.scope, mailboxId, uids);
  }
  async structure(mailboxId: string, uid: number): Promise<MessageStructure> {
    return messageStructure(this.scope, mailboxId, uid);
  }
  read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer> {
    return Promise.resolve().then(() => readMessage(this.scope, mailboxId, uid, range));
  }
  stream(mailboxId: string, uid: number, range?: ByteRange): AsyncIterable<Buffer> {
    return streamMessage(this.scope, mailboxId, uid, range);
  }
  async search(mailboxId: string, query: SearchQuery): Promise<number[]> {
    return searchMessages(this.scope, mailboxId, query, this.texts);
  }
  async sortData(mailboxId: string): Promise<readonly SortableMessage[]> {
    return sortData(this.scope, mailboxId);
  }
  append(mailboxId: string, input: AppendInput): Promise<AppendResult> {
    return appendMessage(this.scope, mailboxId, input);
  }
  async updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    options?: { unchangedSince?: number },
  ): Promise<FlagUpdateResult> {
    return updateFlags(this.scope, mailboxId, uids, operation, flags, options?.unchangedSince);
  }
  async copy(fromMailboxId: string, uids: number[], toMailboxId: string): Promise<CopyResult> {
    return copyMessages(this.scope, fromMailboxId, uids, toMailboxId, false);
  }
  async move(fromMailboxId: string, uids: number[], toMailboxId: string): Promise<CopyResult> {
    return copyMessages(this.scope, fromMailboxId, uids, toMailboxId, true);
  }
  async expunge(mailboxId: string, uids?: number[]): Promise<number[]> {
    return expungeMessages(this.scope, mailboxId, uids);
  }
  async close(): Promise<void> {
    // Nothing per handle: statements and the connection belong to the store.
  }
}
