/**
 * LIST's store reads in SQLite (src/store/sqlite/acl.ts, mailbox-tree.ts): sharedMailboxes skips
 * its join while no ACL row exists — and must see the first ACL written after that at once — and
 * list() reads the subscription flag in the same statement as the tree.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';

it('sharedMailboxes: no statement while nobody shares, and the first ACL is seen at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-list-shared-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open({ directory: dir });
  t.after(() => store.close());
  const alice = await store.open('alice');
  await store.open('bob');
  const shared = (await alice.create('Team')).id;

  const sql = (store as unknown as { ctx: { sql: { get(text: string): unknown } } }).ctx.sql;
  const get = sql.get.bind(sql);
  let joins = 0;
  sql.get = (text: string): unknown => {
    if (/FROM mailbox_acl a JOIN/.test(text)) joins++;
    return get(text);
  };
  assert.deepEqual(await store.sharedMailboxes!('bob'), []);
  assert.deepEqual(await store.sharedMailboxes!('bob'), []);
  assert.equal(joins, 0, 'no ACL row anywhere: the join is not run');

  await alice.setAcl!(shared, 'bob', 'lr');
  const refs = await store.sharedMailboxes!('bob');
  assert.deepEqual(
    refs.map((r) => [r.owner, r.name, r.acl.find((e) => e.identifier === 'bob')?.rights]),
    [['alice', 'Team', 'lr']],
  );
  assert.equal(joins, 1);

  // Removing every row again: "some" may stay remembered, the answer is still right.
  await alice.setAcl!(shared, 'bob', null);
  assert.deepEqual(await store.sharedMailboxes!('bob'), []);
  await alice.setAcl!(shared, 'anyone', 'l');
  assert.deepEqual((await store.sharedMailboxes!('bob')).map((r) => r.name), ['Team']);
});

it('list(): subscribed and special-use read with the tree, tombstones and other users left out', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-list-tree-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await SqliteStore.open({ directory: dir });
  t.after(() => store.close());
  const dora = await store.open('dora');
  const eve = await store.open('eve');
  await dora.create('Sent', { specialUse: '\\Sent' });
  await dora.create('a/b');
  await dora.subscribe('a/b', true);
  await dora.subscribe('Gone', true); // a subscription without a mailbox lists nothing
  await dora.create('Old');
  await dora.delete('Old');
  await eve.create('EveOnly');
  await eve.subscribe('Sent', true);
  const list = await dora.list();
  assert.deepEqual(
    list.map((b) => [b.name, b.subscribed, b.noselect, b.specialUse ?? null]),
    [
      ['INBOX', true, false, null],
      ['Sent', false, false, '\\Sent'],
      ['a', false, false, null],
      ['a/b', true, false, null],
    ],
  );
});
