// A minimal, read-only MailStore: each user has one INBOX holding a fixed array of messages.
// In your own project import these from 'postroom' instead of '../src/index.js'.
import {
  ChangeFeed, matchesQuery, parseMessage, pinnedStream, StoreError, validateMailboxName,
  type ByteRange, type ChangeListener, type MailboxInfo, type MailboxSnapshot, type MailboxStatus,
  type MailStore, type MessageRecord, type MessageStream, type MessageStructure, type SearchQuery,
  type UserMailbox,
} from '../src/index.js';

export interface FixedMessage {
  raw: Buffer;
  flags?: string[];
  internalDate?: Date;
}

const UID_VALIDITY = 1; // the messages never change, so neither do their UIDs
const refuse = async (): Promise<never> => { throw new StoreError('noperm', 'this store is read-only'); };

export class ArrayStore implements MailStore {
  readonly delimiter = '/';
  private readonly feed = new ChangeFeed(); // nothing changes, so nothing is ever published

  constructor(private readonly mail: Record<string, FixedMessage[]>) {}

  async open(user: string): Promise<UserMailbox> { return new ArrayMailbox(user, this.mail[user] ?? []); }
  watch(user: string, listener: ChangeListener): () => void { return this.feed.watch(user, listener); }
  async close(): Promise<void> {}
}

class ArrayMailbox implements UserMailbox {
  private readonly inbox: MailboxInfo = { id: 'inbox', name: 'INBOX', noselect: false, subscribed: true };
  private readonly structures = new Map<number, MessageStructure>();

  constructor(readonly user: string, private readonly messages: FixedMessage[]) {}

  // UID n is messages[n - 1]; any mailbox id but 'inbox' is someone else's or made up.
  private message(mailboxId: string, uid: number): FixedMessage {
    this.box(mailboxId);
    const m = this.messages[uid - 1];
    if (!m) throw new StoreError('nonexistent', `no message ${uid}`);
    return m;
  }
  private box(mailboxId: string): MailboxInfo {
    if (mailboxId === this.inbox.id) return this.inbox;
    throw new StoreError('nonexistent', 'no such mailbox');
  }
  private record(uid: number): MessageRecord {
    const m = this.messages[uid - 1]!;
    return { uid, flags: m.flags ?? [], modseq: 1, internalDate: m.internalDate ?? new Date(0), size: m.raw.length };
  }
  private uids(): number[] { return this.messages.map((_, i) => i + 1); }

  async list(): Promise<MailboxInfo[]> { return [this.inbox]; }
  async get(name: string): Promise<MailboxInfo> {
    if (validateMailboxName(name, '/') !== 'INBOX') throw new StoreError('nonexistent', `no mailbox ${name}`);
    return this.inbox;
  }
  async subscriptions(): Promise<string[]> { return ['INBOX']; }
  async status(id: string): Promise<MailboxStatus> {
    this.box(id);
    const unseen = this.uids().filter((uid) => !this.record(uid).flags.includes('\\Seen')).length;
    const size = this.messages.reduce((sum, m) => sum + m.raw.length, 0);
    const uidNext = this.messages.length + 1;
    return { messages: this.messages.length, unseen, uidNext, uidValidity: UID_VALIDITY, highestModseq: 1, size, recent: 0 };
  }
  async snapshot(id: string): Promise<MailboxSnapshot> {
    const messages = this.uids().map((uid) => ({ uid, flags: this.record(uid).flags, modseq: 1 }));
    return { mailbox: this.box(id), uidValidity: UID_VALIDITY, uidNext: messages.length + 1, highestModseq: 1, messages };
  }
  async claimRecent(id: string): Promise<number> { return (await this.status(id)).uidNext; } // nothing is ever new
  async records(id: string, uids: number[]): Promise<MessageRecord[]> {
    this.box(id);
    return [...new Set(uids)].sort((a, b) => a - b).filter((u) => this.messages[u - 1]).map((u) => this.record(u));
  }
  async structure(id: string, uid: number): Promise<MessageStructure> {
    const raw = this.message(id, uid).raw;
    if (!this.structures.has(uid)) this.structures.set(uid, parseMessage(raw));
    return structuredClone(this.structures.get(uid)!);
  }
  async read(id: string, uid: number, range?: ByteRange): Promise<Buffer> {
    const raw = this.message(id, uid).raw;
    return range ? raw.subarray(range.start, range.end) : raw;
  }
  stream(id: string, uid: number, range?: ByteRange): MessageStream {
    // Looked up now, read later (FETCH announces the size first): a missing message fails here.
    return pinnedStream(() => this.message(id, uid).raw, async function* (raw) {
      yield range ? raw.subarray(range.start, range.end) : raw;
    });
  }
  async search(id: string, query: SearchQuery): Promise<number[]> {
    this.box(id);
    const raw = (uid: number) => this.messages[uid - 1]!.raw;
    return this.uids().filter((uid) => matchesQuery(query, { record: this.record(uid), raw: () => raw(uid), structure: () => parseMessage(raw(uid)) }));
  }

  create = refuse; delete = refuse; rename = refuse; subscribe = refuse;
  append = refuse; updateFlags = refuse; copy = refuse; move = refuse; expunge = refuse;
  async close(): Promise<void> {}
}
