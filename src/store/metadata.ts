/**
 * RFC 5464 annotations as the stores keep them: entry names (§3.2), which entries are per user
 * (/private) and which are kept once (/shared), and the changes a write publishes. No IMAP syntax
 * here: the IMAP layer (src/imap/commands/metadata-*.ts) parses, checks rights and limits.
 */
import { StoreError } from './errors.js';
import type { MailboxChange, MetadataEntry, MetadataWrite } from './types.js';

/** The longest entry name accepted (RFC 5464 sets none; Cyrus and Dovecot cap theirs too). */
export const MAX_ENTRY_NAME_LENGTH = 1024;

/**
 * The entry name in its stored form (lower case: names are case-insensitive, §3.2), or null when it
 * is not a valid name: it must start with "/private/" or "/shared/" and have at least two
 * components (four under ".../vendor/"), no "//", no trailing "/", no "*" or "%", only ASCII
 * from 0x20 up (the RFC bans 0x00-0x19 and non-ASCII; DEL is a control character too).
 */
export function normalizeEntryName(name: string): string | null {
  if (name.length === 0 || name.length > MAX_ENTRY_NAME_LENGTH) return null;
  if (!/^[\x20-\x7e]+$/.test(name) || /[*%]/.test(name)) return null;
  if (!name.startsWith('/') || name.endsWith('/') || name.includes('//')) return null;
  const lower = name.toLowerCase();
  const parts = lower.slice(1).split('/');
  if (parts[0] !== 'private' && parts[0] !== 'shared') return null;
  if (parts.length < 2) return null;
  if (parts[1] === 'vendor' && parts.length < 4) return null;
  return lower;
}

/** True for an entry kept per user. */
export function isPrivateEntry(entry: string): boolean {
  return entry.startsWith('/private/');
}

/** Throws StoreError 'cannot' for a name the store must never be handed (callers validate first). */
export function checkWrites(writes: readonly MetadataWrite[]): void {
  for (const w of writes) {
    if (normalizeEntryName(w.entry) !== w.entry) throw new StoreError('cannot', 'invalid annotation entry name');
  }
}

/** The last write of each entry wins (a list naming one entry twice sets its last value). */
export function lastWrites(writes: readonly MetadataWrite[]): MetadataWrite[] {
  const byEntry = new Map<string, MetadataWrite>();
  for (const w of writes) byEntry.set(w.entry, w);
  return [...byEntry.values()];
}

/**
 * Whether a write breaks `maxEntries`: the count after it is above the limit and above the count
 * before (replacing values of a target already over a lowered limit is still allowed).
 */
export function tooMany(before: number, after: number, maxEntries: number | undefined): boolean {
  return maxEntries !== undefined && after > maxEntries && after > before;
}

/** The entries of a target as getMetadata returns them: sorted by name, values copied. */
export function sortedEntries(entries: Iterable<MetadataEntry>): MetadataEntry[] {
  return [...entries].map((e) => ({ entry: e.entry, value: Buffer.from(e.value) })).sort((a, b) => (a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0));
}

/**
 * The changes one setMetadata() publishes: the /shared names (heard by everyone who may see the
 * target) and the /private names, for `viewer` only.
 */
export function metadataChanges(mailboxId: string | null, writes: readonly MetadataWrite[], viewer: string, origin?: string): MailboxChange[] {
  const shared = writes.filter((w) => !isPrivateEntry(w.entry)).map((w) => w.entry);
  const priv = writes.filter((w) => isPrivateEntry(w.entry)).map((w) => w.entry);
  const base = { kind: 'metadata' as const, ...(mailboxId === null ? {} : { mailboxId }), ...(origin === undefined ? {} : { origin }) };
  const out: MailboxChange[] = [];
  if (shared.length > 0) out.push({ ...base, entries: shared });
  if (priv.length > 0) out.push({ ...base, entries: priv, viewer });
  return out;
}

/**
 * True when a listener acting for `user` may hear this change (another user's /private entries,
 * own \Seen or URLAUTH key reset: no).
 */
export function changeIsFor(change: MailboxChange, user: string): boolean {
  if (change.kind === 'metadata' || change.kind === 'flags' || change.kind === 'urlauth') return change.viewer === undefined || change.viewer === user;
  return true;
}
