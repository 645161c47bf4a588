/**
 * SqliteStore keeps the STATUS sums of a mailbox while its row is unchanged (mailbox-status.ts,
 * StatusSums). Whatever happens in between — appends, flag changes either way, expunges, copies and
 * moves in and out, \Recent claims, RENAME of INBOX, DELETE and a new mailbox — STATUS must equal a
 * count of the message rows themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import type { MailboxStatus } from '../../src/store/types.js';

/** The store's own connection (it holds the database's exclusive lock), for reading the rows directly. */
const dbOf = (store: SqliteStore): Database => (store as unknown as { ctx: { db: Database } }).ctx.db;

/** messages, unseen, size and recent as the message rows say, counted here rather than by the store. */
function truth(db: Database, mailboxId: string): Pick<MailboxStatus, 'messages' | 'unseen' | 'size' | 'recent'> {
  const box = db.prepare('SELECT recent_uid FROM mailboxes WHERE id = ?').get(Number(mailboxId)) as { recent_uid: number };
  const rows = db.prepare('SELECT uid, flags, size FROM messages WHERE mailbox_id = ?').all(Number(mailboxId)) as Array<{ uid: number; flags: string; size: number }>;
  return {
    messages: rows.length,
    unseen: rows.filter((r) => !r.flags.split(' ').includes('\\Seen')).length,
    size: rows.reduce((n, r) => n + r.size, 0),
    recent: rows.filter((r) => r.uid >= box.recent_uid).length,
  };
}

const counts = (s: MailboxStatus): Pick<MailboxStatus, 'messages' | 'unseen' | 'size' | 'recent'> => ({ messages: s.messages, unseen: s.unseen, size: s.size, recent: s.recent });

test('STATUS stays exact across every kind of write while its sums are kept', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-statuscache-'));
  const store = await SqliteStore.open({ directory: dir });
  try {
    const mail = await store.open('alice');
    const inbox = await mail.get('INBOX');
    const other = await mail.create('Other');
    for (let i = 0; i < 20; i++) await mail.append(inbox.id, { content: Buffer.from(`Subject: ${i}\r\n\r\n${'x'.repeat(i)}\r\n`), flags: i % 3 ? ['\\Seen'] : [] });
    await mail.append(other.id, { content: Buffer.from('Subject: o\r\n\r\ny\r\n') });

    const steps: Array<[string, () => Promise<unknown>]> = [
      ['nothing', async () => undefined],
      ['seen added', () => mail.updateFlags(inbox.id, [1, 4], 'add', ['\\Seen'])],
      ['seen removed', () => mail.updateFlags(inbox.id, [2, 3], 'remove', ['\\Seen'])],
      ['seen replaced', () => mail.updateFlags(inbox.id, [5], 'set', ['\\Flagged'])],
      ['keyword only', () => mail.updateFlags(inbox.id, [6], 'add', ['$Kw'])],
      ['append', () => mail.append(inbox.id, { content: Buffer.from('Subject: new\r\n\r\nzz\r\n') })],
      ['recent claimed', () => mail.claimRecent(inbox.id)],
      ['expunge', async () => {
        await mail.updateFlags(inbox.id, [7, 8], 'add', ['\\Deleted']);
        return mail.expunge(inbox.id);
      }],
      ['copy in', () => mail.copy(other.id, [1], inbox.id)],
      ['move out', () => mail.move(inbox.id, [9, 10], other.id)],
    ];
    for (const [name, step] of steps) {
      await step();
      // Twice: the first may count, the second is answered from the kept sums.
      for (const round of ['first', 'kept']) {
        assert.deepEqual(counts(await mail.status(inbox.id)), truth(dbOf(store), inbox.id), `INBOX after ${name} (${round})`);
        assert.deepEqual(counts(await mail.status(other.id)), truth(dbOf(store), other.id), `Other after ${name} (${round})`);
      }
    }

    // RENAME INBOX: its messages move to a new mailbox and INBOX stays, empty.
    await mail.status(inbox.id);
    await mail.rename('INBOX', 'Old');
    const old = await mail.get('Old');
    assert.deepEqual(counts(await mail.status(inbox.id)), truth(dbOf(store), inbox.id), 'INBOX after RENAME INBOX');
    assert.equal((await mail.status(inbox.id)).messages, 0);
    assert.deepEqual(counts(await mail.status(old.id)), truth(dbOf(store), old.id), 'the renamed INBOX');

    // DELETE and a new mailbox (which may get the same row id): never the old one's sums.
    await mail.status(other.id);
    await mail.delete('Other');
    const again = await mail.create('Other');
    assert.deepEqual(counts(await mail.status(again.id)), { messages: 0, unseen: 0, size: 0, recent: 0 }, 'a new mailbox after DELETE');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('STATUS of a written mailbox is caught up from its changes, and counted afresh once the expunged log was pruned past its sums', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-statuscatch-'));
  // A tiny log: the expunges below prune it past the kept sums (expunged_pruned_modseq moves).
  const store = await SqliteStore.open({ directory: dir, limits: { expungedRetention: 1 } });
  try {
    const mail = await store.open('bob');
    const inbox = await mail.get('INBOX');
    for (let i = 0; i < 200; i++) await mail.append(inbox.id, { content: Buffer.from(`Subject: ${i}\r\n\r\n${'y'.repeat(i % 7)}\r\n`), flags: i % 2 ? ['\\Seen'] : [] });
    let uid = 1;
    for (let round = 0; round < 12; round++) {
      // Flags both ways, an append, and an expunge of a few (more than the log keeps, some rounds).
      await mail.updateFlags(inbox.id, [uid + 1, uid + 3], 'remove', ['\\Seen']);
      await mail.updateFlags(inbox.id, [uid + 2], 'add', ['\\Seen', '$Kw']);
      await mail.append(inbox.id, { content: Buffer.from(`Subject: r${round}\r\n\r\nz\r\n`) });
      // Round 5 expunges 70 at once: past the log's bound of 1 + 64 rows, so it is pruned.
      const doomed = round === 5 ? Array.from({ length: 70 }, (_, i) => 110 + i) : round % 3 === 0 ? [uid, uid + 4, uid + 5, uid + 6] : [uid];
      await mail.updateFlags(inbox.id, doomed, 'add', ['\\Deleted']);
      await mail.expunge(inbox.id, doomed);
      if (round % 4 === 1) await mail.claimRecent(inbox.id);
      uid += 7;
      assert.deepEqual(counts(await mail.status(inbox.id)), truth(dbOf(store), inbox.id), `round ${round}`);
    }
    const pruned = dbOf(store).prepare('SELECT expunged_pruned_modseq FROM mailboxes WHERE id = ?').pluck().get(Number(inbox.id)) as number;
    assert.ok(pruned > 0, 'the log was pruned');
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
});
