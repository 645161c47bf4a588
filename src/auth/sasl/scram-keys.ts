/**
 * SCRAM-SHA-256 key derivation (RFC 5802 §3, RFC 7677) and the stored form of the keys.
 *
 * The stored form is Dovecot's `{SCRAM-SHA-256}` data, `iterations,salt,StoredKey,ServerKey`
 * (base64), so entries move between a Dovecot passwd-file and ours unchanged. A server holding
 * these can verify a SCRAM proof but cannot log in as the user with them (RFC 5802 §9).
 */
import { createHash, createHmac, pbkdf2, randomBytes } from 'node:crypto';
import type { ScramCredentials } from '../types.js';
import { withHashingSlot } from '../hashing-slots.js';

/** RFC 7677 §4: at least 4096 iterations. */
export const MIN_SCRAM_ITERATIONS = 4096;
export const DEFAULT_SCRAM_ITERATIONS = 4096;
/** A tampered users file must not make one login cost minutes of CPU. */
export const MAX_SCRAM_ITERATIONS = 10_000_000;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

export const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest();
export const hmacSha256 = (key: Buffer, data: Buffer | string): Buffer => createHmac('sha256', key).update(data).digest();

export interface ScramKeys {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

function saltedPassword(password: Buffer, salt: Buffer, iterations: number): Promise<Buffer> {
  // Hi() of RFC 5802 §2.2 is PBKDF2 with HMAC as the PRF and a single block.
  // A thread-pool job like scrypt: bounded the same way (hashing-slots.ts).
  return withHashingSlot(
    () =>
      new Promise((resolve, reject) => {
        pbkdf2(password, salt, iterations, KEY_BYTES, 'sha256', (err, key) => (err ? reject(err) : resolve(key)));
      }),
  );
}

/**
 * Derives the keys from a password. `password` is taken as given: callers normalise it (our
 * writer uses NFKC, the core of SASLprep, as clients do before hashing — RFC 5802 §2.2).
 */
export async function deriveScramKeys(
  password: string,
  iterations: number = DEFAULT_SCRAM_ITERATIONS,
  salt: Buffer = randomBytes(SALT_BYTES),
): Promise<ScramKeys> {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_SCRAM_ITERATIONS) {
    throw new RangeError(`SCRAM iteration count out of range: ${iterations}`);
  }
  const salted = await saltedPassword(Buffer.from(password, 'utf8'), salt, iterations);
  const clientKey = hmacSha256(salted, 'Client Key');
  return { salt, iterations, storedKey: sha256(clientKey), serverKey: hmacSha256(salted, 'Server Key') };
}

export function formatScramKeys(keys: ScramKeys): string {
  return [keys.iterations, keys.salt.toString('base64'), keys.storedKey.toString('base64'), keys.serverKey.toString('base64')].join(',');
}

const B64 = '[A-Za-z0-9+/]+={0,2}';
const STORED = new RegExp(`^(\\d{1,8}),(${B64}),(${B64}),(${B64})$`);

/** Parses `iterations,salt,StoredKey,ServerKey`; null when malformed or out of range. */
export function parseScramKeys(text: string): ScramKeys | null {
  const m = STORED.exec(text.trim());
  if (!m) return null;
  const iterations = Number(m[1]);
  const salt = Buffer.from(m[2] ?? '', 'base64');
  const storedKey = Buffer.from(m[3] ?? '', 'base64');
  const serverKey = Buffer.from(m[4] ?? '', 'base64');
  if (iterations < 1 || iterations > MAX_SCRAM_ITERATIONS || salt.length === 0) return null;
  if (storedKey.length !== KEY_BYTES || serverKey.length !== KEY_BYTES) return null;
  return { salt, iterations, storedKey, serverKey };
}

export function toCredentials(keys: ScramKeys, user?: string): ScramCredentials {
  return { ...(user === undefined ? {} : { user }), ...keys };
}
