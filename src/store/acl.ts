/**
 * The RFC 4314 rights model, shared by every store and by the protocol layers: which rights exist,
 * how a rights string is validated and normalised, and what a user may do in a mailbox given its
 * access control list. Pure functions; no I/O and no IMAP syntax.
 *
 * Choices where RFC 4314 leaves one (as Dovecot and Cyrus answer):
 * - The owner of a mailbox has every right, whatever the ACL says (entries naming the owner are
 *   refused when set, so they never mislead).
 * - Identifiers: user names, "anyone" and "authenticated" (the same here: every IMAP user is
 *   authenticated), and "-name" for negative rights, which remove rights granted by the others
 *   (§2). Groups ("$team") are not supported.
 * - The obsolete virtual rights of §2.1.1: "c" is "k", "d" is "x t e" (the second group of §2.1.1,
 *   as Cyrus). Both are reported back whenever one of their members is held.
 */
import { StoreError } from './errors.js';

/** Every real right, in the order responses list them. */
export const ALL_RIGHTS = 'lrswipkxtea';
/** The obsolete rights of RFC 2086 and what they stand for (RFC 4314 §2.1.1). */
const VIRTUAL_RIGHTS: Readonly<Record<string, string>> = { c: 'k', d: 'xte' };

/** One entry of a mailbox's access control list: `rights` is normalised (see normalizeRights). */
export interface AclEntry {
  /** A user name, "anyone", "authenticated", or one of those with a leading "-" (negative rights). */
  identifier: string;
  rights: string;
}

/** A mailbox of another user that names `user` (or anyone) in its ACL: MailStore.sharedMailboxes. */
export interface SharedMailboxRef {
  owner: string;
  mailboxId: string;
  /** The name in the owner's tree. */
  name: string;
  acl: AclEntry[];
}

export const ANYONE = 'anyone';
export const AUTHENTICATED = 'authenticated';

/** Thrown for a rights string with a right that does not exist (SETACL answers BAD, §3.1). */
export class RightsSyntaxError extends Error {}

/**
 * The set of real rights in `text`, in ALL_RIGHTS order, with "c" and "d" expanded. Throws
 * RightsSyntaxError for anything else (upper case included, RFC 4314 §3.1 example).
 */
export function normalizeRights(text: string): string {
  const set = new Set<string>();
  for (const ch of text) {
    if (ALL_RIGHTS.includes(ch)) set.add(ch);
    else if (VIRTUAL_RIGHTS[ch] !== undefined) for (const r of VIRTUAL_RIGHTS[ch]!) set.add(r);
    else throw new RightsSyntaxError(ch === ch.toLowerCase() ? `The ${ch} right is not supported` : 'Uppercase rights are not allowed');
  }
  return [...ALL_RIGHTS].filter((r) => set.has(r)).join('');
}

/** Rights as responses show them: the real ones plus "c" and "d" when a member is held (§2.1.1). */
export function displayRights(rights: string): string {
  let out = rights;
  if (rights.includes('k')) out += 'c';
  if (/[xte]/.test(rights)) out += 'd';
  return out;
}

/** SETACL's modification (§3.1): "+r" adds, "-r" removes, anything else replaces. */
export function applyModification(current: string, modification: string): string {
  if (modification.startsWith('+')) return normalizeRights(current + normalizeRights(modification.slice(1)));
  if (modification.startsWith('-')) {
    const remove = normalizeRights(modification.slice(1));
    return [...current].filter((r) => !remove.includes(r)).join('');
  }
  return normalizeRights(modification);
}

const IDENTIFIER = /^-?[^\s\x00-\x1f\x7f"\\]{1,255}$/u;

/** Validates an identifier for storing: throws StoreError 'cannot' for groups and malformed ones. */
export function validateIdentifier(identifier: string): string {
  if (!IDENTIFIER.test(identifier) || identifier === '-') throw new StoreError('cannot', 'Invalid identifier');
  const bare = identifier.startsWith('-') ? identifier.slice(1) : identifier;
  if (bare.startsWith('$')) throw new StoreError('cannot', 'Groups are not supported');
  return identifier;
}

/**
 * The rights `user` has in a mailbox of `owner` with this ACL (§2): the owner has all; anyone else
 * has the union of the entries for them, "anyone" and "authenticated", minus the union of the
 * negative entries for the same identifiers.
 */
export function effectiveRights(user: string, owner: string, acl: readonly AclEntry[]): string {
  if (user === owner) return ALL_RIGHTS;
  const mine = new Set([user, ANYONE, AUTHENTICATED]);
  const granted = new Set<string>();
  const denied = new Set<string>();
  for (const entry of acl) {
    const negative = entry.identifier.startsWith('-');
    const id = negative ? entry.identifier.slice(1) : entry.identifier;
    if (!mine.has(id)) continue;
    for (const r of entry.rights) (negative ? denied : granted).add(r);
  }
  return [...ALL_RIGHTS].filter((r) => granted.has(r) && !denied.has(r)).join('');
}

/** The right needed to set or clear `flag` (RFC 4314 §4, STORE): s for \Seen, t for \Deleted, else w. */
export function rightForFlag(flag: string): 's' | 't' | 'w' {
  const lower = flag.toLowerCase();
  if (lower === '\\seen') return 's';
  if (lower === '\\deleted') return 't';
  return 'w';
}

/** `flags` without those `rights` do not allow changing (APPEND/COPY keep only these, §4). */
export function permittedFlags(flags: readonly string[], rights: string): string[] {
  return flags.filter((f) => rights.includes(rightForFlag(f)));
}

/**
 * RFC 4314 §5.2: READ-ONLY when the user holds none of "i", "e" and the rights of the flags that
 * are shared (here every flag is: \Seen too, see docs/sharing.md).
 */
export function selectsReadOnly(rights: string): boolean {
  return !/[iestw]/.test(rights);
}

/** True when an entry with this identifier concerns `user` (MailStore.sharedMailboxes). */
export function aclNames(identifier: string, user: string): boolean {
  const id = identifier.startsWith('-') ? identifier.slice(1) : identifier;
  return id === user || id === ANYONE || id === AUTHENTICATED;
}

/** Sorts and de-duplicates entries for storing and answering (stable order: identifier). */
export function sortAcl(entries: readonly AclEntry[]): AclEntry[] {
  return [...entries].filter((e) => e.rights !== '').sort((a, b) => (a.identifier < b.identifier ? -1 : a.identifier > b.identifier ? 1 : 0));
}
