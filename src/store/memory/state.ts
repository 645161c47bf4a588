/** The in-memory data model: plain objects owned by one MemoryStore, never handed out directly. */
import type { MessageStructure } from '../../mime/types.js';
import type { AclEntry, Flag, MailboxInfo, MessageSortKeys, QuotaLimits, QuotaUsage, SortableMessage, SpecialUse } from '../types.js';
import { indexOfUid } from '../uid-index.js';
import type { ExpungedLog } from '../expunged.js';
import type { ModseqEntry } from './modseq-order.js';

/** Bytes and parsed structure of one message, shared (not copied) by COPY. */
export interface SharedContent {
  /** Identifies the content in caches without keeping its bytes alive there. */
  readonly key: number;
  readonly raw: Buffer;
  structure?: MessageStructure;
  /** SORT/THREAD keys, computed on first use and shared by every COPY. */
  sortKeys?: MessageSortKeys;
  /** RFC 8474 EMAILID (emailIdOf its SHA-256) and RFC 8970 preview, computed on first use. */
  emailId?: string;
  preview?: string;
}

export interface StoredMessage {
  uid: number;
  flags: Flag[];
  modseq: number;
  internalDate: Date;
  /** RFC 8514: when APPEND, COPY or MOVE put it in this mailbox. */
  saveDate: Date;
  content: SharedContent;
}

export interface MailboxState {
  readonly id: string;
  name: string;
  noselect: boolean;
  specialUse?: SpecialUse;
  /** Marked with MemoryStore.setReadOnly(): messages and flags may be read, never changed. */
  readOnly?: boolean;
  /** Per-user \Seen of users other than the owner: viewer → uid → state (private-seen.ts). */
  privateSeen?: Map<string, Map<number, { seen: boolean; modseq: number }>>;
  /** RFC 4314 access control list, sorted by identifier (src/store/acl.ts). */
  acl?: AclEntry[];
  /** RFC 5464 annotations of the mailbox (metadata.ts). */
  metadata?: MetadataState;
  /** RFC 4467 mailbox access keys (URLAUTH), per holder: the owner, or a user it is shared with (§2.2). */
  urlauthKeys?: Map<string, Buffer>;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Lowest UID still \Recent for the next session that claims it. */
  recentMark: number;
  /** Ascending by UID. */
  messages: StoredMessage[];
  /** (modseq, uid) of every change in modseq order, for changedSince (modseq-order.ts). */
  byModseq: ModseqEntry[];
  /** UIDs expunged, with the modseq of their expunge (QRESYNC, src/store/expunged.ts). */
  expunged: ExpungedLog;
  /** Sum of message sizes in octets. */
  size: number;
  /**
   * The last sortData() answer and the message set it described: UIDs are never reused and only
   * grow, so (uidNext, message count) names the set; the same array is returned until it changes.
   */
  sortData?: { uidNext: number; count: number; list: readonly SortableMessage[] };
}

export interface UserState {
  readonly user: string;
  /** Keyed by canonical name (validateMailboxName output). */
  readonly byName: Map<string, MailboxState>;
  readonly byId: Map<string, MailboxState>;
  readonly subscriptions: Set<string>;
  /** Limits set with setQuota() (RFC 9208 SETQUOTA); absent: the store's quotaDefaults apply. */
  quota?: QuotaLimits;
  /** Sieve scripts and vacation memory (sieve.ts). */
  readonly sieve: MemorySieveState;
  /** RFC 5464 annotations of the user's server scope (metadata.ts). */
  serverMetadata?: MetadataState;
}

/** Annotations of one target: /shared entries once, /private entries per user. */
export interface MetadataState {
  readonly shared: Map<string, Buffer>;
  readonly private: Map<string, Map<string, Buffer>>;
}

export interface MemorySieveState {
  readonly scripts: Map<string, string>;
  active: string | null;
  /** "handle\0address" → end of the memory, ms since the epoch. */
  readonly vacation: Map<string, number>;
}

/** Usage over all of the user's mailboxes: each keeps its size, so this is one pass over mailboxes. */
export function usageOf(user: UserState): QuotaUsage {
  let storage = 0;
  let messages = 0;
  for (const box of user.byId.values()) {
    storage += box.size;
    messages += box.messages.length;
  }
  return { storage, messages };
}

export function findMessage(box: MailboxState, uid: number): StoredMessage | undefined {
  const i = indexOfUid(box.messages, uid);
  return i < 0 ? undefined : box.messages[i];
}

/** Unique UIDs in ascending order. */
export function sortedUnique(uids: number[]): number[] {
  return [...new Set(uids)].sort((a, b) => a - b);
}

export function toInfo(user: UserState, box: MailboxState): MailboxInfo {
  const info: MailboxInfo = {
    id: box.id,
    name: box.name,
    noselect: box.noselect,
    subscribed: user.subscriptions.has(box.name),
  };
  if (box.specialUse) info.specialUse = box.specialUse;
  if (box.readOnly) info.readOnly = true;
  return info;
}
