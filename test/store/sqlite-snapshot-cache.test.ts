/**
 * The SELECT snapshot cache of SqliteStore must always equal what a fresh read of the database
 * says, whatever happened in between: appends, flag changes, expunges, copies in, a reopen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite/index.js';

test('snapshots of a large mailbox stay exact across appends, flag changes, expunges and copies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-snapcache-'));
  try {
    let store = await SqliteStore.open({ directory: dir });
    let mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    const other = await mail.create('Other');
    const pending: Array<Promise<unknown>> = [];
    for (let i = 0; i < 2500; i++) pending.push(mail.append(inbox.id, { content: Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`) }));
    await Promise.all(pending);
    await mail.append(other.id, { content: Buffer.from('Subject: o\r\n\r\ny\r\n') });

    const steps: Array<[string, () => Promise<unknown>]> = [
      ['flags', () => mail.updateFlags(inbox.id, [3, 400, 2500], 'add', ['\\Flagged', '$Kw'])],
      ['append', () => mail.append(inbox.id, { content: Buffer.from('Subject: new\r\n\r\nz\r\n'), flags: ['\\Seen'] })],
      ['expunge', async () => {
        await mail.updateFlags(inbox.id, [5, 6, 2501], 'add', ['\\Deleted']);
        return mail.expunge(inbox.id);
      }],
      ['copy in', () => mail.copy(other.id, [1], inbox.id)],
      ['move out', () => mail.move(inbox.id, [10, 11], other.id)],
      ['remove flags', () => mail.updateFlags(inbox.id, [3], 'remove', ['\\Flagged'])],
    ];
    let previous = await mail.snapshot(inbox.id);
    assert.equal(previous.messages.length, 2500);
    for (const [name, step] of steps) {
      await step();
      const cached = await mail.snapshot(inbox.id);
      // A second store on a copy would be locked out; reopen the same one to read without the cache.
      await store.close();
      store = await SqliteStore.open({ directory: dir });
      mail = await store.open('alice');
      const fresh = await mail.snapshot(inbox.id);
      assert.deepEqual(cached.messages, fresh.messages, `after ${name}`);
      assert.equal(cached.highestModseq, fresh.highestModseq, `after ${name}`);
      assert.notDeepEqual(cached.messages, previous.messages, `${name} changed something`);
      previous = fresh;
      await mail.snapshot(inbox.id); // warm the new store's cache for the next step
    }
    const last = previous.messages;
    assert.ok(!last.some((m) => [5, 6, 10, 11, 2501].includes(m.uid)));
    assert.deepEqual(last.find((m) => m.uid === 3)!.flags, ['$Kw']);
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
