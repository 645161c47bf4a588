/**
 * Store-to-store migration (`postroom migrate`): what a store offers to be copied into with the
 * identities clients cached — UIDVALIDITY, UIDs, modseqs — kept. This is an internal capability of
 * the built-in stores, not part of the MailStore contract framework users implement: a normal
 * APPEND must allocate UIDs and modseqs itself, only a migration into an empty store may dictate them.
 */
import type { Flag, MailStore, PrivateSeen, SpecialUse } from '../types.js';

export interface ImportedMailbox {
  name: string;
  noselect: boolean;
  specialUse?: SpecialUse;
  /** Absent for a \Noselect mailbox (it has no UIDVALIDITY to keep; the target gives it one). */
  uidValidity?: number;
  uidNext?: number;
  highestModseq?: number;
}

export interface ImportedMessage {
  uid: number;
  flags: Flag[];
  modseq: number;
  internalDate: Date;
  /** RFC 8514 save date to keep; null: unknown (stays NIL); absent: the import is the save (now). */
  saveDate?: Date | null | undefined;
  content: Buffer;
}

export interface UserImporter {
  /** Creates the mailbox (INBOX: takes over the existing, empty one) with the given identity; returns its id. */
  mailbox(mailbox: ImportedMailbox): Promise<string>;
  /** Adds messages under their own UIDs and modseqs; one durable batch. */
  messages(mailboxId: string, batch: ImportedMessage[]): Promise<void>;
  /** Replaces the user's subscriptions. */
  subscriptions(names: string[]): Promise<void>;
  /**
   * Writes `viewer`'s own \Seen rows of one imported mailbox (per-user \Seen of shared mailboxes)
   * with the modseqs they had, after the mailbox's messages: unlike setPrivateSeen(), which takes a
   * new modseq, so a viewer's CONDSTORE cache stays valid. HIGHESTMODSEQ moves past the rows' if
   * it was below. One durable write.
   */
  privateSeen(mailboxId: string, viewer: string, rows: PrivateSeen[]): Promise<void>;
}

export interface MigrationTarget {
  /** Refuses (StoreError 'alreadyexists') when the user already has mail or mailboxes here beyond an empty INBOX. */
  importUser(user: string): Promise<UserImporter>;
}

/** A store that can say which users it holds (the source of a migration). */
export interface ListsUsers {
  users(): Promise<string[]>;
  /**
   * The users other than `owner` who keep state of their own in `owner`'s mailboxes — private
   * \Seen rows or /private annotations — whether or not they are users of this store or still
   * named in an ACL. Without it the migration asks on behalf of every user the store lists.
   */
  viewers?(owner: string): Promise<string[]>;
}

export type MigrationSource = MailStore & ListsUsers;

export function isMigrationTarget(store: object): store is MigrationTarget {
  return typeof (store as Partial<MigrationTarget>).importUser === 'function';
}

export function listsUsers(store: object): store is ListsUsers {
  return typeof (store as Partial<ListsUsers>).users === 'function';
}
