/** The change feed: what, in which order, with which origin, to whom. */
import assert from 'node:assert/strict';
import type { MailboxChange } from '../types.js';
import { eventually, recordChanges, type Register } from './harness.js';
import { simpleMessage } from './fixtures.js';

const kinds = (changes: MailboxChange[]) => changes.map((c) => c.kind);

export function feedTests(test: Register): void {
  test.group('change feed', () => {
    test('append, flags and expunge are published with the handle origin, in order', async ({ store, open }) => {
      const a = await open('alice', 'session-1');
      const inbox = await a.get('INBOX');
      const feed = recordChanges(store);
      const { uid } = await a.append(inbox.id, { content: simpleMessage() });
      await a.updateFlags(inbox.id, [uid], 'add', ['\\Deleted']);
      await a.expunge(inbox.id);
      await eventually(() => feed.changes.length >= 3, 'three changes');
      assert.deepEqual(feed.changes, [
        { kind: 'exists', mailboxId: inbox.id, uids: [uid], origin: 'session-1' },
        { kind: 'flags', mailboxId: inbox.id, changes: [{ uid, flags: ['\\Deleted'], modseq: feed.changes[1]!.kind === 'flags' ? feed.changes[1]!.changes[0]!.modseq : -1 }], origin: 'session-1' },
        { kind: 'expunge', mailboxId: inbox.id, uids: [uid], origin: 'session-1' },
      ]);
      const flags = feed.changes[1]!;
      assert.ok(flags.kind === 'flags' && flags.changes[0]!.modseq > 0);
      feed.stop();
    });

    test('a change is published by the time the mutating call resolves (same process)', async ({ store, open }) => {
      const a = await open('alice', 's');
      const inbox = await a.get('INBOX');
      const feed = recordChanges(store);
      await a.append(inbox.id, { content: simpleMessage() });
      assert.deepEqual(kinds(feed.changes), ['exists']);
      feed.stop();
    });

    test('each handle stamps its own origin; a handle without one publishes none', async ({ store, open }) => {
      const one = await open('alice', 'one');
      const two = await open('alice', 'two');
      const plain = await open('alice');
      const inbox = await one.get('INBOX');
      const feed = recordChanges(store);
      await one.append(inbox.id, { content: simpleMessage() });
      await two.append(inbox.id, { content: simpleMessage() });
      await plain.append(inbox.id, { content: simpleMessage() });
      await eventually(() => feed.changes.length >= 3, 'three appends');
      assert.deepEqual(feed.changes.map((c) => c.origin), ['one', 'two', undefined]);
    });

    test('tree changes publish "mailboxes"', async ({ store, open }) => {
      const a = await open('alice', 'tree');
      const feed = recordChanges(store);
      await a.create('x');
      await eventually(() => feed.changes.length >= 1, 'create');
      await a.rename('x', 'y');
      await eventually(() => feed.changes.length >= 2, 'rename');
      await a.delete('y');
      await eventually(() => feed.changes.length >= 3, 'delete');
      assert.deepEqual(kinds(feed.changes), ['mailboxes', 'mailboxes', 'mailboxes']);
      assert.ok(feed.changes.every((c) => c.origin === 'tree'));
    });

    test('copy publishes exists in the destination; move publishes exists there before expunge in the source', async ({ store, open }) => {
      const a = await open('alice', 'mover');
      const inbox = await a.get('INBOX');
      const dest = await a.create('dest');
      const { uid } = await a.append(inbox.id, { content: simpleMessage() });
      const feed = recordChanges(store);
      const copied = await a.copy(inbox.id, [uid], dest.id);
      const moved = await a.move(inbox.id, [uid], dest.id);
      await eventually(() => feed.changes.length >= 3, 'copy and move');
      assert.deepEqual(feed.changes, [
        { kind: 'exists', mailboxId: dest.id, uids: [copied.mapping[0]![1]], origin: 'mover' },
        { kind: 'exists', mailboxId: dest.id, uids: [moved.mapping[0]![1]], origin: 'mover' },
        { kind: 'expunge', mailboxId: inbox.id, uids: [uid], origin: 'mover' },
      ]);
    });

    test('nothing is published for a flag update that changes nothing; unsubscribing stops delivery', async ({ store, open }) => {
      const a = await open('alice', 's');
      const inbox = await a.get('INBOX');
      const { uid } = await a.append(inbox.id, { content: simpleMessage(), flags: ['\\Seen'] });
      const feed = recordChanges(store);
      await a.updateFlags(inbox.id, [uid], 'add', ['\\Seen']);
      feed.stop();
      await a.updateFlags(inbox.id, [uid], 'remove', ['\\Seen']);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(feed.changes, []);
    });

    test('a listener that throws does not break the mutation or other listeners', async ({ store, open }) => {
      const a = await open('alice', 's');
      const inbox = await a.get('INBOX');
      const stopBad = store.watch('alice', () => {
        throw new Error('listener bug');
      });
      const feed = recordChanges(store);
      const { uid } = await a.append(inbox.id, { content: simpleMessage() });
      await eventually(() => feed.changes.length >= 1, 'delivery to the healthy listener');
      assert.deepEqual((await a.records(inbox.id, [uid])).map((r) => r.uid), [uid]);
      stopBad();
      feed.stop();
    });
  });
}
