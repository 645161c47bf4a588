/**
 * Schema v25: messages_deleted, a partial index of the \Deleted messages, from which EXPUNGE reads
 * the rows it removes instead of testing every row's flags. The index must hold exactly the
 * \Deleted rows through every way flags change (APPEND with \Deleted, STORE +/-/replace, COPY,
 * EXPUNGE), EXPUNGE must use it, and a database from v24 gets it at its next open with the
 * \Deleted messages it already had. Also: EXPUNGE skips the delete of private \Seen rows while none
 * exists (any-rows.ts), and must not go on skipping once some were written.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/index.js';
import { DELETED_TEST } from '../../src/store/sqlite/schema.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-sqlite-deleted-index-');

const mail = (i: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: deleted ${i}\r\n\r\nBody ${i}.\r\n`);

/** The UIDs in the index and those whose flags say \Deleted, per mailbox id, read from the file. */
function indexAgainstFlags(dir: string): { indexed: Record<number, number[]>; flagged: Record<number, number[]>; plan: string } {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    const group = (rows: Array<{ mailbox_id: number; uid: number }>): Record<number, number[]> => {
      const out: Record<number, number[]> = {};
      for (const r of rows) (out[r.mailbox_id] ??= []).push(r.uid);
      return out;
    };
    const indexed = group(db.prepare(`SELECT mailbox_id, uid FROM messages INDEXED BY messages_deleted WHERE ${DELETED_TEST} ORDER BY mailbox_id, uid`).all() as never);
    const flagged = group(db.prepare("SELECT mailbox_id, uid FROM messages NOT INDEXED WHERE ' ' || flags || ' ' LIKE '% \\Deleted %' ORDER BY mailbox_id, uid").all() as never);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN SELECT uid, content_id, size FROM messages INDEXED BY messages_deleted WHERE mailbox_id = ? AND ${DELETED_TEST} ORDER BY uid`).all(1) as Array<{ detail: string }>)
      .map((r) => r.detail)
      .join('; ');
    return { indexed, flagged, plan };
  } finally {
    db.close();
  }
}

describe('SQLite schema v25: the \\Deleted messages in a partial index', () => {
  it('holds exactly the \\Deleted rows through APPEND, STORE, COPY and EXPUNGE, and EXPUNGE removes just them', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const other = await u.create('Other');
    const appended = await u.appendMany!(
      inbox.id,
      Array.from({ length: 30 }, (_, i) => ({ content: mail(i), flags: i % 10 === 0 ? ['\\Deleted', '\\Seen'] : i % 10 === 1 ? ['\\Seen'] : [] })),
    );
    const uids = appended.map((a) => a.uid);
    // +FLAGS on some, -FLAGS on one appended \Deleted, FLAGS (set) both ways, a keyword that only looks alike.
    await u.updateFlags(inbox.id, uids.slice(2, 6), 'add', ['\\Deleted']);
    await u.updateFlags(inbox.id, [uids[10]!], 'remove', ['\\Deleted']);
    await u.updateFlags(inbox.id, [uids[7]!], 'set', ['\\Deleted', '\\Flagged']);
    await u.updateFlags(inbox.id, [uids[5]!], 'set', ['\\Answered']);
    await u.updateFlags(inbox.id, [uids[8]!], 'add', ['Deleted', '$NotDeleted']);
    await u.copy(inbox.id, uids.slice(0, 8), other.id);
    await store.close();

    const deletedInbox = [uids[0]!, uids[2]!, uids[3]!, uids[4]!, uids[7]!, uids[20]!];
    let seen = indexAgainstFlags(dir);
    assert.deepEqual(seen.indexed, seen.flagged, 'the index holds the \\Deleted rows, no more, no fewer');
    assert.deepEqual(seen.indexed[Number(inbox.id)], deletedInbox);
    assert.equal(seen.indexed[Number(other.id)]?.length, 5, 'COPY carried the flags, and the index with them');
    assert.match(seen.plan, /USING (COVERING )?INDEX messages_deleted/);

    const again = await SqliteStore.open({ directory: dir });
    const v = await again.open('alice');
    // EXPUNGE naming every message (the index path), then a UID EXPUNGE of a few (each looked up).
    assert.deepEqual(await v.expunge(inbox.id, uids), deletedInbox);
    assert.deepEqual(await v.expunge(inbox.id, uids), [], 'nothing \\Deleted is left');
    const otherUids = (await v.snapshot(other.id)).messages.map((m) => m.uid);
    await v.updateFlags(other.id, otherUids.slice(1, 3), 'remove', ['\\Deleted']);
    const stillDeleted = otherUids.filter((_, i) => [0, 3, 4, 7].includes(i));
    assert.deepEqual(await v.expunge(other.id, [otherUids[0]!, otherUids[1]!]), [otherUids[0]!], 'only the named \\Deleted one');
    assert.deepEqual(await v.expunge(other.id, undefined), stillDeleted.slice(1));
    const left = (await v.snapshot(inbox.id)).messages;
    assert.equal(left.length, 30 - deletedInbox.length);
    assert.ok(left.every((m) => !m.flags.includes('\\Deleted')));
    await again.close();
    seen = indexAgainstFlags(dir);
    assert.deepEqual(seen.indexed, {});
    assert.deepEqual(seen.flagged, {});
  });

  it('EXPUNGE naming most of the mailbox removes exactly the named \\Deleted ones, whatever the order or repeats of the names', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      const uids = (await u.appendMany!(inbox.id, Array.from({ length: 40 }, (_, i) => ({ content: mail(i), flags: i % 3 === 0 ? ['\\Deleted'] : [] })))).map((a) => a.uid);
      const deleted = uids.filter((_, i) => i % 3 === 0);
      // Highest first, as the IMAP EXPUNGE names them, one \Deleted message left out and some named twice:
      // the candidates are most of the mailbox, so the store reads the \Deleted rows and keeps the named.
      const leftOut = deleted[4]!;
      const named = [...uids.filter((uid) => uid !== leftOut).reverse(), deleted[0]!, uids[1]!, deleted[7]!];
      const expected = deleted.filter((uid) => uid !== leftOut);
      assert.deepEqual(await u.expunge(inbox.id, named), expected, 'the named \\Deleted ones, ascending, each once');
      assert.deepEqual(
        (await u.snapshot(inbox.id)).messages.map((m) => m.uid),
        uids.filter((uid) => !expected.includes(uid)),
        'everything else stays, the \\Deleted one nobody named included',
      );
      assert.deepEqual(await u.expunge(inbox.id, named), [], 'nothing named is \\Deleted any more');
    } finally {
      await store.close();
    }
  });

  it('is built for a database from v24 with the \\Deleted messages it had', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    let u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const appended = await u.appendMany!(inbox.id, Array.from({ length: 12 }, (_, i) => ({ content: mail(i), flags: i % 4 === 0 ? ['\\Deleted'] : [] })));
    await store.close();
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    db.exec('DROP INDEX messages_deleted; DROP TABLE released_files; DROP TABLE file_installs; UPDATE schema_version SET version = 24');
    db.close();

    store = await SqliteStore.open({ directory: dir });
    await store.close();
    const seen = indexAgainstFlags(dir);
    const deleted = appended.filter((_, i) => i % 4 === 0).map((a) => a.uid);
    assert.deepEqual(seen.indexed[Number(inbox.id)], deleted);
    const check = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(check.prepare('SELECT version FROM schema_version').pluck().get(), SQLITE_SCHEMA_VERSION);
    check.close();

    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    assert.deepEqual(await u.expunge(inbox.id, appended.map((a) => a.uid)), deleted);
    await store.close();
  });
});

describe('SQLite EXPUNGE and private \\Seen rows', () => {
  it('deletes private \\Seen rows written after an EXPUNGE found none (the "no rows" answer is not kept past an insert)', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      const uids = (await u.appendMany!(inbox.id, Array.from({ length: 4 }, (_, i) => ({ content: mail(i) })))).map((a) => a.uid);
      // An EXPUNGE while no private \Seen row exists anywhere: the store remembers "none".
      await u.updateFlags(inbox.id, [uids[0]!], 'add', ['\\Deleted']);
      assert.deepEqual(await u.expunge(inbox.id), [uids[0]!]);
      // bob's own \Seen of two messages, then both expunged: his rows go with them.
      await u.setPrivateSeen!(inbox.id, 'bob', [uids[1]!, uids[2]!], true);
      assert.deepEqual((await u.privateSeen!(inbox.id, 'bob')).map((r) => r.uid), [uids[1]!, uids[2]!]);
      await u.updateFlags(inbox.id, [uids[1]!, uids[2]!], 'add', ['\\Deleted']);
      assert.deepEqual(await u.expunge(inbox.id), [uids[1]!, uids[2]!]);
      assert.deepEqual(await u.privateSeen!(inbox.id, 'bob'), []);
    } finally {
      await store.close();
    }
    // Not only hidden: the rows are gone from the file (privateSeen lists rows of messages still there).
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(db.prepare('SELECT count(*) FROM private_seen').pluck().get(), 0);
    db.close();
  });
});
