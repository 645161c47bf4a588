/** Users are isolated by construction: a handle reaches only its own user's mail. */
import assert from 'node:assert/strict';
import { collect, recordChanges, rejectsWith, type Register } from './harness.js';
import { simpleMessage } from './fixtures.js';

export function isolationTests(test: Register): void {
  test.group('user isolation', () => {
    test('user b cannot see, name or guess user a mailboxes and messages', async ({ store, open, name }) => {
      const a = await open('alice');
      const b = await open('bob');
      const secret = await a.create('Secret');
      const aInbox = await a.get('INBOX');
      const { uid } = await a.append(secret.id, { content: simpleMessage({ body: 'for alice only' }) });
      const bInbox = await b.get('INBOX');
      assert.notEqual(bInbox.id, aInbox.id);
      assert.deepEqual((await b.list()).map((m) => m.name), ['INBOX']);
      await rejectsWith(b.get('Secret'), 'nonexistent');
      for (const trick of ['~alice', name('~alice', 'Secret'), name('..', 'alice', 'Secret'), '/alice/Secret']) {
        await rejectsWith(b.get(trick), 'cannot');
      }
      for (const id of [secret.id, aInbox.id]) {
        await rejectsWith(b.status(id), 'nonexistent');
        await rejectsWith(b.snapshot(id), 'nonexistent');
        await rejectsWith(b.records(id, [uid]), 'nonexistent');
        await rejectsWith(b.read(id, uid), 'nonexistent');
        await rejectsWith(collect(b.stream(id, uid)), 'nonexistent');
        await rejectsWith(b.structure(id, uid), 'nonexistent');
        await rejectsWith(b.search(id, { type: 'all' }), 'nonexistent');
        await rejectsWith(b.append(id, { content: simpleMessage() }), 'nonexistent');
        await rejectsWith(b.updateFlags(id, [uid], 'add', ['\\Deleted']), 'nonexistent');
        await rejectsWith(b.expunge(id), 'nonexistent');
        await rejectsWith(b.claimRecent(id), 'nonexistent');
        await rejectsWith(b.copy(id, [uid], bInbox.id), 'nonexistent');
        await rejectsWith(b.move(id, [uid], bInbox.id), 'nonexistent');
      }
      await b.append(bInbox.id, { content: simpleMessage() });
      await rejectsWith(b.copy(bInbox.id, [1], secret.id), 'nonexistent');
      assert.equal((await a.status(secret.id)).messages, 1);
      assert.deepEqual((await a.read(secret.id, uid)).toString().includes('for alice only'), true);
    });

    test('same mailbox names for two users are different mailboxes', async ({ open }) => {
      const a = await open('alice');
      const b = await open('bob');
      const ax = await a.create('Projects');
      const bx = await b.create('Projects');
      assert.notEqual(ax.id, bx.id);
      await a.append(ax.id, { content: simpleMessage() });
      assert.equal((await b.status(bx.id)).messages, 0);
      await b.delete('Projects');
      assert.equal((await a.get('Projects')).id, ax.id);
    });

    test('watchers hear only their own user', async ({ store, open }) => {
      const a = await open('alice', 'a');
      const bobFeed = recordChanges(store, 'bob');
      const aliceFeed = recordChanges(store, 'alice');
      await a.append((await a.get('INBOX')).id, { content: simpleMessage() });
      await a.create('more');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(bobFeed.changes.length, 0);
      assert.equal(aliceFeed.changes.length, 2);
    });
  });
}
