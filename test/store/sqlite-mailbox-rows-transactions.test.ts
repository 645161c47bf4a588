/**
 * Kept mailbox rows (mailbox-rows.ts) and transactions, cases sqlite-mailbox-rows.test.ts does not reach:
 * a row read inside a transaction that is then rolled back (the `db.inTransaction` guard of
 * MailboxRows.set — the first file's rollback case reads nothing inside its transaction), a group
 * commit batch whose first job changed the row and was rolled back to its savepoint while the
 * second read it, and a second store on the same folder in one process (its writes would fire no
 * trigger on the first connection: it must not get to write at all).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { mailboxById, type StoreContext, type UserScope } from '../../src/store/sqlite/context.js';

const ctxOf = (store: SqliteStore): StoreContext => (store as unknown as { ctx: StoreContext }).ctx;

const uidNextOf = (ctx: StoreContext, id: number): number =>
  (ctx.db.prepare('SELECT uid_next FROM mailboxes WHERE id = ?').get(id) as { uid_next: number }).uid_next;

test('a row read inside a rolled-back transaction is not kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rows-rv-'));
  try {
    const store = await SqliteStore.open({ directory: dir });
    const ctx = ctxOf(store);
    const mail = await store.open('alice');
    const box = await mail.create('Box');
    const id = Number(box.id);
    const userId = (ctx.db.prepare('SELECT id FROM users WHERE name = ?').get('alice') as { id: number }).id;
    const scope: UserScope = { ctx, userId, user: 'alice', origin: undefined };
    const committed = uidNextOf(ctx, id);
    assert.throws(() =>
      ctx.db.transaction(() => {
        ctx.db.prepare('UPDATE mailboxes SET uid_next = uid_next + 100 WHERE id = ?').run(id);
        // Read inside the transaction: the uncommitted row.
        assert.equal(mailboxById(scope, box.id).uid_next, committed + 100);
        throw new Error('roll back');
      })(),
    );
    assert.equal(ctx.mailboxRows.get(id)?.uid_next ?? committed, committed, 'no uncommitted row kept');
    assert.equal((await mail.status(box.id)).uidNext, committed, 'STATUS after the rollback');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a group commit job rolled back to its savepoint after changing the row: the next job and STATUS read the committed row', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rows-rv-'));
  try {
    const store = await SqliteStore.open({ directory: dir });
    const ctx = ctxOf(store);
    const mail = await store.open('alice');
    const box = await mail.create('Box');
    const id = Number(box.id);
    const userId = (ctx.db.prepare('SELECT id FROM users WHERE name = ?').get('alice') as { id: number }).id;
    const scope: UserScope = { ctx, userId, user: 'alice', origin: undefined };
    await mail.status(box.id);
    assert.ok(ctx.mailboxRows.get(id), 'kept before the batch');
    const committed = uidNextOf(ctx, id);
    // Two jobs queued in one turn: one batch, each in its own savepoint.
    const failing = ctx.group.run(() => {
      ctx.sql.get('UPDATE mailboxes SET uid_next = uid_next + 50 WHERE id = ?').run(id);
      throw new Error('job fails');
    });
    const reading = ctx.group.run(() => mailboxById(scope, box.id).uid_next);
    await assert.rejects(failing, /job fails/);
    assert.equal(await reading, committed, 'the second job read the row as rolled back');
    assert.equal((await mail.status(box.id)).uidNext, committed);
    assert.equal((await mail.status(box.id)).uidNext, committed, 'and from the kept row');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a second store on the same folder in one process is refused while the first is open', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rows-rv-'));
  try {
    const store = await SqliteStore.open({ directory: dir });
    const mail = await store.open('alice');
    await mail.status((await mail.create('Box')).id);
    await assert.rejects(SqliteStore.open({ directory: dir }), (err: unknown) => (err as { kind?: string }).kind === 'inuse');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
