/** What every part of the PostgreSQL store shares, and the per-handle scope every query is bound to. */
import type { Logger } from '../../util/logger.js';
import type pg from 'pg';
import { StoreError } from '../errors.js';
import type { MailboxInfo, QuotaDefaults, SpecialUse } from '../types.js';
import type { BlobStore } from './blob-store.js';
import type { ClusterFeed } from './cluster-feed.js';
import { parseId, type Queryable } from './db.js';

export interface PgContext {
  readonly pool: pg.Pool;
  readonly feed: ClusterFeed;
  readonly blobs: BlobStore;
  readonly delimiter: string;
  readonly logger?: Logger;
  /** RFC 9208 limits of users without their own (PostgresStoreOptions.quotaDefaults). */
  readonly quotaDefaults?: QuotaDefaults;
}

/** A handle's reach: one user. Every lookup by mailbox id also checks `user_id`. */
export interface PgScope {
  readonly ctx: PgContext;
  readonly userId: number;
  readonly user: string;
  readonly origin: string | undefined;
}

export interface MailboxRow {
  id: number;
  user_id: number;
  name: string;
  noselect: boolean;
  special_use: string | null;
  uid_validity: number;
  uid_next: number;
  highest_modseq: number;
  recent_uid: number;
}

export function toInfo(row: MailboxRow, subscribed: boolean): MailboxInfo {
  const info: MailboxInfo = { id: String(row.id), name: row.name, noselect: row.noselect, subscribed };
  if (row.special_use) info.specialUse = row.special_use as SpecialUse;
  return info;
}

/** The mailbox row, or StoreError nonexistent; `lock` takes its row lock (writes). */
export async function mailboxRow(db: Queryable, scope: PgScope, mailboxId: string, lock = false): Promise<MailboxRow> {
  const id = parseId(mailboxId);
  const row =
    id === null
      ? undefined
      : (await db.query<MailboxRow>(`SELECT * FROM mailboxes WHERE id = $1 AND user_id = $2${lock ? ' FOR UPDATE' : ''}`, [id, scope.userId])).rows[0];
  if (!row) throw new StoreError('nonexistent', 'no such mailbox');
  return row;
}

export function requireSelectable(row: MailboxRow): MailboxRow {
  if (row.noselect) throw new StoreError('cannot', `mailbox ${row.name} is \\Noselect and cannot hold messages`);
  return row;
}

export async function selectableMailbox(db: Queryable, scope: PgScope, mailboxId: string, lock = false): Promise<MailboxRow> {
  return requireSelectable(await mailboxRow(db, scope, mailboxId, lock));
}

/**
 * Runs `inner` (which may refer to the mailbox as `b`, its parameters numbered from $3) for a
 * mailbox of this user in one round trip, with the same errors as selectableMailbox: the result
 * has one marker row when `inner` matched nothing.
 */
export async function inMailbox<R extends object>(
  db: Queryable,
  scope: PgScope,
  mailboxId: string,
  inner: string,
  params: unknown[] = [],
): Promise<R[]> {
  const id = parseId(mailboxId);
  if (id === null) throw new StoreError('nonexistent', 'no such mailbox');
  const { rows } = await db.query<R & { box_noselect: boolean; box_name: string; _k: number | null }>(
    `SELECT b.noselect AS box_noselect, b.name AS box_name, x.* FROM mailboxes b
       LEFT JOIN LATERAL (${inner}) x ON true
      WHERE b.id = $1 AND b.user_id = $2`,
    [id, scope.userId, ...params],
  );
  const first = rows[0];
  if (!first) throw new StoreError('nonexistent', 'no such mailbox');
  if (first.box_noselect) throw new StoreError('cannot', `mailbox ${first.box_name} is \\Noselect and cannot hold messages`);
  return rows.filter((r) => r._k !== null);
}
