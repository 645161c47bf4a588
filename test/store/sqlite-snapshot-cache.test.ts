/**
 * The SELECT snapshot cache of SqliteStore must always equal what a fresh read of the database
 * says, whatever happened in between: appends, flag changes, expunges, copies in, a reopen.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MessageMeta } from '../../src/store/types.js';

/** What the message rows say, read straight from the database file (the store must be closed). */
function truth(dir: string, mailboxId: string): MessageMeta[] {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT uid, flags, modseq FROM messages WHERE mailbox_id = ? ORDER BY uid').all(Number(mailboxId)) as Array<{ uid: number; flags: string; modseq: number }>;
    return rows.map((r) => ({ uid: r.uid, flags: r.flags === '' ? [] : r.flags.split(' '), modseq: r.modseq }));
  } finally {
    db.close();
  }
}

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
      // Closing saves the snapshot; the reopened store starts from that saved copy.
      await store.close();
      assert.deepEqual(cached.messages, truth(dir, inbox.id), `after ${name}`);
      store = await SqliteStore.open({ directory: dir });
      mail = await store.open('alice');
      const fresh = await mail.snapshot(inbox.id);
      assert.deepEqual(fresh.messages, cached.messages, `after ${name}, from the saved snapshot`);
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

test('a stale saved snapshot (the server was killed after changes) is brought up to date, never trusted as is', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-snapsave-'));
  try {
    let store = await SqliteStore.open({ directory: dir });
    let mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    await Promise.all(Array.from({ length: 2200 }, (_, i) => mail.append(inbox.id, { content: Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`) })));
    await store.close();
    const copy = (): Record<string, unknown> => {
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT * FROM mailbox_snapshots WHERE mailbox_id = ?').get(Number(inbox.id)) as Record<string, unknown>;
      } finally {
        db.close();
      }
    };
    const stale = copy();
    assert.ok(stale, 'closing saved the snapshot of the large mailbox');
    assert.equal(stale.count, 2200);

    const cases: Array<[string, (m: typeof mail) => Promise<unknown>]> = [
      ['flags', (m) => m.updateFlags(inbox.id, [1, 2000], 'add', ['\\Answered'])],
      ['append', (m) => m.append(inbox.id, { content: Buffer.from('Subject: later\r\n\r\ny\r\n'), flags: ['$Late'] })],
      ['expunge', async (m) => {
        await m.updateFlags(inbox.id, [7], 'add', ['\\Deleted']);
        return m.expunge(inbox.id, [7]);
      }],
    ];
    for (const [name, change] of cases) {
      store = await SqliteStore.open({ directory: dir });
      mail = await store.open('alice');
      await change(mail);
      await store.close();
      // Put the old saved snapshot back, as if the server had been killed before saving a new one.
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
      db.prepare('UPDATE mailbox_snapshots SET highest_modseq = ?, count = ?, uids = ?, modseqs = ?, flag_sets = ?, flag_refs = ? WHERE mailbox_id = ?')
        .run(stale.highest_modseq, stale.count, stale.uids, stale.modseqs, stale.flag_sets, stale.flag_refs, Number(inbox.id));
      db.close();
      const expected = truth(dir, inbox.id);
      store = await SqliteStore.open({ directory: dir });
      mail = await store.open('alice');
      assert.deepEqual((await mail.snapshot(inbox.id)).messages, expected, `after ${name}`);
      await store.close();
    }
    const final = truth(dir, inbox.id);
    assert.equal(final.length, 2200);
    assert.deepEqual(final.find((m) => m.uid === 2000)!.flags, ['\\Answered']);
    assert.deepEqual(final.at(-1)!.flags, ['$Late']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a SELECT snapshot read fresh gives each message its own flag set among many alike (sets compared in place)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-snapcache-'));
  try {
    // More distinct sets than the scan compares in place (16), several of one length differing in one
    // character, one a prefix of another, and the empty set — interleaved, so no run of one set helps.
    const sets: string[][] = [[], ['\\Seen'], ['\\Seen', '\\Flagged'], ['\\Seen', '\\Flagged', '$a'], ['\\Seen', '\\Flagged', '$b']];
    for (let i = 0; i < 20; i++) sets.push([`$k${String(i).padStart(2, '0')}`], ['\\Seen', `$k${String(i).padStart(2, '0')}`]);
    let store = await SqliteStore.open({ directory: dir });
    let mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    await mail.appendMany!(
      inbox.id,
      Array.from({ length: 300 }, (_, i) => ({ content: Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`), flags: sets[(i * 7) % sets.length]! })),
    );
    await store.close();
    const expected = truth(dir, inbox.id);
    assert.ok(new Set(expected.map((m) => m.flags.join(' '))).size > 40, 'the mailbox holds the many sets');
    store = await SqliteStore.open({ directory: dir });
    mail = await store.open('alice');
    const snapshot = await mail.snapshot(inbox.id);
    assert.deepEqual(
      snapshot.messages.map((m) => ({ uid: m.uid, flags: [...m.flags], modseq: m.modseq })),
      expected,
    );
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a mailbox of 600 messages is kept in memory (not saved at close) and caught up exactly across flag changes, appends and expunges', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-snapcache-'));
  try {
    let store = await SqliteStore.open({ directory: dir });
    let mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    await mail.appendMany!(inbox.id, Array.from({ length: 600 }, (_, i) => ({ content: Buffer.from(`Subject: ${i}\r\n\r\nx\r\n`) })));
    const steps: Array<[string, () => Promise<unknown>]> = [
      ['flags', () => mail.updateFlags(inbox.id, [1, 300, 600], 'add', ['\\Seen', '$Kw'])],
      ['append', () => mail.append(inbox.id, { content: Buffer.from('Subject: new\r\n\r\nz\r\n'), flags: ['\\Draft'] })],
      ['expunge first, middle and last', async () => {
        await mail.updateFlags(inbox.id, [1, 250, 251, 601], 'add', ['\\Deleted']);
        return mail.expunge(inbox.id);
      }],
      ['append and expunge at once', async () => {
        await mail.append(inbox.id, { content: Buffer.from('Subject: late\r\n\r\nz\r\n') });
        await mail.updateFlags(inbox.id, [2, 599], 'add', ['\\Deleted']);
        return mail.expunge(inbox.id);
      }],
    ];
    await mail.snapshot(inbox.id); // kept from here on
    for (const [name, step] of steps) {
      await step();
      const caughtUp = await mail.snapshot(inbox.id);
      const again = await mail.snapshot(inbox.id); // unchanged: the kept copy as is
      await store.close();
      const expected = truth(dir, inbox.id);
      assert.deepEqual(
        caughtUp.messages.map((m) => ({ uid: m.uid, flags: [...m.flags], modseq: m.modseq })),
        expected,
        `after ${name}`,
      );
      assert.deepEqual(again.messages, caughtUp.messages, `after ${name}, read twice`);
      assert.notEqual(again.messages, caughtUp.messages, 'each caller gets its own list');
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
      try {
        assert.equal(db.prepare('SELECT COUNT(*) FROM mailbox_snapshots').pluck().get(), 0, 'a mailbox this small is not saved at close');
      } finally {
        db.close();
      }
      store = await SqliteStore.open({ directory: dir });
      mail = await store.open('alice');
      await mail.snapshot(inbox.id); // read in full again and kept, for the next step
    }
    await store.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
