/**
 * Verifying the hashes a Dovecot passwd-file holds, so users can be migrated without resetting
 * their passwords. Only verification: Postroom writes `{SCRYPT}` (password.ts).
 *
 * Dovecot hashes the password bytes as typed, so no Unicode normalisation happens here (unlike our
 * own scheme): normalising would lock out users whose non-ASCII password was hashed un-normalised.
 *
 * Each scheme's cost parameters are capped: the users file is trusted, but a tampered or careless
 * entry (rounds=999999999) must not let one login attempt pin the CPU.
 */
import { timingSafeEqual } from 'node:crypto';
import { withHashingSlot } from './hashing-slots.js';
import { deriveScramKeys, parseScramKeys } from './sasl/scram-keys.js';

/** SHA-crypt runs synchronously on the event loop: 5,000 rounds (the default) take ~15 ms. */
const MAX_SHA_CRYPT_ROUNDS = 100_000;
/** bcryptjs is pure JS; cost 14 is about a second. Dovecot's default is 5. */
const MAX_BCRYPT_COST = 14;
/** Argon2 memory in KiB (256 MiB), passes and lanes. */
const MAX_ARGON2_MEMORY_KIB = 262_144;
const MAX_ARGON2_PASSES = 32;
const MAX_ARGON2_LANES = 16;

interface SchemeHandler {
  /** Well-formed and within the cost caps. */
  valid(data: string): boolean;
  verify(password: string, data: string): Promise<boolean>;
}

// crypt(3) SHA-2 format (Drepper): $5$ / $6$, optional rounds=N, salt up to 16 chars, 43/86-char hash.
function shaCrypt(id: '5' | '6', hashChars: number): SchemeHandler {
  const re = new RegExp(`^\\$${id}\\$(?:rounds=(\\d{1,9})\\$)?[^$:\\n]{0,16}\\$[./0-9A-Za-z]{${hashChars}}$`);
  const valid = (data: string): boolean => {
    const m = re.exec(data);
    return m !== null && (m[1] === undefined || Number(m[1]) <= MAX_SHA_CRYPT_ROUNDS);
  };
  return {
    valid,
    async verify(password, data) {
      if (!valid(data)) return false;
      try {
        // Hashing libraries load on first use, so `import 'postroom'` does not pay for them.
        const { verify: verifyShaCrypt } = await import('unixcrypt');
        return verifyShaCrypt(password, data);
      } catch {
        return false;
      }
    },
  };
}

const BCRYPT = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;
const blfCrypt: SchemeHandler = {
  valid(data) {
    const m = BCRYPT.exec(data);
    return m !== null && Number(m[1]) >= 4 && Number(m[1]) <= MAX_BCRYPT_COST;
  },
  async verify(password, data) {
    if (!this.valid(data)) return false;
    // PHP and Dovecot write $2y$, which is the same algorithm as $2b$.
    const normalised = data.replace(/^\$2[xy]\$/, '$2b$');
    try {
      const { default: bcrypt } = await import('bcryptjs');
      return await bcrypt.compare(password, normalised);
    } catch {
      return false;
    }
  },
};

function argon2(variant: 'argon2id' | 'argon2i'): SchemeHandler {
  const re = new RegExp(`^\\$${variant}\\$(?:v=\\d+\\$)?m=(\\d{1,9}),t=(\\d{1,4}),p=(\\d{1,3})\\$[A-Za-z0-9+/]+\\$[A-Za-z0-9+/]+$`);
  const valid = (data: string): boolean => {
    const m = re.exec(data);
    if (!m) return false;
    const [memory, passes, lanes] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return memory <= MAX_ARGON2_MEMORY_KIB && passes >= 1 && passes <= MAX_ARGON2_PASSES && lanes >= 1 && lanes <= MAX_ARGON2_LANES;
  };
  return {
    valid,
    async verify(password, data) {
      if (!valid(data)) return false;
      try {
        // napi-rs runs it on libuv's thread pool: bounded like scrypt (hashing-slots.ts).
        // Loaded on first use: a native module `import 'postroom'` must not pay for (docs/api.md).
        const { verify: verifyArgon2 } = await import('@node-rs/argon2');
        return await withHashingSlot(() => verifyArgon2(data, password));
      } catch {
        return false;
      }
    },
  };
}

/** `{SCRAM-SHA-256}` as the password itself: PLAIN logins recompute the keys and compare. */
const scramSha256: SchemeHandler = {
  valid: (data) => parseScramKeys(data) !== null,
  async verify(password, data) {
    const keys = parseScramKeys(data);
    if (!keys) return false;
    const derived = await deriveScramKeys(password, keys.iterations, keys.salt);
    return timingSafeEqual(derived.storedKey, keys.storedKey);
  },
};

const HANDLERS: ReadonlyMap<string, SchemeHandler> = new Map([
  ['SHA512-CRYPT', shaCrypt('6', 86)],
  ['SHA256-CRYPT', shaCrypt('5', 43)],
  ['BLF-CRYPT', blfCrypt],
  ['ARGON2ID', argon2('argon2id')],
  ['ARGON2I', argon2('argon2i')],
  ['SCRAM-SHA-256', scramSha256],
]);

/** Dovecot scheme names this module verifies. */
export const DOVECOT_SCHEMES: readonly string[] = [...HANDLERS.keys()];

/** Whether `{scheme}data` is a Dovecot hash this module can verify (scheme upper-case). */
export function isDovecotHash(scheme: string, data: string): boolean {
  return HANDLERS.get(scheme)?.valid(data) ?? false;
}

export async function verifyDovecotHash(password: string, scheme: string, data: string): Promise<boolean> {
  const handler = HANDLERS.get(scheme);
  return handler ? handler.verify(password, data) : false;
}
