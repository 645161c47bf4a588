/**
 * Schema v10: the FROM/TO/CC/BCC/SUBJECT search columns of every stored message computed again in
 * the i;unicode-casemap form SEARCH now compares (RFC 5051; RFC 5255 I18NLEVEL=1), in steps.
 *
 * v10's SQL renames the columns (hdr_* → cm_*) and records in postroom_meta the first content id
 * not yet redone; each step redoes the next REFOLD_STEP contents from their headers and moves the
 * mark, in one transaction; the last removes it. migrate() runs the steps under the migration lock
 * before the node serves, so other nodes starting meanwhile wait, and a node that starts after a
 * crash finishes them. An older node still running meets the renamed columns: its APPEND and
 * SEARCH FROM/… fail rather than compare lower-case needles with titlecased columns (and an older
 * node that starts refuses the newer schema).
 */
import type pg from 'pg';
import type { MessageStructure } from '../../mime/types.js';
import { REFOLD_STEP, headerColumns, refoldWithoutHeader } from '../search-columns.js';
import type { Logger } from '../../util/logger.js';
import type { BlobStore } from './blob-store.js';
import { headerColumnBytes } from './contents.js';

export const REFOLD_MARK = 'search_refold_next';

/** v10's schema change (the migration's SQL). */
export const START_REFOLD_SQL = `
  ALTER TABLE contents RENAME COLUMN hdr_from TO cm_from;
  ALTER TABLE contents RENAME COLUMN hdr_to TO cm_to;
  ALTER TABLE contents RENAME COLUMN hdr_cc TO cm_cc;
  ALTER TABLE contents RENAME COLUMN hdr_bcc TO cm_bcc;
  ALTER TABLE contents RENAME COLUMN hdr_subject TO cm_subject;
  INSERT INTO postroom_meta (key, value) VALUES ('${REFOLD_MARK}', 0) ON CONFLICT (key) DO UPDATE SET value = 0;
`;

export interface RefoldIo {
  blobs: BlobStore;
  logger?: Logger;
}

interface Row {
  id: string | number;
  structure: string;
  size: string | number;
  cm_from: Buffer | null;
  cm_to: Buffer | null;
  cm_cc: Buffer | null;
  cm_bcc: Buffer | null;
  cm_subject: Buffer | null;
}

async function readHead(client: pg.ClientBase, blobs: BlobStore, id: number, octets: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of blobs.read(client, id, 0, octets)) parts.push(part);
  return Buffer.concat(parts);
}

const refolded = (old: Buffer | null): string | null => refoldWithoutHeader(old === null ? null : old.toString('utf8'));

/** One step in a transaction of its own: true while contents are left. Redoing one twice is harmless. */
export async function refoldStep(client: pg.ClientBase, io: RefoldIo): Promise<boolean> {
  await client.query('BEGIN');
  try {
    const mark = await client.query<{ value: string }>('SELECT value FROM postroom_meta WHERE key = $1 FOR UPDATE', [REFOLD_MARK]);
    if (mark.rows.length === 0) {
      await client.query('COMMIT');
      return false;
    }
    const next = Number(mark.rows[0]!.value);
    const { rows } = await client.query<Row>(
      'SELECT id, structure, size, cm_from, cm_to, cm_cc, cm_bcc, cm_subject FROM contents WHERE id >= $1 ORDER BY id LIMIT $2',
      [next, REFOLD_STEP.contents],
    );
    if (rows.length === 0) {
      await client.query('DELETE FROM postroom_meta WHERE key = $1', [REFOLD_MARK]);
      await client.query('COMMIT');
      if (next > 0) io.logger?.info({}, 'search columns now in i;unicode-casemap form (schema v10)');
      return false;
    }
    if (next === 0) io.logger?.info({}, 'redoing the search columns of every stored message in i;unicode-casemap form (schema v10)');
    // First the step's rows and how much of each body is header, within the step's bound.
    let octets = 0;
    const step: Array<{ row: Row; structure: MessageStructure | null; headerEnd: number }> = [];
    for (const row of rows) {
      let structure: MessageStructure | null = null;
      let headerEnd = 0;
      try {
        structure = JSON.parse(row.structure) as MessageStructure;
        headerEnd = Math.min(structure.root.bodyStart, Number(row.size));
      } catch {
        structure = null; // refolded from its old text below
      }
      if (step.length > 0 && octets + headerEnd > REFOLD_STEP.headerOctets) break;
      octets += headerEnd;
      step.push({ row, structure, headerEnd });
    }
    const heads = (await io.blobs.heads?.(client, step.filter((s) => s.structure).map((s) => ({ id: Number(s.row.id), octets: s.headerEnd })))) ?? new Map<number, Buffer>();
    const ids: number[] = [];
    const columns = { from: [] as Array<Buffer | null>, to: [] as Array<Buffer | null>, cc: [] as Array<Buffer | null>, bcc: [] as Array<Buffer | null>, subject: [] as Array<Buffer | null> };
    for (const { row, structure, headerEnd } of step) {
      const id = Number(row.id);
      let text;
      try {
        if (!structure) throw new Error('the stored structure is not readable');
        text = headerColumns(heads.get(id) ?? (await readHead(client, io.blobs, id, headerEnd)), structure);
      } catch (err) {
        // A damaged or missing body must not stop the upgrade of every other message.
        io.logger?.warn({ content: id, err }, 'search columns of a message whose header cannot be read redone from their old text');
        text = { from: refolded(row.cm_from), to: refolded(row.cm_to), cc: refolded(row.cm_cc), bcc: refolded(row.cm_bcc), subject: refolded(row.cm_subject) };
      }
      const c = headerColumnBytes(text);
      ids.push(id);
      columns.from.push(c.from);
      columns.to.push(c.to);
      columns.cc.push(c.cc);
      columns.bcc.push(c.bcc);
      columns.subject.push(c.subject);
    }
    // One statement for the step's rows rather than a round trip each.
    await client.query(
      `UPDATE contents c SET cm_from = v.f, cm_to = v.t, cm_cc = v.cc, cm_bcc = v.b, cm_subject = v.s
         FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[], $5::bytea[], $6::bytea[]) AS v(id, f, t, cc, b, s)
        WHERE c.id = v.id`,
      [ids, columns.from, columns.to, columns.cc, columns.bcc, columns.subject],
    );
    await client.query('UPDATE postroom_meta SET value = $1 WHERE key = $2', [ids[ids.length - 1]! + 1, REFOLD_MARK]);
    await client.query('COMMIT');
    return true;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
