/**
 * Schema v24, fewer pages per message commit. RFC 8970 previews move from content_preview into
 * content_structures.preview, in steps of PREVIEW_FOLD_STEP; quota usage moves from quota_usage
 * (one row per user) into the mailbox rows, counted from the messages in steps of
 * USAGE_FOLD_STEP messages. A database upgraded from v22 (no v23 on SQLite's list at the time)
 * answers FETCH PREVIEW (LAZY and not) as before, a preview never computed stays NULL until asked
 * for, a database a crash left between two steps is finished at the next open, and the old table
 * is dropped with the last step. New messages write no content_preview row (the point: one WAL
 * page fewer per delivery).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/index.js';
import { PREVIEW_FOLD_STEP, previewFoldStep, startPreviewFold } from '../../src/store/sqlite/preview-fold.js';
import { USAGE_FOLD_MARK, USAGE_FOLD_STEP, startUsageFold, usageFoldStep } from '../../src/store/sqlite/usage-fold.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { undoV23 } from '../helpers/undo-v23.js';
import { undoV24 } from '../helpers/undo-v24.js';

const tempDir = tempDirs('postroom-sqlite-preview-fold-');

const mail = (i: number): Buffer => Buffer.from(`From: a@example.org\r\nSubject: fold ${i}\r\n\r\nPreview text of message ${i}.\r\n`);

async function seed(dir: string, count: number): Promise<void> {
  const store = await SqliteStore.open({ directory: dir });
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  await u.appendMany!(inbox.id, Array.from({ length: count }, (_, i) => ({ content: mail(i) })));
  await store.close();
}

/** The database as v22 code left it: previews in content_preview, usage in quota_usage, one URLAUTH key per mailbox, version 22. */
function rollBackTo22(dir: string, withoutPreview: number[] = []): void {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
  try {
    undoV24(db);
    undoV23(db);
    // A content from before v17 has no preview row until a FETCH PREVIEW computes one.
    for (const id of withoutPreview) db.prepare('DELETE FROM content_preview WHERE content_id = ?').run(id);
    db.exec('UPDATE schema_version SET version = 22');
  } finally {
    db.close();
  }
}

function inspect(dir: string): { version: number; table: boolean; previews: Array<string | null> } {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    return {
      version: db.prepare('SELECT version FROM schema_version').pluck().get() as number,
      table: db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'content_preview'").pluck().get() === 1,
      previews: db.prepare('SELECT preview FROM content_structures ORDER BY content_id').pluck().all() as Array<string | null>,
    };
  } finally {
    db.close();
  }
}

describe('SQLite schema v24: previews folded into content_structures', () => {
  it('upgrades a v22 database: previews move, one never computed stays NULL until asked for, the old table goes', async () => {
    const dir = tempDir();
    await seed(dir, 3);
    rollBackTo22(dir, [2]);
    {
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
      assert.equal(db.prepare('SELECT count(*) FROM content_preview').pluck().get(), 2);
      assert.throws(() => db.prepare('SELECT preview FROM content_structures'), /no such column/);
      db.close();
    }
    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      const lazy = await u.messageExtras!(inbox.id, [1, 2, 3], { preview: 'stored' });
      assert.deepEqual(lazy.map((e) => e.preview), ['Preview text of message 0.', null, 'Preview text of message 2.']);
      const computed = await u.messageExtras!(inbox.id, [2], { preview: 'compute' });
      assert.equal(computed[0]!.preview, 'Preview text of message 1.');
      // Appended after the upgrade: its preview is in its structure row at once.
      const { uid } = await u.append(inbox.id, { content: mail(3) });
      assert.equal((await u.messageExtras!(inbox.id, [uid], { preview: 'stored' }))[0]!.preview, 'Preview text of message 3.');
    } finally {
      await store.close();
    }
    assert.deepEqual(inspect(dir), {
      version: SQLITE_SCHEMA_VERSION,
      table: false,
      previews: [0, 1, 2, 3].map((i) => `Preview text of message ${i}.`),
    });
  });

  it('works in steps, and a database a crash left between two steps is finished at the next open', async () => {
    const dir = tempDir();
    const count = PREVIEW_FOLD_STEP + 150;
    await seed(dir, count);
    rollBackTo22(dir);
    // v24 and one step, as migrate() runs them, then the process dies (the database is closed).
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    db.transaction(() => {
      startPreviewFold(db);
      startUsageFold(db);
      db.exec('UPDATE schema_version SET version = 24');
    }).immediate();
    assert.equal(db.transaction(() => previewFoldStep(db)).immediate(), true);
    assert.equal(db.prepare('SELECT count(*) FROM content_preview').pluck().get(), 150, 'one step moved PREVIEW_FOLD_STEP previews');
    db.close();
    const part = inspect(dir);
    assert.equal(part.previews.filter((p) => p !== null).length, PREVIEW_FOLD_STEP);
    assert.equal(part.previews[PREVIEW_FOLD_STEP], null, 'the rest is still in the old table');

    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      const last = await u.messageExtras!(inbox.id, [count], { preview: 'stored' });
      assert.equal(last[0]!.preview, `Preview text of message ${count - 1}.`);
    } finally {
      await store.close();
    }
    const done = inspect(dir);
    assert.equal(done.table, false);
    assert.equal(done.previews.length, count);
    assert.ok(done.previews.every((p, i) => p === `Preview text of message ${i}.`));
  });

  it('a new message writes its preview with its structure: no content_preview table, one row per content', async () => {
    const dir = tempDir();
    await seed(dir, 2);
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    try {
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'content_preview'").pluck().get(), 0);
      assert.equal(db.prepare('SELECT count(*) FROM content_structures WHERE preview IS NOT NULL').pluck().get(), 2);
    } finally {
      db.close();
    }
  });
});

describe('SQLite schema v24: quota usage in the mailbox rows', () => {
  it('upgrades a v22 database: usage per mailbox from its messages, none for a mailbox being purged; quota_usage goes', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    const alice = await store.open('alice');
    const inbox = await alice.get('INBOX');
    await alice.create('Work');
    await alice.create('Old');
    const work = await alice.get('Work');
    const old = await alice.get('Old');
    await alice.appendMany!(inbox.id, [0, 1, 2].map((i) => ({ content: mail(i) })));
    await alice.appendMany!(work.id, [3, 4].map((i) => ({ content: mail(i) })));
    await alice.appendMany!(old.id, [5, 6, 7].map((i) => ({ content: mail(i) })));
    const bob = await store.open('bob');
    await bob.append((await bob.get('INBOX')).id, { content: mail(8) });
    const expected = (ids: number[]): { storage: number; messages: number } => ({ storage: ids.reduce((n, i) => n + mail(i).length, 0), messages: ids.length });
    await store.close();
    // As v22 left it, with Old deleted but its messages not purged yet (the process stopped first).
    rollBackTo22(dir);
    {
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
      db.prepare('INSERT INTO mailbox_purges (mailbox_id) VALUES (?)').run(Number(old.id));
      db.prepare("UPDATE mailboxes SET name = char(0) || id, noselect = 1 WHERE id = ?").run(Number(old.id));
      db.prepare('UPDATE quota_usage SET storage = ?, messages = ? WHERE user_id = (SELECT id FROM users WHERE name = ?)').run(expected([0, 1, 2, 3, 4]).storage, 5, 'alice');
      db.close();
    }
    store = await SqliteStore.open({ directory: dir });
    try {
      assert.deepEqual((await store.getQuota('alice')).usage, expected([0, 1, 2, 3, 4]));
      assert.deepEqual((await store.getQuota('bob')).usage, expected([8]));
      // Kept from then on: an APPEND adds, an EXPUNGE takes off.
      const a = await store.open('alice');
      const box = await a.get('Work');
      const { uid } = await a.append(box.id, { content: mail(9), flags: ['\\Deleted'] });
      assert.deepEqual((await store.getQuota('alice')).usage, expected([0, 1, 2, 3, 4, 9]));
      assert.deepEqual(await a.expunge(box.id, [uid]), [uid]);
      assert.deepEqual((await store.getQuota('alice')).usage, expected([0, 1, 2, 3, 4]));
    } finally {
      await store.close();
    }
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    try {
      assert.equal(db.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'quota_usage'").pluck().get(), 0);
      assert.equal(db.prepare('SELECT count(*) FROM meta WHERE key = ?').pluck().get(USAGE_FOLD_MARK), 0, 'the mark goes with the last step');
    } finally {
      db.close();
    }
  });

  it('counts in steps of USAGE_FOLD_STEP messages (whole mailboxes), and a crash between two steps is finished at the next open', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    await u.create('A');
    await u.create('B');
    await store.close();
    const half = USAGE_FOLD_STEP / 2 + 10;
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    // Rows written directly (the store would take minutes for this many): one body, referenced
    // by every message of INBOX and A (half a step each, a little over) and three of B.
    const ids = db.prepare("SELECT id FROM mailboxes WHERE name IN ('INBOX', 'A', 'B') ORDER BY id").pluck().all() as number[];
    const counts = [half, half, 3];
    db.transaction(() => {
      db.prepare("INSERT INTO contents (id, sha256, size, refs, body, structure) VALUES (1, x'01', 100, ?, x'00', '')").run(2 * half + 3);
      const insert = db.prepare("INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size) VALUES (?, ?, 1, '', 1, 0, 100)");
      ids.forEach((id, i) => {
        for (let uid = 1; uid <= counts[i]!; uid++) insert.run(id, uid);
        db.prepare('UPDATE mailboxes SET uid_next = ? WHERE id = ?').run(counts[i]! + 1, id);
      });
    })();
    undoV24(db);
    undoV23(db);
    db.exec('UPDATE schema_version SET version = 22');
    // v24 and one step, then the process dies.
    db.transaction(() => {
      startPreviewFold(db);
      startUsageFold(db);
      db.exec('UPDATE schema_version SET version = 24');
    }).immediate();
    assert.equal(db.transaction(() => previewFoldStep(db)).immediate(), false, 'no previews to move');
    assert.equal(db.transaction(() => usageFoldStep(db)).immediate(), true);
    const usage = (): number[] => db.prepare("SELECT usage_messages FROM mailboxes WHERE name IN ('INBOX', 'A', 'B') ORDER BY id").pluck().all() as number[];
    assert.deepEqual(usage(), [half, half, 0], 'one step counted whole mailboxes until USAGE_FOLD_STEP messages');
    assert.equal(db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(USAGE_FOLD_MARK), ids[1]! + 1);
    db.close();
    store = await SqliteStore.open({ directory: dir });
    try {
      assert.deepEqual((await store.getQuota('alice')).usage, { storage: 100 * (2 * half + 3), messages: 2 * half + 3 });
    } finally {
      await store.close();
    }
  });
});
