/**
 * Schema v17 (RFC 8514 save dates, RFC 8970 previews) over a database written at v16: the upgrade
 * adds columns and a table without touching a row, old messages answer SAVEDATE NIL, and their
 * preview is computed on the first request that must answer ('compute', FETCH PREVIEW without
 * LAZY) and kept — LAZY ('stored') gives null until then.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-sqlite-extras-');

const old = Buffer.from('From: a@example.org\r\nSubject: old\r\nMessage-ID: <old@example.org>\r\n\r\nWritten before   v17.\r\n');

describe('SQLite schema v17: save dates and previews for rows written before', () => {
  it('upgrades a v16 database; rows from before have NIL save dates; their previews are computed once, then kept', async () => {
    const dir = tempDir();
    // A v16 database upgraded to v17 (the upgrade itself), then a message as v16 left it: the
    // writers of this version fill both, so the row is put back to what the migration leaves.
    let store = await SqliteStore.open({ directory: dir, schemaVersion: 16 });
    await store.close();
    store = await SqliteStore.open({ directory: dir });
    const a = await store.open('alice');
    const inbox = await a.get('INBOX');
    const { uid } = await a.append(inbox.id, { content: old });
    await store.close();
    const raw = new BetterSqlite3(join(dir, 'mail.sqlite'));
    try {
      assert.ok((raw.prepare('SELECT version FROM schema_version').get() as { version: number }).version >= 17);
      raw.exec('UPDATE messages SET save_date = NULL; UPDATE content_structures SET preview = NULL;');
    } finally {
      raw.close();
    }

    store = await SqliteStore.open({ directory: dir });
    try {
      const b = await store.open('alice');
      const [rec] = await b.records(inbox.id, [uid]);
      assert.equal(rec!.saveDate, null, 'no save date for a row from before v17');
      assert.deepEqual(await b.search(inbox.id, { type: 'savedate', op: 'since', day: '1970-01-01' }), []);
      assert.deepEqual(await b.search(inbox.id, { type: 'not', of: { type: 'savedate', op: 'since', day: '1970-01-01' } }), [uid]);
      assert.equal((await b.messageExtras!(inbox.id, [uid], { preview: 'stored' }))[0]!.preview, null, 'LAZY: not computed yet');
      assert.equal((await b.messageExtras!(inbox.id, [uid], { preview: 'compute' }))[0]!.preview, 'Written before v17.');
      assert.equal((await b.messageExtras!(inbox.id, [uid], { preview: 'stored' }))[0]!.preview, 'Written before v17.', 'kept');
      const appended = await b.append(inbox.id, { content: Buffer.from('Subject: new\r\n\r\nfresh\r\n') });
      assert.ok((await b.records(inbox.id, [appended.uid]))[0]!.saveDate instanceof Date);
    } finally {
      await store.close();
    }
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    try {
      assert.equal((db.prepare('SELECT count(*) AS n FROM content_structures WHERE preview IS NOT NULL').get() as { n: number }).n, 2);
    } finally {
      db.close();
    }
  });
});
