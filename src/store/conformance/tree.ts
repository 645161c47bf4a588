/** RFC 3501 §6.3.3–6.3.5 and §6.3.6–6.3.7: the mailbox tree, names and subscriptions. */
import assert from 'node:assert/strict';
import type { MailboxInfo } from '../types.js';
import { rejectsWith, type Register } from './harness.js';
import { simpleMessage } from './fixtures.js';

const names = (list: MailboxInfo[]) => list.map((m) => m.name);

export function treeTests(test: Register): void {
  test.group('mailbox tree', () => {
    test.readOnly('open creates INBOX, spelled INBOX, reachable in any case, with a stable id', async ({ open }) => {
      const a = await open();
      assert.deepEqual(names(await a.list()), ['INBOX']);
      const inbox = await a.get('inbox');
      assert.equal(inbox.name, 'INBOX');
      assert.equal(inbox.noselect, false);
      assert.equal((await a.get('InBoX')).id, inbox.id);
      const again = await open();
      assert.equal((await again.get('INBOX')).id, inbox.id, 'a second handle sees the same INBOX');
      assert.deepEqual(await a.subscriptions(), ['INBOX'], 'a new user starts with INBOX subscribed');
    });

    test('rfc-6.3.3 create: returns the mailbox, which get() and list() then show', async ({ open }) => {
      const a = await open();
      const created = await a.create('Drafts');
      assert.equal(created.name, 'Drafts');
      assert.equal(created.noselect, false);
      assert.equal((await a.get('Drafts')).id, created.id);
      assert.ok(names(await a.list()).includes('Drafts'));
    });

    test('names other than INBOX are case-sensitive; INBOX children keep the INBOX spelling', async ({ open, name }) => {
      const a = await open();
      const lower = await a.create('work');
      const upper = await a.create('Work');
      assert.notEqual(lower.id, upper.id);
      assert.equal((await a.create(name('inbox', 'Sub'))).name, name('INBOX', 'Sub'));
      assert.equal((await a.get(name('Inbox', 'Sub'))).name, name('INBOX', 'Sub'));
    });

    test('rfc-6.3.3 create makes missing superior names', async ({ open, name }) => {
      const a = await open();
      await a.create(name('owatagusiam', 'blurdybloop'));
      const listed = names(await a.list());
      assert.ok(listed.includes('owatagusiam'));
      assert.ok(listed.includes(name('owatagusiam', 'blurdybloop')));
    });

    test('create of an existing mailbox (INBOX included) fails with alreadyexists', async ({ open }) => {
      const a = await open();
      await a.create('x');
      await rejectsWith(a.create('x'), 'alreadyexists');
      await rejectsWith(a.create('inbox'), 'alreadyexists');
    });

    test('create with maxMailboxes fails with limit, creating nothing, also when many run at once', async ({ open, name }) => {
      const a = await open();
      await a.create('one'); // with INBOX: two
      await rejectsWith(a.create(name('p', 'q'), { maxMailboxes: 3 }), 'limit'); // would make p and p/q
      assert.deepEqual(names(await a.list()).sort(), ['INBOX', 'one']);
      await a.create('two', { maxMailboxes: 3 });
      // Parallel CREATEs of one user: the count is taken inside each write.
      const others = await Promise.all([open(), open(), open()]);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 12 }, (_, i) => others[i % 3]!.create(`par${i}`, { maxMailboxes: 8 })),
      );
      assert.equal((await a.list()).length, 8);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 5);
    });

    test('rename with maxMailboxes counts the parents it creates (and INBOX left behind), renaming nothing when refused', async ({ open, name }) => {
      const a = await open();
      await a.create('one'); // with INBOX: two
      await rejectsWith(a.rename('one', name('p', 'q', 'one'), { maxMailboxes: 3 }), 'limit'); // would add p and p/q
      assert.deepEqual(names(await a.list()).sort(), ['INBOX', 'one']);
      await a.rename('one', 'uno', { maxMailboxes: 2 }); // adds nothing: allowed even at the limit
      await rejectsWith(a.rename('INBOX', 'old', { maxMailboxes: 2 }), 'limit'); // INBOX stays: one more
      await a.rename('uno', name('p', 'uno'), { maxMailboxes: 3 });
      assert.deepEqual(names(await a.list()).sort(), ['INBOX', 'p', name('p', 'uno')].sort());
      // Parallel RENAMEs that each create one parent: the count is taken inside each write.
      for (let i = 0; i < 6; i++) await a.create(`r${i}`);
      const others = await Promise.all([open(), open(), open()]);
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => others[i % 3]!.rename(`r${i}`, name(`new${i}`, `r${i}`), { maxMailboxes: 12 })));
      assert.equal((await a.list()).length, 12);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    });

    test('invalid names are refused with cannot everywhere a name is taken', async ({ open, name }) => {
      const a = await open();
      await a.create('ok');
      for (const bad of ['', name('a', '', 'b'), name('a', '..', 'b'), '..', '~alice', 'a\u0000b', 'a\r\nb', 'x'.repeat(256)]) {
        await rejectsWith(a.create(bad), 'cannot');
        await rejectsWith(a.get(bad), 'cannot');
        await rejectsWith(a.rename('ok', bad), 'cannot');
        await rejectsWith(a.subscribe(bad, true), 'cannot');
      }
      assert.deepEqual(names(await a.list()).sort(), ['INBOX', 'ok']);
    });

    test.readOnly('get of a missing name fails with nonexistent', async ({ open }) => {
      const a = await open();
      await rejectsWith(a.get('nope'), 'nonexistent');
    });

    test('rfc-6.3.4 delete removes a leaf; its id stops working', async ({ open }) => {
      const a = await open();
      const box = await a.create('blurdybloop');
      await a.delete('blurdybloop');
      await rejectsWith(a.get('blurdybloop'), 'nonexistent');
      await rejectsWith(a.status(box.id), 'nonexistent');
      await rejectsWith(a.snapshot(box.id), 'nonexistent');
      await rejectsWith(a.append(box.id, { content: simpleMessage() }), 'nonexistent');
      assert.ok(!names(await a.list()).includes('blurdybloop'));
    });

    test('delete of a missing mailbox fails with nonexistent; INBOX cannot be deleted', async ({ open }) => {
      const a = await open();
      await rejectsWith(a.delete('nope'), 'nonexistent');
      await rejectsWith(a.delete('INBOX'), 'cannot');
      await rejectsWith(a.delete('inbox'), 'cannot');
    });

    test('rfc-6.3.4 delete with children: messages go, the name becomes \\Noselect, children stay', async ({ open, name }) => {
      const a = await open();
      const foo = await a.create('foo');
      await a.create(name('foo', 'bar'));
      await a.append(foo.id, { content: simpleMessage() });
      await a.delete('foo');
      const after = await a.get('foo');
      assert.equal(after.noselect, true);
      assert.equal(after.id, foo.id);
      assert.equal((await a.get(name('foo', 'bar'))).noselect, false);
      await rejectsWith(a.status(foo.id), 'cannot');
      await rejectsWith(a.snapshot(foo.id), 'cannot');
      await rejectsWith(a.append(foo.id, { content: simpleMessage() }), 'cannot');
    });

    test('rfc-6.3.4 example: \\Noselect with children → hasChildren; once the child is gone it can be deleted', async ({ open, name }) => {
      const a = await open();
      await a.create(name('foo', 'bar'));
      await a.delete('foo');
      await rejectsWith(a.delete('foo'), 'hasChildren');
      await a.delete(name('foo', 'bar'));
      assert.equal((await a.get('foo')).noselect, true, 'the \\Noselect parent remains (RFC 3501 §6.3.4 example)');
      await a.delete('foo');
      await rejectsWith(a.get('foo'), 'nonexistent');
    });

    test('create of a \\Noselect name makes it selectable without reusing old UIDs', async ({ open, name }) => {
      const a = await open();
      const foo = await a.create('foo');
      await a.create(name('foo', 'bar'));
      await a.append(foo.id, { content: simpleMessage() });
      const before = await a.status(foo.id);
      await a.delete('foo');
      const again = await a.create('foo');
      assert.equal(again.noselect, false);
      const now = await a.status(again.id);
      assert.equal(now.messages, 0);
      assert.ok(now.uidValidity !== before.uidValidity || now.uidNext >= before.uidNext, 'RFC 3501 §6.3.4: old UIDs not reused');
    });

    test('a re-created mailbox has a new id and a different UIDVALIDITY', async ({ open }) => {
      const a = await open();
      const first = await a.create('cycle');
      const firstStatus = await a.status(first.id);
      await a.delete('cycle');
      const second = await a.create('cycle');
      assert.notEqual(second.id, first.id);
      assert.notEqual((await a.status(second.id)).uidValidity, firstStatus.uidValidity);
      await rejectsWith(a.status(first.id), 'nonexistent');
    });

    test('rfc-6.3.5 rename keeps id, messages and UIDVALIDITY, and moves children', async ({ open, name }) => {
      const a = await open();
      const foo = await a.create('foo');
      const child = await a.create(name('foo', 'bar'));
      const grandchild = await a.create(name('foo', 'bar', 'baz'));
      const { uid } = await a.append(foo.id, { content: simpleMessage() });
      const before = await a.status(foo.id);
      await a.rename('foo', 'zap');
      await rejectsWith(a.get('foo'), 'nonexistent');
      await rejectsWith(a.get(name('foo', 'bar')), 'nonexistent');
      assert.equal((await a.get('zap')).id, foo.id);
      assert.equal((await a.get(name('zap', 'bar'))).id, child.id);
      assert.equal((await a.get(name('zap', 'bar', 'baz'))).id, grandchild.id);
      const after = await a.status(foo.id);
      assert.equal(after.uidValidity, before.uidValidity);
      assert.equal(after.messages, 1);
      assert.deepEqual((await a.records(foo.id, [uid])).map((r) => r.uid), [uid]);
    });

    test('rename creates missing superior names of the target', async ({ open, name }) => {
      const a = await open();
      await a.create('src');
      await a.rename('src', name('baz', 'rag', 'zowie'));
      const listed = names(await a.list());
      assert.ok(listed.includes('baz'));
      assert.ok(listed.includes(name('baz', 'rag')));
      assert.ok(listed.includes(name('baz', 'rag', 'zowie')));
    });

    test('rename errors: missing source, existing target, into its own child', async ({ open, name }) => {
      const a = await open();
      await a.create('one');
      await a.create('two');
      await rejectsWith(a.rename('missing', 'three'), 'nonexistent');
      await rejectsWith(a.rename('one', 'two'), 'alreadyexists');
      await rejectsWith(a.rename('one', 'INBOX'), 'alreadyexists');
      await rejectsWith(a.rename('one', name('one', 'inner')), 'cannot');
      assert.deepEqual(names(await a.list()).sort(), ['INBOX', 'one', 'two']);
    });

    test('rename may change only the case of a name', async ({ open }) => {
      const a = await open();
      const box = await a.create('news');
      await a.rename('news', 'News');
      assert.equal((await a.get('News')).id, box.id);
      await rejectsWith(a.get('news'), 'nonexistent');
    });

    test('rfc-6.3.5 rename INBOX moves its messages to a new mailbox; INBOX stays, empty, with its children', async ({ open, name }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      const child = await a.create(name('INBOX', 'kept'));
      const body = simpleMessage({ subject: 'moved by rename' });
      await a.append(inbox.id, { content: body, flags: ['\\Seen', '$Work'] });
      await a.append(inbox.id, { content: simpleMessage() });
      const before = await a.status(inbox.id);
      await a.rename('INBOX', 'old-mail');
      const moved = await a.get('old-mail');
      assert.notEqual(moved.id, inbox.id);
      assert.equal((await a.get('INBOX')).id, inbox.id);
      assert.equal((await a.get(name('INBOX', 'kept'))).id, child.id);
      const inboxAfter = await a.status(inbox.id);
      assert.equal(inboxAfter.messages, 0);
      assert.ok(inboxAfter.uidNext >= before.uidNext, 'INBOX does not reuse UIDs');
      const snap = await a.snapshot(moved.id);
      assert.equal(snap.messages.length, 2);
      const first = snap.messages[0]!;
      assert.deepEqual(await a.read(moved.id, first.uid), body);
      assert.ok(first.flags.includes('\\Seen') && first.flags.includes('$Work'));
    });

    test('rename INBOX to one of its own children is allowed', async ({ open, name }) => {
      const a = await open();
      const inbox = await a.get('INBOX');
      await a.append(inbox.id, { content: simpleMessage() });
      await a.rename('INBOX', name('INBOX', 'old'));
      assert.equal((await a.status((await a.get(name('INBOX', 'old'))).id)).messages, 1);
      assert.equal((await a.status(inbox.id)).messages, 0);
    });

    test('rfc-6.3.6 subscriptions are names, may name missing mailboxes, survive delete', async ({ open }) => {
      const a = await open();
      await a.create('lists');
      await a.subscribe('lists', true);
      await a.subscribe('not-yet', true);
      assert.ok((await a.subscriptions()).includes('lists'));
      assert.ok((await a.subscriptions()).includes('not-yet'));
      assert.equal((await a.get('lists')).subscribed, true);
      await a.delete('lists');
      assert.ok((await a.subscriptions()).includes('lists'), 'RFC 3501 §6.3.9: not removed unilaterally');
      await a.subscribe('lists', false);
      await a.subscribe('not-yet', false);
      assert.ok(!(await a.subscriptions()).includes('lists'));
      assert.ok(!(await a.subscriptions()).includes('not-yet'));
    });

    test('subscribing to "inbox" stores the canonical INBOX', async ({ open }) => {
      const a = await open();
      await a.subscribe('inbox', true);
      assert.equal((await a.subscriptions()).filter((s) => s.toUpperCase() === 'INBOX').join(), 'INBOX');
      assert.equal((await a.get('INBOX')).subscribed, true);
    });

    test('special-use attributes given at create are reported', async ({ open }) => {
      const a = await open();
      const sent = await a.create('Sent', { specialUse: '\\Sent' });
      assert.equal(sent.specialUse, '\\Sent');
      assert.equal((await a.get('Sent')).specialUse, '\\Sent');
    });
  });
}
