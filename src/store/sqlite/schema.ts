/**
 * The schema as an ordered list of migrations. `schema_version` holds the number of the last one
 * applied; opening an older database runs the missing ones, each in its own transaction, so a crash
 * mid-upgrade leaves the database at a consistent earlier version and the next open resumes.
 */
import type { Database } from 'better-sqlite3';
import { insertThreadKeys } from './thread-keys.js';
import { refoldStep, startRefold } from './search-refold.js';
import { previewFoldStep, startPreviewFold } from './preview-fold.js';
import { startUsageFold, usageFoldStep } from './usage-fold.js';
import { StoreError } from '../errors.js';

export interface MigrationContext {
  /** Reads a stored body (inline or file) by content id; used by migrations that derive data. */
  readBody(contentId: number): Buffer;
  /** Computes the search columns of a body; the same function append uses. */
  searchColumns(raw: Buffer, structureJson: string): SearchColumns;
  /** Everything APPEND derives from a body now: structure JSON, search columns, sort keys. */
  derive(raw: Buffer): { structureJson: string; search: SearchColumns; sort: SortColumns };
  /** The first `octets` octets of a stored body: a header, without reading the rest. */
  readHead(contentId: number, octets: number): Buffer;
  /** Progress of a long migration, and what it had to work around. */
  log?(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void;
}

/** A content's SORT/THREAD keys as stored (sort-columns.ts). */
export interface SortColumns {
  sentDate: number | null;
  subject: string;
  reply: number;
  from: string;
  to: string;
  cc: string;
  displayFrom: string;
  displayTo: string;
  messageId: string | null;
  /** References, space-separated (normalised IDs contain no white space). */
  refs: string;
}

/** The INSERT every writer of content_sort uses (append and the v6 backfill). */
export const INSERT_CONTENT_SORT =
  'INSERT INTO content_sort (content_id, sent_date, subject, reply, from_key, to_key, cc_key, display_from, display_to, message_id, refs) ' +
  'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

export function contentSortParams(contentId: number, c: SortColumns): Array<string | number | null> {
  return [contentId, c.sentDate, c.subject, c.reply, c.from, c.to, c.cc, c.displayFrom, c.displayTo, c.messageId, c.refs];
}

export interface SearchColumns {
  from: string | null;
  to: string | null;
  cc: string | null;
  bcc: string | null;
  subject: string | null;
  sentDay: string | null;
}

export interface Migration {
  version: number;
  description: string;
  up(db: Database, ctx: MigrationContext): void;
  /**
   * Work too large for one transaction, after up(): one bounded step per call, each in its own
   * transaction, returning false once nothing is left (up() records what is). migrate() runs the
   * steps to the end, also at the next open when a crash stopped them part way.
   */
  step?(db: Database, ctx: MigrationContext): boolean;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'users, mailboxes, subscriptions, refcounted contents, messages',
    up(db) {
      db.exec(`
        CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        -- AUTOINCREMENT: a re-created mailbox must never get the id of a deleted one.
        CREATE TABLE mailboxes (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          noselect INTEGER NOT NULL DEFAULT 0,
          special_use TEXT,
          uid_validity INTEGER NOT NULL,
          uid_next INTEGER NOT NULL DEFAULT 1,
          highest_modseq INTEGER NOT NULL DEFAULT 1,
          recent_uid INTEGER NOT NULL DEFAULT 1,
          UNIQUE (user_id, name)
        );
        CREATE TABLE subscriptions (
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          PRIMARY KEY (user_id, name)
        ) WITHOUT ROWID;
        -- One row per distinct message body (by SHA-256); COPY and identical APPENDs add a reference.
        -- body is NULL when the bytes live in a file under blobs/ (large messages).
        -- AUTOINCREMENT: ids are never reused, so caches keyed by content id cannot go stale.
        CREATE TABLE contents (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          sha256 BLOB NOT NULL UNIQUE,
          size INTEGER NOT NULL,
          refs INTEGER NOT NULL,
          body BLOB,
          structure TEXT NOT NULL
        );
        CREATE TABLE messages (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id),
          uid INTEGER NOT NULL,
          content_id INTEGER NOT NULL REFERENCES contents(id),
          flags TEXT NOT NULL DEFAULT '',
          modseq INTEGER NOT NULL,
          internal_date INTEGER NOT NULL,
          size INTEGER NOT NULL,
          PRIMARY KEY (mailbox_id, uid)
        ) WITHOUT ROWID;
        CREATE INDEX messages_by_content ON messages (content_id);
      `);
    },
  },
  {
    version: 2,
    description: 'decoded header columns for SQL-side SEARCH (backfilled from stored bodies)',
    up(db, ctx) {
      db.exec(`
        CREATE TABLE content_search (
          content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
          hdr_from TEXT, hdr_to TEXT, hdr_cc TEXT, hdr_bcc TEXT, hdr_subject TEXT,
          sent_day TEXT
        );
      `);
      const insert = db.prepare(
        'INSERT INTO content_search (content_id, hdr_from, hdr_to, hdr_cc, hdr_bcc, hdr_subject, sent_day) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      const rows = db.prepare('SELECT id, structure FROM contents').all() as Array<{ id: number; structure: string }>;
      for (const row of rows) {
        const c = ctx.searchColumns(ctx.readBody(row.id), row.structure);
        insert.run(row.id, c.from, c.to, c.cc, c.bcc, c.subject, c.sentDay);
      }
    },
  },
  {
    version: 3,
    description: 'index messages by modseq (SELECT snapshot catch-up, CONDSTORE)',
    up(db) {
      db.exec('CREATE INDEX messages_by_modseq ON messages (mailbox_id, modseq)');
    },
  },
  {
    version: 4,
    description: 'saved SELECT snapshots of large mailboxes (saved-snapshots.ts)',
    up(db) {
      db.exec(`
        CREATE TABLE mailbox_snapshots (
          mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
          highest_modseq INTEGER NOT NULL,
          count INTEGER NOT NULL,
          uids BLOB NOT NULL,
          modseqs BLOB NOT NULL,
          flag_sets TEXT NOT NULL,
          flag_refs BLOB NOT NULL
        )
      `);
    },
  },
  {
    version: 5,
    description: "MIME structures in their own table: reading one from contents walked the body's overflow pages",
    up(db) {
      // SQLite reads a row's columns in order, and `structure` comes after an inline body of up to
      // 256 KiB: each FETCH ENVELOPE followed that body's chain of overflow pages (half the time of
      // reading a structure in a 20,000-message bench database). contents.structure stays for the
      // rows written before (dropping a column rewrites every body) and is '' in new rows.
      db.exec(`
        CREATE TABLE content_structures (
          content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
          structure TEXT NOT NULL
        );
        INSERT INTO content_structures (content_id, structure) SELECT id, structure FROM contents;
      `);
    },
  },
  {
    version: 6,
    description: 'SORT/THREAD keys per content; structures and address search columns derived again (address fixes)',
    up(db, ctx) {
      // Every content is parsed again: the keys are new, and the envelope (a comment as display
      // name, no made-up address for a name alone) and the address search text (comments and
      // folding removed) changed with them. One pass over the bodies, as v2 made.
      db.exec(`
        CREATE TABLE content_sort (
          content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
          sent_date INTEGER,
          subject TEXT NOT NULL,
          reply INTEGER NOT NULL,
          from_key TEXT NOT NULL,
          to_key TEXT NOT NULL,
          cc_key TEXT NOT NULL,
          display_from TEXT NOT NULL,
          display_to TEXT NOT NULL,
          message_id TEXT,
          refs TEXT NOT NULL
        );
      `);
      const insertSort = db.prepare(INSERT_CONTENT_SORT);
      const updateStructure = db.prepare('UPDATE content_structures SET structure = ? WHERE content_id = ?');
      const updateSearch = db.prepare(
        'UPDATE content_search SET hdr_from = ?, hdr_to = ?, hdr_cc = ?, hdr_bcc = ?, hdr_subject = ?, sent_day = ? WHERE content_id = ?',
      );
      const ids = db.prepare('SELECT id FROM contents').pluck().all() as number[];
      for (const id of ids) {
        const d = ctx.derive(ctx.readBody(id));
        updateStructure.run(d.structureJson, id);
        const c = d.search;
        updateSearch.run(c.from, c.to, c.cc, c.bcc, c.subject, c.sentDay, id);
        insertSort.run(...contentSortParams(id, d.sort));
      }
    },
  },
  {
    version: 7,
    description: 'expunged UIDs with the modseq of their expunge, for QRESYNC (RFC 7162 §3.2)',
    up(db) {
      // Expunges before this version were not recorded: the mark says that everything up to the
      // current HIGHESTMODSEQ is unknown, so QRESYNC from before it answers from the known UIDs.
      db.exec(`
        CREATE TABLE expunged (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
          uid INTEGER NOT NULL,
          modseq INTEGER NOT NULL,
          PRIMARY KEY (mailbox_id, uid)
        ) WITHOUT ROWID;
        CREATE INDEX expunged_by_modseq ON expunged (mailbox_id, modseq);
        ALTER TABLE mailboxes ADD COLUMN expunged_pruned_modseq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE mailboxes ADD COLUMN expunged_count INTEGER NOT NULL DEFAULT 0;
        UPDATE mailboxes SET expunged_pruned_modseq = highest_modseq;
      `);
    },
  },
  {
    version: 8,
    description: 'RFC 9208 quotas: per-user limits, and usage per user (backfilled)',
    up(db) {
      // Usage is kept by the code that adds and removes message rows (quota.ts addUsage, in the
      // same transaction), one statement per operation: row triggers made a COPY 3 times and an
      // EXPUNGE of 20,000 messages 5-6 times slower (measured).
      db.exec(`
        CREATE TABLE quota_limits (
          user_id INTEGER PRIMARY KEY REFERENCES users(id),
          storage INTEGER,
          messages INTEGER
        );
        CREATE TABLE quota_usage (
          user_id INTEGER PRIMARY KEY REFERENCES users(id),
          storage INTEGER NOT NULL,
          messages INTEGER NOT NULL
        );
        INSERT INTO quota_usage (user_id, storage, messages)
          SELECT b.user_id, coalesce(sum(m.size), 0), count(m.uid)
            FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.user_id;
      `);
    },
  },
  {
    version: 9,
    description: 'Sieve scripts per user (one active) and vacation memory',
    up(db) {
      db.exec(`
        CREATE TABLE sieve_scripts (
          user_id INTEGER NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          content TEXT NOT NULL,
          active INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, name)
        ) WITHOUT ROWID;
        -- At most one active script per user (RFC 5804 §2.8).
        CREATE UNIQUE INDEX sieve_scripts_active ON sieve_scripts (user_id) WHERE active = 1;
        -- Whom vacation answered (RFC 5230 §4.2): per handle and lower-cased address, until a time (ms).
        CREATE TABLE sieve_vacation (
          user_id INTEGER NOT NULL REFERENCES users(id),
          handle TEXT NOT NULL,
          address TEXT NOT NULL,
          until INTEGER NOT NULL,
          PRIMARY KEY (user_id, handle, address)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 10,
    description: 'copies_in_progress: the UID ranges of a COPY not yet complete, removed again after a crash',
    up(db) {
      // No foreign key: deleting the target mailbox during a COPY must not be refused.
      db.exec(`
        CREATE TABLE copies_in_progress (
          id INTEGER PRIMARY KEY,
          copy_id INTEGER NOT NULL,
          mailbox_id INTEGER NOT NULL,
          first_uid INTEGER NOT NULL,
          last_uid INTEGER NOT NULL
        );
      `);
    },
  },
  {
    version: 11,
    description: 'mailbox_acl: RFC 4314 access control lists, one row per mailbox and identifier',
    up(db) {
      db.exec(`
        CREATE TABLE mailbox_acl (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
          identifier TEXT NOT NULL,
          rights TEXT NOT NULL,
          PRIMARY KEY (mailbox_id, identifier)
        ) WITHOUT ROWID;
        -- sharedMailboxes(): the mailboxes that name a user (or anyone) are found by identifier.
        CREATE INDEX mailbox_acl_identifier ON mailbox_acl (identifier);
      `);
    },
  },
  {
    version: 14,
    description: 'THREAD keys as integers per content (content_thread, interned in sort_strings), from content_sort',
    up(db) {
      // The keys are content_sort's, interned (thread-keys.ts): no body is read again.
      db.exec(`
        CREATE TABLE sort_strings (
          id INTEGER PRIMARY KEY,
          value TEXT NOT NULL UNIQUE
        );
        CREATE TABLE content_thread (
          content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
          message_id INTEGER,
          refs BLOB,
          subject INTEGER,
          reply INTEGER NOT NULL
        );
      `);
      const prepared = new Map<string, ReturnType<Database['prepare']>>();
      const prepare = (sql: string): ReturnType<Database['prepare']> => {
        let stmt = prepared.get(sql);
        if (!stmt) prepared.set(sql, (stmt = db.prepare(sql)));
        return stmt;
      };
      const rows = db.prepare('SELECT content_id, message_id, refs, subject, reply FROM content_sort ORDER BY content_id').iterate() as Iterable<{
        content_id: number;
        message_id: string | null;
        refs: string;
        subject: string;
        reply: number;
      }>;
      const all = [...rows];
      for (const r of all) insertThreadKeys(prepare, r.content_id, { messageId: r.message_id, refs: r.refs, subject: r.subject, reply: r.reply });
    },
  },
  {
    version: 16,
    description: 'mailbox_purges: deleted mailboxes whose messages are still being removed in slices (mailbox-purge.ts)',
    up(db) {
      // No foreign key: the purge deletes the mailbox row and its record in one transaction.
      db.exec('CREATE TABLE mailbox_purges (mailbox_id INTEGER PRIMARY KEY)');
    },
  },
  {
    version: 17,
    description: 'RFC 8514 save dates (messages.save_date) and RFC 8970 previews per content (content_preview)',
    up(db) {
      // No row is read or rewritten: ADD COLUMN without a default only changes the schema, so this
      // takes the same few milliseconds on a mailbox of 100,000 messages as on an empty one. Rows
      // from before have no save date (FETCH SAVEDATE NIL, RFC 8514 §4.1) and no preview (computed
      // on the first FETCH PREVIEW that needs it and kept, message-extras.ts).
      db.exec(`
        ALTER TABLE messages ADD COLUMN save_date INTEGER;
        CREATE TABLE content_preview (
          content_id INTEGER PRIMARY KEY REFERENCES contents(id) ON DELETE CASCADE,
          preview TEXT NOT NULL
        );
      `);
    },
  },
  {
    version: 19,
    description: "private_seen: per-user \\Seen of users other than a mailbox's owner (shared mailboxes, docs/sharing.md)",
    up(db) {
      // Keyed by (mailbox, viewer, uid): a session reads all of one viewer's rows of a mailbox;
      // an expunge removes every viewer's rows of some UIDs (private_seen_uid).
      db.exec(`
        CREATE TABLE private_seen (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
          viewer TEXT NOT NULL,
          uid INTEGER NOT NULL,
          seen INTEGER NOT NULL,
          modseq INTEGER NOT NULL,
          PRIMARY KEY (mailbox_id, viewer, uid)
        ) WITHOUT ROWID;
        CREATE INDEX private_seen_uid ON private_seen (mailbox_id, uid);
      `);
    },
  },
  {
    version: 20,
    description: 'metadata: RFC 5464 annotations of mailboxes and of each user\'s server scope (docs/metadata.md)',
    up(db) {
      // mailbox_id 0 is the user's server scope; viewer '' holds the /shared entries, a user name
      // that user's /private ones. No foreign key on mailbox_id (0 is no mailbox): DELETE removes
      // a mailbox's rows itself (mailbox-tree.ts).
      db.exec(`
        CREATE TABLE metadata (
          user_id INTEGER NOT NULL REFERENCES users(id),
          mailbox_id INTEGER NOT NULL,
          viewer TEXT NOT NULL,
          entry TEXT NOT NULL,
          value BLOB NOT NULL,
          PRIMARY KEY (user_id, mailbox_id, viewer, entry)
        ) WITHOUT ROWID;
      `);
    },
  },
  {
    version: 21,
    description: 'urlauth_keys: RFC 4467 mailbox access keys, one per mailbox of its owner (URLAUTH)',
    up(db) {
      db.exec(`
        CREATE TABLE urlauth_keys (
          mailbox_id INTEGER PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
          key BLOB NOT NULL
        );
      `);
    },
  },
  {
    version: 22,
    description: 'search columns in i;unicode-casemap form (RFC 5051, I18NLEVEL=1): renamed hdr_* → cm_* and redone in steps (search-refold.ts)',
    up(db) {
      startRefold(db);
    },
    step(db, ctx) {
      return refoldStep(db, ctx);
    },
  },
  {
    version: 23,
    description: "urlauth_keys per user and mailbox (RFC 4467 §2.2): a holder column; each owner's key kept as the owner's",
    up(db) {
      // RFC 4467 §2.2: "two users sharing the same mailbox each have a different mailbox access key
      // for that mailbox". A key row is (mailbox, holder): the owner's own key, or that of a user the
      // mailbox is shared with. The keys v21–v22 kept (one per mailbox) were the owner's, and stay
      // so: URLs the owner authorized still verify; those readers authorized with the owner's key
      // for a shared mailbox do not (each reader now has a key of their own). Rebuilt because SQLite
      // cannot change a primary key in place; the holder index serves RESETKEY without a mailbox.
      db.exec(`
        CREATE TABLE urlauth_keys_v23 (
          mailbox_id INTEGER NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
          holder TEXT NOT NULL,
          key BLOB NOT NULL,
          PRIMARY KEY (mailbox_id, holder)
        ) WITHOUT ROWID;
        INSERT INTO urlauth_keys_v23 (mailbox_id, holder, key)
          SELECT k.mailbox_id, u.name, k.key FROM urlauth_keys k JOIN mailboxes m ON m.id = k.mailbox_id JOIN users u ON u.id = m.user_id;
        DROP TABLE urlauth_keys;
        ALTER TABLE urlauth_keys_v23 RENAME TO urlauth_keys;
        CREATE INDEX urlauth_keys_holder ON urlauth_keys (holder);
      `);
    },
  },
  {
    version: 24,
    description:
      'fewer pages per message commit: previews in content_structures.preview (preview-fold.ts) and quota usage in the mailbox rows (usage-fold.ts), moved in steps',
    up(db) {
      startPreviewFold(db);
      startUsageFold(db);
    },
    step(db) {
      return previewFoldStep(db) || usageFoldStep(db);
    },
  },
  {
    version: 25,
    description: 'messages_deleted: a partial index of the \\Deleted messages, so EXPUNGE reads those rows only',
    up(db) {
      // EXPUNGE read every row of the mailbox to find the \Deleted ones (the flags are a text
      // column): 400 rows for an EXPUNGE of imaptest's mix, most of them not \Deleted, the largest
      // write-side item of its profile after the commit and the sync. Only \Deleted rows are in this
      // index, with what the expunge needs (content and size; the uid is the key), so an EXPUNGE
      // reads just them; a STORE that sets or clears \Deleted adds or removes one entry. The WHERE
      // is DELETED_TEST, which the query must repeat word for word (message-writes.ts). Built by
      // one pass over the messages, in the migration's transaction.
      db.exec(`CREATE INDEX messages_deleted ON messages (mailbox_id, uid, content_id, size) WHERE ${DELETED_TEST}`);
    },
  },
  {
    version: 26,
    description: 'released_files and file_installs: body file deletion decided across processes when several open the folder (file-reaper.ts)',
    up(db) {
      // Only used with SqliteStoreOptions.shared: a body file released by any process is recorded
      // in the transaction that released it, and the one maintaining process deletes it after the
      // grace period, under the write lock, unless a content row or a file install (a process
      // between renaming the same bytes into place and committing their row) names it again.
      db.exec(`
        CREATE TABLE released_files (sha256 BLOB PRIMARY KEY, released_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX released_files_at ON released_files (released_at);
        CREATE TABLE file_installs (id INTEGER PRIMARY KEY, sha256 BLOB NOT NULL, started_at INTEGER NOT NULL);
        CREATE INDEX file_installs_sha256 ON file_installs (sha256);
      `);
    },
  },
];

/**
 * SQL that is true for a message row flagged \Deleted (flags are stored space-separated, flags.ts).
 * The partial index messages_deleted (v25) is defined by it; a query uses that index only when its
 * WHERE contains this very expression.
 */
export const DELETED_TEST = "instr(' ' || flags || ' ', ' \\Deleted ') > 0";

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function currentVersion(db: Database): number {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
  return row?.version ?? 0;
}

/**
 * Applies every migration above the current version, up to `target` (default: all), and finishes
 * the steps of any applied one a crash interrupted. A database of a newer schema than this build
 * knows is refused: code that does not know its tables could give wrong answers or damage it.
 */
export function migrate(db: Database, ctx: MigrationContext, target: number = LATEST_VERSION): number {
  let version = currentVersion(db);
  if (version > LATEST_VERSION) {
    throw new StoreError(
      'cannot',
      `the database schema is at version ${version}, newer than this Postroom knows (${LATEST_VERSION}); upgrade Postroom, or restore a backup taken before the upgrade`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version > target) continue;
    if (m.version > version) {
      db.transaction(() => {
        m.up(db, ctx);
        db.prepare('DELETE FROM schema_version').run();
        db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(m.version);
      }).immediate();
      version = m.version;
    }
    const step = m.step;
    if (step) while (db.transaction(() => step(db, ctx)).immediate());
  }
  return version;
}
