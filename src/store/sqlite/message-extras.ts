/**
 * UserMailbox.messageExtras: RFC 8474 EMAILID (from the content's SHA-256) and RFC 8970 previews
 * (content_structures.preview since schema v24, written at APPEND). A content stored before
 * schema v17 has none (NULL): the first request that must answer ('compute') reads just the bytes
 * the preview needs, computes it and keeps it, so a large mailbox is never backfilled in one go
 * by the migration.
 */
import { messagePreview, previewBytesNeeded } from '../../mime/index.js';
import type { MessageStructure } from '../../mime/types.js';
import { StoreError } from '../errors.js';
import { emailIdOf, type MessageExtras, type MessageExtrasOptions } from '../types.js';
import { readBody, readStructureJson } from './contents.js';
import { jsonList, selectableMailbox, type UserScope } from './context.js';

interface ExtrasRow {
  uid: number;
  content_id: number;
  sha256: Buffer;
  preview: string | null;
}

export async function messageExtras(scope: UserScope, mailboxId: string, uids: number[], options: MessageExtrasOptions = {}): Promise<MessageExtras[]> {
  const { ctx } = scope;
  const box = selectableMailbox(scope, mailboxId);
  const withPreview = options.preview !== undefined;
  const rows = ctx.sql
    .get(
      withPreview
        ? `SELECT m.uid, m.content_id, c.sha256, p.preview FROM messages m JOIN contents c ON c.id = m.content_id
             LEFT JOIN content_structures p ON p.content_id = m.content_id
            WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`
        : `SELECT m.uid, m.content_id, c.sha256, NULL AS preview FROM messages m JOIN contents c ON c.id = m.content_id
            WHERE m.mailbox_id = ? AND m.uid IN (SELECT value FROM json_each(?)) ORDER BY m.uid`,
    )
    .all(box.id, jsonList(uids)) as ExtrasRow[];
  const out: MessageExtras[] = [];
  const computed = new Map<number, string>();
  for (const row of rows) {
    const extras: MessageExtras = { uid: row.uid, emailId: emailIdOf(row.sha256) };
    if (withPreview) {
      let preview = row.preview ?? computed.get(row.content_id) ?? null;
      if (preview === null && options.preview === 'compute') {
        preview = await computePreview(scope, row.content_id);
        if (preview !== null) computed.set(row.content_id, preview);
      }
      // 'compute' never answers null (RFC 8970 §3.2: NIL only for LAZY): a body gone meanwhile is "".
      extras.preview = preview ?? (options.preview === 'compute' ? '' : null);
    }
    out.push(extras);
  }
  if (computed.size > 0) {
    await ctx.group.run(() => {
      // A content released since has no row left to update; one computed meanwhile keeps its own.
      const keep = ctx.sql.get('UPDATE content_structures SET preview = ? WHERE content_id = ? AND preview IS NULL');
      for (const [contentId, preview] of computed) keep.run(preview, contentId);
    });
  }
  return out;
}

/** The preview of a stored content, or null when it went (expunged) or its body is damaged. */
async function computePreview(scope: UserScope, contentId: number): Promise<string | null> {
  const { ctx } = scope;
  try {
    const structure = JSON.parse(readStructureJson(ctx, contentId)) as MessageStructure;
    const head = await readBody(ctx, contentId, { start: 0, end: previewBytesNeeded(structure) });
    return messagePreview(head, structure);
  } catch (err) {
    if (err instanceof StoreError) return null;
    throw err;
  }
}
