/**
 * The modes `serve` expects of the data folder: 0700 for folders and 0600 for the files that hold
 * mail, hashes and the TLS key. Every command creates them so; this finds what was loosened since
 * (or made by an older version), for a warning at start that names each file and the fix.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

const PRIVATE = [
  { name: '.', folder: true },
  { name: 'mail.sqlite', folder: false },
  { name: 'mail.sqlite-wal', folder: false },
  { name: 'blobs', folder: true },
  { name: 'tls', folder: true },
  { name: 'tls/key.pem', folder: false },
] as const;

export function looseModes(dataDir: string): string[] {
  const warnings: string[] = [];
  for (const { name, folder } of PRIVATE) {
    const path = name === '.' ? dataDir : join(dataDir, name);
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    const want = folder ? '700' : '600';
    warnings.push(`${path} has mode ${mode.toString(8).padStart(4, '0')}: other users may read ${folder ? 'what it holds' : 'it'}; chmod ${want} ${path}`);
  }
  return warnings;
}
