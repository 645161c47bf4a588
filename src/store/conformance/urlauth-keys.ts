/**
 * RFC 4467 URLAUTH mailbox access keys (optional: a store offers urlauthKey() and
 * resetUrlauthKeys() together, or neither): one random key per mailbox of its owner, created on
 * first use, kept across handles and RENAME, replaced by a reset, gone with the mailbox.
 */
import assert from 'node:assert/strict';
import { eventually, recordChanges, rejectsWith, type Register, type TestEnv } from './harness.js';
import type { UserMailbox } from '../types.js';

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
      } finally {
        feed.stop();
      }
    });
  });
}
