/**
 * RFC 9208 quotas in the SQLite store. Usage lives in each mailbox's row (mailboxes.usage_storage
 * and usage_messages, schema v24; a user's usage is the sum over their mailboxes), kept by
 * addUsage() — or its SET terms (ADD_USAGE) in the write's own UPDATE of the mailbox row — in the
 * same transaction as every statement that adds or removes message rows (message-writes.ts,
 * chunked-copy.ts, importer.ts; a deleted mailbox's is zeroed when it leaves the user's view,
 * mailbox-purge.ts); limits set with setQuota() in quota_limits. Writes that add
 * messages call checkUsage() inside their transaction: SQLite runs one write transaction at a
 * time, so the usage read there cannot change before the insert, and racing APPENDs never
 * overshoot. Why in the mailbox row: every message write updates that row anyway (UIDNEXT,
 * HIGHESTMODSEQ), so keeping usage there costs no page of its own in the WAL — a per-user row
 * (quota_usage, v8 to v23) was one more 4 KiB page in every delivery's commit.
 */
import { checkQuota, effectiveLimits, validateLimits } from '../quota.js';
import type { QuotaDefaults, QuotaLimits, QuotaState, QuotaUsage } from '../types.js';
import type { StoreContext } from './context.js';

export function readUsage(ctx: StoreContext, userId: number): QuotaUsage {
  return ctx.sql
    .get('SELECT coalesce(sum(usage_storage), 0) AS storage, coalesce(sum(usage_messages), 0) AS messages FROM mailboxes WHERE user_id = ?')
    .get(userId) as QuotaUsage;
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
 * Inside the transaction that added (positive) or removed (negative) message rows of the mailbox:
 * one statement per operation, however many rows. A mailbox row gone meanwhile has nothing to keep.
 */
/**
 * The SET terms of addUsage, for a write that updates the mailbox row anyway (uid_next, HIGHESTMODSEQ):
 * its two parameters (storage, messages) follow that statement's own, and the row is written once.
 */
export const ADD_USAGE = 'usage_storage = usage_storage + ?, usage_messages = usage_messages + ?';

export function addUsage(ctx: StoreContext, mailboxId: number, storage: number, messages: number): void {
  if (storage === 0 && messages === 0) return;
  ctx.sql.get(`UPDATE mailboxes SET ${ADD_USAGE} WHERE id = ?`).run(storage, messages, mailboxId);
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
