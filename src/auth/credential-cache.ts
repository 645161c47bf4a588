/**
 * Remembers logins that were verified, so that a client reconnecting with the same password does
 * not cost another password hash (scrypt at the default cost takes ~165 ms of a CPU; a reconnect
 * storm after a network blip would otherwise queue hundreds of them). Dovecot's auth_cache does
 * the same job.
 *
 * - Only successes are kept. A cached failure would answer a wrong password for an existing user
 *   fast, while an unknown user still costs a full (burned) verification: the difference would
 *   tell which user names exist.
 * - The key is an HMAC, under a secret made at process start, of the user name, the password and
 *   the stored hash. No password is kept, and the entry dies by itself when the password changes
 *   (the stored hash is part of it) or the user is removed (the lookup before the cache fails).
 * - Bounded in entries (least recently used go first) and in age.
 */
import { createHmac, randomBytes } from 'node:crypto';

export interface CredentialCacheOptions {
  /** Most verified logins remembered; 0 turns the cache off. */
  entries: number;
  /** How long a verified login is remembered, in seconds. */
  ttlSeconds: number;
}

export const DEFAULT_CREDENTIAL_CACHE: Readonly<CredentialCacheOptions> = Object.freeze({ entries: 10_000, ttlSeconds: 3600 });

export class CredentialCache {
  private readonly secret = randomBytes(32);
  /** key → expiry (ms since the epoch); Map order is recency of use. */
  private readonly verified = new Map<string, number>();
  readonly options: Readonly<CredentialCacheOptions>;

  constructor(options: Partial<CredentialCacheOptions> = {}) {
    for (const name of Object.keys(options)) {
      if (!(name in DEFAULT_CREDENTIAL_CACHE)) throw new RangeError(`authCache: unknown setting "${name}" (known: entries, ttlSeconds)`);
    }
    const merged = { ...DEFAULT_CREDENTIAL_CACHE, ...options };
    for (const [name, value] of Object.entries(merged)) {
      if (!Number.isInteger(value) || value < 0) throw new RangeError(`authCache.${name} must be a whole number of at least 0`);
    }
    this.options = Object.freeze(merged);
  }

  get size(): number {
    return this.verified.size;
  }

  /** Whether this user name, password and stored hash were verified recently. */
  has(name: string, password: string, storedHash: string, now = Date.now()): boolean {
    if (this.options.entries === 0) return false;
    const key = this.key(name, password, storedHash);
    const expires = this.verified.get(key);
    if (expires === undefined) return false;
    this.verified.delete(key);
    if (expires <= now) return false;
    this.verified.set(key, expires); // most recently used last
    return true;
  }

  /** Records a successful verification. */
  remember(name: string, password: string, storedHash: string, now = Date.now()): void {
    if (this.options.entries === 0) return;
    const key = this.key(name, password, storedHash);
    this.verified.delete(key);
    this.verified.set(key, now + this.options.ttlSeconds * 1000);
    while (this.verified.size > this.options.entries) {
      const oldest = this.verified.keys().next().value as string;
      this.verified.delete(oldest);
    }
  }

  /** Forgets everything (SIGHUP / `postroom reload`). */
  clear(): void {
    this.verified.clear();
  }

  private key(name: string, password: string, storedHash: string): string {
    // Lengths first, so that no two different triples can make the same input.
    const parts = [name, password, storedHash].map((p) => Buffer.from(p, 'utf8'));
    const mac = createHmac('sha256', this.secret);
    for (const p of parts) mac.update(`${p.length}:`).update(p);
    return mac.digest('base64');
  }
}
