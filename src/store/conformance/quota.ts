/**
 * RFC 9208 quotas (optional: a store offers all of quota(), getQuota() and setQuota(), or none).
 * Usage is the sum over every mailbox of the user and agrees with STATUS SIZE/MESSAGES; writes that
 * add messages are refused with 'overquota' as a whole, atomically, even when racing each other.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { rejectsWith, type Register, type TestEnv } from './harness.js';
import { bigMessage, simpleMessage } from './fixtures.js';
import type { MailStore, QuotaLimits, UserMailbox } from '../types.js';

type QuotaStore = MailStore & Required<Pick<MailStore, 'getQuota' | 'setQuota'>>;

/** The store when it supports quotas; asserts the three methods come together either way. */
async function quotaStore(env: TestEnv): Promise<{ store: QuotaStore; alice: UserMailbox } | null> {
  const alice = await env.open('alice');
  const has = [typeof alice.quota, typeof env.store.getQuota, typeof env.store.setQuota];
  assert.ok(has.every((t) => t === has[0]), `quota(), getQuota() and setQuota() come together (got ${has.join(', ')})`);
  return has[0] === 'function' ? { store: env.store as QuotaStore, alice } : null;
}

/** Sum of STATUS over every selectable mailbox: what the quota usage must agree with. */
async function statusTotals(mail: UserMailbox): Promise<{ storage: number; messages: number }> {
  let storage = 0;
  let messages = 0;
  for (const box of await mail.list()) {
    if (box.noselect) continue;
    const s = await mail.status(box.id);
    storage += s.size;
    messages += s.messages;
  }
  return { storage, messages };
}

async function setLimits(store: QuotaStore, limits: QuotaLimits): Promise<void> {
  await store.setQuota('alice', limits);
  assert.deepEqual((await store.getQuota('alice')).limits, limits);
}

export function quotaTests(test: Register): void {
  test.group('quota (RFC 9208)', () => {
    test('appendMany (optional, MULTIAPPEND) is refused as a whole when the sum passes a limit', async (env) => {
      const q = await quotaStore(env);
      if (!q || !q.alice.appendMany) return;
      const { store, alice } = q;
      const inbox = await alice.get('INBOX');
      const m = simpleMessage({ body: 'quota many' });
      await setLimits(store, { messages: 3 });
      await rejectsWith(alice.appendMany!(inbox.id, [{ content: m }, { content: m }, { content: m }, { content: m }]), 'overquota');
      const status = await alice.status(inbox.id);
      assert.equal(status.messages, 0, 'none of the four was added');
      const results = await alice.appendMany!(inbox.id, [{ content: m }, { content: m }, { content: m }]);
      assert.equal(results.length, 3);
      assert.ok(results[0]!.uid >= status.uidNext, 'UIDs of the refused attempt may be skipped, never reused');
      await rejectsWith(alice.appendMany!(inbox.id, [{ content: m }]), 'overquota');
      assert.deepEqual((await alice.quota!()).usage, { storage: 3 * m.length, messages: 3 });
      await store.setQuota('alice', null);
    });

    test('usage is every mailbox of the user and agrees with STATUS, through append, copy, move, expunge and delete', async (env) => {
      const q = await quotaStore(env);
      if (!q) return;
      const { alice } = q;
      const inbox = await alice.get('INBOX');
      const work = await alice.create('Work');
      const m1 = simpleMessage({ body: 'one' });
      const m2 = bigMessage(5000);
      await alice.append(inbox.id, { content: m1 });
      await alice.append(inbox.id, { content: m2 });
      await alice.copy(inbox.id, [1, 2], work.id);
      let quota = await alice.quota!();
      assert.deepEqual(quota.usage, { storage: 2 * (m1.length + m2.length), messages: 4 });
      assert.deepEqual(quota.usage, await statusTotals(alice));
      assert.deepEqual(quota.limits, {});
      assert.equal(quota.source, 'default');
      await alice.move(work.id, [1], inbox.id);
      assert.deepEqual((await alice.quota!()).usage, { storage: 2 * (m1.length + m2.length), messages: 4 });
      await alice.updateFlags(inbox.id, [1], 'add', ['\\Deleted']);
      // \Deleted messages count until they are expunged.
      assert.equal((await alice.quota!()).usage.messages, 4);
      await alice.expunge(inbox.id);
      quota = await alice.quota!();
      assert.deepEqual(quota.usage, { storage: m1.length + 2 * m2.length, messages: 3 });
      // INBOX keeps m2 and the m1 moved back; Work held the other m2.
      await alice.delete('Work');
      const left = { storage: m1.length + m2.length, messages: 2 };
      assert.deepEqual((await alice.quota!()).usage, left);
      assert.deepEqual((await alice.quota!()).usage, await statusTotals(alice));
      assert.deepEqual((await q.store.getQuota('alice')).usage, left);
      // Another user's mail is not alice's.
      const bob = await env.open('bob');
      await bob.append((await bob.get('INBOX')).id, { content: m1 });
      assert.deepEqual((await alice.quota!()).usage, left);
      assert.deepEqual((await q.store.getQuota('bob')).usage, { storage: m1.length, messages: 1 });
    });

    test('a storage limit refuses the APPEND that would pass it, and changes nothing', async (env) => {
      const q = await quotaStore(env);
      if (!q) return;
      const { alice, store } = q;
      const inbox = await alice.get('INBOX');
      const m = bigMessage(1000);
      await setLimits(store, { storage: 2500 });
      assert.equal((await alice.quota!()).source, 'store');
      await alice.append(inbox.id, { content: m });
      await alice.append(inbox.id, { content: m });
      const before = await alice.status(inbox.id);
      await rejectsWith(alice.append(inbox.id, { content: m }), 'overquota');
      // The same bytes by digest (delivery to many recipients) are refused alike.
      await rejectsWith(alice.append(inbox.id, { content: m, sha256: createHash('sha256').update(m).digest() }), 'overquota');
      assert.deepEqual(await alice.status(inbox.id), before);
      // Exactly at the limit is allowed.
      await alice.append(inbox.id, { content: bigMessage(500) });
      assert.deepEqual((await alice.quota!()).usage, { storage: 2500, messages: 3 });
      // Expunging frees room.
      await alice.updateFlags(inbox.id, [1], 'add', ['\\Deleted']);
      await alice.expunge(inbox.id);
      await alice.append(inbox.id, { content: m });
    });

    test('a message limit: COPY is all or nothing, MOVE within the user is never refused, null restores the defaults', async (env) => {
      const q = await quotaStore(env);
      if (!q) return;
      const { alice, store } = q;
      const inbox = await alice.get('INBOX');
      const other = await alice.create('Other');
      for (const n of [1, 2, 3]) await alice.append(inbox.id, { content: simpleMessage({ body: `m${n}` }) });
      await setLimits(store, { messages: 4 });
      await rejectsWith(alice.copy(inbox.id, [1, 2], other.id), 'overquota');
      assert.equal((await alice.status(other.id)).messages, 0);
      assert.equal((await alice.status(other.id)).uidNext, 1);
      assert.equal((await alice.copy(inbox.id, [1], other.id)).mapping.length, 1);
      await rejectsWith(alice.append(inbox.id, { content: simpleMessage() }), 'overquota');
      // At the limit, moving is still fine: usage does not change.
      assert.equal((await alice.move(inbox.id, [2, 3], other.id)).mapping.length, 2);
      assert.deepEqual((await alice.quota!()).usage.messages, 4);
      // A lowered limit leaves the user over it: nothing is removed, only additions are refused.
      await setLimits(store, { messages: 1 });
      assert.equal((await alice.quota!()).usage.messages, 4);
      await rejectsWith(alice.append(inbox.id, { content: simpleMessage() }), 'overquota');
      await store.setQuota('alice', null);
      const back = await store.getQuota('alice');
      assert.equal(back.source, 'default');
      assert.deepEqual(back.limits, {});
      await alice.append(inbox.id, { content: simpleMessage() });
      await rejectsWith(store.setQuota('alice', { storage: -1 }), 'cannot');
      await rejectsWith(store.setQuota('alice', { messages: 1.5 }), 'cannot');
    });

    test('twenty racing APPENDs never pass the limit, and every acknowledged one is there', async (env) => {
      const q = await quotaStore(env);
      if (!q) return;
      const { store } = q;
      const m = bigMessage(1000);
      await setLimits(store, { storage: 7 * m.length, messages: 100 });
      const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => env.open('alice', `racer-${i}`)));
      const inbox = await handles[0]!.get('INBOX');
      const results = await Promise.allSettled(handles.map((h) => h.append(inbox.id, { content: m })));
      const ok = results.filter((r) => r.status === 'fulfilled');
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { kind?: string }).kind, 'overquota', String(r.reason));
      }
      assert.equal(ok.length, 7);
      const uids = ok.map((r) => (r as PromiseFulfilledResult<{ uid: number }>).value.uid).sort((a, b) => a - b);
      const snap = await handles[0]!.snapshot(inbox.id);
      assert.deepEqual(
        snap.messages.map((x) => x.uid),
        uids,
      );
      assert.deepEqual((await store.getQuota('alice')).usage, { storage: 7 * m.length, messages: 7 });
    });
  });
}
