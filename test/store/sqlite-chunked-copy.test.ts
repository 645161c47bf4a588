/**
 * A large COPY in the SQLite store runs as several transactions (src/store/sqlite/chunked-copy.ts)
 * and stays all-or-nothing: a failure part-way removes the chunks already written, and what a
 * crash left behind is removed at the next open. UIDs the removed chunks took are never reused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Database } from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { COPY_CHUNK } from '../../src/store/sqlite/chunked-copy.js';
import type { UserMailbox } from '../../src/store/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-chunked-copy-');
const MESSAGES = COPY_CHUNK * 2 + 100; // three chunks

/** The store's connection, to inject faults with TEMP triggers (they vanish when it closes). */
const dbOf = (store: SqliteStore): Database => (store as unknown as { ctx: { db: Database } }).ctx.db;

async function seeded(dir: string) {
  const store = await SqliteStore.open({ directory: dir });
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  await Promise.all(Array.from({ length: MESSAGES }, (_, i) => u.append(inbox.id, { content: Buffer.from(`Subject: m${i}\r\n\r\nbody ${i}\r\n`), flags: i % 2 ? ['\\Seen'] : [] })));
  const target = await u.create('Target');
  return { store, u, inbox, target };
}

const uidsOf = async (u: UserMailbox, id: string): Promise<number[]> => (await u.snapshot(id)).messages.map((m) => m.uid);
const pending = (store: SqliteStore): number => dbOf(store).prepare('SELECT count(*) FROM copies_in_progress').pluck().get() as number;

/** Makes the insert of target UID `uid` fail, as a full disk would. */
function failInsertAt(store: SqliteStore, uid: number): void {
  dbOf(store).exec(`CREATE TEMP TRIGGER fail_copy BEFORE INSERT ON messages WHEN NEW.uid = ${uid} AND NEW.mailbox_id <> (SELECT min(id) FROM mailboxes) BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
}

describe('SqliteStore: a large COPY in chunks', () => {
  it('copies every message in source order with ascending UIDs and leaves no record behind', async () => {
    const { store, u, inbox, target } = await seeded(tempDir());
    try {
      const source = await uidsOf(u, inbox.id);
      const result = await u.copy(inbox.id, source, target.id);
      assert.deepEqual(result.mapping.map(([s]) => s), source);
      assert.deepEqual(result.mapping.map(([, d]) => d), source.map((_, i) => i + 1));
      assert.deepEqual(await uidsOf(u, target.id), source.map((_, i) => i + 1));
      const seen = (await u.snapshot(target.id)).messages.filter((m) => m.flags.includes('\\Seen')).length;
      assert.equal(seen, MESSAGES / 2);
      assert.equal(pending(store), 0);
    } finally {
      await store.close();
    }
  });

  it('a chunk that fails removes the chunks before it; their UIDs are not reused', async () => {
    const { store, u, inbox, target } = await seeded(tempDir());
    try {
      const heard: string[] = [];
      const stop = store.watch('alice', (change) => {
        if ('mailboxId' in change && change.mailboxId === target.id) heard.push(`${change.kind}:${'uids' in change ? change.uids.length : 0}`);
      });
      failInsertAt(store, COPY_CHUNK * 2 + 1); // the first message of the third chunk
      await assert.rejects(u.copy(inbox.id, await uidsOf(u, inbox.id), target.id), /injected failure/);
      stop();
      assert.deepEqual(await uidsOf(u, target.id), [], 'the destination is as before the COPY');
      assert.equal(pending(store), 0);
      assert.deepEqual(heard, [`exists:${COPY_CHUNK}`, `exists:${COPY_CHUNK}`, `expunge:${COPY_CHUNK}`, `expunge:${COPY_CHUNK}`]);
      dbOf(store).exec('DROP TRIGGER fail_copy');
      const next = await u.append(target.id, { content: Buffer.from('Subject: after\r\n\r\nx\r\n') });
      assert.ok(next.uid > COPY_CHUNK * 2, `UID ${next.uid} was handed out before`);
    } finally {
      await store.close();
    }
  });

  it('what an interrupted COPY wrote is removed at the next open (as after kill -9)', async () => {
    const dir = tempDir();
    const { store, u, inbox, target } = await seeded(dir);
    failInsertAt(store, COPY_CHUNK * 2 + 1);
    // The rollback fails too, so the chunks stay — the state a crash between chunks leaves.
    dbOf(store).exec(`CREATE TEMP TRIGGER fail_rollback BEFORE DELETE ON messages BEGIN SELECT RAISE(ABORT, 'injected rollback failure'); END`);
    await assert.rejects(u.copy(inbox.id, await uidsOf(u, inbox.id), target.id), /injected failure/);
    assert.equal((await uidsOf(u, target.id)).length, COPY_CHUNK * 2);
    assert.equal(pending(store), 2);
    await store.close();

    const again = await SqliteStore.open({ directory: dir });
    try {
      const u2 = await again.open('alice');
      const box = await u2.get('Target');
      assert.deepEqual(await uidsOf(u2, box.id), [], 'nothing of the unfinished COPY is left');
      assert.equal(pending(again), 0);
      assert.equal((await uidsOf(u2, (await u2.get('INBOX')).id)).length, MESSAGES, 'the source is untouched');
      const next = await u2.append(box.id, { content: Buffer.from('Subject: after\r\n\r\nx\r\n') });
      assert.ok(next.uid > COPY_CHUNK * 2, `UID ${next.uid} was handed out before`);
    } finally {
      await again.close();
    }
  });
});
