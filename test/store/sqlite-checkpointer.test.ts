import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { Checkpointer } from '../../src/store/sqlite/checkpointer.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'postroom-ckpt-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function message(i: number): Buffer {
  const body = `message ${i} `.repeat(300); // about 4 KB: a page or more per message
  return Buffer.from(`From: a@example.com\r\nSubject: m${i}\r\nMessage-ID: <${i}@example.com>\r\n\r\n${body}\r\n`);
}

describe('SqliteStore WAL checkpoints on a worker thread', () => {
  it('copies the WAL into the database off the event loop, and the data reads back after reopening', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir, checkpoints: { intervalMs: 60_000 } });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    for (let i = 0; i < 50; i++) await u.append(inbox.id, { content: message(i) });
    const dbBefore = statSync(join(dir, 'mail.sqlite')).size;
    assert.equal(store.durability().checkpoints, 0, 'nothing checkpoints inside a COMMIT or by itself within the interval');
    await store.checkpoint();
    assert.equal(store.durability().checkpoints, 1);
    assert.ok(statSync(join(dir, 'mail.sqlite')).size > dbBefore + 50 * 4096, 'the pages reached the database file');
    await store.close();
    const again = await SqliteStore.open({ directory: dir });
    const user = await again.open('alice');
    assert.equal((await user.status((await user.get('INBOX')).id)).messages, 50);
    await again.close();
  });

  it('runs by itself once writes happened, and not while nothing is written', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir, checkpoints: { intervalMs: 20 } });
    await new Promise((r) => setTimeout(r, 100));
    const idle = store.durability().checkpoints;
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    await u.append(inbox.id, { content: message(1) });
    const deadline = Date.now() + 5_000;
    while (store.durability().checkpoints === idle && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(store.durability().checkpoints > idle, 'a write was followed by a checkpoint');
    await new Promise((r) => setTimeout(r, 100)); // one started for the user's creation may still be running
    const after = store.durability().checkpoints;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(store.durability().checkpoints, after, 'no checkpoints while nothing is written');
    await store.close();
  });

  it('keeps the WAL from growing without bound under a steady stream of writes', async () => {
    const dir = tempDir();
    const hold = 64;
    const store = await SqliteStore.open({ directory: dir, checkpoints: { intervalMs: 10, holdWritesAboveFrames: hold } });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const total = 2_400;
    let next = 0;
    // Eight writers never pause, so a checkpoint that ran beside them would never catch up.
    const lane = async (): Promise<void> => {
      while (next < total) await u.append(inbox.id, { content: message(next++) });
    };
    await Promise.all(Array.from({ length: 8 }, lane));
    const d = store.durability();
    assert.ok(d.heldCheckpoints > 0, 'some checkpoints held writes back');
    const wal = statSync(join(dir, 'mail.sqlite-wal')).size;
    await store.checkpoint();
    const written = statSync(join(dir, 'mail.sqlite')).size;
    assert.ok(wal < written / 3, `the WAL started over instead of holding every write (WAL ${wal} bytes, database ${written})`);
    assert.equal((await u.status(inbox.id)).messages, total);
    await store.close();
  });

  it('lets a second connection read the database while the store is open', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    await u.append((await u.get('INBOX')).id, { content: message(1) });
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal((db.prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n, 1);
    db.close();
    await store.close();
  });

  it('turns SQLite autocheckpoint back on when the worker fails', async () => {
    const dir = tempDir();
    const db = new BetterSqlite3(join(dir, 'x.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('wal_autocheckpoint = 0');
    const errors: unknown[] = [];
    // A path with no database: the worker's connection cannot open (fileMustExist).
    const ck = new Checkpointer(db, join(dir, 'missing.sqlite'), () => 1, () => () => {}, { onError: (e) => errors.push(e) });
    await ck.checkpoint();
    assert.equal(errors.length, 1);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
    await ck.checkpoint(); // gives up quietly from then on
    assert.equal(errors.length, 1);
    assert.equal(ck.checkpoints, 0);
    await ck.close();
    db.close();
  });
});
