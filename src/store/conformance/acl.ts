/**
 * RFC 4314 access control lists (optional: a store offers getAcl(), setAcl() and
 * MailStore.sharedMailboxes() together, or none). The store keeps the entries; who may change them
 * and what they allow is decided above it (src/store/acl.ts, src/store/sharing/).
 */
import assert from 'node:assert/strict';
import { rejectsWith, type Register, type TestEnv } from './harness.js';
import type { MailStore, UserMailbox } from '../types.js';

type AclMail = UserMailbox & Required<Pick<UserMailbox, 'getAcl' | 'setAcl'>>;
type AclStore = MailStore & Required<Pick<MailStore, 'sharedMailboxes'>>;

async function aclStore(env: TestEnv): Promise<{ store: AclStore; alice: AclMail; bob: AclMail } | null> {
  const alice = await env.open('alice');
  const has = [typeof alice.getAcl, typeof alice.setAcl, typeof env.store.sharedMailboxes];
  assert.ok(has.every((t) => t === has[0]), `getAcl(), setAcl() and sharedMailboxes() come together (got ${has.join(', ')})`);
  if (has[0] !== 'function') return null;
  return { store: env.store as AclStore, alice: alice as AclMail, bob: (await env.open('bob')) as AclMail };
}

export function aclTests(test: Register): void {
  test.group('access control lists (RFC 4314)', () => {
    test('entries are set, replaced, normalised and removed, sorted by identifier', async (env) => {
      const s = await aclStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      assert.deepEqual(await s.alice.getAcl(box.id), []);
      await s.alice.setAcl(box.id, 'bob', 'rl');
      await s.alice.setAcl(box.id, 'anyone', 'l');
      await s.alice.setAcl(box.id, '-carol', 'w');
      assert.deepEqual(await s.alice.getAcl(box.id), [
        { identifier: '-carol', rights: 'w' },
        { identifier: 'anyone', rights: 'l' },
        { identifier: 'bob', rights: 'lr' },
      ]);
      await s.alice.setAcl(box.id, 'bob', 'lrswcd');
      assert.deepEqual((await s.alice.getAcl(box.id)).find((e) => e.identifier === 'bob'), { identifier: 'bob', rights: 'lrswkxte' });
      await s.alice.setAcl(box.id, 'anyone', null);
      await s.alice.setAcl(box.id, '-carol', '');
      assert.deepEqual(await s.alice.getAcl(box.id), [{ identifier: 'bob', rights: 'lrswkxte' }]);
    });

    test('the list follows RENAME and goes with DELETE; a re-created name starts with none', async (env) => {
      const s = await aclStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Old'));
      await s.alice.setAcl(box.id, 'bob', 'lr');
      await s.alice.rename(env.name('Old'), env.name('New'));
      const renamed = await s.alice.get(env.name('New'));
      assert.deepEqual(await s.alice.getAcl(renamed.id), [{ identifier: 'bob', rights: 'lr' }]);
      await s.alice.delete(env.name('New'));
      await rejectsWith(s.alice.getAcl(renamed.id), 'nonexistent');
      const again = await s.alice.create(env.name('New'));
      assert.deepEqual(await s.alice.getAcl(again.id), []);
      assert.deepEqual(await s.store.sharedMailboxes('bob'), []);
      // A parent left as \Noselect by DELETE keeps no list either.
      const parent = await s.alice.create(env.name('P'));
      await s.alice.create(env.name('P', 'child'));
      await s.alice.setAcl(parent.id, 'bob', 'lr');
      await s.alice.delete(env.name('P'));
      assert.deepEqual(await s.alice.getAcl((await s.alice.get(env.name('P'))).id), []);
    });

    test('sharedMailboxes lists other users\' mailboxes naming the user, anyone or authenticated', async (env) => {
      const s = await aclStore(env);
      if (!s) return;
      const team = await s.alice.create(env.name('Team'));
      const pub = await s.alice.create(env.name('Public'));
      await s.alice.create(env.name('Private'));
      await s.alice.setAcl(team.id, 'bob', 'lrs');
      await s.alice.setAcl(pub.id, 'anyone', 'lr');
      await s.alice.setAcl(pub.id, '-bob', 'r');
      const bobInbox = await s.bob.get('INBOX');
      await s.bob.setAcl(bobInbox.id, 'alice', 'l');
      const forBob = (await s.store.sharedMailboxes('bob')).sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(
        forBob.map((r) => ({ owner: r.owner, name: r.name, id: r.mailboxId, acl: r.acl })),
        [
          { owner: 'alice', name: env.name('Public'), id: pub.id, acl: [{ identifier: '-bob', rights: 'r' }, { identifier: 'anyone', rights: 'lr' }] },
          { owner: 'alice', name: env.name('Team'), id: team.id, acl: [{ identifier: 'bob', rights: 'lrs' }] },
        ],
      );
      // Only other users' mailboxes: bob's own INBOX is not shared "with" bob.
      const forAlice = await s.store.sharedMailboxes('alice');
      assert.deepEqual(forAlice.map((r) => [r.owner, r.name]), [['bob', 'INBOX']]);
      // carol is named by "anyone" only.
      assert.deepEqual((await s.store.sharedMailboxes('carol')).map((r) => r.name), [env.name('Public')]);
    });

    test('a handle reaches only its own user\'s lists', async (env) => {
      const s = await aclStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Mine'));
      await rejectsWith(s.bob.getAcl(box.id), 'nonexistent');
      await rejectsWith(s.bob.setAcl(box.id, 'bob', 'lrswipkxtea'), 'nonexistent');
      assert.deepEqual(await s.alice.getAcl(box.id), []);
    });

    test('malformed identifiers and groups are refused with cannot', async (env) => {
      const s = await aclStore(env);
      if (!s) return;
      const inbox = await s.alice.get('INBOX');
      await rejectsWith(s.alice.setAcl(inbox.id, 'two words', 'l'), 'cannot');
      await rejectsWith(s.alice.setAcl(inbox.id, '$team', 'l'), 'cannot');
      assert.deepEqual(await s.alice.getAcl(inbox.id), []);
    });
  });
}
