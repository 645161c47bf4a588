/**
 * The part of `postroom migrate` beyond mail: per-mailbox ACLs (RFC 4314), each viewer's own \Seen
 * in a shared mailbox, RFC 5464 annotations (server scope and mailboxes, /shared and every user's
 * /private) and the user's quota limits (RFC 9208; only the limits stored with setQuota — usage
 * is computed from the messages, and limits from the configuration are the target's own concern).
 *
 * Each is copied only when the source keeps it; a source that keeps some and a target that does
 * not is an error, as for Sieve scripts, so nothing is lost without a word. ACL identifiers name
 * other users and are copied as they are, whether or not those users exist in either store.
 */
import { isPrivateEntry } from '../metadata.js';
import type { MailStore, MetadataEntry, UserMailbox } from '../types.js';
import type { MigrationSource, UserImporter } from './types.js';

/** What the shared-state copy adds to the migration summary. */
export interface SharedStateCounts {
  /** ACL entries (identifier and rights of one mailbox). */
  aclEntries: number;
  /** Private \Seen rows (one viewer, one message). */
  privateSeen: number;
  /** Annotations (one entry of one mailbox or server scope, /shared or one user's /private). */
  annotations: number;
  /** Users whose stored quota limits were copied. */
  quotaLimits: number;
}

/** One mailbox as copied: its id in the source and in the target. */
export interface CopiedMailbox {
  name: string;
  sourceId: string;
  targetId: string;
  noselect: boolean;
}

export interface SharedStateCopy {
  from: MigrationSource;
  /** The user's handle on the source. */
  source: UserMailbox;
  to: MailStore;
  importer: UserImporter;
  user: string;
  /** Every mailbox of the user, already copied with its messages. */
  boxes: CopiedMailbox[];
  counts: SharedStateCounts;
}

/**
 * Everything of this module for one user, once the user's mailboxes and messages are in the
 * target (private \Seen rows name messages that must be there).
 */
export async function copySharedState(c: SharedStateCopy): Promise<void> {
  const { from, source, to, importer, user, boxes, counts } = c;
  const viewers = source.privateSeen || source.getMetadata ? await viewersOf(from, user) : [];
  // A handle on the target for what the importer does not write itself (ACLs, annotations).
  const target = await to.open(user);
  try {
    for (const box of boxes) await copyPrivateSeen(source, target, importer, user, box, viewers, counts);
    await copyAclAndMetadata(source, target, user, boxes, viewers, counts);
  } finally {
    await target.close();
  }
  await copyQuota(from, to, user, counts);
}

/**
 * The users whose own state in `owner`'s mailboxes must be looked for: the store says (viewers()),
 * or, from a store that cannot, every user it holds.
 */
export async function viewersOf(from: MigrationSource, owner: string): Promise<string[]> {
  const all = from.viewers ? await from.viewers(owner) : await from.users();
  return all.filter((u) => u !== owner);
}

/** Private \Seen rows per write: a mailbox of many messages a viewer has read is written in slices. */
const SEEN_BATCH = 5000;

function missing(user: string, what: string): Error {
  return new Error(`${user}: the target store does not keep ${what}`);
}

/** `viewer`'s own \Seen rows of one mailbox, with their modseqs (called after its messages are in). */
async function copyPrivateSeen(
  source: UserMailbox,
  target: UserMailbox,
  importer: UserImporter,
  user: string,
  box: CopiedMailbox,
  viewers: string[],
  counts: SharedStateCounts,
): Promise<void> {
  if (!source.privateSeen || box.noselect) return;
  for (const viewer of viewers) {
    const rows = await source.privateSeen(box.sourceId, viewer);
    if (rows.length === 0) continue;
    if (!target.privateSeen) throw missing(user, "each user's own \\Seen in shared mailboxes");
    for (let at = 0; at < rows.length; at += SEEN_BATCH) await importer.privateSeen(box.targetId, viewer, rows.slice(at, at + SEEN_BATCH));
    counts.privateSeen += rows.length;
  }
}

/** Every mailbox's ACL, and the annotations of the server scope and of every mailbox. */
async function copyAclAndMetadata(
  source: UserMailbox,
  target: UserMailbox,
  user: string,
  boxes: CopiedMailbox[],
  viewers: string[],
  counts: SharedStateCounts,
): Promise<void> {
  if (source.getAcl) {
    for (const box of boxes) {
      const acl = await source.getAcl(box.sourceId);
      if (acl.length === 0) continue;
      if (!target.setAcl) throw missing(user, 'access control lists (ACL)');
      for (const e of acl) await target.setAcl(box.targetId, e.identifier, e.rights);
      counts.aclEntries += acl.length;
    }
  }
  if (!source.getMetadata) return;
  const scopes: Array<{ sourceId: string | null; targetId: string | null }> = [{ sourceId: null, targetId: null }, ...boxes];
  for (const scope of scopes) {
    // The owner's view holds the /shared entries and the owner's /private ones; each viewer's, the
    // viewer's /private ones (their /shared ones are the owner's, already copied).
    const views: Array<{ viewer?: string; entries: MetadataEntry[] }> = [{ entries: await source.getMetadata(scope.sourceId) }];
    for (const viewer of viewers) {
      views.push({ viewer, entries: (await source.getMetadata(scope.sourceId, { viewer })).filter((e) => isPrivateEntry(e.entry)) });
    }
    for (const view of views) {
      if (view.entries.length === 0) continue;
      if (!target.setMetadata) throw missing(user, 'annotations (METADATA)');
      const writes = view.entries.map((e) => ({ entry: e.entry, value: e.value }));
      await target.setMetadata(scope.targetId, writes, view.viewer === undefined ? {} : { viewer: view.viewer });
      counts.annotations += writes.length;
    }
  }
}

/** The quota limits stored for the user (setQuota), if any. */
async function copyQuota(from: MailStore, to: MailStore, user: string, counts: SharedStateCounts): Promise<void> {
  if (!from.getQuota) return;
  const state = await from.getQuota(user);
  if (state.source !== 'store') return;
  if (!to.setQuota) throw missing(user, 'quota limits');
  await to.setQuota(user, state.limits);
  counts.quotaLimits++;
}
