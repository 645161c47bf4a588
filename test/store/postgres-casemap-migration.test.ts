/**
 * PostgreSQL schema v10: the FROM/TO/CC/BCC/SUBJECT search columns of messages stored before are
 * redone in the i;unicode-casemap form SEARCH now compares (RFC 5051, RFC 5255 I18NLEVEL=1), in
 * steps of REFOLD_STEP contents under the migration lock; a database a crash left part way is
 * finished by the next node to start; an older node's statements fail on the renamed columns.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { PgChunkStore, PostgresStore } from '../../src/store/postgres/index.js';
import { REFOLD_MARK, START_REFOLD_SQL, refoldStep } from '../../src/store/postgres/search-refold.js';
import { REFOLD_STEP } from '../../src/store/search-columns.js';
import { testDatabaseUrl } from '../helpers/postgres.js';
import { HEADER_COLUMNS, REFOLDED_SUBJECTS, assertRefoldedAnswers, refoldMail } from '../helpers/casemap-refold.js';

const opened: PostgresStore[] = [];
after(async () => {
  for (const s of opened) await s.close().catch(() => undefined);
});

async function open(url: string): Promise<PostgresStore> {
  const s = await PostgresStore.open({ connectionString: url, poolSize: 4 });
  opened.push(s);
  return s;
}

async function withClient<T>(url: string, run: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

const mail = refoldMail;

async function seed(url: string, count: number): Promise<void> {
  const store = await open(url);
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  for (let i = 0; i < count; i++) await u.append(inbox.id, { content: mail(i) });
  await store.close();
}

/**
 * The database as v9 code left it: hdr_* columns holding lower-cased NFC text, and later versions
 * undone (v11's urlauth_keys back to one key per mailbox).
 */
async function rollBackTo9(c: pg.Client): Promise<void> {
  for (const h of HEADER_COLUMNS) await c.query(`ALTER TABLE contents RENAME COLUMN cm_${h} TO hdr_${h}`);
  await c.query('DROP TABLE urlauth_keys');
  await c.query('CREATE TABLE urlauth_keys (mailbox_id bigint PRIMARY KEY REFERENCES mailboxes(id) ON DELETE CASCADE, key bytea NOT NULL)');
  await c.query('DELETE FROM postroom_schema WHERE version >= 10');
  const { rows } = await c.query<{ id: string; f: Buffer | null; s: Buffer | null }>('SELECT id, hdr_from AS f, hdr_subject AS s FROM contents');
  const old = (b: Buffer | null): Buffer | null => (b === null ? null : Buffer.from(b.toString('utf8').toLowerCase().normalize('NFC'), 'utf8'));
  for (const r of rows) await c.query('UPDATE contents SET hdr_from = $1, hdr_subject = $2 WHERE id = $3', [old(r.f), old(r.s), r.id]);
}

async function columnOf(c: pg.Client, column = 'cm_subject'): Promise<string[]> {
  const { rows } = await c.query<{ s: Buffer }>(`SELECT ${column} AS s FROM contents ORDER BY id`);
  return rows.map((r) => r.s.toString('utf8'));
}

describe('PostgreSQL schema v10: search columns in i;unicode-casemap form', () => {
  it('redoes the columns of messages stored before, and SEARCH answers by the comparator', async () => {
    const url = await testDatabaseUrl();
    await seed(url, 8);
    await withClient(url, rollBackTo9);
    const store = await open(url);
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    await assertRefoldedAnswers(u, inbox.id);
    await store.close();
    await withClient(url, async (c) => {
      assert.deepEqual((await columnOf(c)).slice(0, 4), REFOLDED_SUBJECTS);
      assert.equal((await c.query('SELECT 1 FROM postroom_meta WHERE key = $1', [REFOLD_MARK])).rowCount, 0);
      assert.equal((await c.query('SELECT 1 FROM postroom_schema WHERE version = 10')).rowCount, 1);
      // What an older node still running would send for APPEND and SEARCH SUBJECT fails, never matching wrongly.
      await assert.rejects(c.query("INSERT INTO contents (sha256, size, structure, hdr_from) VALUES ('\\x00', 1, '', NULL)"), /column "hdr_from" .*does not exist/);
      await assert.rejects(c.query('SELECT c.hdr_subject FROM contents c'), /column c.hdr_subject does not exist/);
    });
  });

  it('works in steps, and a database a crash left between two steps is finished by the next node to start', async () => {
    const url = await testDatabaseUrl();
    const count = REFOLD_STEP.contents + 120;
    await seed(url, count);
    await withClient(url, async (c) => {
      await rollBackTo9(c);
      // v10 and one step, as migrate() runs them; then the node dies.
      await c.query('BEGIN');
      await c.query(START_REFOLD_SQL);
      await c.query("INSERT INTO postroom_schema (version, description) VALUES (10, 'v10')");
      await c.query('COMMIT');
      assert.equal(await refoldStep(c, { blobs: new PgChunkStore() }), true);
      const ids = (await c.query<{ id: string }>('SELECT id FROM contents ORDER BY id')).rows.map((r) => Number(r.id));
      const mark = Number((await c.query<{ value: string }>('SELECT value FROM postroom_meta WHERE key = $1', [REFOLD_MARK])).rows[0]!.value);
      assert.equal(mark, ids[REFOLD_STEP.contents - 1]! + 1);
      const from = await columnOf(c, 'cm_from');
      const n = REFOLD_STEP.contents;
      assert.equal(from[n - 1], `PERSON ${n - 1} <P${n - 1}@EXAMPLE.ORG>`);
      assert.equal(from[n], `person ${n} <p${n}@example.org>`, 'the rest is as v9 left it');
    });
    const store = await open(url);
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'From', value: `person ${count - 1} ` }), [count]);
    await store.close();
    await withClient(url, async (c) => {
      const from = await columnOf(c, 'cm_from');
      assert.equal(from.length, count);
      assert.ok(from.every((v, i) => v === `PERSON ${i} <P${i}@EXAMPLE.ORG>`), 'every row redone');
      assert.equal((await c.query('SELECT 1 FROM postroom_meta WHERE key = $1', [REFOLD_MARK])).rowCount, 0);
    });
  });

  it('a body whose chunks are gone keeps its old text, refolded, and the upgrade goes on', async () => {
    const url = await testDatabaseUrl();
    await seed(url, 2);
    await withClient(url, async (c) => {
      await rollBackTo9(c);
      await c.query('DELETE FROM content_chunks WHERE content_id = (SELECT min(id) FROM contents)');
    });
    const store = await open(url);
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'Straße' }), [1]);
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'ａｂｃ' }), [2]);
    await store.close();
    await withClient(url, async (c) => assert.deepEqual(await columnOf(c), REFOLDED_SUBJECTS.slice(0, 2)));
  });
});
