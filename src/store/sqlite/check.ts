/**
 * `postroom check`: every body against its SHA-256 and size, every reference (message rows →
 * contents → body files, reference counts), every entry of blobs/, and the database pages.
 *
 * It runs inside the process that holds the store — the server itself while one runs (through its
 * control socket, src/cli/control-socket.ts), or the command's own when none does — because the
 * store's exclusive lock lets no other process read the database (docs/sqlite.md). So it is built
 * to share the event loop: rows are read in small pages, file bodies are read asynchronously, and
 * the loop is yielded every few milliseconds. What a server notices: one read of every body, and,
 * online, `quick_check` table by table (the stall is the largest table: about 1 s per GB).
 *
 * Bodies found damaged are also told to StoreHealth, so a running server refuses them from then on.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { DATABASE_FILE } from './database.js';
import type { StoreContext } from './context.js';
import { headerProblems, quickCheck, quickCheckByTable } from './database-check.js';
import { checkFiles, quarantine, type FileFindings } from './check-files.js';
import { databaseIdentity, readMarker } from './store-identity.js';
import { join } from 'node:path';

export interface CheckOptions {
  /** Move damaged body files and stray entries of blobs/ to DATA/quarantine/<time>/. */
  quarantine?: boolean;
  /** The server is serving meanwhile: check the database table by table. */
  online?: boolean;
  onProgress?: (progress: CheckProgress) => void;
}

export interface CheckProgress {
  phase: 'database' | 'references' | 'bodies' | 'files';
  done: number;
  total: number;
  /** Body octets read so far (phase 'bodies'). */
  bytes?: number;
  totalBytes?: number;
}

export interface MessageRef {
  user: string;
  mailbox: string;
  uid: number;
}

export interface DamagedBody {
  contentId: number;
  sha256: string;
  size: number;
  /** The body file, or where an inline body lives. */
  place: string;
  problem: string;
  /** Messages holding this body, and a few of them by name. */
  messages: number;
  examples: MessageRef[];
}

export interface CheckReport {
  directory: string;
  online: boolean;
  database: { file: string; method: 'whole file' | 'table by table'; problems: string[]; longestStallMs: number };
  identity: { database: number | null; marker: number | 'unreadable' | null; matches: boolean };
  bodies: { checked: number; bytes: number; damaged: DamagedBody[] };
  references: {
    /** Contents whose stored reference count differs from the messages that point at them. */
    wrongCounts: Array<{ contentId: number; recorded: number; actual: number }>;
    /** Messages whose content row is missing. */
    missingContents: Array<MessageRef & { contentId: number }>;
    /** Contents without their parsed structure (ENVELOPE, BODYSTRUCTURE cannot be answered). */
    missingStructures: number[];
  };
  files: FileFindings;
  /** Files moved by --quarantine. */
  quarantined: Array<{ from: string; to: string }>;
  /** True when anything is damaged (orphans and strays alone are not damage). */
  damaged: boolean;
  durationMs: number;
}

/** How long the check holds the event loop at a time (between awaits), outside quick_check. */
const SLICE_MS = 8;
const PAGE = 200;
const MAX_LISTED = 1000;

/** Yields to the event loop when this slice of work has run long enough. */
export function slicer(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < SLICE_MS) return;
    await new Promise((r) => setImmediate(r));
    since = performance.now();
  };
}

interface ContentCheckRow {
  id: number;
  sha256: Buffer;
  size: number;
  refs: number;
  external: number;
  actual: number;
  structure: number | null;
}

function examplesOf(ctx: StoreContext, contentId: number): { messages: number; examples: MessageRef[] } {
  const messages = ctx.sql.get('SELECT count(*) FROM messages WHERE content_id = ?').pluck().get(contentId) as number;
  const examples = ctx.sql
    .get(
      `SELECT u.name AS user, b.name AS mailbox, m.uid FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id JOIN users u ON u.id = b.user_id
        WHERE m.content_id = ? ORDER BY u.name, b.name, m.uid LIMIT 3`,
    )
    .all(contentId) as MessageRef[];
  return { messages, examples };
}

/** Hashes a body file; the problem found, or null when it is whole and right. */
async function checkFile(path: string, size: number, sha256: Buffer, yieldNow: () => Promise<void>): Promise<string | null> {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return `the file ${DATABASE_FILE} refers to is missing`;
  if (!stat.isFile()) return 'it is not a regular file';
  if (stat.size !== size) return `the file holds ${stat.size} octets, ${size} expected`;
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 })) {
      hash.update(chunk as Buffer);
      await yieldNow();
    }
  } catch (err) {
    return `it cannot be read: ${(err as Error).message}`;
  }
  return hash.digest().equals(sha256) ? null : 'its SHA-256 differs from the one stored with it: the bytes were altered';
}

async function checkBodies(ctx: StoreContext, report: CheckReport, options: CheckOptions, yieldNow: () => Promise<void>): Promise<void> {
  const { n: total, bytes: totalBytes } = ctx.sql.get('SELECT count(*) AS n, coalesce(sum(size), 0) AS bytes FROM contents').get() as { n: number; bytes: number };
  const page = ctx.sql.get(
    `SELECT c.id, c.sha256, c.size, c.refs, c.body IS NULL AS external,
            (SELECT count(*) FROM messages m WHERE m.content_id = c.id) AS actual,
            (SELECT 1 FROM content_structures s WHERE s.content_id = c.id) AS structure
       FROM contents c WHERE c.id > ? ORDER BY c.id LIMIT ${PAGE}`,
  );
  const inline = ctx.sql.get('SELECT body FROM contents WHERE id = ?').pluck();
  const stillThere = ctx.sql.get('SELECT 1 FROM contents WHERE id = ? AND sha256 = ?');
  let after = 0;
  for (;;) {
    const rows = page.all(after) as ContentCheckRow[];
    if (rows.length === 0) break;
    for (const row of rows) {
      after = row.id;
      if (row.refs !== row.actual && report.references.wrongCounts.length < MAX_LISTED) {
        report.references.wrongCounts.push({ contentId: row.id, recorded: row.refs, actual: row.actual });
      }
      if (row.structure === null && report.references.missingStructures.length < MAX_LISTED) report.references.missingStructures.push(row.id);
      let problem: string | null;
      let place: string;
      if (row.external) {
        place = ctx.files.pathFor(row.sha256);
        problem = await checkFile(place, row.size, row.sha256, yieldNow);
        // Online, the message may have been expunged meanwhile and its file deleted: not damage.
        if (problem !== null && stillThere.get(row.id, row.sha256) === undefined) problem = null;
      } else {
        place = `${ctx.health.databasePath} (content ${row.id}, stored inline)`;
        const body = inline.get(row.id) as Buffer | null;
        problem =
          body === null || body.length !== row.size
            ? `the stored body holds ${body?.length ?? 0} octets, ${row.size} expected`
            : createHash('sha256').update(body).digest().equals(row.sha256)
              ? null
              : 'its SHA-256 differs from the one stored with it: the bytes were altered';
      }
      report.bodies.checked++;
      report.bodies.bytes += row.size;
      if (problem !== null) {
        ctx.health.bodyDamaged(row.id, place, problem);
        report.bodies.damaged.push({ contentId: row.id, sha256: row.sha256.toString('hex'), size: row.size, place, problem, ...examplesOf(ctx, row.id) });
      }
      options.onProgress?.({ phase: 'bodies', done: report.bodies.checked, total, bytes: report.bodies.bytes, totalBytes });
      await yieldNow();
    }
  }
}

/** Messages whose content row is gone, mailbox by mailbox (each one index range). */
async function checkMessageRows(ctx: StoreContext, report: CheckReport, options: CheckOptions, yieldNow: () => Promise<void>): Promise<void> {
  const boxes = ctx.sql.get('SELECT b.id, b.name, u.name AS user FROM mailboxes b JOIN users u ON u.id = b.user_id ORDER BY b.id').all() as Array<{
    id: number;
    name: string;
    user: string;
  }>;
  const dangling = ctx.sql.get(
    'SELECT m.uid, m.content_id AS contentId FROM messages m WHERE m.mailbox_id = ? AND NOT EXISTS (SELECT 1 FROM contents c WHERE c.id = m.content_id) LIMIT 100',
  );
  for (const [i, box] of boxes.entries()) {
    for (const row of dangling.all(box.id) as Array<{ uid: number; contentId: number }>) {
      if (report.references.missingContents.length < MAX_LISTED) report.references.missingContents.push({ user: box.user, mailbox: box.name, ...row });
    }
    options.onProgress?.({ phase: 'references', done: i + 1, total: boxes.length });
    await yieldNow();
  }
}

export async function checkStore(ctx: StoreContext, options: CheckOptions = {}): Promise<CheckReport> {
  const started = performance.now();
  const yieldNow = slicer();
  const dbPath = join(ctx.health.directory, DATABASE_FILE);
  const dbId = databaseIdentity(ctx.db) ?? null;
  const marker = readMarker(ctx.files);
  const report: CheckReport = {
    directory: ctx.health.directory,
    online: options.online === true,
    database: { file: dbPath, method: options.online ? 'table by table' : 'whole file', problems: [], longestStallMs: 0 },
    identity: { database: dbId, marker, matches: dbId !== null && marker === dbId },
    bodies: { checked: 0, bytes: 0, damaged: [] },
    references: { wrongCounts: [], missingContents: [], missingStructures: [] },
    files: { checked: 0, orphans: [], strays: [], pendingDeletion: 0 },
    quarantined: [],
    damaged: false,
    durationMs: 0,
  };

  options.onProgress?.({ phase: 'database', done: 0, total: 1 });
  report.database.problems.push(...headerProblems(dbPath, ctx.databaseFd));
  if (options.online) {
    const { problems, longestStallMs } = await quickCheckByTable(ctx.db);
    report.database.problems.push(...problems);
    report.database.longestStallMs = Math.round(longestStallMs);
  } else {
    const t = performance.now();
    report.database.problems.push(...quickCheck(ctx.db));
    report.database.longestStallMs = Math.round(performance.now() - t);
  }
  options.onProgress?.({ phase: 'database', done: 1, total: 1 });

  await checkMessageRows(ctx, report, options, yieldNow);
  await checkBodies(ctx, report, options, yieldNow);
  report.files = await checkFiles(ctx, (done, total) => options.onProgress?.({ phase: 'files', done, total }), yieldNow);

  if (options.quarantine) report.quarantined = quarantine(ctx, report.bodies.damaged, report.files.strays);
  report.damaged =
    report.database.problems.length > 0 ||
    report.bodies.damaged.length > 0 ||
    report.references.wrongCounts.length > 0 ||
    report.references.missingContents.length > 0 ||
    report.references.missingStructures.length > 0 ||
    (report.identity.marker !== null && !report.identity.matches);
  report.durationMs = Math.round(performance.now() - started);
  return report;
}
