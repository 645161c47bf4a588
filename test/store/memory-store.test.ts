// MemoryStore behaviour beyond the shared conformance suite: options and memory-specific choices.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore } from '../../src/store/memory/index.js';
import { ChangeFeed } from '../../src/store/change-feed.js';
import { StoreError } from '../../src/store/errors.js';
import type { MailboxChange } from '../../src/store/types.js';

const msg = (body = 'hi') => Buffer.from(`Subject: t\r\n\r\n${body}\r\n`);
const kind = (k: string) => (e: unknown) => e instanceof StoreError && e.kind === k;

describe('MemoryStore options', () => {
  it('maxMessageSize rejects bigger buffers and streams with toobig, storing nothing', async () => {
    const store = new MemoryStore({ maxMessageSize: 100 });
    const a = await store.open('u');
    const inbox = await a.get('INBOX');
    await assert.rejects(a.append(inbox.id, { content: Buffer.alloc(101, 65) }), kind('toobig'));
    async function* chunks() {
      for (let i = 0; i < 50; i++) yield Buffer.alloc(10, 65);
    }
    await assert.rejects(a.append(inbox.id, { content: chunks() }), kind('toobig'));
    assert.equal((await a.status(inbox.id)).messages, 0);
    assert.equal((await a.append(inbox.id, { content: Buffer.alloc(100, 65) })).uid, 1);
  });

  it('changedSince stays exact across the rebuild of its modseq log (thousands of changes to few messages)', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const inbox = await a.get('INBOX');
    const uids: number[] = [];
    for (let i = 0; i < 5; i++) uids.push((await a.append(inbox.id, { content: msg(String(i)) })).uid);
    const marks: number[] = [];
    // 3,000 changes to five messages: the log outgrows its bound (2 × messages + 1,024) and is rebuilt.
    for (let i = 0; i < 3000; i++) {
      await a.updateFlags(inbox.id, [uids[i % 5]!], i % 2 ? 'remove' : 'add', ['$T']);
      if (i % 500 === 499) marks.push((await a.status(inbox.id)).highestModseq);
    }
    const snap = await a.snapshot(inbox.id);
    for (const mark of [0, ...marks]) {
      const want = snap.messages.filter((m) => m.modseq > mark).map((m) => ({ uid: m.uid, flags: m.flags, modseq: m.modseq }));
      assert.deepEqual(await a.changedSince!(inbox.id, mark), want, `since ${mark}`);
    }
  });

  it('uses the uidValidity supplier for every new mailbox', async () => {
    let n = 41;
    const store = new MemoryStore({ uidValidity: () => ++n });
    const a = await store.open('u');
    assert.equal((await a.status((await a.get('INBOX')).id)).uidValidity, 42);
    assert.equal((await a.status((await a.create('x')).id)).uidValidity, 43);
  });

  it('default UIDVALIDITY values strictly increase even within one second', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const values: number[] = [];
    for (let i = 0; i < 20; i++) values.push((await a.status((await a.create(`m${i}`)).id)).uidValidity);
    for (let i = 1; i < values.length; i++) assert.ok(values[i]! > values[i - 1]!);
  });

  it('publishes to a feed passed in, and honours another delimiter', async () => {
    const feed = new ChangeFeed();
    const seen: MailboxChange[] = [];
    feed.watch('u', (c) => seen.push(c));
    const store = new MemoryStore({ feed, delimiter: '.' });
    const a = await store.open('u');
    await a.create('a.b');
    assert.deepEqual((await a.list()).map((m) => m.name), ['INBOX', 'a', 'a.b']);
    assert.deepEqual(seen, [{ kind: 'mailboxes' }]);
  });

  it('refuses open after close', async () => {
    const store = new MemoryStore();
    await store.close();
    await assert.rejects(store.open('u'), kind('unavailable'));
  });
});

describe('MemoryStore choices', () => {
  it('COPY shares the stored bytes instead of duplicating them', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const inbox = await a.get('INBOX');
    const other = await a.create('other');
    const { uid } = await a.append(inbox.id, { content: msg() });
    const { mapping } = await a.copy(inbox.id, [uid], other.id);
    const original = await a.read(inbox.id, uid);
    const copied = await a.read(other.id, mapping[0]![1]);
    assert.equal(copied.buffer, original.buffer);
    assert.equal(copied.byteOffset, original.byteOffset);
  });

  it('structure() hands out a copy, so callers cannot corrupt the cached one', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const inbox = await a.get('INBOX');
    const { uid } = await a.append(inbox.id, { content: msg() });
    const first = await a.structure(inbox.id, uid);
    first.root.contentType.subtype = 'mangled';
    assert.notEqual((await a.structure(inbox.id, uid)).root.contentType.subtype, 'mangled');
  });

  it('an append whose mailbox is deleted while bytes arrive fails with nonexistent', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const box = await a.create('doomed');
    async function* slow() {
      yield Buffer.from('Subject: x\r\n');
      await a.delete('doomed');
      yield Buffer.from('\r\nbody\r\n');
    }
    await assert.rejects(a.append(box.id, { content: slow() }), kind('nonexistent'));
  });

  it('an invalid internal date is refused', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    await assert.rejects(a.append((await a.get('INBOX')).id, { content: msg(), internalDate: new Date('nope') }), kind('cannot'));
  });

  it('creates missing parents as ordinary, selectable mailboxes', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    await a.create('p/q');
    const parent = await a.get('p');
    assert.equal(parent.noselect, false);
    assert.equal((await a.append(parent.id, { content: msg() })).uid, 1);
  });

  it('INBOX starts subscribed; subscriptions follow a rename', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    assert.deepEqual(await a.subscriptions(), ['INBOX']);
    await a.create('x/y');
    await a.subscribe('x/y', true);
    await a.rename('x', 'z');
    assert.deepEqual(await a.subscriptions(), ['INBOX', 'z/y']);
  });

  it('delete with children publishes the expunge of its messages before the tree change', async () => {
    const store = new MemoryStore();
    const a = await store.open('u', { origin: 's1' });
    const box = await a.create('p');
    await a.create('p/c');
    const { uid } = await a.append(box.id, { content: msg() });
    const seen: MailboxChange[] = [];
    store.watch('u', (c) => seen.push(c));
    await a.delete('p');
    assert.deepEqual(seen, [
      { kind: 'expunge', mailboxId: box.id, uids: [uid], origin: 's1' },
      { kind: 'mailboxes', origin: 's1' },
    ]);
  });

  it('stream yields bounded chunks', async () => {
    const store = new MemoryStore();
    const a = await store.open('u');
    const inbox = await a.get('INBOX');
    const { uid } = await a.append(inbox.id, { content: msg('z'.repeat(200_000)) });
    let chunks = 0;
    for await (const chunk of a.stream(inbox.id, uid)) {
      chunks++;
      assert.ok(chunk.length <= 64 * 1024);
    }
    assert.ok(chunks >= 4);
  });
});
