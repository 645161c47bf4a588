/**
 * RFC 9208 quota arithmetic shared by every store: which limits apply to a user, and whether a
 * write that adds messages fits. Stores call checkQuota() inside the same atomic step that writes
 * (a synchronous block in MemoryStore, the write transaction in SQLite and PostgreSQL), with the
 * usage read in that step, so racing writers can never overshoot a limit together.
 */
import { StoreError } from './errors.js';
import type { QuotaDefaults, QuotaLimits, QuotaUsage } from './types.js';

/** Limits that apply: the store's own (set with setQuota) win over the defaults. */
export async function effectiveLimits(
  user: string,
  stored: QuotaLimits | undefined,
  defaults: QuotaDefaults | undefined,
): Promise<{ limits: QuotaLimits; source: 'store' | 'default' }> {
  if (stored) return { limits: stored, source: 'store' };
  return { limits: defaults ? await defaults(user) : {}, source: 'default' };
}

export function hasLimits(limits: QuotaLimits): boolean {
  return limits.storage !== undefined || limits.messages !== undefined;
}

/**
 * Throws StoreError 'overquota' when adding `add` to `usage` would exceed a limit. A write that
 * adds nothing (an empty COPY) always fits, even when the user is already over a lowered limit.
 */
export function checkQuota(usage: QuotaUsage, limits: QuotaLimits, add: QuotaUsage): void {
  if (add.messages === 0 && add.storage === 0) return;
  if (limits.messages !== undefined && usage.messages + add.messages > limits.messages) {
    throw new StoreError('overquota', `message count quota exceeded (${limits.messages} messages)`);
  }
  if (limits.storage !== undefined && usage.storage + add.storage > limits.storage) {
    throw new StoreError('overquota', `storage quota exceeded (${limits.storage} octets)`);
  }
}

/** True when nothing more fits: a limit is reached already (any further message would pass it). */
export function isFull(state: { usage: QuotaUsage; limits: QuotaLimits }): boolean {
  const { usage, limits } = state;
  return (limits.messages !== undefined && usage.messages >= limits.messages) || (limits.storage !== undefined && usage.storage >= limits.storage);
}

/** Checks caller-supplied limits: whole, non-negative numbers within 2^53 (RFC 9208 number64). */
export function validateLimits(limits: QuotaLimits): QuotaLimits {
  const out: QuotaLimits = {};
  for (const key of ['storage', 'messages'] as const) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!Number.isSafeInteger(v) || v < 0) throw new StoreError('cannot', `invalid ${key} limit ${String(v)}`);
    out[key] = v;
  }
  return out;
}
