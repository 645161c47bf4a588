/**
 * RFC 9208 quotas in the PostgreSQL store. Usage lives in quota_usage, kept by statement triggers
 * on messages (schema.ts, version 2); limits set with setQuota() in quota_limits. A write that adds
 * messages locks the user's quota_usage row (after its mailbox rows: one order everywhere) and
 * checks inside its transaction, so writers on every node are serialised on that row and can
 * never overshoot together.
 */
import type pg from 'pg';
import { checkQuota, effectiveLimits, hasLimits, validateLimits } from '../quota.js';
import type { QuotaDefaults, QuotaLimits, QuotaState, QuotaUsage } from '../types.js';
import type { Queryable } from './db.js';

interface UsageRow {
  storage: string | number;
  messages: string | number;
}

const toUsage = (row: UsageRow | undefined): QuotaUsage => ({ storage: Number(row?.storage ?? 0), messages: Number(row?.messages ?? 0) });

async function storedLimits(db: Queryable, userId: number): Promise<QuotaLimits | undefined> {
  const { rows } = await db.query<{ storage: string | null; messages: string | null }>('SELECT storage, messages FROM quota_limits WHERE user_id = $1', [userId]);
  const row = rows[0];
  if (!row) return undefined;
  const limits: QuotaLimits = {};
  if (row.storage !== null) limits.storage = Number(row.storage);
  if (row.messages !== null) limits.messages = Number(row.messages);
  return limits;
}

/** The limits that apply now; read before the write's transaction (the defaults may be slow). */
export async function limitsFor(db: Queryable, userId: number, user: string, defaults: QuotaDefaults | undefined): Promise<QuotaLimits> {
  return (await effectiveLimits(user, await storedLimits(db, userId), defaults)).limits;
}

export async function quotaState(db: Queryable, userId: number, user: string, defaults: QuotaDefaults | undefined): Promise<QuotaState> {
  const { limits, source } = await effectiveLimits(user, await storedLimits(db, userId), defaults);
  const { rows } = await db.query<UsageRow>('SELECT storage, messages FROM quota_usage WHERE user_id = $1', [userId]);
  return { usage: toUsage(rows[0]), limits, source };
}

/**
 * Inside the write transaction, after its mailbox row locks: locks the user's usage row (creating
 * it when missing, which a plain SELECT FOR UPDATE could not lock) and throws 'overquota' unless
 * `add` fits.
 */
export async function checkUsage(tx: pg.PoolClient, userId: number, limits: QuotaLimits, add: QuotaUsage): Promise<void> {
  if (!hasLimits(limits)) return;
  const { rows } = await tx.query<UsageRow>(
    `INSERT INTO quota_usage AS q (user_id, storage, messages) VALUES ($1, 0, 0)
       ON CONFLICT (user_id) DO UPDATE SET storage = q.storage RETURNING storage, messages`,
    [userId],
  );
  checkQuota(toUsage(rows[0]), limits, add);
}

export async function writeLimits(db: Queryable, userId: number, limits: QuotaLimits | null): Promise<void> {
  if (limits === null) {
    await db.query('DELETE FROM quota_limits WHERE user_id = $1', [userId]);
    return;
  }
  const valid = validateLimits(limits);
  await db.query(
    `INSERT INTO quota_limits (user_id, storage, messages) VALUES ($1, $2, $3)
       ON CONFLICT (user_id) DO UPDATE SET storage = EXCLUDED.storage, messages = EXCLUDED.messages`,
    [userId, valid.storage ?? null, valid.messages ?? null],
  );
}
