/**
 * RFC 4467 URLAUTH mailbox access keys (optional: a store offers urlauthKey() and
 * resetUrlauthKeys() together, or neither): one random key per mailbox and holder (§2.2: "two
 * users sharing the same mailbox each have a different mailbox access key for that mailbox"),
 * created on first use, kept across handles and RENAME, replaced by a reset of that holder's key
 * only, gone with the mailbox.
 */
import assert from 'node:assert/strict';
import { eventually, recordChanges, rejectsWith, type Register, type TestEnv } from './harness.js';
import type { MailboxChange, UserMailbox } from '../types.js';

type KeyMail = UserMailbox & Required<Pick<UserMailbox, 'urlauthKey' | 'resetUrlauthKeys'>>;

async function keyStore(env: TestEnv, user = 'alice'): Promise<KeyMail | null> {
  const mail = await env.open(user);
  const has = [typeof mail.urlauthKey, typeof mail.resetUrlauthKeys];
  assert.equal(has[0], has[1], `urlauthKey() and resetUrlauthKeys() come together (got ${has.join(', ')})`);
  return has[0] === 'function' ? (mail as KeyMail) : null;
}

export function urlauthKeyTests(test: Register): void {
  test.group('URLAUTH mailbox access keys (RFC 4467)', () => {
    test('a key is made on first use (at least 128 bits), the same for every handle, and survives RENAME', async (env) => {
      const a = await keyStore(env);
      if (!a) return;
      const box = await a.create(env.name('Keys'));
      assert.equal(await a.urlauthKey(box.id), null);
      const [k1, k2] = await Promise.all([a.urlauthKey(box.id, { create: true }), a.urlauthKey(box.id, { create: true })]);
      assert.ok(k1 && k1.length >= 16, 'a key of at least 16 bytes');
      assert.ok(k2 && k1.equals(k2), 'racing creators get the same key');
      const again = (await keyStore(env))!;
      assert.ok((await again.urlauthKey(box.id))!.equals(k1));
      await a.rename(env.name('Keys'), env.name('Keys2'));
      assert.ok((await a.urlauthKey(box.id))!.equals(k1), 'RENAME keeps the key');
      const other = await a.create(env.name('Other'));
      const k3 = await a.urlauthKey(other.id, { create: true });
      assert.ok(k3 && !k3.equals(k1), 'each mailbox has its own key');
    });

    test('a reset replaces one key or removes them all; DELETE removes the key; keys are per user', async (env) => {
      const a = await keyStore(env);
      if (!a) return;
      const one = await a.create(env.name('R1'));
      const two = await a.create(env.name('R2'));
      const k1 = (await a.urlauthKey(one.id, { create: true }))!;
      const k2 = (await a.urlauthKey(two.id, { create: true }))!;
      await a.resetUrlauthKeys(one.id);
      const k1b = (await a.urlauthKey(one.id))!;
      assert.ok(k1b && !k1b.equals(k1), 'a new key for the reset mailbox');
      assert.ok((await a.urlauthKey(two.id))!.equals(k2), 'the other mailbox keeps its key');
      await a.resetUrlauthKeys();
      assert.equal(await a.urlauthKey(one.id), null);
      assert.equal(await a.urlauthKey(two.id), null);
      await a.urlauthKey(two.id, { create: true });
      await a.delete(env.name('R2'));
      const back = await a.create(env.name('R2'));
      assert.equal(await a.urlauthKey(back.id), null, 'a re-created name starts without a key');
      const b = await keyStore(env, 'bob');
      await rejectsWith(b!.urlauthKey(one.id, { create: true }), 'nonexistent');
    });

    test("a reset is published on the owner's feed (kind 'urlauth'): with the mailbox, or without for all keys", async (env) => {
      const a = await keyStore(env);
      if (!a) return;
      const box = await a.create(env.name('Feed'));
      await a.urlauthKey(box.id, { create: true });
      const feed = recordChanges(env.store);
      try {
        await a.resetUrlauthKeys(box.id);
        await eventually(() => feed.changes.some((c) => c.kind === 'urlauth'), "a 'urlauth' change");
        await a.resetUrlauthKeys();
        await eventually(() => feed.changes.filter((c) => c.kind === 'urlauth').length === 2, "a second 'urlauth' change");
        const heard = feed.changes.filter((c) => c.kind === 'urlauth').map((c) => (c.kind === 'urlauth' ? c.mailboxId ?? null : null));
        assert.deepEqual(heard, [box.id, null]);
        const viewers = feed.changes.filter((c) => c.kind === 'urlauth').map((c) => (c.kind === 'urlauth' ? c.viewer : null));
        assert.deepEqual(viewers, ['alice', 'alice'], 'the change names whose key it was');
      } finally {
        feed.stop();
      }
    });

    test("keys are per holder: a reader's key of the owner's mailbox is the reader's own, reset alone", async (env) => {
      const a = await keyStore(env);
      if (!a) return;
      const box = await a.create(env.name('Team'));
      const own = (await a.urlauthKey(box.id, { create: true }))!;
      assert.equal(await a.urlauthKey(box.id, { holder: 'bob' }), null, 'no key for bob until one is made');
      const [b1, b2] = await Promise.all([a.urlauthKey(box.id, { create: true, holder: 'bob' }), a.urlauthKey(box.id, { create: true, holder: 'bob' })]);
      assert.ok(b1 && b2 && b1.equals(b2) && b1.length >= 16, 'racing creators of bob\'s key get the same key');
      assert.ok(!b1.equals(own), "bob's key is not alice's");
      const carol = (await a.urlauthKey(box.id, { create: true, holder: 'carol' }))!;
      assert.ok(!carol.equals(own) && !carol.equals(b1), "carol's key is carol's");
      assert.ok((await a.urlauthKey(box.id, { holder: 'alice' }))!.equals(own), 'holder alice is the owner');

      // bob's reset replaces bob's key only.
      await a.resetUrlauthKeys(box.id, { holder: 'bob' });
      const b3 = (await a.urlauthKey(box.id, { holder: 'bob' }))!;
      assert.ok(b3 && !b3.equals(b1), 'a new key for bob');
      assert.ok((await a.urlauthKey(box.id))!.equals(own), "alice's key stays");
      assert.ok((await a.urlauthKey(box.id, { holder: 'carol' }))!.equals(carol), "carol's key stays");
      // The owner's reset replaces the owner's key only.
      await a.resetUrlauthKeys(box.id);
      assert.ok(!(await a.urlauthKey(box.id))!.equals(own));
      assert.ok((await a.urlauthKey(box.id, { holder: 'bob' }))!.equals(b3), "bob's key stays");
      // RENAME keeps every holder's key.
      await a.rename(env.name('Team'), env.name('Team2'));
      assert.ok((await a.urlauthKey(box.id, { holder: 'carol' }))!.equals(carol));

      // bob's RESETKEY without a mailbox removes every key bob holds — in alice's mailbox too.
      const b = (await keyStore(env, 'bob'))!;
      const bobs = await b.create(env.name('BobBox'));
      await b.urlauthKey(bobs.id, { create: true });
      const onAlice = recordChanges(env.store, 'alice');
      const onBob = recordChanges(env.store, 'bob');
      try {
        await b.resetUrlauthKeys();
        assert.equal(await b.urlauthKey(bobs.id), null);
        assert.equal(await a.urlauthKey(box.id, { holder: 'bob' }), null, "bob's key of alice's mailbox is gone");
        assert.ok((await a.urlauthKey(box.id, { holder: 'carol' }))!.equals(carol), "carol's stays");
        assert.ok(await a.urlauthKey(box.id), "alice's stays");
        // Told on bob's feed and on alice's (whose mailbox held one of bob's keys), naming bob.
        const told = (feed: { changes: MailboxChange[] }): Array<string | undefined> =>
          feed.changes.flatMap((c) => (c.kind === 'urlauth' && c.mailboxId === undefined ? [c.viewer] : []));
        await eventually(() => told(onAlice).length >= 1 && told(onBob).length >= 1, "the 'urlauth' changes on both feeds");
        assert.deepEqual([told(onAlice), told(onBob)], [['bob'], ['bob']]);
      } finally {
        onAlice.stop();
        onBob.stop();
      }
      // DELETE takes every holder's key with the mailbox.
      await a.delete(env.name('Team2'));
      const back = await a.create(env.name('Team2'));
      assert.equal(await a.urlauthKey(back.id, { holder: 'carol' }), null);
    });

    test("a reset of one holder's key is published on the owner's feed naming that holder", async (env) => {
      const a = await keyStore(env);
      if (!a) return;
      const box = await a.create(env.name('Told'));
      const feed = recordChanges(env.store);
      try {
        await a.resetUrlauthKeys(box.id, { holder: 'bob' });
        await eventually(() => feed.changes.some((c) => c.kind === 'urlauth'), "a 'urlauth' change");
        const heard = feed.changes.flatMap((c) => (c.kind === 'urlauth' ? [[c.mailboxId, c.viewer]] : []));
        assert.deepEqual(heard, [[box.id, 'bob']]);
      } finally {
        feed.stop();
      }
    });
  });
}
