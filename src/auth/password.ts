/**
 * Password hashes in Dovecot's `{SCHEME}data` notation, so a users file can be shared with (or
 * migrated from) a Dovecot passwd-file.
 *
 * Our own scheme is `{SCRYPT}ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>`: the parameters
 * travel with each hash, so raising the default cost later does not break existing entries.
 * `{PLAIN}` / `{CLEARTEXT}` are read (Dovecot compatibility, and APOP/CRAM-MD5 need the secret) but
 * never written by us. Dovecot's `{SHA512-CRYPT}`, `{SHA256-CRYPT}`, `{BLF-CRYPT}`, `{ARGON2ID}`,
 * `{ARGON2I}` and `{SCRAM-SHA-256}` are verified too (dovecot-hashes.ts), so a Dovecot
 * passwd-file can be migrated as is.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { isDovecotHash, verifyDovecotHash } from './dovecot-hashes.js';
import { withHashingSlot } from './hashing-slots.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  log2N: number;
  /** Block size. */
  r: number;
  /** Parallelisation. */
  p: number;
}

/** N = 2^15, r = 8: 32 MiB and some tens of milliseconds per hash — the OWASP floor for scrypt. */
export const DEFAULT_SCRYPT_PARAMS: Readonly<ScryptParams> = Object.freeze({ log2N: 15, r: 8, p: 1 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Refuse parameters that would let a tampered users file exhaust memory or CPU. */
const MAX_LOG2N = 20;
const MAX_R = 32;
const MAX_P = 16;

function scryptAsync(password: Buffer, salt: Buffer, keylen: number, params: ScryptParams): Promise<Buffer> {
  const N = 2 ** params.log2N;
  const options: ScryptOptions = {
    N,
    r: params.r,
    p: params.p,
    // Node's default maxmem (32 MiB) is exactly 128*N*r at our default cost; leave head-room.
    maxmem: 256 * N * params.r + 1024 * 1024,
  };
  // On the thread pool, but never on all of its threads at once (hashing-slots.ts).
  return withHashingSlot(
    () =>
      new Promise((resolve, reject) => {
        scrypt(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

/**
 * Unicode normalisation before hashing and comparing, so "é" typed as one or two code points is the
 * same password (RFC 4616 §2 recommends SASLprep, whose core is NFKC).
 */
function prepare(password: string): Buffer {
  return Buffer.from(password.normalize('NFKC'), 'utf8');
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT_PARAMS): Promise<string> {
  checkParams(params);
  const salt = randomBytes(SALT_BYTES);
  const key = await scryptAsync(prepare(password), salt, KEY_BYTES, params);
  return `{SCRYPT}ln=${params.log2N},r=${params.r},p=${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

function checkParams(params: ScryptParams): void {
  const ok =
    Number.isInteger(params.log2N) && params.log2N >= 1 && params.log2N <= MAX_LOG2N &&
    Number.isInteger(params.r) && params.r >= 1 && params.r <= MAX_R &&
    Number.isInteger(params.p) && params.p >= 1 && params.p <= MAX_P;
  if (!ok) throw new RangeError(`scrypt parameters out of range: ${JSON.stringify(params)}`);
}

interface ParsedScrypt {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parseScrypt(data: string): ParsedScrypt | null {
  const m = /^ln=(\d{1,2}),r=(\d{1,3}),p=(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/.exec(data);
  if (!m) return null;
  const params = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  try {
    checkParams(params);
  } catch {
    return null;
  }
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const key = Buffer.from(m[5] ?? '', 'base64');
  if (salt.length < 8 || key.length < 16) return null;
  return { params, salt, key };
}

/** Splits `{SCHEME}data`; the scheme is upper-cased (Dovecot treats it case-insensitively). */
export function splitScheme(stored: string): { scheme: string; data: string } | null {
  const m = /^\{([A-Za-z0-9._-]+)\}(.*)$/s.exec(stored);
  return m ? { scheme: (m[1] ?? '').toUpperCase(), data: m[2] ?? '' } : null;
}

const PLAINTEXT_SCHEMES = new Set(['PLAIN', 'CLEARTEXT']);

/** Whether `stored` is a hash this module can verify. */
export function isSupportedHash(stored: string): boolean {
  const split = splitScheme(stored);
  if (!split) return false;
  if (split.scheme === 'SCRYPT') return parseScrypt(split.data) !== null;
  return PLAINTEXT_SCHEMES.has(split.scheme) || isDovecotHash(split.scheme, split.data);
}

/** The stored secret when the entry is plaintext, else null. */
export function plaintextOf(stored: string): string | null {
  const split = splitScheme(stored);
  return split && PLAINTEXT_SCHEMES.has(split.scheme) ? split.data : null;
}

let dummyHash: Promise<string> | undefined;

/**
 * Spends the same time as verifying a real default-cost hash, for unknown users and unusable
 * entries: otherwise a fast "no" reveals which user names exist.
 */
export async function burnVerification(): Promise<void> {
  dummyHash ??= hashPassword(randomBytes(12).toString('base64'));
  await verifyPassword('not the password', await dummyHash);
}

/** Constant-time check of `password` against a stored `{SCHEME}data` value. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const split = splitScheme(stored);
  if (split?.scheme === 'SCRYPT') {
    const parsed = parseScrypt(split.data);
    if (!parsed) return false;
    const key = await scryptAsync(prepare(password), parsed.salt, parsed.key.length, parsed.params);
    return timingSafeEqual(key, parsed.key);
  }
  const plain = plaintextOf(stored);
  if (plain !== null) return constantTimeEqual(prepare(password), prepare(plain));
  if (split) return verifyDovecotHash(password, split.scheme, split.data);
  return false;
}

/** timingSafeEqual needs equal lengths; comparing fixed-size digests hides the length as well. */
function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
