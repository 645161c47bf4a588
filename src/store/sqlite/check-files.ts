/**
 * The blobs/ half of `postroom check`: every entry is a body file some content row refers to, an
 * orphan (no row refers to it: left by a crash, swept at a later start), or a stray (not a body
 * file at all: reported, never deleted). And `--quarantine`, which moves damaged body files and
 * strays out of blobs/ into DATA/quarantine/<time>/, keeping them for whoever investigates.
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StoreContext } from './context.js';
import type { DamagedBody } from './check.js';
import { IDENTITY_FILE } from './store-identity.js';

export interface FileFindings {
  /** Body files looked at. */
  checked: number;
  /** Files no content row refers to. */
  orphans: Array<{ path: string; size: number; ageMinutes: number }>;
  /** Entries that are not body files, relative to blobs/. */
  strays: string[];
  /** Released files waiting out their grace period (not orphans: a FETCH may still read them). */
  pendingDeletion: number;
}

const MAX_LISTED = 1000;

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

export async function checkFiles(ctx: StoreContext, onProgress: (done: number, total: number) => void, yieldNow: () => Promise<void>): Promise<FileFindings> {
  const findings: FileFindings = { checked: 0, orphans: [], strays: [], pendingDeletion: 0 };
  const referenced = ctx.sql.get('SELECT 1 FROM contents WHERE sha256 = ? AND body IS NULL');
  const tops = entries(ctx.files.root);
  for (const [i, top] of tops.entries()) {
    if (top.name === IDENTITY_FILE) continue;
    if (!top.isDirectory() || !/^[0-9a-f]{2}$/.test(top.name)) {
      findings.strays.push(top.name);
      continue;
    }
    for (const entry of entries(join(ctx.files.root, top.name))) {
      if (!entry.isFile() || !/^[0-9a-f]{64}$/.test(entry.name) || !entry.name.startsWith(top.name)) {
        findings.strays.push(`${top.name}/${entry.name}`);
        continue;
      }
      findings.checked++;
      if (referenced.get(Buffer.from(entry.name, 'hex')) !== undefined) continue;
      // An APPEND between moving its body into place and committing: not an orphan.
      if (ctx.files.isInstalling(entry.name)) continue;
      if (ctx.files.isPendingRemoval(entry.name)) {
        findings.pendingDeletion++;
        continue;
      }
      const path = join(ctx.files.root, top.name, entry.name);
      const st = statSync(path, { throwIfNoEntry: false });
      if (st && findings.orphans.length < MAX_LISTED) {
        findings.orphans.push({ path, size: st.size, ageMinutes: Math.floor((Date.now() - Math.max(st.mtimeMs, st.ctimeMs)) / 60_000) });
      }
      await yieldNow();
    }
    onProgress(i + 1, tops.length);
    await yieldNow();
  }
  return findings;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

/**
 * Moves damaged body files and strays to DATA/quarantine/<time>/ (bodies by their hex name, strays
 * under stray/ with their path in blobs/), with a README saying what each was. Inline bodies stay
 * where they are (they are rows, not files); their messages keep being refused.
 */
export function quarantine(ctx: StoreContext, damaged: readonly DamagedBody[], strays: readonly string[]): Array<{ from: string; to: string }> {
  const files = damaged.filter((d) => d.place === ctx.files.pathFor(Buffer.from(d.sha256, 'hex')));
  if (files.length === 0 && strays.length === 0) return [];
  const dest = join(ctx.health.directory, 'quarantine', stamp());
  mkdirSync(dest, { recursive: true });
  const moved: Array<{ from: string; to: string }> = [];
  const notes: string[] = [];
  for (const d of files) {
    const to = join(dest, d.sha256);
    try {
      renameSync(d.place, to);
    } catch {
      continue; // missing already: nothing to keep
    }
    moved.push({ from: d.place, to });
    const where = d.examples.map((e) => `${e.user}:${e.mailbox}:${e.uid}`).join(', ');
    notes.push(`${d.sha256}: body of ${d.messages} message(s) (${where}${d.messages > d.examples.length ? ', …' : ''}): ${d.problem}`);
  }
  for (const s of strays) {
    const from = join(ctx.files.root, s);
    const to = join(dest, 'stray', s);
    mkdirSync(dirname(to), { recursive: true });
    try {
      renameSync(from, to);
    } catch {
      continue;
    }
    moved.push({ from, to });
    notes.push(`stray/${s}: found in blobs/, not a message body file`);
  }
  writeFileSync(
    join(dest, 'README.txt'),
    `Moved out of ${ctx.files.root} by "postroom check --quarantine" on ${new Date().toISOString()}.\n` +
      'The messages whose bodies are here are refused to clients (IMAP NO [CORRUPTION], POP3 -ERR) until they are expunged.\n\n' +
      `${notes.join('\n')}\n`,
  );
  return moved;
}
