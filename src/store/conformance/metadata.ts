/**
 * RFC 5464 annotations (optional: a store offers getMetadata() and setMetadata() together, and
 * declares MailStore.metadata). /shared entries are kept once per target, /private ones per viewer;
 * a write applies all or nothing; annotations follow RENAME, go with DELETE, and a renamed INBOX
 * keeps its own while the new mailbox gets a copy (§4.1). Entry names arrive validated (metadata.ts).
 */
import assert from 'node:assert/strict';
import { eventually, recordChanges, rejectsWith, type Register, type TestEnv } from './harness.js';
import type { MetadataEntry, UserMailbox } from '../types.js';

type MetaMail = UserMailbox & Required<Pick<UserMailbox, 'getMetadata' | 'setMetadata'>>;

async function metaStore(env: TestEnv): Promise<{ alice: MetaMail; bob: MetaMail } | null> {
  const alice = await env.open('alice');
  const has = [typeof alice.getMetadata, typeof alice.setMetadata];
  assert.equal(has[0], has[1], `getMetadata() and setMetadata() come together (got ${has.join(', ')})`);
  assert.equal(env.store.metadata === true, has[0] === 'function', 'MailStore.metadata is declared exactly when the handles keep annotations');
  if (has[0] !== 'function') return null;
  return { alice: alice as MetaMail, bob: (await env.open('bob')) as MetaMail };
}

const text = (entries: MetadataEntry[]): Array<[string, string]> => entries.map((e) => [e.entry, e.value.toString('latin1')]);
const b = (s: string): Buffer => Buffer.from(s, 'latin1');

export function metadataTests(test: Register): void {
  test.group('annotations (RFC 5464)', () => {
    test('mailbox entries are set, replaced, removed with null and listed sorted; values are bytes', async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Notes'));
      assert.deepEqual(await s.alice.getMetadata(box.id), []);
      const binary = Buffer.from([0, 255, 13, 10, 1, 128]);
      await s.alice.setMetadata(box.id, [
        { entry: '/shared/comment', value: b('Shared') },
        { entry: '/private/comment', value: b('Mine') },
        { entry: '/private/vendor/x/bin', value: binary },
        { entry: '/shared/empty', value: Buffer.alloc(0) },
      ]);
      const got = await s.alice.getMetadata(box.id);
      assert.deepEqual(got.map((e) => e.entry), ['/private/comment', '/private/vendor/x/bin', '/shared/comment', '/shared/empty']);
      assert.ok(got[1]!.value.equals(binary), 'binary values come back byte for byte');
      assert.equal(got[3]!.value.length, 0, 'an empty value is a value, not a removal');
      await s.alice.setMetadata(box.id, [
        { entry: '/shared/comment', value: b('Changed') },
        { entry: '/private/comment', value: null },
        { entry: '/private/never-set', value: null },
      ]);
      assert.deepEqual(text(await s.alice.getMetadata(box.id)), [
        ['/private/vendor/x/bin', binary.toString('latin1')],
        ['/shared/comment', 'Changed'],
        ['/shared/empty', ''],
      ]);
    });

    test('/private entries are per viewer, /shared ones are one value for all', async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      await s.alice.setMetadata(box.id, [{ entry: '/private/comment', value: b('alice') }, { entry: '/shared/comment', value: b('everyone') }]);
      await s.alice.setMetadata(box.id, [{ entry: '/private/comment', value: b('bob') }], { viewer: s.bob.user });
      assert.deepEqual(text(await s.alice.getMetadata(box.id)), [['/private/comment', 'alice'], ['/shared/comment', 'everyone']]);
      assert.deepEqual(text(await s.alice.getMetadata(box.id, { viewer: s.bob.user })), [['/private/comment', 'bob'], ['/shared/comment', 'everyone']]);
      assert.deepEqual(text(await s.alice.getMetadata(box.id, { viewer: 'carol' })), [['/shared/comment', 'everyone']]);
    });

    test("server entries belong to the user's server scope, apart from every mailbox", async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      await s.alice.setMetadata(null, [{ entry: '/shared/vendor/acme/motd', value: b('hi') }, { entry: '/private/comment', value: b('me') }]);
      assert.deepEqual(text(await s.alice.getMetadata(null)), [['/private/comment', 'me'], ['/shared/vendor/acme/motd', 'hi']]);
      assert.deepEqual(await s.alice.getMetadata((await s.alice.get('INBOX')).id), []);
      assert.deepEqual(await s.bob.getMetadata(null), [], "another user's server scope is separate");
    });

    test('maxEntries counts the shared and the viewer\'s private entries; a refused write changes nothing', async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Full'));
      await s.alice.setMetadata(box.id, [{ entry: '/shared/a', value: b('1') }, { entry: '/private/b', value: b('2') }], { maxEntries: 3 });
      await rejectsWith(
        s.alice.setMetadata(box.id, [{ entry: '/shared/a', value: b('changed') }, { entry: '/shared/c', value: b('3') }, { entry: '/shared/d', value: b('4') }], { maxEntries: 3 }),
        'limit',
      );
      assert.deepEqual(text(await s.alice.getMetadata(box.id)), [['/private/b', '2'], ['/shared/a', '1']], 'nothing of the refused write is kept');
      // Replacing and removing stay possible at the limit; one removed makes room for one new.
      await s.alice.setMetadata(box.id, [{ entry: '/shared/c', value: b('3') }], { maxEntries: 3 });
      await s.alice.setMetadata(box.id, [{ entry: '/shared/a', value: b('again') }], { maxEntries: 3 });
      await s.alice.setMetadata(box.id, [{ entry: '/shared/a', value: null }, { entry: '/shared/d', value: b('4') }], { maxEntries: 3 });
      assert.deepEqual(text(await s.alice.getMetadata(box.id)).map(([e]) => e), ['/private/b', '/shared/c', '/shared/d']);
      // Another viewer's private entries do not count against alice.
      await s.alice.setMetadata(box.id, [{ entry: '/private/x', value: b('bob') }], { viewer: s.bob.user, maxEntries: 3 });
    });

    test('annotations follow RENAME, go with DELETE (also as \\Noselect), and a renamed INBOX keeps a copy', async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Old'));
      await s.alice.setMetadata(box.id, [{ entry: '/shared/comment', value: b('kept') }]);
      await s.alice.rename(env.name('Old'), env.name('New'));
      const renamed = await s.alice.get(env.name('New'));
      assert.deepEqual(text(await s.alice.getMetadata(renamed.id)), [['/shared/comment', 'kept']]);
      await s.alice.delete(env.name('New'));
      await rejectsWith(s.alice.getMetadata(renamed.id), 'nonexistent');
      const again = await s.alice.create(env.name('New'));
      assert.deepEqual(await s.alice.getMetadata(again.id), [], 'a re-created name inherits nothing');
      const parent = await s.alice.create(env.name('P'));
      await s.alice.create(env.name('P', 'child'));
      await s.alice.setMetadata(parent.id, [{ entry: '/private/comment', value: b('gone') }]);
      await s.alice.delete(env.name('P'));
      assert.deepEqual(await s.alice.getMetadata((await s.alice.get(env.name('P'))).id), []);
      const inbox = await s.alice.get('INBOX');
      await s.alice.setMetadata(inbox.id, [{ entry: '/private/comment', value: b('inbox') }]);
      await s.alice.rename('INBOX', env.name('Moved'));
      assert.deepEqual(text(await s.alice.getMetadata(inbox.id)), [['/private/comment', 'inbox']]);
      assert.deepEqual(text(await s.alice.getMetadata((await s.alice.get(env.name('Moved'))).id)), [['/private/comment', 'inbox']]);
    });

    test("a write is published on the owner's feed: shared names for all, private ones with the viewer", async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Feed'));
      const feed = recordChanges(env.store, 'alice');
      try {
        await s.alice.setMetadata(box.id, [{ entry: '/shared/comment', value: b('x') }, { entry: '/private/comment', value: b('y') }], { viewer: s.bob.user });
        await s.alice.setMetadata(null, [{ entry: '/private/comment', value: null }]);
        await eventually(() => feed.changes.filter((c) => c.kind === 'metadata').length >= 3, 'three metadata changes');
        const changes = feed.changes.filter((c) => c.kind === 'metadata').map((c) => (c.kind === 'metadata' ? { m: c.mailboxId, e: c.entries, v: c.viewer } : null));
        assert.deepEqual(changes, [
          { m: box.id, e: ['/shared/comment'], v: undefined },
          { m: box.id, e: ['/private/comment'], v: s.bob.user },
          { m: undefined, e: ['/private/comment'], v: 'alice' },
        ]);
      } finally {
        feed.stop();
      }
    });

    test('a mailbox id of another user is nonexistent', async (env) => {
      const s = await metaStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Secret'));
      await rejectsWith(s.bob.getMetadata(box.id), 'nonexistent');
      await rejectsWith(s.bob.setMetadata(box.id, [{ entry: '/shared/comment', value: b('x') }]), 'nonexistent');
    });
  });
}
