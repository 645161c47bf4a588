/**
 * A small data folder to damage on purpose (issue 13's damage tests): user alice with a few
 * messages, three large enough to live as files in blobs/, the others inline in mail.sqlite.
 */
import { createHash } from 'node:crypto';
import { closeSync, cpSync, openSync, truncateSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { UserFile } from '../../src/auth/user-file.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

export const LARGE = 409_600;

/** A message of exactly `size` octets (CRLF lines) whose bytes depend on `tag`. */
export function messageOf(tag: string, size: number): Buffer {
  const head = `From: sender@example.com\r\nTo: alice@example.com\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@example.com>\r\n\r\n`;
  let body = '';
  while (head.length + body.length + 80 <= size) body += `${tag} ${'y'.repeat(74 - tag.length)}\r\n`;
  const rest = size - head.length - body.length;
  body += rest >= 2 ? `${'z'.repeat(rest - 2)}\r\n` : 'z'.repeat(rest);
  return Buffer.from(head + body, 'latin1');
}

/** INBOX of alice (password "secret"), in this order: UIDs 1 to 6. */
export const MESSAGES = {
  missingFile: messageOf('missing-file', LARGE),
  shortFile: messageOf('short-file', LARGE),
  alteredInline: messageOf('altered-inline', 4_000),
  alteredFile: messageOf('altered-file', LARGE),
  goodSmall: messageOf('good-small', 3_000),
  goodLarge: messageOf('good-large', LARGE),
};
export type MessageName = keyof typeof MESSAGES;
const ORDER = Object.keys(MESSAGES) as MessageName[];
export const seq = (name: MessageName): number => ORDER.indexOf(name) + 1;
export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const blobPath = (data: string, b: Buffer): string => join(data, 'blobs', sha(b).slice(0, 2), sha(b));

/** Builds the intact folder in `dir`. */
export async function buildDataFolder(dir: string): Promise<void> {
  await UserFile.inDataDir(dir, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('alice', 'secret');
  const store = await SqliteStore.open({ directory: dir });
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  for (const name of ORDER) await u.append(inbox.id, { content: MESSAGES[name] });
  await store.close();
}

export function copyFolder(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

/**
 * Damages the bodies of the first four messages, as their names say: a file deleted, a file cut
 * to 1,000 bytes, one byte changed in an inline body and in a file (same sizes). The folder's
 * server must be stopped.
 */
export function damageBodies(data: string): void {
  unlinkSync(blobPath(data, MESSAGES.missingFile));
  truncateSync(blobPath(data, MESSAGES.shortFile), 1000);
  const fd = openSync(blobPath(data, MESSAGES.alteredFile), 'r+');
  writeSync(fd, Buffer.from('Q'), 0, 1, 300_000);
  closeSync(fd);
  const db = new BetterSqlite3(join(data, 'mail.sqlite'));
  try {
    const inline = Buffer.from(MESSAGES.alteredInline);
    inline[inline.length - 10] = 0x51;
    const changed = db.prepare('UPDATE contents SET body = ? WHERE sha256 = ?').run(inline, Buffer.from(sha(MESSAGES.alteredInline), 'hex')).changes;
    if (changed !== 1) throw new Error('the inline body to alter was not found');
  } finally {
    db.close();
  }
}
