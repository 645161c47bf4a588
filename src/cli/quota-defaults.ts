/**
 * The RFC 9208 limits of a user who has none of their own in the store: the users file's extra
 * fields (`quota_storage=1G quota_messages=50000`, per resource), else the `quota` setting. Read at
 * each write that adds mail, so an edited users file or config applies without a restart (the
 * users file is re-read when it changes; UserFile caches it).
 */
import type { UserFile } from '../auth/user-file.js';
import { extraFieldWords } from '../auth/user-file.js';
import type { QuotaDefaults, QuotaLimits } from '../store/types.js';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `1G`, `500M`, `64k`, `1048576` (octets; binary units, as Dovecot reads them). */
export function parseSize(text: string): number {
  const m = /^(\d+)\s*([bkmgt]?)i?b?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * UNITS[m[2]!.toLowerCase()]! : NaN;
  if (!Number.isSafeInteger(n)) throw new Error(`expected a size such as 1G, 500M, 64k or a number of octets; got "${text}"`);
  return n;
}

/** Checks the `quota` setting's names: storage and messages only, 0 meaning unlimited. */
export function configuredQuota(setting: Record<string, number> | undefined): QuotaLimits {
  const out: QuotaLimits = {};
  for (const [key, value] of Object.entries(setting ?? {})) {
    if (key !== 'storage' && key !== 'messages') throw new Error(`quota.${key}: unknown quota resource (known: storage, messages)`);
    if (!Number.isSafeInteger(value)) throw new Error(`quota.${key}: expected a whole number, got ${value}`);
    if (value > 0) out[key] = value;
  }
  return out;
}

/** A user's limits from the users file's fields over the configured ones (0: unlimited). */
export function userQuota(words: readonly string[], base: QuotaLimits): QuotaLimits {
  const out: QuotaLimits = { ...base };
  for (const word of words) {
    const eq = word.indexOf('=');
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    const resource = key === 'quota_storage' ? 'storage' : key === 'quota_messages' ? 'messages' : null;
    if (resource === null || eq < 0) continue;
    let n = /^\d+$/.test(value) ? Number(value) : NaN;
    if (resource === 'storage') {
      try {
        n = parseSize(value);
      } catch {
        n = NaN;
      }
    }
    // A malformed field is ignored (the configured default applies), never a reason to refuse mail.
    if (!Number.isSafeInteger(n)) continue;
    if (n > 0) out[resource] = n;
    else delete out[resource];
  }
  return out;
}

export function quotaDefaults(users: UserFile, setting: Record<string, number> | undefined): QuotaDefaults {
  const base = configuredQuota(setting);
  return async (user) => {
    const record = await users.lookup(user);
    return record ? userQuota(extraFieldWords(record), base) : { ...base };
  };
}
