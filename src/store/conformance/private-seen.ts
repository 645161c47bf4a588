/**
 * Per-user \Seen of shared mailboxes (optional: a store offers privateSeen() and setPrivateSeen()
 * together, or neither; docs/sharing.md). The owner's \Seen stays in the message's flags; another
 * user's is a row of its own, with a modseq taken from the mailbox's, published for that user only.
 */
import assert from 'node:assert/strict';
import { eventually, recordChanges, rejectsWith, type Register, type TestEnv } from './harness.js';
import type { UserMailbox } from '../types.js';

type SeenMail = UserMailbox & Required<Pick<UserMailbox, 'privateSeen' | 'setPrivateSeen'>>;

async function seenStore(env: TestEnv): Promise<{ alice: SeenMail; viewer: string } | null> {
  const alice = await env.open('alice');
  const has = [typeof alice.privateSeen, typeof alice.setPrivateSeen];
  assert.equal(has[0], has[1], `privateSeen() and setPrivateSeen() come together (got ${has.join(', ')})`);
  if (has[0] !== 'function') return null;
  const bob = await env.open('bob');
  return { alice: alice as SeenMail, viewer: bob.user };
}

const msg = (n: number): Buffer => Buffer.from(`Subject: m${n}\r\n\r\nbody ${n}\r\n`);

export function privateSeenTests(test: Register): void {
  test.group('per-user \\Seen (shared mailboxes)', () => {
    test("a viewer's \\Seen is a row of its own: the owner's flags and message modseqs stay, HIGHESTMODSEQ grows", async (env) => {
      const s = await seenStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      await s.alice.append(box.id, { content: msg(1) });
      await s.alice.append(box.id, { content: msg(2), flags: ['\\Seen', '\\Flagged'] });
      const before = await s.alice.snapshot(box.id);
      assert.deepEqual(await s.alice.privateSeen(box.id, s.viewer), []);
      const res = await s.alice.setPrivateSeen(box.id, s.viewer, [1, 2, 99], true);
      assert.deepEqual(res.conflicts, []);
      assert.deepEqual(
        res.changed.map((c) => [c.uid, [...c.flags].sort()]),
        [
          [1, ['\\Seen']],
          [2, ['\\Flagged', '\\Seen']],
        ],
      );
      const modseq = res.changed[0]!.modseq;
      assert.ok(modseq > before.highestModseq, 'a new modseq from the mailbox');
      assert.deepEqual(await s.alice.privateSeen(box.id, s.viewer), [
        { uid: 1, seen: true, modseq },
        { uid: 2, seen: true, modseq },
      ]);
      const after = await s.alice.snapshot(box.id);
      assert.deepEqual(after.messages, before.messages, "the owner's flags and modseqs are unchanged");
      assert.equal(after.highestModseq, modseq);
      assert.equal((await s.alice.status(box.id)).unseen, 1, "STATUS UNSEEN counts the owner's \\Seen");
      // Clearing one: a row that says "not seen", at a newer modseq; unchanged ones are not touched.
      const cleared = await s.alice.setPrivateSeen(box.id, s.viewer, [1], false);
      assert.equal(cleared.changed.length, 1);
      assert.ok(cleared.changed[0]!.modseq > modseq);
      assert.deepEqual(cleared.changed[0]!.flags, []);
      assert.deepEqual((await s.alice.setPrivateSeen(box.id, s.viewer, [1], false)).changed, []);
      const rows = await s.alice.privateSeen(box.id, s.viewer);
      assert.deepEqual(rows.map((r) => [r.uid, r.seen]), [[1, false], [2, true]]);
      assert.deepEqual(await s.alice.privateSeen(box.id, 'carol'), [], 'rows are per viewer');
      await rejectsWith(s.alice.setPrivateSeen(box.id, s.alice.user, [1], true), 'cannot');
    });

    test('UNCHANGEDSINCE compares with the greater of the message and the row modseq', async (env) => {
      const s = await seenStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      await s.alice.append(box.id, { content: msg(1) });
      const b = await s.alice.append(box.id, { content: msg(2) });
      const set = await s.alice.setPrivateSeen(box.id, s.viewer, [1], true);
      const m1 = set.changed[0]!.modseq;
      const res = await s.alice.setPrivateSeen(box.id, s.viewer, [1, 2], false, { unchangedSince: b.modseq });
      assert.deepEqual(res.conflicts, [1]);
      assert.deepEqual(res.changed, [], 'message 2 was not seen: nothing to clear');
      const ok = await s.alice.setPrivateSeen(box.id, s.viewer, [1], false, { unchangedSince: m1 });
      assert.deepEqual(ok.conflicts, []);
      assert.equal(ok.changed.length, 1);
    });

    test('the change is published on the owner feed with the viewer named, in its flags', async (env) => {
      const s = await seenStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      await s.alice.append(box.id, { content: msg(1), flags: ['$Work'] });
      const feed = recordChanges(env.store, 'alice');
      try {
        await s.alice.setPrivateSeen(box.id, s.viewer, [1], true);
        await eventually(() => feed.changes.some((c) => c.kind === 'flags'), 'the flags change');
        const c = feed.changes.find((x) => x.kind === 'flags');
        assert.ok(c && c.kind === 'flags');
        assert.equal(c.viewer, s.viewer);
        assert.equal(c.mailboxId, box.id);
        assert.deepEqual(c.changes.map((x) => [x.uid, [...x.flags].sort()]), [[1, ['$Work', '\\Seen']]]);
      } finally {
        feed.stop();
      }
    });

    test('rows go with EXPUNGE and MOVE, stay through RENAME, and go with DELETE', async (env) => {
      const s = await seenStore(env);
      if (!s) return;
      const box = await s.alice.create(env.name('Team'));
      const other = await s.alice.create(env.name('Other'));
      for (const n of [1, 2, 3]) await s.alice.append(box.id, { content: msg(n) });
      await s.alice.setPrivateSeen(box.id, s.viewer, [1, 2, 3], true);
      await s.alice.updateFlags(box.id, [1], 'add', ['\\Deleted']);
      assert.deepEqual(await s.alice.expunge(box.id), [1]);
      await s.alice.move(box.id, [2], other.id);
      assert.deepEqual((await s.alice.privateSeen(box.id, s.viewer)).map((r) => r.uid), [3]);
      assert.deepEqual(await s.alice.privateSeen(other.id, s.viewer), [], "a moved message does not take the viewer's row");
      await s.alice.rename(env.name('Team'), env.name('Renamed'));
      const renamed = await s.alice.get(env.name('Renamed'));
      assert.equal(renamed.id, box.id);
      assert.deepEqual((await s.alice.privateSeen(renamed.id, s.viewer)).map((r) => r.uid), [3]);
      await s.alice.delete(env.name('Renamed'));
      await rejectsWith(s.alice.privateSeen(renamed.id, s.viewer), 'nonexistent');
      // A name re-created gets a new mailbox with no rows.
      const again = await s.alice.create(env.name('Renamed'));
      await s.alice.append(again.id, { content: msg(4) });
      assert.deepEqual(await s.alice.privateSeen(again.id, s.viewer), []);
    });
  });
}
