/**
 * Whether blobs/ and mail.sqlite belong together — decided before anything in blobs/ may be
 * deleted.
 *
 * The startup sweep deletes body files no content row refers to. Against the wrong database (a
 * missing or emptied mail.sqlite, a wrong --data path, a database restored from another server)
 * "no row refers to it" means every file, and the sweep once deleted every large message that way.
 * So the database holds a random identity (`meta.store_id`) and blobs/ a marker file with the same
 * number, written when the two are first paired, and:
 *
 * - a new database (no schema yet) with anything in blobs/ → refuse to start: the mail in blobs/
 *   belongs to a database that is not here;
 * - the marker names another database → refuse to start;
 * - the identities match → the sweep may run (and removes only orphans past the grace period);
 * - a database from before identities existed, or a marker that went missing → the pair is adopted
 *   (the marker written) but nothing is swept this time; later starts sweep as usual.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { Logger } from '../../util/logger.js';
import { StoreError } from '../errors.js';
import type { BlobFiles } from './blob-files.js';
import { DATABASE_FILE } from './database.js';

/** The marker file in blobs/. */
export const IDENTITY_FILE = 'postroom-store-id';
const META_KEY = 'store_id';

export function readMarker(files: BlobFiles): number | null | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(join(files.root, IDENTITY_FILE), 'latin1');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return 'unreadable';
  }
  const m = /^(\d{1,16})\s*(?:\n|$)/.exec(text);
  return m ? Number(m[1]) : 'unreadable';
}

function markerText(id: number): string {
  return `${id}\nThis number ties this blobs/ folder to the mail.sqlite beside it (postroom). Do not copy it between data folders.\n`;
}

export function databaseIdentity(db: Database): number | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(META_KEY) as { value: number } | undefined;
  return row?.value;
}

/**
 * Called before migrations, on a database that may be brand new: refuses to go on when blobs/
 * holds anything a new database cannot know about.
 */
export function refuseNewDatabaseWithBlobs(directory: string, files: BlobFiles, databaseIsNew: boolean): void {
  if (!databaseIsNew) return;
  const { files: bodies, strays } = files.list(new Set([IDENTITY_FILE]));
  const marker = readMarker(files);
  if (bodies.length === 0 && strays.length === 0 && marker === null) return;
  const parts = [
    bodies.length > 0 ? `${bodies.length} message file${bodies.length === 1 ? '' : 's'}` : '',
    strays.length > 0 ? `${strays.length} other entr${strays.length === 1 ? 'y' : 'ies'}` : '',
    marker !== null ? `the identity marker of database ${marker}` : '',
  ].filter(Boolean);
  const what = parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0];
  throw new StoreError(
    'damaged',
    `${join(directory, DATABASE_FILE)} is new (it was missing or empty), but ${files.root} holds ${what}: mail of a database that is not here. ` +
      'Starting would lose track of that mail, so postroom stops here. Check that --data names the right folder and restore ' +
      `mail.sqlite from a backup. To start with an empty store on purpose, move ${files.root} out of the way first.`,
    { file: join(directory, DATABASE_FILE) },
  );
}

/**
 * Called after migrations: makes sure the database has an identity and blobs/ its marker, and
 * says whether the sweep may run. Throws when the marker names another database.
 */
export function reconcileIdentity(db: Database, files: BlobFiles, logger?: Logger): { id: number; maySweep: boolean } {
  const marker = readMarker(files);
  let id = databaseIdentity(db);
  if (marker !== null && marker !== id) {
    throw new StoreError(
      'damaged',
      `${files.root} belongs to another database (${join(files.root, IDENTITY_FILE)} says ${marker === 'unreadable' ? 'something unreadable' : marker}; ` +
        `${DATABASE_FILE} ${id === undefined ? 'has no identity yet' : `is ${id}`}). Were mail.sqlite and blobs/ restored from different backups or folders? ` +
        `Put back the pair that belongs together. If you are sure these do, delete ${join(files.root, IDENTITY_FILE)} and start again.`,
      { file: join(files.root, IDENTITY_FILE) },
    );
  }
  let maySweep = id !== undefined && marker === id;
  if (id === undefined) {
    id = randomInt(1, 2 ** 47);
    db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(META_KEY, id);
  }
  if (marker === null) {
    const { files: bodies } = files.list(new Set([IDENTITY_FILE]));
    if (bodies.length > 0) {
      logger?.warn(
        { blobs: files.root, files: bodies.length, storeId: id },
        `${files.root} had no identity marker; it is now tied to this database. Unreferenced files there are kept this time and swept from the next start on`,
      );
    }
    files.writeSmallFileSync(IDENTITY_FILE, markerText(id));
    maySweep = false;
  }
  return { id, maySweep };
}
