/**
 * Imports Maildir trees and mbox files into any MailStore, keeping flags and internal dates.
 *
 * Re-running an import adds nothing twice: per target mailbox we count the messages already there by
 * the SHA-256 of their (CRLF-normalised) bytes, and import a source message only while the source
 * holds more copies of those bytes than the mailbox does. Identical messages that really occur twice
 * in the source are therefore imported twice on the first run and never again.
 */
import { createHash } from 'node:crypto';
import { isValidFlag } from '../flag-syntax.js';
import { stat } from 'node:fs/promises';
import type { MailStore, UserMailbox } from '../types.js';
import { isStoreError } from '../errors.js';
import { toCrlf } from './line-endings.js';
import { findMaildirFolders, listFolderMessages, readMaildirKeywords, readMaildirMessage } from './maildir.js';
import { readMbox } from './mbox.js';
import type { SourceMessage } from './source.js';

export type ImportSource = { kind: 'maildir'; path: string } | { kind: 'mbox'; path: string; mailbox?: string };

export interface ImportProgress {
  /** Messages (Maildir) or bytes (mbox) handled so far, out of `total`. */
  done: number;
  total: number;
  unit: 'messages' | 'bytes';
  imported: number;
  skipped: number;
}

export interface ImportOptions {
  store: MailStore;
  user: string;
  source: ImportSource;
  /**
   * Counts of the content hashes (hex SHA-256) already in a mailbox. Stores that keep hashes answer
   * this without reading every message (SqliteStore.contentDigests); the default reads and hashes.
   */
  digests?: (handle: UserMailbox, mailboxId: string) => Promise<Map<string, number>>;
  onProgress?: (progress: ImportProgress) => void;
}

export interface ImportSummary {
  mailboxes: string[];
  imported: number;
  /** Already present (an earlier run imported them). */
  skipped: number;
  bytes: number;
  failed: Array<{ origin: string; error: string }>;
  /** Keywords from the source that cannot be IMAP flags (spaces, quotes, non-ASCII...), left out. */
  droppedKeywords: string[];
}

export function sha256Hex(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

async function digestsByReading(handle: UserMailbox, mailboxId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const m of (await handle.snapshot(mailboxId)).messages) {
    const hex = sha256Hex(await handle.read(mailboxId, m.uid));
    counts.set(hex, (counts.get(hex) ?? 0) + 1);
  }
  return counts;
}

export async function importMail(options: ImportOptions): Promise<ImportSummary> {
  const handle = await options.store.open(options.user);
  const summary: ImportSummary = { mailboxes: [], imported: 0, skipped: 0, bytes: 0, failed: [], droppedKeywords: [] };
  const digests = options.digests ?? digestsByReading;
  const targets = new Map<string, { id: string; have: Map<string, number> }>();

  const target = async (name: string): Promise<{ id: string; have: Map<string, number> }> => {
    let t = targets.get(name);
    if (t) return t;
    let info;
    try {
      info = await handle.get(name);
      if (info.noselect) info = await handle.create(name);
    } catch (err) {
      if (!isStoreError(err) || err.kind !== 'nonexistent') throw err;
      info = await handle.create(name);
    }
    await handle.subscribe(info.name, true);
    t = { id: info.id, have: await digests(handle, info.id) };
    targets.set(name, t);
    summary.mailboxes.push(info.name);
    return t;
  };

  const importOne = async (msg: SourceMessage): Promise<void> => {
    try {
      const raw = toCrlf(msg.raw);
      const t = await target(msg.mailbox);
      const hex = sha256Hex(raw);
      const have = t.have.get(hex) ?? 0;
      if (have > 0) {
        t.have.set(hex, have - 1);
        summary.skipped++;
        return;
      }
      const flags = msg.flags.filter((f) => {
        if (isValidFlag(f)) return true;
        if (!summary.droppedKeywords.includes(f)) summary.droppedKeywords.push(f);
        return false;
      });
      await handle.append(t.id, { content: raw, flags, internalDate: msg.internalDate });
      summary.imported++;
      summary.bytes += raw.length;
    } catch (err) {
      summary.failed.push({ origin: msg.origin, error: err instanceof Error ? err.message : String(err) });
    }
  };

  try {
    const { source } = options;
    if (source.kind === 'maildir') {
      const folders = await findMaildirFolders(source.path);
      const entries = (await Promise.all(folders.map(listFolderMessages))).flat();
      const report = (done: number): void =>
        options.onProgress?.({ done, total: entries.length, unit: 'messages', imported: summary.imported, skipped: summary.skipped });
      report(0);
      const keywords = new Map(folders.map((f) => [f.path, readMaildirKeywords(f.path)]));
      for (const f of folders) await target(f.mailbox); // empty folders become mailboxes too
      let done = 0;
      for (const entry of entries) {
        await importOne(await readMaildirMessage(entry, keywords.get(entry.folder.path)!));
        report(++done);
      }
    } else {
      const total = (await stat(source.path)).size;
      let at = 0;
      const report = (): void => options.onProgress?.({ done: at, total, unit: 'bytes', imported: summary.imported, skipped: summary.skipped });
      report();
      await target(source.mailbox ?? 'INBOX');
      for await (const msg of readMbox(source.path, source.mailbox ?? 'INBOX', (offset) => (at = offset))) {
        await importOne(msg);
        report();
      }
      at = total;
      report();
    }
  } finally {
    await handle.close();
  }
  return summary;
}
