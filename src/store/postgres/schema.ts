/**
 * The PostgreSQL schema as an ordered list of migrations. `postroom_schema` records each one
 * applied; every node runs the missing ones at start, one transaction each, under an advisory lock
 * so that nodes starting together apply each migration once. A database whose schema is newer than
 * this build knows is refused with a clear error: running old code on it could corrupt it.
 *
 * Never edit a migration that has shipped; append a new one.
 */
import type pg from 'pg';
import { StoreError } from '../errors.js';
import { PgChunkStore } from './blob-store.js';
import { START_REFOLD_SQL, refoldStep, type RefoldIo } from './search-refold.js';

export interface PgMigration {
  version: number;
  description: string;
  sql: string;
  /**
   * Work too large for one transaction, after the SQL: one bounded step per call, in a transaction
   * of its own, false once nothing is left (the SQL records what is). migrate() runs the steps to
   * the end under its lock, also at the next start when a crash stopped them part way.
   */
  step?(client: pg.ClientBase, io: PgMigrationIo): Promise<boolean>;
}

/** What a migration's steps may use besides the connection. */
export type PgMigrationIo = RefoldIo;

export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    description: 'users, mailboxes, subscriptions, contents in chunks, messages, expunged UIDs',
    sql: `
      CREATE TABLE postroom_meta (key text PRIMARY KEY, value bigint NOT NULL);
      INSERT INTO postroom_meta (key, value) VALUES ('last_uidvalidity', 0);

      CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL UNIQUE);

      -- Ids come from a sequence and are never handed out twice: a re-created mailbox looks new.
      -- uid_next and highest_modseq only grow; every write to a mailbox raises highest_modseq by
      -- exactly one while holding this row's lock, so modseqs number a mailbox's commits in order.
      CREATE TABLE mailboxes (
        id bigserial PRIMARY KEY,
        user_id bigint NOT NULL REFERENCES users(id),
        name text NOT NULL,
        noselect boolean NOT NULL DEFAULT false,
        special_use text,
        uid_validity bigint NOT NULL,
        uid_next bigint NOT NULL DEFAULT 1,
        highest_modseq bigint NOT NULL DEFAULT 1,
        recent_uid bigint NOT NULL DEFAULT 1,
        UNIQUE (user_id, name)
      );

      CREATE TABLE subscriptions (
        user_id bigint NOT NULL REFERENCES users(id),
        name text NOT NULL,
        PRIMARY KEY (user_id, name)
      );

      -- One row per distinct body (SHA-256). No reference count: a message row is the reference
      -- (its foreign key locks the content row), and the collector deletes only contents no
      -- message refers to, so a concurrent APPEND or COPY on another node either keeps the row
      -- alive or fails its foreign-key check and retries. released_at marks candidates.
      CREATE TABLE contents (
        id bigserial PRIMARY KEY,
        sha256 bytea NOT NULL UNIQUE,
        size bigint NOT NULL,
        released_at timestamptz,
        structure text NOT NULL,
        hdr_from bytea,
        hdr_to bytea,
        hdr_cc bytea,
        hdr_bcc bytea,
        hdr_subject bytea,
        sent_day text
      );
      CREATE INDEX contents_released ON contents (released_at) WHERE released_at IS NOT NULL;

      -- The bytes, at most 1 MiB a row, so no body sits in one value and a range read fetches
      -- only the rows it needs.
      CREATE TABLE content_chunks (
        content_id bigint NOT NULL REFERENCES contents(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (content_id, seq)
      );
      -- Out of line but not compressed: attachments (most of the bytes) are compressed already,
      -- and substring() of an uncompressed value reads only the TOAST pieces it covers.
      ALTER TABLE content_chunks ALTER COLUMN data SET STORAGE EXTERNAL;

      CREATE TABLE messages (
        mailbox_id bigint NOT NULL REFERENCES mailboxes(id),
        uid bigint NOT NULL,
        content_id bigint NOT NULL REFERENCES contents(id),
        flags text NOT NULL DEFAULT '',
        modseq bigint NOT NULL,
        -- The modseq of the write that added the message: the change feed tells "new" from
        -- "flags changed" by it.
        created_modseq bigint NOT NULL,
        internal_date bigint NOT NULL,
        size bigint NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
      );
      CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
      CREATE INDEX messages_content ON messages (content_id);

      -- Every expunged UID with the modseq of its expunge: other nodes' change feeds read it, and
      -- QRESYNC (RFC 7162 VANISHED) will.
      CREATE TABLE expunged (
        mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        uid bigint NOT NULL,
        modseq bigint NOT NULL,
        PRIMARY KEY (mailbox_id, uid)
      );
      CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);
    `,
  },
  {
    version: 2,
    description: 'RFC 9208 quotas: per-user limits, and usage kept by statement triggers on messages (backfilled)',
    // Usage is kept by triggers, so every path that adds or removes message rows (APPEND, COPY,
    // MOVE, EXPUNGE, DELETE, the importers) counts without knowing about quotas; per statement,
    // with transition tables, so a COPY of 10,000 messages is one update. Rows never change owner
    // (RENAME moves them between mailboxes of the same user), so UPDATE needs no trigger. Writers
    // take a mailbox row lock before the quota_usage row, always in that order (no deadlock).
    sql: `
      CREATE TABLE quota_limits (
        user_id bigint PRIMARY KEY REFERENCES users(id),
        storage bigint,
        messages bigint
      );
      CREATE TABLE quota_usage (
        user_id bigint PRIMARY KEY REFERENCES users(id),
        storage bigint NOT NULL,
        messages bigint NOT NULL
      );
      INSERT INTO quota_usage (user_id, storage, messages)
        SELECT b.user_id, coalesce(sum(m.size), 0), count(m.uid)
          FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.user_id;

      CREATE FUNCTION postroom_quota_added() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        INSERT INTO quota_usage AS q (user_id, storage, messages)
          SELECT b.user_id, sum(a.size), count(*) FROM postroom_added a JOIN mailboxes b ON b.id = a.mailbox_id GROUP BY b.user_id
          ON CONFLICT (user_id) DO UPDATE SET storage = q.storage + EXCLUDED.storage, messages = q.messages + EXCLUDED.messages;
        RETURN NULL;
      END $$;
      CREATE FUNCTION postroom_quota_removed() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE quota_usage q SET storage = q.storage - r.storage, messages = q.messages - r.messages
          FROM (SELECT b.user_id, sum(d.size) AS storage, count(*) AS messages
                  FROM postroom_removed d JOIN mailboxes b ON b.id = d.mailbox_id GROUP BY b.user_id) r
         WHERE q.user_id = r.user_id;
        RETURN NULL;
      END $$;
      CREATE TRIGGER messages_quota_added AFTER INSERT ON messages
        REFERENCING NEW TABLE AS postroom_added FOR EACH STATEMENT EXECUTE FUNCTION postroom_quota_added();
      CREATE TRIGGER messages_quota_removed AFTER DELETE ON messages
        REFERENCING OLD TABLE AS postroom_removed FOR EACH STATEMENT EXECUTE FUNCTION postroom_quota_removed();
    `,
  },
  {
    version: 3,
    description: 'Sieve scripts per user (one active) and vacation memory',
    sql: `
      CREATE TABLE sieve_scripts (
        user_id bigint NOT NULL REFERENCES users(id),
        name text NOT NULL,
        content text NOT NULL,
        active boolean NOT NULL DEFAULT false,
        PRIMARY KEY (user_id, name)
      );
      -- At most one active script per user (RFC 5804 §2.8).
      CREATE UNIQUE INDEX sieve_scripts_active ON sieve_scripts (user_id) WHERE active;
      -- Whom vacation answered (RFC 5230 §4.2): per handle and lower-cased address, until a time.
      CREATE TABLE sieve_vacation (
        user_id bigint NOT NULL REFERENCES users(id),
        handle text NOT NULL,
        address text NOT NULL,
        until timestamptz NOT NULL,
        PRIMARY KEY (user_id, handle, address)
      );
    `,
  },
  {
    version: 4,
    description: 'mailbox_acl: RFC 4314 access control lists, one row per mailbox and identifier',
    sql: `
      CREATE TABLE mailbox_acl (
        mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        identifier text NOT NULL,
        rights text NOT NULL,
        PRIMARY KEY (mailbox_id, identifier)
      );
      -- sharedMailboxes(): the mailboxes that name a user (or anyone) are found by identifier.
      CREATE INDEX mailbox_acl_identifier ON mailbox_acl (identifier);
    `,
  },
  {
    version: 5,
    description: 'RFC 8514 save dates (messages.save_date) and RFC 8970 previews (contents.preview)',
    // Nullable columns without a default: PostgreSQL changes only the catalog, no row is rewritten,
    // so this is as quick on 100,000 messages as on none. Older rows have no save date (FETCH
    // SAVEDATE NIL) and no preview (computed on the first FETCH PREVIEW that needs it, and kept).
    sql: `
      ALTER TABLE messages ADD COLUMN save_date bigint;
      ALTER TABLE contents ADD COLUMN preview text;
    `,
  },
  {
    version: 7,
    description: "private_seen: per-user \\Seen of users other than a mailbox's owner (shared mailboxes, docs/sharing.md)",
    sql: `
      CREATE TABLE private_seen (
        mailbox_id bigint NOT NULL REFERENCES mailboxes(id) ON DELETE CASCADE,
        viewer text NOT NULL,
        uid bigint NOT NULL,
        seen boolean NOT NULL,
        modseq bigint NOT NULL,
        PRIMARY KEY (mailbox_id, viewer, uid)
      );
      -- An expunge removes every viewer's rows of some UIDs.
      CREATE INDEX private_seen_uid ON private_seen (mailbox_id, uid);
    `,
  },
  {
    version: 8,
    description: "metadata: RFC 5464 annotations of mailboxes and of each user's server scope (docs/metadata.md)",
    sql: `
      -- mailbox_id 0 is the user's server scope; viewer '' holds the /shared entries, a user name
      -- that user's /private ones. No foreign key on mailbox_id (0 is no mailbox): DELETE removes
      -- a mailbox's rows itself (mailbox-tree.ts).
      CREATE TABLE metadata (
        user_id bigint NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        mailbox_id bigint NOT NULL,
        viewer text NOT NULL,
        entry text NOT NULL,
        value bytea NOT NULL,
        PRIMARY KEY (user_id, mailbox_id, viewer, entry)
      );
    `,
  },
  {
    version: 9,
    description: 'urlauth_keys: RFC 4467 mailbox access keys, one per mailbox of its owner (URLAUTH)',
    sql: `
      CREATE TABLE urlauth_keys (
        mailbox_id bigint PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE,
        key bytea NOT NULL
      );
    `,
  },
  {
    version: 10,
    description: 'search columns in i;unicode-casemap form (RFC 5051, I18NLEVEL=1): renamed hdr_* → cm_* and redone in steps (search-refold.ts)',
    sql: START_REFOLD_SQL,
    step: refoldStep,
  },
  {
    version: 11,
    description: "urlauth_keys per user and mailbox (RFC 4467 §2.2): a holder column; each owner's key kept as the owner's",
    // RFC 4467 §2.2: "two users sharing the same mailbox each have a different mailbox access key
    // for that mailbox". A key row is (mailbox, holder). The keys of v9–v10 (one per mailbox) were
    // the owner's and stay so: the owner's URLs still verify; those readers authorized with the
    // owner's key for a shared mailbox do not (each reader now has a key of their own). The holder
    // index serves RESETKEY without a mailbox.
    sql: `
      ALTER TABLE urlauth_keys ADD COLUMN holder text;
      UPDATE urlauth_keys k SET holder = u.name FROM mailboxes m JOIN users u ON u.id = m.user_id WHERE m.id = k.mailbox_id;
      ALTER TABLE urlauth_keys ALTER COLUMN holder SET NOT NULL;
      ALTER TABLE urlauth_keys DROP CONSTRAINT urlauth_keys_pkey;
      ALTER TABLE urlauth_keys ADD PRIMARY KEY (mailbox_id, holder);
      CREATE INDEX urlauth_keys_holder ON urlauth_keys (holder);
    `,
  },
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS[PG_MIGRATIONS.length - 1]!.version;

/** Any constant unique to us: the key of the advisory lock migrations run under. */
const MIGRATION_LOCK_KEY = 0x706f7374726f6f6dn; // "postroom"

export async function migrate(
  client: pg.ClientBase,
  target = PG_SCHEMA_VERSION,
  migrations: readonly PgMigration[] = PG_MIGRATIONS,
  io: PgMigrationIo = { blobs: new PgChunkStore() },
): Promise<number> {
  const known = migrations[migrations.length - 1]?.version ?? 0;
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY.toString()]);
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS postroom_schema (
      version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>('SELECT max(version) AS v FROM postroom_schema');
    let version = rows[0]?.v ?? 0;
    if (version > known) {
      throw new StoreError(
        'cannot',
        `the database schema is at version ${version}, newer than this Postroom knows (${known}); upgrade Postroom on this node, or point it at another database`,
      );
    }
    for (const m of migrations) {
      if (m.version > target) continue;
      if (m.version > version) {
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO postroom_schema (version, description) VALUES ($1, $2)', [m.version, m.description]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
        version = m.version;
      }
      if (m.step) while (await m.step(client, io));
    }
    return version;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]).catch(() => undefined);
  }
}
