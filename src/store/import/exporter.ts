/**
 * Exports a user's mail to a Maildir++ tree (Dovecot's default layout, which Courier and most tools
 * read): INBOX at the root, folder "A/B" as ".A.B" with levels in modified UTF-7 ("." inside a
 * level written as "&AC4-" so it cannot be mistaken for a separator). Flags go into the ":2,"
 * suffix, keywords into dovecot-keywords letters, the internal date into the file's mtime.
 *
 * File names are derived from UIDVALIDITY and UID, so exporting again into the same tree only adds
 * what is new. Each file is written to tmp/ and renamed into cur/, the Maildir delivery protocol.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open, rename, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Flag, MailStore } from '../types.js';
import { toLf } from './line-endings.js';
import { encodeFolderName } from './mutf7.js';

export interface ExportOptions {
  store: MailStore;
  user: string;
  path: string;
  /** Write bare-LF line ends (the Unix convention) instead of the stored CRLF bytes. */
  lf?: boolean;
  onProgress?: (progress: { done: number; total: number }) => void;
}

export interface ExportSummary {
  mailboxes: number;
  exported: number;
  /** Already in the tree from an earlier export. */
  skipped: number;
  bytes: number;
  /** Keywords beyond the 26 a Maildir folder can name; they were left out of those files' flags. */
  droppedKeywords: string[];
}

const FLAG_LETTERS: Record<string, string> = {
  '\\draft': 'D',
  '\\flagged': 'F',
  $forwarded: 'P',
  '\\answered': 'R',
  '\\seen': 'S',
  '\\deleted': 'T',
};

export function folderPath(root: string, mailbox: string): string {
  if (mailbox === 'INBOX') return root;
  const levels = mailbox.split('/').map((l) => encodeFolderName(l).replace(/\./g, '&AC4-'));
  return join(root, `.${levels.join('.')}`);
}

/** dovecot-keywords letters; existing assignments are kept so earlier exports stay right. */
class Keywords {
  /** Lower-cased keyword → its letter and spelling. */
  private readonly byName = new Map<string, { letter: string; name: string }>();
  constructor(private readonly folder: string) {
    const file = join(folder, 'dovecot-keywords');
    if (!existsSync(file)) return;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /^(\d+)\s+(\S+)/.exec(line);
      if (m && Number(m[1]) < 26) this.byName.set(m[2]!.toLowerCase(), { letter: String.fromCharCode(97 + Number(m[1])), name: m[2]! });
    }
  }
  letter(keyword: string): string | null {
    const key = keyword.toLowerCase();
    const known = this.byName.get(key);
    if (known) return known.letter;
    if (this.byName.size >= 26) return null;
    const letter = String.fromCharCode(97 + this.byName.size);
    this.byName.set(key, { letter, name: keyword });
    return letter;
  }
  async save(): Promise<void> {
    if (this.byName.size === 0) return;
    const lines = [...this.byName.values()].map(({ letter, name }) => `${letter.charCodeAt(0) - 97} ${name}`);
    await writeFile(join(this.folder, 'dovecot-keywords'), lines.join('\n') + '\n', { mode: 0o600 });
  }
}

export async function exportMaildir(options: ExportOptions): Promise<ExportSummary> {
  const handle = await options.store.open(options.user);
  const summary: ExportSummary = { mailboxes: 0, exported: 0, skipped: 0, bytes: 0, droppedKeywords: [] };
  try {
    const boxes = (await handle.list()).filter((b) => !b.noselect);
    const snapshots = await Promise.all(boxes.map(async (b) => ({ box: b, snap: await handle.snapshot(b.id) })));
    const total = snapshots.reduce((n, s) => n + s.snap.messages.length, 0);
    let done = 0;
    options.onProgress?.({ done, total });
    for (const { box, snap } of snapshots) {
      const dir = folderPath(options.path, box.name);
      // 0700 and 0600, as Dovecot writes Maildirs: it is someone's mail.
      for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
      summary.mailboxes++;
      const present = new Set(readdirSync(join(dir, 'cur')).map((n) => n.replace(/[:!]2,.*$/, '')));
      const keywords = new Keywords(dir);
      for (let i = 0; i < snap.messages.length; i += 500) {
        const batch = snap.messages.slice(i, i + 500).map((m) => m.uid);
        for (const rec of await handle.records(box.id, batch)) {
          const base = `${Math.max(0, Math.floor(rec.internalDate.getTime() / 1000))}.U${snap.uidValidity}_${rec.uid}.postroom,S=${rec.size}`;
          done++;
          if (present.has(base)) {
            summary.skipped++;
            continue;
          }
          const name = `${base}:2,${flagLetters(rec.flags, keywords, summary.droppedKeywords)}`;
          const tmp = join(dir, 'tmp', base);
          const file = await open(tmp, 'w', 0o600);
          try {
            for await (const chunk of handle.stream(box.id, rec.uid)) {
              const out = options.lf ? toLf(chunk) : chunk;
              await file.write(out);
              summary.bytes += out.length;
            }
            await file.sync();
          } finally {
            await file.close();
          }
          await utimes(tmp, rec.internalDate, rec.internalDate);
          await rename(tmp, join(dir, 'cur', name));
          summary.exported++;
          options.onProgress?.({ done, total });
        }
      }
      await keywords.save();
    }
    const subs = await handle.subscriptions();
    if (subs.length > 0) await writeFile(join(options.path, 'subscriptions'), subs.map((s) => `${s}\n`).join(''), { mode: 0o600 });
  } finally {
    await handle.close();
  }
  return summary;
}

function flagLetters(flags: Flag[], keywords: Keywords, dropped: string[]): string {
  const letters: string[] = [];
  for (const f of flags) {
    const system = FLAG_LETTERS[f.toLowerCase()];
    if (system) letters.push(system);
    else if (!f.startsWith('\\')) {
      const l = keywords.letter(f);
      if (l) letters.push(l);
      else if (!dropped.includes(f)) dropped.push(f);
    }
  }
  // The Maildir spec wants the letters in ASCII order.
  return [...new Set(letters)].sort().join('');
}
