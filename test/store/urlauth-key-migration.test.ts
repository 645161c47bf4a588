/**
 * SQLite schema v23 and PostgreSQL schema v11: URLAUTH mailbox access keys become per user and
 * mailbox (RFC 4467 §2.2). The one key per mailbox that earlier versions kept was the owner's and
 * stays the owner's, so the owner's URLs still verify after the upgrade; other users start without.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { migrate } from '../../src/store/postgres/schema.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { testDatabaseUrl } from '../helpers/postgres.js';

const tempDir = tempDirs('postroom-urlauth-migration-');

const OLD_KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 9);

describe('SQLite schema v23: URLAUTH keys per user and mailbox', () => {
  it("keeps each mailbox's key as its owner's; a reader starts without one; the holder is part of the key", async () => {
    const dir = tempDir();
    // A v22 database (one key per mailbox), with keys as v22 code wrote them.
    let store = await SqliteStore.open({ directory: dir, schemaVersion: 22 });
    const a = await store.open('alice');
    const team = await a.create('Team');
    const b = await store.open('bob');
    const bobInbox = await b.get('INBOX');
    await store.close();
    let raw = new BetterSqlite3(join(dir, 'mail.sqlite'));
    try {
      assert.equal(raw.prepare('SELECT version FROM schema_version').pluck().get(), 22);
      raw.prepare('INSERT INTO urlauth_keys (mailbox_id, key) VALUES (?, ?), (?, ?)').run(Number(team.id), OLD_KEY, Number(bobInbox.id), OTHER_KEY);
    } finally {
      raw.close();
    }

    store = await SqliteStore.open({ directory: dir });
    try {
      const a2 = await store.open('alice');
      const b2 = await store.open('bob');
      assert.deepEqual(await a2.urlauthKey!(team.id), OLD_KEY, "alice's key of Team is the one kept");
      assert.deepEqual(await b2.urlauthKey!(bobInbox.id), OTHER_KEY, "bob's key of his INBOX is the one kept");
      assert.equal(await a2.urlauthKey!(team.id, { holder: 'bob' }), null, 'bob has no key of Team yet');
      const bobs = (await a2.urlauthKey!(team.id, { create: true, holder: 'bob' }))!;
      assert.ok(!bobs.equals(OLD_KEY));
      assert.deepEqual(await a2.urlauthKey!(team.id), OLD_KEY, "making bob's key leaves alice's");
    } finally {
      await store.close();
    }
    raw = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    try {
      assert.equal(raw.prepare('SELECT version FROM schema_version').pluck().get() as number >= 23, true);
      const cols = (raw.prepare('PRAGMA table_info(urlauth_keys)').all() as Array<{ name: string; pk: number }>).map((c) => [c.name, c.pk]);
      assert.deepEqual(cols, [
        ['mailbox_id', 1],
        ['holder', 2],
        ['key', 0],
      ]);
      assert.deepEqual(raw.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'urlauth_keys' AND sql IS NOT NULL").pluck().all(), ['urlauth_keys_holder']);
      assert.deepEqual(raw.prepare('SELECT holder FROM urlauth_keys ORDER BY mailbox_id, holder').pluck().all(), ['alice', 'bob', 'bob']);
    } finally {
      raw.close();
    }
  });
});

const opened: PostgresStore[] = [];
after(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

describe('PostgreSQL schema v11: URLAUTH keys per user and mailbox', () => {
  it("keeps each mailbox's key as its owner's; a reader starts without one; the holder is part of the key", async () => {
    const url = await testDatabaseUrl();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // A v10 database with keys as v9–v10 code wrote them (one per mailbox).
      assert.equal(await migrate(client, 10), 10);
      await client.query(`INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob')`);
      await client.query(`INSERT INTO mailboxes (id, user_id, name, uid_validity) VALUES (1, 1, 'INBOX', 7), (2, 1, 'Team', 8), (3, 2, 'INBOX', 9)`);
      await client.query('INSERT INTO urlauth_keys (mailbox_id, key) VALUES (2, $1), (3, $2)', [OLD_KEY, OTHER_KEY]);
      await client.query(`SELECT setval('users_id_seq', 2), setval('mailboxes_id_seq', 3)`);
      await migrate(client);
      const rows = await client.query<{ mailbox_id: string; holder: string }>('SELECT mailbox_id, holder FROM urlauth_keys ORDER BY mailbox_id');
      assert.deepEqual(rows.rows.map((r) => [Number(r.mailbox_id), r.holder]), [
        [2, 'alice'],
        [3, 'bob'],
      ]);
      const pk = await client.query<{ a: string }>(
        `SELECT a.attname AS a FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = 'urlauth_keys'::regclass AND i.indisprimary ORDER BY a.attnum`,
      );
      assert.deepEqual(pk.rows.map((r) => r.a), ['mailbox_id', 'holder']);
      assert.equal((await client.query("SELECT 1 FROM pg_indexes WHERE tablename = 'urlauth_keys' AND indexname = 'urlauth_keys_holder'")).rowCount, 1);
    } finally {
      await client.end();
    }

    const store = await PostgresStore.open({ connectionString: url, poolSize: 4 });
    opened.push(store);
    const a = await store.open('alice');
    const team = await a.get('Team');
    assert.deepEqual(await a.urlauthKey!(team.id), OLD_KEY, "alice's key of Team is the one kept");
    assert.equal(await a.urlauthKey!(team.id, { holder: 'bob' }), null, 'bob has no key of Team yet');
    const bobs = (await a.urlauthKey!(team.id, { create: true, holder: 'bob' }))!;
    assert.ok(!bobs.equals(OLD_KEY));
    assert.deepEqual(await a.urlauthKey!(team.id), OLD_KEY, "making bob's key leaves alice's");
    const b = await store.open('bob');
    assert.deepEqual(await b.urlauthKey!((await b.get('INBOX')).id), OTHER_KEY);
  });
});
