/**
 * RFC 9208 quotas in the SQLite store. Usage lives in quota_usage (schema.ts, version 7), kept by
 * addUsage() in the same transaction as every statement that adds or removes message rows
 * (message-writes.ts, mailbox-tree.ts, importer.ts); limits set with setQuota() in quota_limits. Writes that add messages
 * call checkUsage() inside their transaction: SQLite runs one write transaction at a time, so the
 * usage read there cannot change before the insert, and racing APPENDs never overshoot.
 */
import { checkQuota, effectiveLimits, validateLimits } from '../quota.js';
import type { QuotaDefaults, QuotaLimits, QuotaState, QuotaUsage } from '../types.js';
import type { StoreContext } from './context.js';

export function readUsage(ctx: StoreContext, userId: number): QuotaUsage {
  const row = ctx.sql.get('SELECT storage, messages FROM quota_usage WHERE user_id = ?').get(userId) as QuotaUsage | undefined;
  return row ?? { storage: 0, messages: 0 };
}

function readStoredLimits(ctx: StoreContext, userId: number): QuotaLimits | undefined {
  const row = ctx.sql.get('SELECT storage, messages FROM quota_limits WHERE user_id = ?').get(userId) as
    | { storage: number | null; messages: number | null }
    | undefined;
  if (!row) return undefined;
  const limits: QuotaLimits = {};
  if (row.storage !== null) limits.storage = row.storage;
  if (row.messages !== null) limits.messages = row.messages;
  return limits;
}

/** The limits that apply to the user now; read before a write's transaction (the defaults may be async). */
export async function limitsFor(ctx: StoreContext, userId: number, user: string, defaults: QuotaDefaults | undefined): Promise<{ limits: QuotaLimits; source: 'store' | 'default' }> {
  return effectiveLimits(user, readStoredLimits(ctx, userId), defaults);
}

export async function quotaState(ctx: StoreContext, userId: number, user: string, defaults: QuotaDefaults | undefined): Promise<QuotaState> {
  const { limits, source } = await limitsFor(ctx, userId, user, defaults);
  return { usage: readUsage(ctx, userId), limits, source };
}

/**
 * Inside the transaction that added (positive) or removed (negative) message rows of the user:
 * one statement per operation, however many rows.
 */
export function addUsage(ctx: StoreContext, userId: number, storage: number, messages: number): void {
  if (storage === 0 && messages === 0) return;
  ctx.sql
    .get(
      'INSERT INTO quota_usage (user_id, storage, messages) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET storage = storage + excluded.storage, messages = messages + excluded.messages',
    )
    .run(userId, storage, messages);
}

/** Inside the write transaction: throws StoreError 'overquota' unless `add` fits. */
export function checkUsage(ctx: StoreContext, userId: number, limits: QuotaLimits, add: QuotaUsage): void {
  if (limits.storage === undefined && limits.messages === undefined) return;
  checkQuota(readUsage(ctx, userId), limits, add);
}

/** Replaces (or, with null, removes) the user's own limits; durable when it resolves. */
export async function writeLimits(ctx: StoreContext, userId: number, limits: QuotaLimits | null): Promise<void> {
  const valid = limits === null ? null : validateLimits(limits);
  await ctx.group.run(() => {
    if (valid === null) ctx.sql.get('DELETE FROM quota_limits WHERE user_id = ?').run(userId);
    else
      ctx.sql
        .get('INSERT INTO quota_limits (user_id, storage, messages) VALUES (?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET storage = excluded.storage, messages = excluded.messages')
        .run(userId, valid.storage ?? null, valid.messages ?? null);
  });
}
