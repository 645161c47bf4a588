/**
 * The passwd-style users file (`DATA/users`): one `name:{SCHEME}hash` line per user. Further
 * `:`-separated fields are kept but ignored, so a Dovecot passwd-file can be read as is; comment
 * and blank lines survive edits. Writes are atomic (temp file + rename, mode 0600) under a lock
 * file, and readers re-read the file when it changes, so `postroom user add` reaches a running
 * server without a restart.
 *
 * Setting a password also writes the user's SCRAM-SHA-256 keys (salt, iteration count, StoredKey,
 * ServerKey — not the password) as a `scram-sha-256=` pair among Dovecot's space-separated extra
 * fields (the 8th field), so SCRAM works without a recoverable secret. Entries without keys, such as
 * ones imported from Dovecot, can still log in with every other mechanism; an entry whose hash
 * itself is `{SCRAM-SHA-256}` serves both.
 */
import { watch, type FSWatcher } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { AuthRequest, AuthResult, Authenticator, ScramCredentials, TokenRequest } from './types.js';
import {
  DEFAULT_SCRYPT_PARAMS,
  burnVerification,
  hashPassword,
  isSupportedHash,
  plaintextOf,
  verifyPassword,
  type ScryptParams,
} from './password.js';
import { passwordProblem, userNameProblem } from './user-name.js';
import { DEFAULT_SCRAM_ITERATIONS, MIN_SCRAM_ITERATIONS, deriveScramKeys, formatScramKeys, parseScramKeys, toCredentials } from './sasl/scram-keys.js';
import { splitScheme } from './password.js';
import { CredentialCache, type CredentialCacheOptions } from './credential-cache.js';

export interface UserRecord {
  name: string;
  /** `{SCHEME}data`. */
  hash: string;
  /** Fields after the hash (uid, gid, home … in Dovecot's format), unused by Postroom. */
  extra: readonly string[];
}

export type UserFileErrorCode = 'exists' | 'not-found' | 'invalid-name' | 'invalid-password' | 'locked';

export class UserFileError extends Error {
  constructor(
    readonly code: UserFileErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserFileError';
  }
}

export interface UserFileOptions {
  /** Cost of newly written hashes (default N=2^15, r=8, p=1). */
  scrypt?: ScryptParams;
  /** How long a writer waits for another writer's lock before giving up (default 10 s). */
  lockTimeoutMs?: number;
  /** PBKDF2 iterations of newly written SCRAM-SHA-256 keys (default 4096, the RFC 7677 minimum). */
  scramIterations?: number;
  /**
   * How long, in ms, the version read last is trusted without a stat() while the file system
   * reports no change to the file (fs.watch, inotify on Linux). 0 (the default): a stat at every
   * lookup. `serve` uses 1000 (setting `usersFile.recheckMs`): a delivery looked the user up three
   * times, each a stat on libuv's thread pool and a turn of the event loop to hear back
   * (bench/RESULTS.md, issue 17). A change is seen at the watcher's event; the interval only
   * bounds how late a change is seen where no event comes (a network file system changed from
   * another host, a symlink to the file pointed elsewhere), as Dovecot's auth cache bounds its
   * entries by a TTL.
   */
  recheckMs?: number;
}

/** Index of Dovecot's extra-fields field among the fields after the hash (uid, gid, gecos, home, shell, extra). */
const EXTRA_FIELDS_INDEX = 5;
const SCRAM_KEY = 'scram-sha-256';

/** The extra fields as `key=value` words; the field may itself contain ':' (joined back). */
function extraWords(extra: readonly string[]): string[] {
  const field = extra.slice(EXTRA_FIELDS_INDEX).join(':');
  return field === '' ? [] : field.split(' ').filter((w) => w !== '');
}

/** The `key=value` words of a record's extra fields (Dovecot's 8th field), e.g. `quota_storage=1G`. */
export function extraFieldWords(record: UserRecord): string[] {
  return extraWords(record.extra);
}

const REFERRAL_KEY = 'referral=';

/** The `referral=` extra field of a record (RFC 2221 login referral), or null when it has none. */
export function referralOf(record: UserRecord): string | null {
  const word = extraWords(record.extra).find((w) => w.startsWith(REFERRAL_KEY));
  return word === undefined ? null : word.slice(REFERRAL_KEY.length);
}

/** The stored SCRAM keys of a record: from the extra fields, or a `{SCRAM-SHA-256}` hash. */
export function scramKeysOf(record: UserRecord): ReturnType<typeof parseScramKeys> {
  const word = extraWords(record.extra).find((w) => w.startsWith(`${SCRAM_KEY}=`));
  if (word) return parseScramKeys(word.slice(SCRAM_KEY.length + 1));
  const split = splitScheme(record.hash);
  return split?.scheme === 'SCRAM-SHA-256' ? parseScramKeys(split.data) : null;
}

/** `extra` with the SCRAM pair replaced (or removed when `value` is null), other fields kept. */
function withScramField(extra: readonly string[], value: string | null): string[] {
  const fixed = [...extra.slice(0, EXTRA_FIELDS_INDEX)];
  const words = extraWords(extra).filter((w) => !w.startsWith(`${SCRAM_KEY}=`));
  if (value !== null) words.push(`${SCRAM_KEY}=${value}`);
  if (words.length === 0) return fixed;
  while (fixed.length < EXTRA_FIELDS_INDEX) fixed.push('');
  return [...fixed, words.join(' ')];
}

/** A lock older than this belongs to a crashed writer: writes take milliseconds, not minutes. */
const STALE_LOCK_MS = 60_000;
const DONE: Promise<void> = Promise.resolve();
const LOCK_POLL_MS = 25;

interface Parsed {
  /** The file's lines without line ends; a user line is replaced in place on edit. */
  lines: string[];
  /** name → index into `lines`. The first line for a name wins, as in Dovecot. */
  index: Map<string, number>;
  users: Map<string, UserRecord>;
}

function parse(text: string): Parsed {
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const index = new Map<string, number>();
  const users = new Map<string, UserRecord>();
  lines.forEach((line, i) => {
    // A line without a colon names no password: not a user (problems() reports it).
    if (line.trim() === '' || line.startsWith('#') || !line.includes(':')) return;
    const [name = '', hash = '', ...extra] = line.split(':');
    if (name === '' || users.has(name)) return;
    index.set(name, i);
    users.set(name, { name, hash, extra });
  });
  return { lines, index, users };
}

function formatLine(record: UserRecord): string {
  return [record.name, record.hash, ...record.extra].join(':');
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | null)?.code === 'ENOENT';
}

export class UserFile {
  private parsed: Parsed = parse('');
  /** Identity of the version in memory: inode (changes on every rename), mtime, size. */
  private version: string | null = null;
  private refreshing: Promise<void> | undefined;
  private readonly recheckMs: number;
  /** Watching the file (recheckMs > 0 and the file exists); undefined after any event, until the next read. */
  private watcher: FSWatcher | undefined;
  /** Set by the watcher's events; cleared when a read starts. */
  private changed = true;
  /** When the last read (its stat) started, performance.now(). */
  private checkedAt = -Infinity;
  private readonly scrypt: ScryptParams;
  private readonly lockTimeoutMs: number;
  private readonly scramIterations: number;

  constructor(
    readonly path: string,
    options: UserFileOptions = {},
  ) {
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT_PARAMS;
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
    this.scramIterations = options.scramIterations ?? DEFAULT_SCRAM_ITERATIONS;
    this.recheckMs = options.recheckMs ?? 0;
    if (!Number.isFinite(this.recheckMs) || this.recheckMs < 0) throw new RangeError('recheckMs must be a number of at least 0');
    if (!Number.isInteger(this.scramIterations) || this.scramIterations < MIN_SCRAM_ITERATIONS) {
      throw new RangeError(`scramIterations must be an integer of at least ${MIN_SCRAM_ITERATIONS}`);
    }
  }

  /** The users file of a data directory: `DATA/users`. */
  static inDataDir(dataDir: string, options?: UserFileOptions): UserFile {
    return new UserFile(join(dataDir, 'users'), options);
  }

  /**
   * Re-reads the file if it changed since the last read (one stat when it did not; none while
   * the watcher has seen no change within recheckMs).
   */
  refresh(): Promise<void> {
    // A read under way comes first: its watch starts before the read does, so the shortcut below
    // would otherwise trust a file not read yet (the first logins of a fresh process, all at once,
    // were refused as unknown users).
    if (this.refreshing) return this.refreshing;
    if (this.watcher && !this.changed && performance.now() - this.checkedAt < this.recheckMs) return DONE;
    // Concurrent logins share one stat/read instead of each starting its own.
    this.refreshing = this.reload(false).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  async lookup(name: string): Promise<UserRecord | undefined> {
    await this.refresh();
    return this.parsed.users.get(name);
  }

  /** User names in file order. */
  async list(): Promise<string[]> {
    await this.refresh();
    return [...this.parsed.users.keys()];
  }

  /**
   * What is wrong with the file, one sentence each naming the file (and line): a line without a
   * colon, an empty or repeated name, a hash in a scheme Postroom cannot verify (that user cannot
   * log in), a file mode that lets other users read the hashes. Empty when all is well or the file
   * does not exist. `serve` logs these at start and on reload; `user list` prints them.
   */
  async problems(): Promise<string[]> {
    const problems: string[] = [];
    let mode: number;
    try {
      mode = (await stat(this.path)).mode;
    } catch (err) {
      if (isNotFound(err)) return problems;
      throw err;
    }
    if ((mode & 0o077) !== 0) {
      problems.push(`${this.path} has mode ${(mode & 0o777).toString(8).padStart(4, '0')}, so other users can read the password hashes: chmod 600 ${this.path}`);
    }
    const text = await readFile(this.path, 'utf8');
    const firstLine = new Map<string, number>();
    text.split(/\r?\n/).forEach((line, i) => {
      const n = i + 1;
      if (line.trim() === '' || line.startsWith('#')) return;
      const at = `${this.path}:${n}`;
      if (!line.includes(':')) {
        problems.push(`${at}: no ":" between a user name and a password hash; the line is ignored`);
        return;
      }
      const [name = '', hash = ''] = line.split(':');
      if (name === '') {
        problems.push(`${at}: the user name is empty; the line is ignored`);
        return;
      }
      const earlier = firstLine.get(name);
      if (earlier !== undefined) {
        problems.push(`${at}: user "${name}" again; the entry on line ${earlier} is the one used`);
        return;
      }
      firstLine.set(name, n);
      if (isSupportedHash(hash)) return;
      const scheme = splitScheme(hash)?.scheme;
      problems.push(
        scheme === undefined
          ? `${at}: user "${name}" has no {SCHEME} before the password hash, so nobody can log in as "${name}"`
          : `${at}: user "${name}" has a password in scheme {${scheme}}, which Postroom cannot verify, so nobody can log in as "${name}" (set a new one with "postroom user passwd ${name}")`,
      );
    });
    return problems;
  }

  /** Whole entries in file order (hashes included: for tools, never for logs). */
  async records(): Promise<UserRecord[]> {
    await this.refresh();
    return [...this.parsed.users.values()];
  }

  async add(name: string, password: string): Promise<void> {
    const problem = userNameProblem(name);
    if (problem) throw new UserFileError('invalid-name', problem);
    const { hash, scram } = await this.hashChecked(password);
    await this.edit((p) => {
      if (p.users.has(name)) throw new UserFileError('exists', `user "${name}" already exists`);
      p.lines.push(formatLine({ name, hash, extra: withScramField([], scram) }));
    });
  }

  async setPassword(name: string, password: string): Promise<void> {
    const { hash, scram } = await this.hashChecked(password);
    await this.edit((p) => {
      const record = this.existing(p, name);
      // Old keys would still accept the old password through SCRAM, so they are always replaced.
      p.lines[p.index.get(name) ?? -1] = formatLine({ ...record, hash, extra: withScramField(record.extra, scram) });
    });
  }

  async delete(name: string): Promise<void> {
    await this.edit((p) => {
      this.existing(p, name);
      p.lines.splice(p.index.get(name) ?? -1, 1);
    });
  }

  private existing(p: Parsed, name: string): UserRecord {
    const record = p.users.get(name);
    if (!record) throw new UserFileError('not-found', `no user "${name}"`);
    return record;
  }

  /** Hashing is slow, so it happens before taking the lock. */
  private async hashChecked(password: string): Promise<{ hash: string; scram: string }> {
    const problem = passwordProblem(password);
    if (problem) throw new UserFileError('invalid-password', problem);
    // NFKC as in password.ts: the core of the SASLprep that SCRAM clients apply (RFC 5802 §2.2).
    const [hash, keys] = await Promise.all([
      hashPassword(password, this.scrypt),
      deriveScramKeys(password.normalize('NFKC'), this.scramIterations),
    ]);
    return { hash, scram: formatScramKeys(keys) };
  }

  /**
   * The next lookup stats the file (and watches it anew) whatever the watch said: SIGHUP and
   * `postroom reload` call this, for a change no event reported (see recheckMs).
   */
  recheck(): void {
    this.unwatch();
  }

  /** Stops watching the file (the server is closing); later lookups stat it each time. */
  close(): void {
    this.unwatch();
  }

  /**
   * Watches the file before it is read: a change after the watch began fires it, so a read that
   * missed the change is not trusted. The watch is on the file's inode, so any event (a write in
   * place, the rename of a new version over it, a removal) ends it; the next read watches anew.
   */
  private watchFile(): void {
    this.changed = false;
    if (this.recheckMs === 0 || this.watcher) return;
    try {
      const watcher = watch(this.path, { persistent: false }, () => this.unwatch());
      watcher.on('error', () => this.unwatch());
      this.watcher = watcher;
    } catch {
      // No file yet (ENOENT), or no watch to be had (the inotify limit): a stat at every lookup.
      this.changed = true;
    }
  }

  private unwatch(): void {
    this.changed = true;
    const watcher = this.watcher;
    this.watcher = undefined;
    watcher?.close();
  }

  private async reload(force: boolean): Promise<void> {
    this.checkedAt = performance.now();
    this.watchFile();
    try {
      await this.read(force);
    } catch (err) {
      this.changed = true; // not trusted: the next lookup tries again (and fails again, if it must)
      throw err;
    }
  }

  private async read(force: boolean): Promise<void> {
    let version: string | null;
    try {
      const s = await stat(this.path, { bigint: true });
      version = `${s.ino}:${s.mtimeNs}:${s.size}`;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      version = null;
    }
    if (!force && version === this.version) return;
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    this.parsed = parse(text);
    this.version = version;
  }

  /** Read-modify-write under the lock, always from the file's current content. */
  private async edit(change: (parsed: Parsed) => void): Promise<void> {
    // 0700: the folder holds the hashes (and, for `serve`, everybody's mail).
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const release = await this.lock();
    try {
      await this.reload(true);
      const next = parse(this.parsed.lines.join('\n'));
      change(next);
      const temp = `${this.path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
      const body = next.lines.length > 0 ? `${next.lines.join('\n')}\n` : '';
      try {
        const handle = await open(temp, 'wx', 0o600);
        try {
          await handle.writeFile(body, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, this.path);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      await this.reload(true);
    } finally {
      await release();
    }
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`;
    const deadline = Date.now() + this.lockTimeoutMs;
    for (;;) {
      try {
        await writeFile(lockPath, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
        return () => rm(lockPath, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const age = await stat(lockPath).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > STALE_LOCK_MS) {
        await rm(lockPath, { force: true });
        continue;
      }
      if (Date.now() >= deadline) {
        throw new UserFileError('locked', `${lockPath} is held by another process; remove it if no postroom command is running`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
  }
}

export interface UserFileAuthenticatorOptions {
  /**
   * Hand `{PLAIN}`/`{CLEARTEXT}` secrets to APOP and CRAM-MD5 (default false). Off, those
   * mechanisms are not offered at all: with hashed entries they could only fail, and clients that
   * prefer them would never fall back to one that works.
   */
  plaintextSecrets?: boolean;
  /** OAuth bearer token check; enables OAUTHBEARER and XOAUTH2. */
  verifyToken?: (request: TokenRequest) => Promise<AuthResult | null>;
  /**
   * Verified logins remembered so that reconnecting costs no password hash (credential-cache.ts;
   * default 10,000 entries for 3,600 s). `{ entries: 0 }` turns it off.
   */
  credentialCache?: Partial<CredentialCacheOptions>;
}

/** An Authenticator backed by a users file. */
export class UserFileAuthenticator implements Authenticator {
  readonly users: UserFile;
  /** Present only with `plaintextSecrets: true` (its presence is what enables APOP and CRAM-MD5). */
  readonly plaintextSecret?: (username: string) => Promise<string | null>;
  readonly verifyToken?: (request: TokenRequest) => Promise<AuthResult | null>;
  /** Logins verified recently; `clear()` it to make every client verify its password again. */
  readonly credentialCache: CredentialCache;

  /** `source`: a UserFile, or the path of a users file. */
  constructor(source: UserFile | string, options: UserFileAuthenticatorOptions = {}) {
    this.users = typeof source === 'string' ? new UserFile(source) : source;
    this.credentialCache = new CredentialCache(options.credentialCache);
    if (options.plaintextSecrets === true) {
      // Only `{PLAIN}`/`{CLEARTEXT}` entries have a recoverable secret.
      this.plaintextSecret = async (username) => {
        const record = await this.users.lookup(username);
        return record ? plaintextOf(record.hash) : null;
      };
    }
    if (options.verifyToken) this.verifyToken = options.verifyToken;
  }

  async scramCredentials(username: string): Promise<ScramCredentials | null> {
    const record = await this.users.lookup(username);
    const keys = record ? scramKeysOf(record) : null;
    return record && keys ? toCredentials(keys, record.name) : null;
  }

  async lookupUser(username: string): Promise<AuthResult | null> {
    const record = await this.users.lookup(username);
    return record ? { user: record.name } : null;
  }

  /** RFC 2221: the `referral=<imap URL>` extra field, as in Dovecot's passdb (where `nologin` goes with it). */
  async referral(user: string): Promise<string | null> {
    const record = await this.users.lookup(user);
    return record ? referralOf(record) : null;
  }

  async authenticate(request: AuthRequest): Promise<AuthResult | null> {
    const record = await this.users.lookup(request.username);
    if (!record || !isSupportedHash(record.hash)) {
      await burnVerification();
      return null;
    }
    if (this.credentialCache.has(record.name, request.password, record.hash)) return { user: record.name };
    if (!(await verifyPassword(request.password, record.hash))) return null;
    this.credentialCache.remember(record.name, request.password, record.hash);
    return { user: record.name };
  }
}
