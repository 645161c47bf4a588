/**
 * What went wrong with the disk or the stored data, turned into StoreErrors the protocols can map
 * (a full disk → 'nospace', damaged data → 'damaged') and told to the operator once, not once per
 * failed command: a full disk is one log line when it starts and one when writes succeed again
 * (an "episode"), and each damaged body or database problem is logged the first time it is met,
 * naming the file and the problem. Clients see a short message; the log has the details.
 */
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../util/logger.js';
import { StoreError } from '../errors.js';
import { DATABASE_FILE } from './database.js';

const NO_SPACE_CODES = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);
/** How often a problem already logged is logged again while it persists. */
const RELOG_MS = 60 * 60_000;
/** Problems remembered as logged; beyond this the oldest are forgotten (and may be logged again). */
const MAX_REMEMBERED = 10_000;
/** Free space that ends a disk-full episode (with a successful write). */
const EPISODE_END_FREE_BYTES = 1024 * 1024;

/**
 * Failures of the file system or the system around a file rather than of the code: answered as
 * 'unavailable', logged once naming the file and the problem, with what to check. SQLite's codes
 * include their extended forms (SQLITE_READONLY_DBMOVED, SQLITE_CANTOPEN_ISDIR…).
 */
const SQLITE_UNAVAILABLE: Array<[string, string]> = [
  ['SQLITE_READONLY', 'Check that the file and its folder are writable by the server and that the file system is not mounted read-only'],
  ['SQLITE_CANTOPEN', 'Check that the file exists, is a regular file and that its folder is readable by the server'],
  ['SQLITE_PERM', 'Check the permissions of the file and its folder'],
  ['SQLITE_BUSY', 'Another process holds the database: check that only one server uses this data folder'],
  ['SQLITE_LOCKED', 'Another process holds the database: check that only one server uses this data folder'],
  ['SQLITE_NOMEM', 'The server ran out of memory'],
];
const UNAVAILABLE_CODES = new Map<string, string>([
  ['EACCES', 'Check the permissions of the file and its folder'],
  ['EPERM', 'Check the permissions of the file and its folder'],
  ['EROFS', 'The file system is mounted read-only: check the kernel log and remount it read-write'],
  ['EMFILE', 'The server has too many files open: raise its open-file limit (ulimit -n, LimitNOFILE)'],
  ['ENFILE', 'The system has too many files open'],
  ['EISDIR', 'A folder stands where a file is expected'],
  ['ENOTDIR', 'A file stands where a folder is expected'],
]);

export const NO_SPACE_TEXT = "The server's disk is full; try again later";
export const DAMAGED_DATABASE_TEXT = "The server's mail database is damaged; the administrator has been told";

export interface DiskFullEpisode {
  /** When the first write failed (ms since the epoch). */
  since: number;
  /** Writes refused since. */
  refused: number;
  /** The file the first failure concerned. */
  file: string;
}

export interface HealthStatus {
  diskFull: DiskFullEpisode | null;
  /** Damaged bodies met while serving (content ids), since the store opened. */
  damagedBodies: number;
  /** The last database damage met while serving, if any. */
  databaseDamage: string | null;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export class StoreHealth {
  private full: DiskFullEpisode | null = null;
  private readonly logged = new Map<string, number>();
  /** Damaged bodies met so far, with the problem first found. */
  private readonly damagedContents = new Map<number, string>();
  private databaseDamage: string | null = null;

  constructor(
    /** The data folder. */
    readonly directory: string,
    private readonly logger?: Logger,
    /** statfs of the data folder unless replaced (SqliteStoreOptions.freeBytes). */
    private readonly readFreeBytes?: () => number | undefined,
  ) {}

  get databasePath(): string {
    return join(this.directory, DATABASE_FILE);
  }

  /**
   * The StoreError a failure stands for, or the failure itself when it is none of the disk's or the
   * data's (a bug, left for the protocol layer to report as one).
   */
  classify(err: unknown): unknown {
    if (err instanceof StoreError) {
      if (err.kind === 'nospace') this.noteFull(err.file ?? this.databasePath, err);
      return err;
    }
    const code = errorCode(err);
    if (code === undefined) return err;
    const file = (err as { path?: unknown }).path;
    const where = typeof file === 'string' ? file : this.databasePath;
    if (NO_SPACE_CODES.has(code)) {
      this.noteFull(where, err);
      return new StoreError('nospace', NO_SPACE_TEXT, { file: where, cause: err });
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return this.databaseDamaged(`${(err as Error).message} (${code})`, err);
    }
    const problem = `${(err as Error).message} (${code})`;
    if (code.startsWith('SQLITE_IOERR') || code === 'EIO') {
      this.once(`io:${where}:${code}`, () =>
        this.logger?.error({ err, file: where, problem }, `input/output error on ${where}: ${problem}. Check the disk and the kernel log`),
      );
      return new StoreError('unavailable', `Input/output error on the server (${code}); try again later`, { file: where, cause: err });
    }
    const advice = UNAVAILABLE_CODES.get(code) ?? (code.startsWith('SQLITE_') ? SQLITE_UNAVAILABLE.find(([prefix]) => code.startsWith(prefix))?.[1] : undefined);
    if (advice !== undefined) {
      // The disk or the system, not a bug: the file and what went wrong, once, and a plain NO to the client.
      this.once(`env:${where}:${code}`, () => this.logger?.error({ err, file: where, problem }, `cannot use ${where}: ${problem}. ${advice}`));
      return new StoreError('unavailable', `The server cannot use its mail storage (${code}); try again later`, { file: where, cause: err });
    }
    return err;
  }

  /** A 'damaged' error for the database file, logged (once) with the problem. */
  databaseDamaged(problem: string, cause?: unknown): StoreError {
    this.databaseDamage = problem;
    this.once(`db:${problem}`, () =>
      this.logger?.error(
        { err: cause, file: this.databasePath, problem },
        `${this.databasePath} is damaged: ${problem}. Stop the server, keep a copy of the data folder, run "postroom check" and restore the database from a backup`,
      ),
    );
    return new StoreError('damaged', DAMAGED_DATABASE_TEXT, { file: this.databasePath, cause });
  }

  /**
   * A 'damaged' error for one message body, logged the first time this body is met. Later reads of
   * the same body are refused before they start (isDamaged), even when this one was found only
   * while streaming.
   */
  bodyDamaged(contentId: number, file: string, problem: string): StoreError {
    if (!this.damagedContents.has(contentId)) this.damagedContents.set(contentId, problem);
    this.once(`body:${contentId}`, () =>
      this.logger?.error(
        { file, contentId, problem },
        `message body ${file} is damaged: ${problem}. Its messages cannot be read; "postroom check" lists every damaged body`,
      ),
    );
    return new StoreError('damaged', 'The stored message is damaged and cannot be sent; the administrator has been told', { file });
  }

  /** The problem found with a body earlier, if it was found damaged. */
  knownDamage(contentId: number): string | undefined {
    return this.damagedContents.get(contentId);
  }

  /**
   * A write committed and synced: a disk-full episode, if one was going on, is over — once the
   * disk has room again. A small write can succeed on a full disk (into pages the WAL already
   * has), and ending the episode then would log a new one at the next failure.
   */
  writeSucceeded(): void {
    if (!this.full) return;
    const free = this.freeBytes();
    if (free !== undefined && free < EPISODE_END_FREE_BYTES) return;
    const { since, refused, file } = this.full;
    this.full = null;
    this.logger?.warn({ refused, seconds: Math.round((Date.now() - since) / 1000), file }, 'disk space available again: writes succeed');
  }

  /**
   * True when the data folder has room again (as much as ends an episode), though no write has
   * succeeded yet to end it: /readyz says ready then, or a balancer that took the server out of
   * service for the full disk would send it no write that could end the episode.
   */
  get spaceReturned(): boolean {
    const free = this.freeBytes();
    return free !== undefined && free >= EPISODE_END_FREE_BYTES;
  }

  /** True while a disk-full episode lasts. */
  get diskFull(): boolean {
    return this.full !== null;
  }

  status(): HealthStatus {
    return { diskFull: this.full && { ...this.full }, damagedBodies: this.damagedContents.size, databaseDamage: this.databaseDamage };
  }

  private noteFull(file: string, err: unknown): void {
    if (this.full) {
      this.full.refused++;
      return;
    }
    this.full = { since: Date.now(), refused: 1, file };
    this.logger?.error(
      { err, file, directory: this.directory, freeBytes: this.freeBytes() },
      `disk full: writing ${file} failed for lack of space; APPEND, COPY, flag changes and the like are refused until space is freed (logged once until writes succeed again)`,
    );
  }

  private freeBytes(): number | undefined {
    if (this.readFreeBytes) return this.readFreeBytes();
    try {
      const fs = statfsSync(this.directory);
      return fs.bavail * fs.bsize;
    } catch {
      return undefined;
    }
  }

  private once(key: string, log: () => void): void {
    const last = this.logged.get(key);
    if (last !== undefined && Date.now() - last < RELOG_MS) return;
    if (this.logged.size >= MAX_REMEMBERED) this.logged.delete(this.logged.keys().next().value!);
    this.logged.delete(key);
    this.logged.set(key, Date.now());
    log();
  }
}
