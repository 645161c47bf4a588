/**
 * Copies every user's mail from one store into another, mailbox by mailbox, in batches, keeping
 * UIDVALIDITY, UIDs, flags and keywords, modseqs, internal dates and subscriptions, and the
 * user's Sieve scripts (which one is active) and vacation memory, ACLs, each viewer's own \Seen in
 * shared mailboxes (with its modseqs), annotations and stored quota limits when both stores keep
 * them (shared-state.ts). Bodies are read
 * one at a time from the source and written in batches of bounded size, so memory stays flat
 * however large the store.
 */
import { compareMailboxNames } from '../names.js';
import { hasSieveStorage } from '../sieve-storage.js';
import type { MailStore, UserMailbox } from '../types.js';
import { copySharedState, type CopiedMailbox, type SharedStateCounts } from './shared-state.js';
import type { ImportedMessage, MigrationSource, MigrationTarget } from './types.js';

export interface MigrateProgress {
  user: string;
  mailbox: string;
  /** Messages copied so far, over all users, and how many there are in all. */
  done: number;
  total: number;
  bytes: number;
}

export interface MigrateSummary extends SharedStateCounts {
  users: number;
  mailboxes: number;
  messages: number;
  bytes: number;
  /** Sieve scripts copied (the active one stays active), and vacation memories. */
  sieveScripts: number;
  vacationMemories: number;
}

export interface MigrateOptions {
  from: MigrationSource;
  to: MailStore & MigrationTarget;
  /** Only these users (default: every user of the source). */
  users?: string[];
  onProgress?: (p: MigrateProgress) => void;
  /** Messages per write batch (default 200) and the bytes a batch may hold (default 16 MiB). */
  batchMessages?: number;
  batchBytes?: number;
}

const RECORDS_PAGE = 500;

export async function usersToMigrate(from: MigrationSource, only?: string[]): Promise<string[]> {
  const all = await from.users();
  if (!only || only.length === 0) return all;
  const missing = only.filter((u) => !all.includes(u));
  if (missing.length > 0) throw new Error(`no such user in the source store: ${missing.join(', ')}`);
  return only;
}

async function countMessages(handle: UserMailbox): Promise<number> {
  let n = 0;
  for (const m of await handle.list()) if (!m.noselect) n += (await handle.status(m.id)).messages;
  return n;
}

export async function migrateMail(options: MigrateOptions): Promise<MigrateSummary> {
  const { from, to } = options;
  const batchMessages = options.batchMessages ?? 200;
  const batchBytes = options.batchBytes ?? 16 * 1024 * 1024;
  const users = await usersToMigrate(from, options.users);
  const summary: MigrateSummary = { users: 0, mailboxes: 0, messages: 0, bytes: 0, sieveScripts: 0, vacationMemories: 0, aclEntries: 0, privateSeen: 0, annotations: 0, quotaLimits: 0 };
  const handles = new Map<string, UserMailbox>();
  let total = 0;
  for (const user of users) {
    const handle = await from.open(user);
    handles.set(user, handle);
    total += await countMessages(handle);
  }
  for (const user of users) {
    const source = handles.get(user)!;
    const target = await to.importUser(user);
    const copied: CopiedMailbox[] = [];
    const mailboxes = (await source.list()).sort((a, b) => compareMailboxNames(a.name, b.name, from.delimiter));
    for (const box of mailboxes) {
      summary.mailboxes++;
      if (box.noselect) {
        const targetId = await target.mailbox({ name: box.name, noselect: true, ...(box.specialUse ? { specialUse: box.specialUse } : {}) });
        copied.push({ name: box.name, sourceId: box.id, targetId, noselect: true });
        continue;
      }
      const snap = await source.snapshot(box.id);
      const targetId = await target.mailbox({
        name: box.name,
        noselect: false,
        ...(box.specialUse ? { specialUse: box.specialUse } : {}),
        uidValidity: snap.uidValidity,
        uidNext: snap.uidNext,
        highestModseq: snap.highestModseq,
      });
      let batch: ImportedMessage[] = [];
      let batchSize = 0;
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        await target.messages(targetId, batch);
        batch = [];
        batchSize = 0;
        options.onProgress?.({ user, mailbox: box.name, done: summary.messages, total, bytes: summary.bytes });
      };
      for (let at = 0; at < snap.messages.length; at += RECORDS_PAGE) {
        const page = snap.messages.slice(at, at + RECORDS_PAGE);
        const records = await source.records(box.id, page.map((m) => m.uid));
        for (const record of records) {
          const content = await source.read(box.id, record.uid);
          // The save date (RFC 8514) goes along, unknown (null) included; a source without any gives undefined.
          batch.push({ uid: record.uid, flags: record.flags, modseq: record.modseq, internalDate: record.internalDate, saveDate: record.saveDate, content });
          batchSize += content.length;
          summary.messages++;
          summary.bytes += content.length;
          if (batch.length >= batchMessages || batchSize >= batchBytes) await flush();
        }
      }
      await flush();
      copied.push({ name: box.name, sourceId: box.id, targetId, noselect: false });
    }
    await target.subscriptions(await source.subscriptions());
    await copySharedState({ from, source, to, importer: target, user, boxes: copied, counts: summary });
    await copySieve(source, to, user, summary);
    await source.close();
    summary.users++;
  }
  return summary;
}

/**
 * The user's Sieve scripts, the active flag and the vacation memories still in effect. A source
 * without script storage has nothing to copy; a target without it while the source has scripts
 * is an error (the scripts would be lost silently otherwise).
 */
async function copySieve(source: UserMailbox, to: MailStore, user: string, summary: MigrateSummary): Promise<void> {
  if (!hasSieveStorage(source)) return;
  const scripts = await source.sieveList();
  const memories = source.vacationList ? await source.vacationList(new Date()) : [];
  if (scripts.length === 0 && memories.length === 0) return;
  const target = await to.open(user);
  try {
    if (!hasSieveStorage(target)) throw new Error(`${user}: the target store does not keep Sieve scripts`);
    for (const s of scripts) {
      await target.sievePut(s.name, await source.sieveGet(s.name));
      summary.sieveScripts++;
    }
    const active = scripts.find((s) => s.active);
    if (active) await target.sieveSetActive(active.name);
    for (const m of memories) {
      await target.vacationRemember(m.handle, m.address, m.until);
      summary.vacationMemories++;
    }
  } finally {
    await target.close();
  }
}
