/**
 * The kept mailbox rows of SqliteStore (mailbox-rows.ts): STATUS answered without any statement
 * while a mailbox is unchanged must still equal a fresh count of the database after every write —
 * another handle's APPEND, STORE and EXPUNGE, a RENAME, raw SQL no code path reports (the TEMP
 * triggers see it) — a rolled-back change must not stay, another user's id stays unknown, and the
 * bound (mailboxRowCacheEntries) holds.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { StoreContext } from '../../src/store/sqlite/context.js';
import type { UserMailbox } from '../../src/store/types.js';
import { StoreError } from '../../src/store/errors.js';

const ctxOf = (store: SqliteStore): StoreContext => (store as unknown as { ctx: StoreContext }).ctx;

/** STATUS as the database has it now, bypassing every kept row and sum. */
function truth(ctx: StoreContext, id: string): { messages: number; unseen: number; uidNext: number; highestModseq: number; size: number } {
  const box = ctx.db.prepare('SELECT uid_next, highest_modseq FROM mailboxes WHERE id = ?').get(Number(id)) as { uid_next: number; highest_modseq: number };
  const sums = ctx.db
    .prepare(`SELECT count(*) AS messages, coalesce(sum(size), 0) AS size, coalesce(sum(instr(' ' || flags || ' ', ' \\Seen ') = 0), 0) AS unseen FROM messages WHERE mailbox_id = ?`)
    .get(Number(id)) as { messages: number; size: number; unseen: number };
  return { ...sums, uidNext: box.uid_next, highestModseq: box.highest_modseq };
}

async function same(ctx: StoreContext, mail: UserMailbox, id: string, step: string): Promise<void> {
  const want = truth(ctx, id);
  // Twice: the first may read and keep the row, the second is answered from it.
  for (const pass of ['first', 'kept']) {
    const { messages, unseen, uidNext, highestModseq, size } = await mail.status(id);
    assert.deepEqual({ messages, unseen, uidNext, highestModseq, size }, want, `${step}: ${pass} STATUS`);
  }
}

const message = (n: number): { content: Buffer } => ({ content: Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`) });

test('STATUS from kept mailbox rows equals the database after every write, whoever makes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rows-'));
  try {
    const store = await SqliteStore.open({ directory: dir });
    const ctx = ctxOf(store);
    assert.equal(ctx.mailboxRows.enabled, true);
    const mail = await store.open('alice');
    // Another session of the same user: its writes are not made through `mail`.
    const other = await store.open('alice');
    const archive = await mail.create('Archive');
    await same(ctx, mail, archive.id, 'empty');
    const id = Number(archive.id);
    assert.ok(ctx.mailboxRows.get(id), 'a STATUS keeps the row');

    // A STATUS of the unchanged mailbox runs no statement: its row and sums are kept.
    let prepared = 0;
    const get = ctx.sql.get.bind(ctx.sql);
    (ctx.sql as { get: typeof get }).get = (sql: string) => {
      prepared++;
      return get(sql);
    };
    await mail.status(archive.id);
    assert.equal(prepared, 0, 'no statement for a STATUS of an unchanged mailbox');
    (ctx.sql as { get: typeof get }).get = get;

    for (let i = 0; i < 3; i++) await other.append(archive.id, message(i));
    await same(ctx, mail, archive.id, "another session's APPENDs");
    await other.updateFlags(archive.id, [1, 2], 'add', ['\\Seen']);
    await same(ctx, mail, archive.id, "another session's STORE +FLAGS \\Seen");
    await other.updateFlags(archive.id, [2], 'remove', ['\\Seen']);
    await same(ctx, mail, archive.id, "another session's STORE -FLAGS \\Seen");
    await other.updateFlags(archive.id, [3], 'add', ['\\Deleted']);
    await other.expunge(archive.id);
    await same(ctx, mail, archive.id, "another session's EXPUNGE");

    // Raw writes no code path reports: the triggers drop the kept row.
    const before = ctx.mailboxRows.invalidations;
    ctx.db.prepare('UPDATE mailboxes SET uid_next = uid_next + 5 WHERE id = ?').run(id);
    await same(ctx, mail, archive.id, 'raw uid_next update');
    assert.equal(ctx.mailboxRows.invalidations, before + 1, 'the raw update dropped the kept row');

    // RENAME changes the row's name; the id still answers, under the new name.
    await mail.rename('Archive', 'Old');
    await same(ctx, mail, archive.id, 'after RENAME');
    assert.equal((await mail.get('Old')).id, archive.id);

    // A change rolled back: the row read inside the transaction is not kept, the one after is true.
    const kept = truth(ctx, archive.id);
    assert.throws(() =>
      ctx.db.transaction(() => {
        ctx.db.prepare('UPDATE mailboxes SET uid_next = uid_next + 100 WHERE id = ?').run(id);
        assert.equal(ctx.mailboxRows.get(id), undefined, 'the update dropped the kept row');
        throw new Error('roll back');
      })(),
    );
    await same(ctx, mail, archive.id, 'after a rollback');
    assert.equal((await mail.status(archive.id)).uidNext, kept.uidNext);

    // Another user's id is not found through a row this user's reads kept.
    const bob = await store.open('bob');
    await assert.rejects(bob.status(archive.id), (err: unknown) => err instanceof StoreError && err.kind === 'nonexistent');

    // Rows handed out are frozen: a caller cannot change what the next read says.
    const row = ctx.mailboxRows.get(id)!;
    assert.throws(() => {
      (row as { uid_next: number }).uid_next = 1;
    }, TypeError);

    // DELETE: the id is gone at once.
    await mail.delete('Old');
    await assert.rejects(mail.status(archive.id), (err: unknown) => err instanceof StoreError && err.kind === 'nonexistent');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mailboxRowCacheEntries bounds the kept rows (the least recently used go); 0 keeps none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-rows-'));
  try {
    const store = await SqliteStore.open({ directory: dir, mailboxRowCacheEntries: 4 });
    const ctx = ctxOf(store);
    const mail = await store.open('u1');
    const ids: string[] = [];
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F']) {
      const box = await mail.create(name);
      ids.push(box.id);
      await mail.status(box.id);
      assert.ok(ctx.mailboxRows.size <= 4, `at most 4 rows kept (${ctx.mailboxRows.size} after ${name})`);
    }
    assert.equal(ctx.mailboxRows.get(Number(ids[0])), undefined, 'the least recently used row went');
    assert.ok(ctx.mailboxRows.get(Number(ids[5])), 'the last one read is kept');
    // A row still read stays while others come and go.
    for (const name of ['G', 'H', 'I', 'J']) {
      await mail.status(ids[5]!);
      await mail.status((await mail.create(name)).id);
    }
    assert.ok(ctx.mailboxRows.get(Number(ids[5])), 'a row read every turn stays');
    await store.close();

    const none = await SqliteStore.open({ directory: dir, mailboxRowCacheEntries: 0 });
    assert.equal(ctxOf(none).mailboxRows.enabled, false);
    const u1 = await none.open('u1');
    assert.equal((await u1.status(ids[0]!)).messages, 0);
    assert.equal(ctxOf(none).mailboxRows.get(Number(ids[0])), undefined, 'nothing kept');
    await none.close();
    await assert.rejects(SqliteStore.open({ directory: dir, mailboxRowCacheEntries: -1 }), /mailboxRowCacheEntries/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
