/**
 * The kept LIST rows of SqliteStore (mailbox-lists.ts) must always equal what a fresh query of the
 * database says — after CREATE, RENAME with children, SUBSCRIBE, DELETE, and after a write no code
 * path tells the cache about (the TEMP triggers see it) — and a rolled-back change must not stay.
 * get(name), answered from the kept list when there is one, must equal the database's answer too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { StoreContext } from '../../src/store/sqlite/context.js';
import type { MailboxInfo, UserMailbox } from '../../src/store/types.js';
import { StoreError } from '../../src/store/errors.js';

const ctxOf = (store: SqliteStore): StoreContext => (store as unknown as { ctx: StoreContext }).ctx;

/** The user's tree as the database has it now, bypassing the kept lists. */
function truth(ctx: StoreContext, user: string): Array<Omit<MailboxInfo, 'id'>> {
  const rows = ctx.db
    .prepare(
      `SELECT m.name, m.noselect, m.special_use, EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = m.user_id AND s.name = m.name) AS sub
         FROM mailboxes m JOIN users u ON u.id = m.user_id WHERE u.name = ? AND substr(m.name, 1, 1) <> char(0) ORDER BY m.name`,
    )
    .all(user) as Array<{ name: string; noselect: number; special_use: string | null; sub: number }>;
  return rows.map((r) => ({ name: r.name, noselect: r.noselect === 1, subscribed: r.sub === 1, ...(r.special_use ? { specialUse: r.special_use as MailboxInfo['specialUse'] } : {}) }));
}

const shape = (list: MailboxInfo[]): Array<Omit<MailboxInfo, 'id'>> =>
  list.map(({ id: _id, ...rest }) => rest).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));

async function same(ctx: StoreContext, mail: UserMailbox, user: string, step: string): Promise<void> {
  const want = truth(ctx, user);
  // Twice: the first may fill the cache, the second is answered from it.
  assert.deepEqual(shape(await mail.list()), want, `${step}: first list`);
  assert.deepEqual(shape(await mail.list()), want, `${step}: kept list`);
  for (const box of want) {
    const { id: _id, ...got } = await mail.get(box.name);
    assert.deepEqual(got, box, `${step}: get(${box.name})`);
  }
}

test('kept LIST rows follow every change to the tree, whoever makes it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-lists-'));
  try {
    const store = await SqliteStore.open({ directory: dir });
    const ctx = ctxOf(store);
    assert.equal(ctx.mailboxLists.enabled, true);
    const mail = await store.open('alice');
    const bob = await store.open('bob');
    await same(ctx, mail, 'alice', 'start');
    const userId = (ctx.db.prepare("SELECT id FROM users WHERE name = 'alice'").get() as { id: number }).id;
    assert.ok(ctx.mailboxLists.get(userId), 'a LIST keeps the rows');

    await mail.create('Work/Projects/2026');
    await same(ctx, mail, 'alice', 'create nested');
    await mail.subscribe('Work/Projects', true);
    await same(ctx, mail, 'alice', 'subscribe');
    await mail.rename('Work', 'Job');
    await same(ctx, mail, 'alice', 'rename with children');
    await mail.create('Sent', { specialUse: '\\Sent' });
    await same(ctx, mail, 'alice', 'create special-use');
    await mail.delete('Job/Projects/2026');
    await same(ctx, mail, 'alice', 'delete');
    await mail.delete('Job');
    await same(ctx, mail, 'alice', 'delete a parent (\\Noselect)');
    await mail.subscribe('Job/Projects', false);
    await same(ctx, mail, 'alice', 'unsubscribe');

    // Another user's change drops only that user's list.
    await same(ctx, bob, 'bob', 'bob start');
    await bob.create('Bobs');
    assert.ok(ctx.mailboxLists.get(userId), "bob's CREATE leaves alice's list kept");
    await same(ctx, bob, 'bob', 'bob create');

    // Writes that no code path reports: the triggers see them.
    const before = ctx.mailboxLists.invalidations;
    ctx.db.prepare("UPDATE mailboxes SET special_use = '\\Archive' WHERE user_id = ? AND name = 'Sent'").run(userId);
    await same(ctx, mail, 'alice', 'raw special_use update');
    ctx.db.prepare("INSERT INTO subscriptions (user_id, name) VALUES (?, 'Sent')").run(userId);
    await same(ctx, mail, 'alice', 'raw subscription insert');
    ctx.db
      .prepare("INSERT INTO mailboxes (user_id, name, uid_validity) VALUES (?, 'Raw', 7) ON CONFLICT (user_id, name) DO UPDATE SET noselect = 0")
      .run(userId);
    await same(ctx, mail, 'alice', 'raw insert');
    ctx.db.prepare("INSERT INTO mailboxes (user_id, name, uid_validity) VALUES (?, 'Raw', 7) ON CONFLICT (user_id, name) DO UPDATE SET noselect = 1").run(userId);
    await same(ctx, mail, 'alice', 'raw upsert');
    assert.equal(ctx.mailboxLists.invalidations, before + 4, 'each raw write dropped the kept list');

    // A message write moves the row's counters, not the list: the list stays kept.
    const inbox = await mail.get('INBOX');
    await mail.list();
    await mail.append(inbox.id, { content: Buffer.from('Subject: x\r\n\r\nbody\r\n') });
    const kept = ctx.mailboxLists.invalidations;
    await mail.list();
    assert.equal(ctx.mailboxLists.invalidations, kept, 'an APPEND leaves the list kept');
    assert.ok(ctx.mailboxLists.get(userId));

    // A change rolled back: the list read inside the transaction is not kept, the one after is true.
    assert.throws(() =>
      ctx.db.transaction(() => {
        ctx.db.prepare("INSERT INTO mailboxes (user_id, name, uid_validity) VALUES (?, 'Ghost', 9)").run(userId);
        assert.equal(ctx.mailboxLists.get(userId), undefined, 'the insert dropped the list');
        throw new Error('roll back');
      })(),
    );
    await same(ctx, mail, 'alice', 'after a rollback');
    await assert.rejects(mail.get('Ghost'), (err: unknown) => err instanceof StoreError && err.kind === 'nonexistent');

    // Entries handed out are frozen: a caller cannot change what the next LIST says.
    const [first] = await mail.list();
    assert.throws(() => {
      (first as { name: string }).name = 'changed';
    }, TypeError);
    await same(ctx, mail, 'alice', 'after a mutation attempt');
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mailboxListCacheEntries bounds the kept lists (least recently used dropped); 0 keeps none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-lists-'));
  try {
    // Each user has INBOX and one more: 4 entries hold two users' lists, not three.
    const store = await SqliteStore.open({ directory: dir, mailboxListCacheEntries: 4 });
    const ctx = ctxOf(store);
    const id = (name: string): number => (ctx.db.prepare('SELECT id FROM users WHERE name = ?').get(name) as { id: number }).id;
    for (const name of ['u1', 'u2', 'u3']) {
      const mail = await store.open(name);
      await mail.create('Box');
      await mail.list();
    }
    assert.equal(ctx.mailboxLists.get(id('u1')), undefined, 'the least recently used list went');
    assert.equal(ctx.mailboxLists.get(id('u2'))?.length, 2);
    assert.equal(ctx.mailboxLists.get(id('u3'))?.length, 2);
    await store.close();

    const none = await SqliteStore.open({ directory: dir, mailboxListCacheEntries: 0 });
    assert.equal(ctxOf(none).mailboxLists.enabled, false);
    const u1 = await none.open('u1');
    assert.deepEqual((await u1.list()).map((m) => m.name).sort(), ['Box', 'INBOX']);
    const u1Id = (ctxOf(none).db.prepare("SELECT id FROM users WHERE name = 'u1'").get() as { id: number }).id;
    assert.equal(ctxOf(none).mailboxLists.get(u1Id), undefined, 'nothing kept');
    await none.close();
    await assert.rejects(SqliteStore.open({ directory: dir, mailboxListCacheEntries: -1 }), /mailboxListCacheEntries/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
