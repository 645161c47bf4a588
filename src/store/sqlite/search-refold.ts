/**
 * Schema v22: the FROM/TO/CC/BCC/SUBJECT search columns of every stored message computed again in
 * the i;unicode-casemap form SEARCH now compares (RFC 5051; RFC 5255 I18NLEVEL=1), in steps.
 *
 * v22's own transaction renames the columns (hdr_* → cm_*) and records in `meta` the first content
 * id not yet redone. Each step then redoes the next REFOLD_STEP contents from their headers and
 * moves that mark, in one transaction; the last removes it. migrate() runs the steps to the end
 * before the store serves anything, and again at the next open when a crash stopped it part way.
 * The rename is what keeps an older Postroom (which knows no newer schema and would open this
 * database) from wrong answers: its APPEND and SEARCH FROM/… name hdr_* and fail instead of
 * comparing lower-case needles with titlecased columns.
 */
import type { Database } from 'better-sqlite3';
import type { MessageStructure } from '../../mime/types.js';
import { REFOLD_STEP, headerColumns, refoldWithoutHeader } from '../search-columns.js';

export const REFOLD_MARK = 'search_refold_next';

export interface RefoldIo {
  /** The first `octets` octets of a stored body (readHeadSync). */
  readHead(contentId: number, octets: number): Buffer;
  log?(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
}

/** v22's schema change: run inside the migration's transaction. */
export function startRefold(db: Database): void {
  db.exec(`
    ALTER TABLE content_search RENAME COLUMN hdr_from TO cm_from;
    ALTER TABLE content_search RENAME COLUMN hdr_to TO cm_to;
    ALTER TABLE content_search RENAME COLUMN hdr_cc TO cm_cc;
    ALTER TABLE content_search RENAME COLUMN hdr_bcc TO cm_bcc;
    ALTER TABLE content_search RENAME COLUMN hdr_subject TO cm_subject;
  `);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, 0) ON CONFLICT (key) DO UPDATE SET value = 0').run(REFOLD_MARK);
}

interface Row {
  id: number;
  /** Null only if the row is missing (never written so): the old text is refolded then. */
  structure: string | null;
  size: number | null;
  cm_from: string | null;
  cm_to: string | null;
  cm_cc: string | null;
  cm_bcc: string | null;
  cm_subject: string | null;
}

/**
 * One step, inside a transaction of its own: true while contents are left. Redoing a content
 * twice (a step repeated after a crash) gives the same columns.
 */
export function refoldStep(db: Database, io: RefoldIo): boolean {
  const next = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(REFOLD_MARK) as number | undefined;
  if (next === undefined) return false;
  const rows = db
    .prepare(
      `SELECT cs.content_id AS id, s.structure, c.size, cs.cm_from, cs.cm_to, cs.cm_cc, cs.cm_bcc, cs.cm_subject
         FROM content_search cs LEFT JOIN content_structures s ON s.content_id = cs.content_id LEFT JOIN contents c ON c.id = cs.content_id
        WHERE cs.content_id >= ? ORDER BY cs.content_id LIMIT ?`,
    )
    .all(next, REFOLD_STEP.contents) as Row[];
  if (rows.length === 0) {
    db.prepare('DELETE FROM meta WHERE key = ?').run(REFOLD_MARK);
    if (next > 0) io.log?.('info', 'search columns now in i;unicode-casemap form (schema v22)', {});
    return false;
  }
  if (next === 0) io.log?.('info', 'redoing the search columns of every stored message in i;unicode-casemap form (schema v22)', {});
  const update = db.prepare('UPDATE content_search SET cm_from = ?, cm_to = ?, cm_cc = ?, cm_bcc = ?, cm_subject = ? WHERE content_id = ?');
  let octets = 0;
  let last = next - 1;
  for (const row of rows) {
    let c;
    try {
      if (row.structure === null || row.size === null) throw new Error('no structure or content row');
      const structure = JSON.parse(row.structure) as MessageStructure;
      const headerEnd = Math.min(structure.root.bodyStart, row.size);
      if (octets > 0 && octets + headerEnd > REFOLD_STEP.headerOctets) break;
      octets += headerEnd;
      c = headerColumns(io.readHead(row.id, headerEnd), structure);
    } catch (err) {
      // A damaged or missing body must not stop the upgrade of every other message.
      io.log?.('warn', 'search columns of a message whose header cannot be read redone from their old text', { content: row.id, err });
      c = {
        from: refoldWithoutHeader(row.cm_from),
        to: refoldWithoutHeader(row.cm_to),
        cc: refoldWithoutHeader(row.cm_cc),
        bcc: refoldWithoutHeader(row.cm_bcc),
        subject: refoldWithoutHeader(row.cm_subject),
      };
    }
    update.run(c.from, c.to, c.cc, c.bcc, c.subject, row.id);
    last = row.id;
  }
  db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(last + 1, REFOLD_MARK);
  return true;
}
