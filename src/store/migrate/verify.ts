/**
 * Compares two stores user by user, mailbox by mailbox, message by message: the mailbox tree and
 * its special-use attributes, subscriptions, UIDVALIDITY, UIDNEXT, HIGHESTMODSEQ, and for every
 * message its UID, flags, modseq, internal date, size and the SHA-256 of its bytes (streamed);
 * and each user's Sieve scripts (text, active flag) and vacation memory, every mailbox's ACL, each
 * viewer's own \Seen (with its modseq), the annotations of the server scope and of every mailbox
 * (/shared and every user's /private) and the stored quota limits.
 * Returns the differences found (empty: identical), at most `limit` of them.
 */
import { createHash } from 'node:crypto';
import { hasSieveStorage, type VacationMemory } from '../sieve-storage.js';
import type { MailStore, MessageRecord, UserMailbox } from '../types.js';
import { sharedStateDifferences, viewersBoth } from './verify-shared.js';
import type { MigrationSource } from './types.js';

export interface VerifySummary {
  users: number;
  mailboxes: number;
  messages: number;
  differences: string[];
}

async function digest(handle: UserMailbox, mailboxId: string, uid: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of handle.stream(mailboxId, uid)) hash.update(part);
  return hash.digest('hex');
}

const flagKey = (flags: string[]): string => flags.map((f) => f.toLowerCase()).sort().join(' ');

function recordKey(r: MessageRecord): string {
  return `uid ${r.uid} flags [${flagKey(r.flags)}] modseq ${r.modseq} date ${r.internalDate.toISOString()} size ${r.size}`;
}

export async function verifyMigration(from: MigrationSource, to: MailStore, users: string[], limit = 50): Promise<VerifySummary> {
  const out: VerifySummary = { users: 0, mailboxes: 0, messages: 0, differences: [] };
  const differ = (what: string): void => {
    if (out.differences.length < limit) out.differences.push(what);
  };
  for (const user of users) {
    const a = await from.open(user);
    const b = await to.open(user);
    try {
      out.users++;
      const subsA = (await a.subscriptions()).sort().join('\n');
      const subsB = (await b.subscriptions()).sort().join('\n');
      if (subsA !== subsB) differ(`${user}: subscriptions differ`);
      for (const d of await sieveDifferences(a, b)) differ(`${user}: ${d}`);
      const viewers = await viewersBoth(from, to, user);
      const pairs: Array<{ name: string; a: string | null; b: string | null; noselect: boolean }> = [{ name: '(server)', a: null, b: null, noselect: true }];
      const listA = await a.list();
      const listB = new Map((await b.list()).map((m) => [m.name, m]));
      if (listA.length !== listB.size) differ(`${user}: ${listA.length} mailboxes in the source, ${listB.size} in the target`);
      for (const boxA of listA) {
        out.mailboxes++;
        const where = `${user}/${boxA.name}`;
        const boxB = listB.get(boxA.name);
        if (!boxB) {
          differ(`${where}: missing in the target`);
          continue;
        }
        if (boxA.noselect !== boxB.noselect || (boxA.specialUse ?? '') !== (boxB.specialUse ?? '')) differ(`${where}: attributes differ`);
        pairs.push({ name: boxA.name, a: boxA.id, b: boxB.id, noselect: boxA.noselect || boxB.noselect });
        if (boxA.noselect) continue;
        const [sa, sb] = [await a.snapshot(boxA.id), await b.snapshot(boxB.id)];
        for (const key of ['uidValidity', 'uidNext', 'highestModseq'] as const) {
          if (sa[key] !== sb[key]) differ(`${where}: ${key} ${sa[key]} in the source, ${sb[key]} in the target`);
        }
        if (sa.messages.length !== sb.messages.length) differ(`${where}: ${sa.messages.length} messages in the source, ${sb.messages.length} in the target`);
        const uids = sa.messages.map((m) => m.uid);
        for (let at = 0; at < uids.length; at += 500) {
          const page = uids.slice(at, at + 500);
          const [ra, rb] = [await a.records(boxA.id, page), new Map((await b.records(boxB.id, page)).map((r) => [r.uid, r]))];
          for (const r of ra) {
            out.messages++;
            const other = rb.get(r.uid);
            if (!other) {
              differ(`${where}: UID ${r.uid} missing in the target`);
              continue;
            }
            if (recordKey(r) !== recordKey(other)) differ(`${where}: ${recordKey(r)} in the source, ${recordKey(other)} in the target`);
            else if ((await digest(a, boxA.id, r.uid)) !== (await digest(b, boxB.id, r.uid))) differ(`${where}: UID ${r.uid} has different bytes`);
          }
        }
      }
      for (const d of await sharedStateDifferences(from, to, user, a, b, pairs, viewers)) differ(d);
    } finally {
      await a.close();
      await b.close();
    }
  }
  return out;
}

/** Scripts (name, text, which is active) and vacation memories that differ between two handles. */
async function sieveDifferences(a: UserMailbox, b: UserMailbox): Promise<string[]> {
  if (!hasSieveStorage(a)) return [];
  const scriptsA = await a.sieveList();
  if (!hasSieveStorage(b)) return scriptsA.length > 0 ? ['the target keeps no Sieve scripts'] : [];
  const out: string[] = [];
  const scriptsB = new Map((await b.sieveList()).map((s) => [s.name, s]));
  if (scriptsA.length !== scriptsB.size) out.push(`${scriptsA.length} Sieve scripts in the source, ${scriptsB.size} in the target`);
  for (const s of scriptsA) {
    const other = scriptsB.get(s.name);
    if (!other) out.push(`Sieve script ${s.name} missing in the target`);
    else if (other.active !== s.active) out.push(`Sieve script ${s.name} is ${s.active ? '' : 'not '}active in the source only`);
    else if ((await a.sieveGet(s.name)) !== (await b.sieveGet(s.name))) out.push(`Sieve script ${s.name} has different text`);
  }
  if (a.vacationList && b.vacationList) {
    const now = new Date();
    const key = (m: VacationMemory): string => `${m.handle}\0${m.address}\0${m.until.getTime()}`;
    const [ma, mb] = [(await a.vacationList(now)).map(key).sort(), (await b.vacationList(now)).map(key).sort()];
    if (ma.join('\n') !== mb.join('\n')) out.push(`vacation memory differs (${ma.length} in the source, ${mb.length} in the target)`);
  }
  return out;
}
