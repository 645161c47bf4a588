/**
 * Checks of what `import` reads and `export` writes, before any work starts, with errors that name
 * the path and say what is wrong with it in words (not ENOENT, ENOTDIR or EISDIR).
 */
import { existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { findMaildirFolders } from '../../store/import/index.js';
import type { ImportSource } from '../../store/import/index.js';

function kind(path: string): 'missing' | 'file' | 'folder' | 'other' {
  if (!existsSync(path)) return 'missing';
  const s = statSync(path);
  return s.isDirectory() ? 'folder' : s.isFile() ? 'file' : 'other';
}

/** An mbox starts with a "From " line (RFC 4155); anything else is refused rather than imported as nothing. */
async function checkMbox(path: string): Promise<void> {
  const k = kind(path);
  if (k === 'missing') throw new Error(`--mbox ${path}: no such file`);
  if (k === 'folder') throw new Error(`--mbox ${path}: is a folder; an mbox is a single file (for a Maildir folder use --maildir)`);
  if (k !== 'file') throw new Error(`--mbox ${path}: not a regular file`);
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(5);
    const { bytesRead } = await handle.read(head, 0, 5, 0);
    if (bytesRead === 0) throw new Error(`--mbox ${path}: the file is empty`);
    if (head.toString('latin1', 0, bytesRead) !== 'From ') {
      throw new Error(`--mbox ${path}: not an mbox file (an mbox starts with a "From " line; this one starts with ${JSON.stringify(head.toString('latin1', 0, bytesRead))})`);
    }
  } finally {
    await handle.close();
  }
}

async function checkMaildir(path: string): Promise<void> {
  const k = kind(path);
  if (k === 'missing') throw new Error(`--maildir ${path}: no such folder`);
  if (k !== 'folder') throw new Error(`--maildir ${path}: is a file, not a Maildir folder (for an mbox file use --mbox)`);
  const folders = await findMaildirFolders(path);
  if (folders.length === 0) throw new Error(`--maildir ${path}: not a Maildir (no cur/ or new/ in it or in any folder below it)`);
}

export async function checkImportSource(source: ImportSource): Promise<void> {
  if (source.kind === 'mbox') await checkMbox(source.path);
  else await checkMaildir(source.path);
}

export function checkExportTarget(path: string): void {
  const k = kind(path);
  if (k === 'file' || k === 'other') throw new Error(`--maildir ${path}: is a file; give a folder (it is created when missing)`);
}
