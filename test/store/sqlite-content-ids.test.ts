/**
 * Content ids reserved in blocks (src/store/sqlite/content-ids.ts): a new body's commit no longer
 * rewrites sqlite_sequence, and an id is still never used twice — not after the newest content
 * was deleted, not across a restart, not after a reservation was rolled back.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { CONTENT_ID_BLOCK, ContentIds } from '../../src/store/sqlite/content-ids.js';
import { Statements } from '../../src/store/sqlite/database.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-content-ids-');

const mail = (n: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: ids ${n}\r\n\r\nbody ${n}\r\n`);

function read(dir: string): { ids: number[]; seq: number } {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    const ids = db.prepare('SELECT id FROM contents ORDER BY id').pluck().all() as number[];
    const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'contents'").pluck().get() as number;
    return { ids, seq };
  } finally {
    db.close();
  }
}

describe('SQLite content ids in reserved blocks', () => {
  it('writes sqlite_sequence once per block, and never gives a deleted or earlier id again, across restarts', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    let u = await store.open('alice');
    let inbox = await u.get('INBOX');
    for (let i = 0; i < 4; i++) await u.append(inbox.id, { content: mail(i), flags: ['\\Deleted'] });
    await store.close();
    // Four contents, one reservation: the stored value was raised once and never set to an id.
    assert.deepEqual(read(dir), { ids: [1, 2, 3, 4], seq: CONTENT_ID_BLOCK });

    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    inbox = await u.get('INBOX');
    // The newest content goes (its last message expunged): its id must not come back.
    assert.deepEqual(await u.expunge(inbox.id, [4]), [4]);
    await u.append(inbox.id, { content: mail(5) });
    await store.close();
    let after = read(dir);
    // After a restart the rest of the first block is skipped: the next id is past every id used.
    assert.deepEqual(after.ids, [1, 2, 3, CONTENT_ID_BLOCK + 1]);
    assert.equal(after.seq, 2 * CONTENT_ID_BLOCK);

    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    inbox = await u.get('INBOX');
    assert.equal((await u.expunge(inbox.id)).length, 3);
    await u.append(inbox.id, { content: mail(6) });
    // Within one run the block goes on: the deleted ids below are not reused either.
    await u.append(inbox.id, { content: mail(7) });
    await store.close();
    after = read(dir);
    assert.deepEqual(after.ids, [CONTENT_ID_BLOCK + 1, 2 * CONTENT_ID_BLOCK + 1, 2 * CONTENT_ID_BLOCK + 2]);
    assert.equal(after.seq, 3 * CONTENT_ID_BLOCK);
  });

  it('a reservation rolled back, or a value raised by another insert, makes the next id reserve again', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec('CREATE TABLE contents (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)');
    const sql = new Statements(db);
    const ids = new ContentIds();
    const insert = db.prepare('INSERT INTO contents (id, v) VALUES (?, ?)');
    const seq = (): number => db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'contents'").pluck().get() as number;
    const all = (): number[] => db.prepare('SELECT id FROM contents ORDER BY id').pluck().all() as number[];
    // The first reservation and its insert roll back together: nothing of them exists.
    assert.throws(() =>
      db.transaction(() => {
        insert.run(ids.take(sql), 'gone');
        throw new Error('job failed');
      })(),
    );
    assert.equal(db.prepare('SELECT count(*) FROM sqlite_sequence').pluck().get(), 0);
    db.transaction(() => insert.run(ids.take(sql), 'kept'))();
    assert.deepEqual(all(), [1]);
    assert.equal(seq(), CONTENT_ID_BLOCK);
    // A later reservation rolled back: the block in memory is not the stored one any more.
    for (let i = 2; i <= CONTENT_ID_BLOCK; i++) insert.run(ids.take(sql), 'fill');
    assert.throws(() =>
      db.transaction(() => {
        insert.run(ids.take(sql), 'gone');
        throw new Error('job failed');
      })(),
    );
    assert.equal(seq(), CONTENT_ID_BLOCK);
    db.transaction(() => insert.run(ids.take(sql), 'kept'))();
    assert.equal(all().at(-1), CONTENT_ID_BLOCK + 1);
    assert.equal(seq(), 2 * CONTENT_ID_BLOCK);
    // Another writer's AUTOINCREMENT insert (the store has none) raises the value past the block.
    insert.run(null, 'other');
    assert.equal(all().at(-1), 2 * CONTENT_ID_BLOCK + 1);
    const next = ids.take(sql);
    assert.equal(next, 2 * CONTENT_ID_BLOCK + 2, 'a new block after the raised value, not the rest of the old one');
    db.close();
  });
});
