/**
 * Reads a Maildir tree. Two layouts are understood (and may be mixed):
 * - Maildir++ (Dovecot's default, Courier): INBOX is the root; folder "A/B" is the directory ".A.B",
 *   each level in modified UTF-7.
 * - Dovecot LAYOUT=fs: folder "A/B" is the directory "A/B" (also modified UTF-7).
 * A directory is a mailbox when it has cur/ or new/. Messages in new/ have no flags; the ":2,"
 * suffix of names in cur/ carries them (https://cr.yp.to/proto/maildir.html). The internal date is
 * the file's mtime, as Dovecot and Courier use it.
 */
import { existsSync, readFileSync, type Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Flag } from '../types.js';
import { decodeFolderName } from './mutf7.js';
import type { SourceMessage } from './source.js';

const LETTER_FLAGS: Record<string, Flag> = {
  D: '\\Draft',
  F: '\\Flagged',
  P: '$Forwarded',
  R: '\\Answered',
  S: '\\Seen',
  T: '\\Deleted',
};

export interface MaildirFolder {
  /** Store name ("INBOX", "Archive/2024"). */
  mailbox: string;
  path: string;
}

export interface MaildirEntry {
  folder: MaildirFolder;
  file: string;
  /** "cur" or "new". */
  sub: 'cur' | 'new';
  name: string;
}

function isMaildir(path: string): boolean {
  return existsSync(join(path, 'cur')) || existsSync(join(path, 'new'));
}

function folderNameFromLevels(levels: string[]): string {
  const decoded = levels.map(decodeFolderName);
  if (decoded[0]!.toUpperCase() === 'INBOX') decoded[0] = 'INBOX';
  return decoded.join('/');
}

/** Every mailbox directory under `root`, INBOX first. */
export async function findMaildirFolders(root: string): Promise<MaildirFolder[]> {
  if (!existsSync(root)) throw new Error(`no such Maildir: ${root}`);
  const found = new Map<string, MaildirFolder>();
  const add = (mailbox: string, path: string): void => {
    if (!found.has(mailbox)) found.set(mailbox, { mailbox, path });
  };
  if (isMaildir(root)) add('INBOX', root);
  const walk = async (dir: string, levels: string[]): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || ['cur', 'new', 'tmp'].includes(entry.name)) continue;
      const path = join(dir, entry.name);
      if (levels.length === 0 && entry.name.startsWith('.')) {
        // Maildir++: ".A.B" (a leading "INBOX." is Courier's namespace prefix, not a level).
        const parts = entry.name.slice(1).split('.');
        if (parts.length > 1 && parts[0]!.toUpperCase() === 'INBOX') parts.shift();
        if (parts.some((p) => p === '')) continue;
        if (isMaildir(path)) add(folderNameFromLevels(parts), path);
        continue;
      }
      if (entry.name.startsWith('.')) continue;
      const next = [...levels, entry.name];
      if (isMaildir(path)) add(folderNameFromLevels(next), path);
      await walk(path, next);
    }
  };
  await walk(root, []);
  return [...found.values()].sort((a, b) => (a.mailbox === 'INBOX' ? -1 : b.mailbox === 'INBOX' ? 1 : a.mailbox < b.mailbox ? -1 : 1));
}

/** Dovecot's per-folder "dovecot-keywords": lines "<index> <keyword>", index 0 is letter "a". */
function readKeywords(folder: string): Map<string, string> {
  const map = new Map<string, string>();
  const file = join(folder, 'dovecot-keywords');
  if (!existsSync(file)) return map;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\S+)/.exec(line);
    if (m && Number(m[1]) < 26) map.set(String.fromCharCode(97 + Number(m[1])), m[2]!);
  }
  return map;
}

export function flagsFromName(name: string, keywords: Map<string, string>): Flag[] {
  // ":2," on Unix; "!2," where ":" is not allowed in file names (Windows tools, mbsync).
  const m = /[:!]2,([^:!]*)$/.exec(name);
  if (!m) return [];
  const flags: Flag[] = [];
  for (const ch of m[1]!) {
    const flag = LETTER_FLAGS[ch] ?? keywords.get(ch);
    if (flag && !flags.includes(flag)) flags.push(flag);
  }
  return flags;
}

/** The messages of one folder, in delivery order (Maildir names start with the delivery time). */
export async function listFolderMessages(folder: MaildirFolder): Promise<MaildirEntry[]> {
  const out: MaildirEntry[] = [];
  for (const sub of ['new', 'cur'] as const) {
    const dir = join(folder.path, sub);
    if (!existsSync(dir)) continue;
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isFile() && !entry.name.startsWith('.')) out.push({ folder, file: join(dir, entry.name), sub, name: entry.name });
    }
  }
  return out.sort((a, b) => deliveryKey(a.name) - deliveryKey(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function deliveryKey(name: string): number {
  const m = /^(\d+)/.exec(name);
  return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
}

export async function readMaildirMessage(entry: MaildirEntry, keywords: Map<string, string>): Promise<SourceMessage> {
  const [raw, info]: [Buffer, Stats] = await Promise.all([readFile(entry.file), stat(entry.file)]);
  return {
    mailbox: entry.folder.mailbox,
    raw,
    flags: entry.sub === 'cur' ? flagsFromName(entry.name, keywords) : [],
    internalDate: info.mtime,
    origin: entry.file,
  };
}

export { readKeywords as readMaildirKeywords };
