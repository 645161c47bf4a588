/**
 * `postroom migrate --verify` beyond mail: the stored quota limits, every mailbox's ACL, each
 * viewer's own \Seen (UID, state and modseq) and the annotations of the server scope and of every
 * mailbox — /shared, the owner's /private and every other viewer's /private — compared between the
 * two stores. A store that does not keep one of them counts as keeping none.
 */
import type { AclEntry } from '../acl.js';
import type { MailStore, MetadataEntry, PrivateSeen, QuotaState, UserMailbox } from '../types.js';
import { viewersOf } from './shared-state.js';
import { listsUsers, type MigrationSource } from './types.js';

/** One mailbox present in both stores (ids null: the user's server scope, for annotations). */
export interface MailboxPair {
  name: string;
  a: string | null;
  b: string | null;
  noselect: boolean;
}

/** The viewers of `user`'s mail in either store, so a row the target gained is found too. */
export async function viewersBoth(from: MigrationSource, to: MailStore, user: string): Promise<string[]> {
  const a = await viewersOf(from, user);
  const b = listsUsers(to) ? await viewersOf(to as MigrationSource, user) : [];
  return [...new Set([...a, ...b])].sort();
}

const storedLimits = (q: QuotaState): string =>
  q.source === 'store' ? `storage ${q.limits.storage ?? 'unlimited'} messages ${q.limits.messages ?? 'unlimited'}` : '(none stored)';
const aclKey = (acl: AclEntry[]): string => acl.map((e) => `${e.identifier} ${e.rights}`).sort().join(', ') || '(none)';
const seenRow = (r: PrivateSeen | undefined): string => (r ? `${r.seen ? 'seen' : 'not seen'} modseq ${r.modseq}` : 'no row');

/** The first UID whose row differs (rows come ascending by UID), described; null when none does. */
function firstSeenDifference(a: PrivateSeen[], b: PrivateSeen[]): string | null {
  const mapB = new Map(b.map((r) => [r.uid, r]));
  const uids = [...new Set([...a.map((r) => r.uid), ...b.map((r) => r.uid)])].sort((x, y) => x - y);
  const mapA = new Map(a.map((r) => [r.uid, r]));
  for (const uid of uids) {
    const [ra, rb] = [mapA.get(uid), mapB.get(uid)];
    if (seenRow(ra) !== seenRow(rb)) return `UID ${uid}: ${seenRow(ra)} in the source, ${seenRow(rb)} in the target`;
  }
  return null;
}

/** Entry names whose value differs (or that one side lacks). */
function entriesDiffering(a: MetadataEntry[], b: MetadataEntry[]): string[] {
  const [mapA, mapB] = [new Map(a.map((e) => [e.entry, e.value])), new Map(b.map((e) => [e.entry, e.value]))];
  const names = new Set([...mapA.keys(), ...mapB.keys()]);
  return [...names]
    .filter((n) => {
      const [va, vb] = [mapA.get(n), mapB.get(n)];
      return va === undefined || vb === undefined || !va.equals(vb);
    })
    .sort();
}

export async function sharedStateDifferences(
  from: MailStore,
  to: MailStore,
  user: string,
  a: UserMailbox,
  b: UserMailbox,
  pairs: MailboxPair[],
  viewers: string[],
): Promise<string[]> {
  const out: string[] = [];
  if (from.getQuota || to.getQuota) {
    const qa = from.getQuota ? storedLimits(await from.getQuota(user)) : '(none stored)';
    const qb = to.getQuota ? storedLimits(await to.getQuota(user)) : '(none stored)';
    if (qa !== qb) out.push(`${user}: quota limits ${qa} in the source, ${qb} in the target`);
  }
  for (const pair of pairs) {
    const where = pair.a === null ? `${user} (server)` : `${user}/${pair.name}`;
    if (pair.a !== null && pair.b !== null) {
      const la = a.getAcl ? aclKey(await a.getAcl(pair.a)) : '(none)';
      const lb = b.getAcl ? aclKey(await b.getAcl(pair.b)) : '(none)';
      if (la !== lb) out.push(`${where}: ACL ${la} in the source, ${lb} in the target`);
      if (!pair.noselect) {
        for (const viewer of viewers) {
          const sa = a.privateSeen ? await a.privateSeen(pair.a, viewer) : [];
          const sb = b.privateSeen ? await b.privateSeen(pair.b, viewer) : [];
          const first = firstSeenDifference(sa, sb);
          if (first) out.push(`${where}: ${viewer}'s own \\Seen differs (${sa.length} rows in the source, ${sb.length} in the target; first ${first})`);
        }
      }
    }
    if (!a.getMetadata && !b.getMetadata) continue;
    for (const viewer of [undefined, ...viewers]) {
      const options = viewer === undefined ? {} : { viewer };
      const own = (list: MetadataEntry[]): MetadataEntry[] => (viewer === undefined ? list : list.filter((e) => e.entry.startsWith('/private/')));
      const ma = a.getMetadata ? own(await a.getMetadata(pair.a, options)) : [];
      const mb = b.getMetadata ? own(await b.getMetadata(pair.b, options)) : [];
      const differing = entriesDiffering(ma, mb);
      if (differing.length > 0) out.push(`${where}: annotations${viewer === undefined ? '' : ` of ${viewer}`} differ: ${differing.join(' ')}`);
    }
  }
  return out;
}
