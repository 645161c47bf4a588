/**
 * The MailStore contract: what any backend (memory, SQLite, your own API) implements.
 *
 * It speaks mail — mailboxes, UIDs, UIDVALIDITY, flags, keywords, modseq, internal dates and a
 * storage-neutral search tree — and never IMAP or POP3 syntax. Mailbox names are plain Unicode
 * strings with `delimiter` between levels ("Archive/2024"); the protocol layers translate wire
 * encodings (modified UTF-7 and so on) before calling in. "INBOX" is case-insensitive and always
 * spelled "INBOX" in results.
 *
 * Message bytes are CRLF: every line ends in CR LF, and no CR or LF occurs alone (RFC 5322 §2.1).
 * The servers normalise what they hand to append() (src/store/line-ends.ts), and a store declares
 * with `lineEnds: 'crlf'` that it serves only what it was given; a store that may serve bare LF
 * (messages from elsewhere) leaves it out and the servers normalise on the way out as well
 * (src/store/crlf-store.ts), at the cost of reading each message once for its size.
 *
 * Every mutating call resolves only once its effect is durable for that backend (for a memory store
 * that is "in memory"; for SQLite it is "committed to the WAL with fsync").
 */
import type { MessageStructure } from '../mime/types.js';
import type { MessageSortKeys } from '../mime/sort-keys.js';
import type { SearchQuery } from './search-query.js';
import type { SieveScriptStorage } from './sieve-storage.js';

export type { SieveScriptInfo, SieveScriptStorage } from './sieve-storage.js';
import type { AclEntry, SharedMailboxRef } from './acl.js';

export type { AclEntry, SharedMailboxRef } from './acl.js';

export type { MessageSortKeys } from '../mime/sort-keys.js';

export type { SearchQuery } from './search-query.js';

/** System flags are spelled with a backslash ("\\Seen"); anything else is a keyword ("$Forwarded"). */
export type Flag = string;

export const SYSTEM_FLAGS = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'] as const;

/** RFC 6154 special-use attributes a store may attach to a mailbox. */
export type SpecialUse = '\\All' | '\\Archive' | '\\Drafts' | '\\Flagged' | '\\Junk' | '\\Sent' | '\\Trash' | '\\Important';

export interface MailboxInfo {
  /** Stable identity that survives RENAME; sessions hold this, not the name. */
  id: string;
  /** Full Unicode name, levels separated by the store's delimiter. */
  name: string;
  /** True when the mailbox exists only as a parent of others and cannot hold messages (\Noselect). */
  noselect: boolean;
  /** True when the mailbox may not have children (\Noinferiors); INBOX children are allowed by default. */
  noinferiors?: boolean;
  subscribed: boolean;
  specialUse?: SpecialUse;
  /**
   * Optional: true when this user may read the mailbox but not change it (an archive, a mailbox
   * fed from elsewhere). The protocol layers then refuse every change before calling the store:
   * IMAP SELECT opens it read-only (`[READ-ONLY]`, empty PERMANENTFLAGS), FETCH does not set \Seen,
   * STORE/EXPUNGE/MOVE out of it and APPEND/COPY/MOVE into it answer NO [NOPERM], POP3 refuses
   * DELE and its QUIT changes nothing. A store that marks a mailbox read-only should also refuse
   * such writes itself (StoreError 'noperm'), for callers other than the protocol layers. Tree
   * operations (DELETE, RENAME) are the store's to allow or refuse.
   */
  readOnly?: boolean;
  /**
   * Set only by the shared-namespace view (src/store/sharing/): the RFC 4314 rights the user has in
   * this mailbox of another user ("lrs"...). Absent: the user's own mailbox, every right.
   */
  myRights?: string;
}

/** Per-message data that is cheap to list for a whole mailbox. */
export interface MessageMeta {
  uid: number;
  /** Flags and keywords, system flags spelled "\\Seen" etc. Never contains "\\Recent" (a session concept). */
  flags: Flag[];
  /** RFC 7162 modification sequence of the last change to this message. */
  modseq: number;
}

/** Everything about one message except its bytes. */
export interface MessageRecord extends MessageMeta {
  internalDate: Date;
  /** Size of the message in octets, exactly as FETCH RFC822 / POP3 RETR would send it (CRLF line ends). */
  size: number;
  /**
   * RFC 8514 save date: when the message was put in this mailbox (APPEND, delivery, COPY, MOVE —
   * each sets it to that moment, unlike the internal date, which COPY and MOVE keep). null when the
   * store does not know it (rows written before it kept save dates). Stores that declare
   * `messageExtras` give it in every record; others leave it out (FETCH SAVEDATE is then not offered).
   */
  saveDate?: Date | null;
}

/**
 * RFC 8474 EMAILID and RFC 8970 PREVIEW of one message (UserMailbox.messageExtras).
 */
export interface MessageExtras {
  uid: number;
  /**
   * RFC 8474 EMAILID: 1-255 characters of [A-Za-z0-9_-], starting with a letter; the same for the
   * same triple forever, and kept by COPY and MOVE (§5.1). The built-in stores derive it from the
   * content: emailIdOf(sha256) below — identical bodies share it, as in Cyrus.
   */
  emailId: string;
  /**
   * RFC 8970 preview text ('' when the message has no text to preview). Given when asked for: with
   * `preview: 'compute'` always (a store computes it with messagePreview() of src/mime and keeps
   * it, when it was not kept at APPEND); with `preview: 'stored'` only when kept, else null.
   */
  preview?: string | null;
}

export interface MessageExtrasOptions {
  /** Absent: no preview. 'stored': only a kept one (RFC 8970 LAZY). 'compute': always. */
  preview?: 'stored' | 'compute';
}

/**
 * One message's structure and, when asked for, its header block (UserMailbox.messageHeads): what
 * FETCH ENVELOPE, BODYSTRUCTURE and BODY[HEADER.FIELDS (…)] of a range of messages need.
 */
export interface MessageHead {
  uid: number;
  /** As structure() returns it; shared and read-only (a store may hand out its cached object). */
  structure: MessageStructure;
  /**
   * With `header: true`: the message's header block — read() of `headerRange(structure)` (from
   * src/store/message-heads.ts: the root part's header, the blank line included) — for
   * BODY[HEADER] and BODY[HEADER.FIELDS (…)] without a read per message.
   */
  header?: Buffer;
}

export interface MessageHeadOptions {
  /** Also the header block of each message. */
  header?: boolean;
}

/** RFC 8474 EMAILID of a body by its SHA-256: "M" and 24 hex digits (96 bits), as Cyrus spells them. */
export function emailIdOf(sha256: Buffer): string {
  return `M${sha256.subarray(0, 12).toString('hex')}`;
}

/**
 * One message as SORT and THREAD see it (RFC 5256, RFC 5957): its sort and thread keys, derived from
 * its header by messageSortKeys() (src/mime/index.ts), plus what the store knows of it anyway.
 */
export interface SortableMessage extends MessageSortKeys {
  uid: number;
  /** INTERNALDATE, milliseconds since the epoch (SORT ARRIVAL, and DATE when there is no sent date). */
  internalDate: number;
  /** Size in octets (SORT SIZE). */
  size: number;
  /**
   * Optional THREAD keys a store interned once (the SQLite store at APPEND): the Message-ID, each
   * reference and the base subject as positive integers, equal exactly when the strings are equal
   * (0: no valid Message-ID, or an empty subject). Threading then compares numbers instead of
   * hashing 100,000 strings. Give all three for every message of a list, or leave them out: a list
   * in which any message lacks them is threaded by its strings (messageId, references, subject).
   */
  messageIdKey?: number;
  referenceKeys?: readonly number[];
  subjectKey?: number;
}

/** The keys a caller of sortData() is about to read (UserMailbox.sortData). */
export type SortKeyNames = readonly (keyof SortableMessage)[];

export interface MailboxStatus {
  messages: number;
  unseen: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  /** Total octets of all messages (RFC 8438 STATUS=SIZE). */
  size: number;
  /** Messages a new SELECT would see as \Recent (uid at or above the recent mark). */
  recent: number;
}

export interface MailboxSnapshot {
  mailbox: MailboxInfo;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Every message in ascending UID order: sequence number n is messages[n-1]. */
  messages: MessageMeta[];
}

/** Message bytes as the store accepts them: a whole buffer, or chunks arriving over time. */
export type MessageContent = Buffer | AsyncIterable<Buffer>;

export interface AppendInput {
  content: MessageContent;
  flags?: Flag[];
  /** Defaults to now. */
  internalDate?: Date;
  /**
   * Optional: the SHA-256 of `content`, computed by the caller over exactly those bytes. A store
   * that keeps bodies by content hash may then leave `content` unread when it already holds bytes
   * with this digest — mail delivery passes it when one message goes to many recipients. Other
   * stores ignore it; none may use it for anything else. It is the digest of the CRLF form: the
   * servers drop it when they had to change a buffer's line ends.
   */
  sha256?: Buffer;
}

/**
 * The messages of an appendMany(): a list, or messages that come one after another — the next one
 * is asked for only once the content of the one before has been read to its end (a MULTIAPPEND
 * whose next message the client sends only then). Iterating it may throw; nothing is added then.
 */
export type AppendInputs = readonly AppendInput[] | AsyncIterable<AppendInput>;

/**
 * The message an appendMany() replaces (RFC 8508 REPLACE): removed in the same write that adds
 * the new one. `expunged` is set when it was there to remove (it may have gone meanwhile — the
 * new message is kept all the same).
 */
export interface Replacing {
  mailboxId: string;
  uid: number;
  expunged?: boolean;
}

/** What replace() did: the new message, and whether the old one was there to remove. */
export interface ReplaceResult {
  appended: AppendResult;
  expunged: boolean;
}

export interface AppendResult {
  uid: number;
  uidValidity: number;
  modseq: number;
  /**
   * Set when the append claimed \Recent for the caller (AppendOptions.claimRecent): the mark as
   * it was before, so the messages from this UID through `uid` are \Recent for the caller alone.
   */
  recentFrom?: number;
  /**
   * Optional: the new message's flags exactly as `records()` would give them to this handle (the
   * store's normal form). With `uid` and `modseq` it is what a session needs to announce its own
   * APPEND, so the IMAP layer then does not read the message back. A store that cannot say so
   * cheaply — or whose `records()` would answer otherwise for this handle (another user's view of
   * a shared mailbox) — leaves it unset.
   */
  flags?: Flag[];
}

export interface CopyResult {
  uidValidity: number;
  /** [source uid, destination uid] pairs in ascending source order. */
  mapping: Array<[number, number]>;
}

export type FlagOperation = 'set' | 'add' | 'remove';

export interface FlagChange {
  uid: number;
  flags: Flag[];
  modseq: number;
}

/**
 * One user's own \Seen state of one message in another user's mailbox (per-user \Seen of shared
 * mailboxes, docs/sharing.md), with the mod-sequence of its last change. No row: not seen.
 */
export interface PrivateSeen {
  uid: number;
  seen: boolean;
  modseq: number;
}

export interface FlagUpdateResult {
  /** Messages whose flags changed (or were touched when the operation was 'set'). */
  changed: FlagChange[];
  /** RFC 7162 UNCHANGEDSINCE: uids that were modified after the given modseq and were left alone. */
  conflicts: number[];
}

/**
 * What stream() returns. `pinned`, when present, settles once the store holds the bytes, and
 * rejects (StoreError 'nonexistent') if the message went first — FETCH awaits it before it announces
 * a literal it could not finish. Without it, the bytes are pinned by the time stream() returns; a
 * message that is already gone at the call must therefore come with a rejected `pinned` (or make
 * stream() throw), never with a stream that fails only once the literal has been announced.
 */
export interface MessageStream extends AsyncIterable<Buffer> {
  readonly pinned?: Promise<void>;
}

/** A byte range [start, end) into the raw message. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The change feed. Every mutation made through any handle is published to every watcher of that
 * user, after it is durable, in commit order. `origin` is the session id of the handle that made the
 * change (absent for changes from outside, such as delivery or another process).
 */
export type MailboxChange =
  | { kind: 'exists'; mailboxId: string; uids: number[]; origin?: string }
  | { kind: 'expunge'; mailboxId: string; uids: number[]; origin?: string }
  /**
   * `viewer` is set on a change only one user may hear of: that user's own \Seen in another user's
   * mailbox (UserMailbox.setPrivateSeen); `changes` then carry the flags as that user sees them.
   * It is published on the owner's feed, and every listener acting for someone else ignores it.
   */
  | { kind: 'flags'; mailboxId: string; changes: FlagChange[]; origin?: string; viewer?: string }
  | { kind: 'mailboxes'; origin?: string }
  | { kind: 'uidvalidity'; mailboxId: string; origin?: string }
  /**
   * The user's Sieve scripts changed: one stored, renamed, deleted or (de)activated
   * (sieve-storage.ts). Delivery keeps each user's active script compiled until it hears this.
   */
  | { kind: 'sieve'; origin?: string }
  /**
   * RFC 5464 annotations changed (UserMailbox.setMetadata): of a mailbox, or of the user's server
   * scope when `mailboxId` is absent. `entries` are the names written (values are not carried:
   * RFC 5464 §4.4.2 sends names only). A change of /private entries carries `viewer`, the user
   * whose entries they are; every listener acting for someone else ignores it (as for per-user
   * \Seen). /shared and /private entries of one write are published as two changes.
   */
  | { kind: 'metadata'; mailboxId?: string; entries: string[]; origin?: string; viewer?: string }
  /**
   * A URLAUTH access key of the mailbox was replaced (UserMailbox.resetUrlauthKeys), or, without
   * `mailboxId`, all the keys a user holds were removed: that user's sessions that have the mailbox
   * selected are told `* OK [URLMECH INTERNAL]` (RFC 4467 §7 RESETKEY). Keys are per user and
   * mailbox (RFC 4467 §2.2), so `viewer` names the user whose key it was — on the owner's feed for
   * a mailbox another user shares — and every listener acting for someone else ignores it.
   */
  | { kind: 'urlauth'; mailboxId?: string; origin?: string; viewer?: string };

export type ChangeListener = (change: MailboxChange) => void;

/** UserMailbox.search's options. */
export interface SearchOptions {
  /** How far the search got: every message with a UID up to `throughUid` is decided. */
  progress?: (throughUid: number) => void;
}

export interface RecentClaimOptions {
  /** Only look: the mark stays where it is (EXAMINE, RFC 3501 §6.3.2). */
  peek?: boolean;
  /** The highest UID the caller claims (see claimRecent); default UIDNEXT − 1. */
  through?: number;
}

/**
 * RFC 9208 limits of one user's mail (the user's one quota root). `storage` is in octets (IMAP
 * reports units of 1024), `messages` a count; an absent resource is unlimited.
 */
export interface QuotaLimits {
  storage?: number;
  messages?: number;
}

/** What a user's messages take now: the sum of every message's size and their number, in all mailboxes. */
export interface QuotaUsage {
  storage: number;
  messages: number;
}

export interface QuotaState {
  usage: QuotaUsage;
  limits: QuotaLimits;
  /** 'store': limits set with setQuota() (SETQUOTA, `postroom quota set`); 'default': from quotaDefaults. */
  source: 'store' | 'default';
}

/**
 * The limits of a user who has none set in the store: the server answers from the users file and
 * the configuration (src/quota/defaults.ts). Asked before each write that adds messages.
 */
export type QuotaDefaults = (user: string) => QuotaLimits | Promise<QuotaLimits>;

/**
 * One RFC 5464 annotation: its entry name, lower case ("/shared/comment", "/private/vendor/x/y"),
 * and its value as bytes. Entries under "/private" are kept per user; "/shared" ones once.
 */
export interface MetadataEntry {
  entry: string;
  value: Buffer;
}

/** One write of setMetadata(): a value to set, or null to remove the entry (NIL). */
export interface MetadataWrite {
  entry: string;
  value: Buffer | null;
}

/** urlauthKey()'s options: whose key (RFC 4467 §2.2, per user and mailbox), and whether to make it. */
export interface UrlauthKeyOptions {
  /** Make the key when there is none (GENURLAUTH, RFC 4467 §7: "one is automatically generated"). */
  create?: boolean;
  /** The user whose key table: this handle's user when absent; a reader of a shared mailbox else. */
  holder?: string;
}

/** resetUrlauthKeys()'s options: whose key of the mailbox is replaced (this handle's user when absent). */
export interface UrlauthResetOptions {
  holder?: string;
}

export interface MetadataOptions {
  /**
   * Whose /private entries: the user of the handle when absent. The shared-namespace view passes
   * the user who reads or writes another user's mailbox (the owner's handle keeps them per viewer).
   */
  viewer?: string;
}

export interface SetMetadataOptions extends MetadataOptions {
  /**
   * The most entries the target (a mailbox, or the server scope) may carry for the viewer after the
   * write — the /shared ones plus the viewer's /private ones. A write that adds entries beyond it
   * fails with StoreError 'limit' and changes nothing; checked inside the write, so parallel
   * SETMETADATAs cannot pass it together.
   */
  maxEntries?: number;
}

export interface OpenOptions {
  /** Tags every change made through this handle, so a session can tell its own changes from others'. */
  origin?: string;
}

/**
 * A store: one per server. It hands out per-user handles; a handle can only ever reach its own
 * user's mailboxes, which is how isolation between users is enforced by construction.
 */
export interface MailStore {
  /** Hierarchy delimiter used in mailbox names. "/" for the built-in stores. */
  readonly delimiter: string;
  /** Opens the given user's mail; creates the user's INBOX on first use. */
  open(user: string, options?: OpenOptions): Promise<UserMailbox>;
  /** Subscribe to changes of one user's mail. Returns the unsubscribe function. */
  watch(user: string, listener: ChangeListener): () => void;
  /**
   * 'crlf': every message this store serves has CRLF line ends (it keeps what append() was given,
   * which the servers have normalised). Without it the servers normalise what the store serves.
   */
  readonly lineEnds?: 'crlf';
  /** True when watch() reports changes made by other processes too (false: servers may poll). */
  readonly crossProcessChanges?: boolean;
  /**
   * True when every handle implements messageExtras() (RFC 8474 EMAILID, RFC 8970 PREVIEW) and
   * every record carries `saveDate` (RFC 8514), and search() answers the 'emailid' and 'savedate'
   * keys: the IMAP server then offers OBJECTID, SAVEDATE and PREVIEW.
   */
  readonly messageExtras?: boolean;
  /**
   * True when every handle implements getMetadata() and setMetadata() (RFC 5464): the IMAP server
   * then offers METADATA, METADATA-SERVER and the NOTIFY metadata events.
   */
  readonly metadata?: boolean;
  /**
   * True when every handle implements urlauthKey() and resetUrlauthKeys() (RFC 4467 mailbox
   * access keys): the IMAP server then offers URLAUTH (GENURLAUTH, RESETKEY, URLFETCH).
   */
  readonly urlauthKeys?: boolean;
  /** Releases resources (database handles, timers). */
  close(): Promise<void>;
  /**
   * Optional (RFC 9208): a user's usage and limits, for administrators (`postroom quota get`).
   * Stores without quota support leave it out; the server then offers no QUOTA extension.
   */
  getQuota?(user: string): Promise<QuotaState>;
  /**
   * Optional (RFC 4314, with UserMailbox getAcl/setAcl): the mailboxes of users other than `user`
   * whose ACL has an entry (positive or negative) for `user`, "anyone" or "authenticated", each
   * with its whole ACL — what the shared namespace is built from. Whether `user` may see them is
   * for src/store/acl.ts effectiveRights() to say.
   */
  sharedMailboxes?(user: string): Promise<SharedMailboxRef[]>;
  /**
   * Optional: replaces the user's limits (every resource not given becomes unlimited, RFC 9208
   * §4.1.3); null removes them, so the defaults apply again. Kept in the store, durable.
   */
  setQuota?(user: string, limits: QuotaLimits | null): Promise<void>;
  /**
   * For readiness probes (/readyz): resolves null when the store can take writes now, otherwise a
   * short reason. Optional; stores without it are taken to be ready while open.
   */
  readiness?(): Promise<string | null>;
}

export interface CreateMailboxOptions {
  specialUse?: SpecialUse;
  /** The most mailboxes (INBOX, \\Noselect parents included) the user may have after the CREATE. */
  maxMailboxes?: number;
}

export interface RenameMailboxOptions {
  /**
   * The most mailboxes the user may have after the RENAME, which creates missing parents of the new
   * name (and, for INBOX, a new mailbox besides the INBOX that stays). Fails with 'limit', renaming
   * nothing, when it would be passed — checked inside the write, like CREATE's.
   */
  maxMailboxes?: number;
}

/**
 * For the writes that bring keywords into a mailbox (APPEND with flags, COPY, MOVE): fail with
 * 'limit', writing nothing, when the target would then hold more distinct keywords than
 * `maxKeywords` — counted inside the write, so parallel writers cannot pass it together. A store
 * that cannot count atomically may ignore it (the server checks too, before the write).
 */
export interface KeywordLimitOptions {
  maxKeywords?: number;
}

export interface AppendOptions extends KeywordLimitOptions {
  /**
   * Optional for stores: the caller has the target mailbox selected and will report the new
   * message itself before it answers (an IMAP APPEND into the selected mailbox), so the store may
   * claim \Recent for it in the same write, as claimRecent({ through: uid }) would right after —
   * one write instead of two. A store that does sets AppendResult.recentFrom; one that ignores
   * the option leaves it unset, and the caller claims as usual.
   */
  claimRecent?: boolean;
}

/**
 * One user's mail, as seen through one session (origin). The Sieve script storage methods
 * (sieve-storage.ts) are optional: a store without them has no scripts (sieveStorage() says so).
 */
export interface UserMailbox extends Partial<SieveScriptStorage> {
  readonly user: string;

  // --- the mailbox tree -------------------------------------------------------------------
  list(): Promise<MailboxInfo[]>;
  /**
   * Creates the mailbox and any missing parents. Fails with 'alreadyexists' if it exists and is
   * selectable. With `maxMailboxes`, fails with 'limit' (and creates nothing) when the user would
   * then have more mailboxes than that — checked inside the write, so parallel CREATEs cannot go
   * past it together. A store that cannot count atomically may ignore it (the server checks too).
   */
  create(name: string, options?: CreateMailboxOptions): Promise<MailboxInfo>;
  /**
   * RFC 3501 §6.3.4: deleting a mailbox with children turns it into \Noselect (its messages are
   * removed); deleting a \Noselect mailbox that has children fails; INBOX cannot be deleted.
   */
  delete(name: string): Promise<void>;
  /**
   * Renames the mailbox and all its children. Renaming INBOX moves its messages into a new mailbox
   * and leaves INBOX empty (RFC 3501 §6.3.5).
   */
  rename(from: string, to: string, options?: RenameMailboxOptions): Promise<void>;
  /** Subscriptions are names; a name may be subscribed while it does not exist. */
  subscribe(name: string, subscribed: boolean): Promise<void>;
  subscriptions(): Promise<string[]>;

  /**
   * Optional (RFC 4314; a store offers getAcl, setAcl and MailStore.sharedMailboxes together): the
   * access control list of one of the user's mailboxes, sorted by identifier. Entries follow the
   * mailbox through RENAME and go with it on DELETE (a re-created name starts with none).
   */
  getAcl?(mailboxId: string): Promise<AclEntry[]>;
  /**
   * Sets the rights of `identifier` (already normalised by src/store/acl.ts normalizeRights);
   * null or "" removes the entry. Durable when it resolves. No rights are checked here: the caller
   * (the shared view or an administrator's tool) decides who may change the list.
   */
  setAcl?(mailboxId: string, identifier: string, rights: string | null): Promise<void>;

  /**
   * Optional (per-user \Seen in shared mailboxes, docs/sharing.md; a store offers both or neither,
   * and the conformance suite checks them): the \Seen state that `viewer`, a user other than the
   * owner, keeps for the messages of one of the owner's mailboxes — only rows of messages still
   * there, ascending by UID. The owner's own \Seen stays in the message's flags.
   */
  privateSeen?(mailboxId: string, viewer: string): Promise<PrivateSeen[]>;
  /**
   * Sets (`seen` true) or clears `viewer`'s own \Seen on the given messages (missing UIDs are
   * skipped). A message whose state changes takes a new mod-sequence, allocated from the mailbox's
   * like any STORE (HIGHESTMODSEQ grows for everyone; the message's own modseq does not change);
   * the viewer's modseq of a message is the greater of the two. `unchangedSince` (RFC 7162)
   * compares with that viewer's modseq. `changed` carries the message's flags as the viewer sees
   * them (the owner's without \Seen, plus the viewer's); the change is published on the owner's
   * feed with `viewer` set. Refused like updateFlags on a read-only mailbox. Rows go with their
   * message (EXPUNGE, MOVE) and with the mailbox (DELETE); RENAME keeps them. Durable on return.
   */
  setPrivateSeen?(mailboxId: string, viewer: string, uids: number[], seen: boolean, options?: { unchangedSince?: number }): Promise<FlagUpdateResult>;

  /**
   * Optional (RFC 5464 METADATA; a store offers getMetadata and setMetadata together, and the
   * conformance suite checks them): the annotations of a mailbox (`mailboxId`) or of the user's
   * server scope (null) — the /shared entries plus the viewer's /private ones, sorted by entry
   * name. Annotations follow their mailbox through RENAME (a renamed INBOX keeps its own, and the
   * new mailbox gets a copy, RFC 5464 §4.1) and go with it on DELETE, also when the name stays as
   * \Noselect. Server-scope entries belong to the user, /shared ones too (as Dovecot keeps them).
   */
  getMetadata?(mailboxId: string | null, options?: MetadataOptions): Promise<MetadataEntry[]>;
  /**
   * Applies every write or none (RFC 5464 §4.3), durable on return; entry names arrive validated
   * and in lower case. Publishes the 'metadata' changes of metadataChanges() (src/store/metadata.ts)
   * on the owner's feed. No rights are checked here (the shared view does).
   */
  setMetadata?(mailboxId: string | null, writes: MetadataWrite[], options?: SetMetadataOptions): Promise<void>;
  /**
   * Optional (RFC 4467 URLAUTH mailbox access keys; a store offers urlauthKey and resetUrlauthKeys
   * together, and the conformance suite checks them). A key is per user and per mailbox (RFC 4467
   * §2.2: "two users sharing the same mailbox each have a different mailbox access key for that
   * mailbox"): this is `holder`'s key (default: this handle's user) for one of this handle's
   * user's own mailboxes — 32 random bytes — or null when there is none. `holder` is another user
   * when that user reads the mailbox shared (the shared view passes it; no rights are checked
   * here). With `create`, a missing key is made (durable on return; two racing calls get the same
   * key). Keys follow a mailbox through RENAME and go with it on DELETE (a re-created name starts
   * without).
   */
  urlauthKey?(mailboxId: string, options?: UrlauthKeyOptions): Promise<Buffer | null>;
  /**
   * RFC 4467 RESETKEY. With a mailbox (one of this handle's user's): `holder`'s key for it
   * (default: this handle's user) is replaced by a new random one; the other holders' keys stay.
   * Without: every key this handle's user holds is removed — for the user's own mailboxes and for
   * other users' mailboxes of this store alike (`holder` is not used). Either way every URL
   * authorized with an old key stops verifying. Durable on return; published as a 'urlauth' change
   * with `viewer` set to the holder, on the feed of the mailbox's owner (and, for the second form,
   * on the user's own feed and on that of every other owner whose mailbox had a key removed).
   */
  resetUrlauthKeys?(mailboxId?: string, options?: UrlauthResetOptions): Promise<void>;

  // --- one mailbox ------------------------------------------------------------------------
  /** Resolves a name to its mailbox, or throws StoreError('nonexistent'). */
  get(name: string): Promise<MailboxInfo>;
  status(mailboxId: string): Promise<MailboxStatus>;
  snapshot(mailboxId: string): Promise<MailboxSnapshot>;
  /**
   * \Recent bookkeeping (RFC 3501 §2.3.2: a message is recent in exactly one session, the first
   * to be told of it). Returns `from`, the lowest UID that is recent for the caller: the messages
   * recent for it are those with `from <= uid <= through`, where `through` is the highest UID the
   * caller is about to report (default, and at most, UIDNEXT − 1). Unless `peek`, the mailbox's
   * recent mark moves past `through` in the same atomic step that read it, so no other session is
   * told the same messages are recent — and messages after `through`, which the caller has not
   * seen, stay recent for whichever session sees them first. Two concurrent claims never return
   * overlapping ranges.
   */
  claimRecent(mailboxId: string, options?: RecentClaimOptions): Promise<number>;

  // --- messages -----------------------------------------------------------------------------
  /** Records for the given UIDs (missing ones are skipped), ascending by UID. */
  records(mailboxId: string, uids: number[]): Promise<MessageRecord[]>;
  /** Parsed MIME structure with byte offsets, computed once at append time. */
  structure(mailboxId: string, uid: number): Promise<MessageStructure>;
  /** The message bytes, or a range of them. */
  read(mailboxId: string, uid: number, range?: ByteRange): Promise<Buffer>;
  /**
   * Optional: structure() of many messages at once (missing ones are skipped), ascending by UID,
   * with each header block when `options.header` — one call where a FETCH of a range would make
   * two per message. Without it, messageHeads() in src/store/message-heads.ts asks structure() and
   * read() of each message.
   */
  messageHeads?(mailboxId: string, uids: number[], options?: MessageHeadOptions): Promise<MessageHead[]>;
  /**
   * The message bytes as a stream, for large bodies. The message is looked up, and its bytes
   * pinned, at the call: a later expunge must not cut the stream short. A store that cannot pin
   * synchronously (one in another process) says when it has through `pinned`.
   */
  stream(mailboxId: string, uid: number, range?: ByteRange): MessageStream;
  /**
   * UIDs matching the query, ascending. `options.progress`, when given, may be called as the
   * search goes (INPROGRESS, RFC 9585): every message with a UID up to `throughUid` has been
   * decided. A store that searches in one step need not call it.
   */
  search(mailboxId: string, query: SearchQuery, options?: SearchOptions): Promise<number[]>;
  /**
   * Optional (with MailStore.messageExtras): EMAILID and preview of the given UIDs (missing ones are
   * skipped), ascending by UID. Previews are computed at APPEND; a message stored before that gets
   * its preview computed on the first 'compute' request, and kept.
   */
  messageExtras?(mailboxId: string, uids: number[], options?: MessageExtrasOptions): Promise<MessageExtras[]>;
  /**
   * Optional: the sort and thread keys of every message in the mailbox, ascending by UID — what SORT
   * and THREAD work from. The keys are messageSortKeys(raw, structure) of each message, which a
   * store can compute once (at APPEND) and keep. While the mailbox's messages are unchanged a store
   * should return the very same array (not a copy): callers cache sorted orders and threads by its
   * identity, so neither side may modify it (a store that returns a new array each time is still
   * correct, only every SORT then sorts again). Without this method, sortData() in
   * src/store/sort/sort-data.ts computes the keys from structure() and read() of each message.
   * `keys` names the keys the caller is about to read (a hint): a store that reads keys lazily may
   * read those ahead, in slices that let the event loop go (the SQLite store does), rather than in
   * one stretch at the first access. Every key stays readable whatever the hint.
   */
  sortData?(mailboxId: string, keys?: SortKeyNames): Promise<readonly SortableMessage[]>;

  /**
   * Optional (RFC 9208): this user's usage and limits. A store that has it enforces the limits
   * atomically inside every write that adds messages — append() and copy() fail with StoreError
   * 'overquota' when the result would exceed a limit, checked and written in one step, so writers
   * racing each other never overshoot. move() within the user changes no usage and is never
   * refused for quota. Messages flagged \Deleted count until expunged.
   */
  quota?(): Promise<QuotaState>;

  append(mailboxId: string, input: AppendInput, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Optional (RFC 3502 MULTIAPPEND): appends every message or none, in the given order, as one
   * write — the quota is checked for their sum inside it, they get consecutive UIDs, and one
   * 'exists' change is published. Results are in input order. Without it the IMAP layer appends
   * one by one and expunges what it added when one fails (the same end result, but not atomic
   * for other sessions or across a crash). `options.maxKeywords` counts the keywords they bring,
   * together, inside the write, as append() does. A store reads the inputs in order, each content to
   * its end before it asks for the next input (AppendInputs), and adds nothing when any of that
   * fails — leaving no body behind either. appendAllOrNone() (src/store/append-many.ts) is the
   * caller's way in, with the one-by-one fallback.
   */
  appendMany?(mailboxId: string, inputs: AppendInputs, options?: KeywordLimitOptions): Promise<AppendResult[]>;
  /**
   * Optional (RFC 8508 REPLACE): appends `input` to `toMailboxId` and removes message `uid` of
   * `fromMailboxId` (whatever its flags) in one write — both or, when the append fails, neither.
   * The quota must allow the new message while the old one still counts (as an APPEND followed by
   * an expunge). Without it, replaceMessage() (src/store/append-many.ts) appends and then expunges.
   */
  replace?(fromMailboxId: string, uid: number, toMailboxId: string, input: AppendInput, options?: KeywordLimitOptions): Promise<ReplaceResult>;
  updateFlags(
    mailboxId: string,
    uids: number[],
    operation: FlagOperation,
    flags: Flag[],
    /**
     * `maxKeywords`: fail with 'limit', changing nothing, when the mailbox would then hold more
     * distinct keywords than that — checked inside the write, so parallel STOREs cannot pass it
     * together. A store that cannot count atomically may ignore it (the server checks too).
     */
    options?: { unchangedSince?: number; maxKeywords?: number },
  ): Promise<FlagUpdateResult>;
  copy(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult>;
  /** Atomic copy + expunge (RFC 6851). */
  move(fromMailboxId: string, uids: number[], toMailboxId: string, options?: KeywordLimitOptions): Promise<CopyResult>;
  /**
   * Optional (RFC 7162 §3.2 QRESYNC): the UIDs expunged from the mailbox with a mod-sequence above
   * `since` (every expunge raises HIGHESTMODSEQ and is recorded at the new value), ascending; or
   * null when the store no longer remembers all of them (src/store/expunged.ts: retention). Without
   * the method, or on null, the IMAP layer reports every UID the client may know that is gone —
   * correct, only larger.
   */
  expungedSince?(mailboxId: string, since: number): Promise<number[] | null>;
  /**
   * Optional (RFC 7162 §3.1.4.1 CHANGEDSINCE, §3.1.5 SEARCH MODSEQ): the messages whose
   * mod-sequence is above `since`, ascending by UID, with their current flags — found by modseq,
   * not by reading every message (SQL stores keep an index on (mailbox, modseq); the memory store
   * a modseq-ordered log). Without it the IMAP layer reads the records of every message the
   * command names and filters them, which is correct but costs a read per message.
   */
  changedSince?(mailboxId: string, since: number): Promise<MessageMeta[]>;
  /** Removes messages flagged \Deleted (only those among `uids` when given). Returns removed UIDs. */
  expunge(mailboxId: string, uids?: number[]): Promise<number[]>;

  /** Releases per-session resources. */
  close(): Promise<void>;
}
