import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/index.js';
import { isStoreError } from '../../src/store/errors.js';
import type { MailboxChange } from '../../src/store/types.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { undoV24 } from '../helpers/undo-v24.js';
import { threadMessages } from '../../src/store/sort/thread.js';
import { plainSortable } from '../../src/store/sort/sort-data.js';
import { formatThreads } from '../../src/imap/search/thread-format.js';

const tempDir = tempDirs('postroom-sqlite-');

function message(subject: string, body = 'hello world', extra = ''): Buffer {
  return Buffer.from(`From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nSubject: ${subject}\r\nDate: Mon, 3 Jun 2024 10:00:00 +0200\r\n${extra}\r\n${body}\r\n`);
}

function countRows(dir: string, table: string): number {
  // The store holds an exclusive lock while open, so callers close it first.
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('SqliteStore durability settings', () => {
  it('runs in WAL mode with synchronous=NORMAL, checkpoints off the COMMIT path, and syncs the WAL for each acknowledged write', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    const before = store.durability();
    assert.deepEqual(
      { ...before, walSyncs: 0 },
      { journalMode: 'wal', synchronous: 'NORMAL', lockingMode: 'exclusive', walAutocheckpoint: 0, walSyncs: 0, checkpoints: 0 },
    );
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    await u.append(inbox.id, { content: message('one') });
    await u.updateFlags(inbox.id, [1], 'add', ['\\Seen']);
    assert.ok(store.durability().walSyncs >= before.walSyncs + 2, 'each write waited for a WAL sync');
    assert.ok(existsSync(join(dir, 'mail.sqlite-wal')));
    await store.close();
  });

  it('acknowledges a write only after the WAL sync that follows its commit', async () => {
    const dir = tempDir();
    // A syncer the test releases by hand: the stand-in for a slow disk.
    const gates: Array<() => void> = [];
    let hold = false;
    const walSyncer = (): Promise<void> => (hold ? new Promise<void>((r) => gates.push(r)) : Promise.resolve());
    const syncStarted = async (count = 1): Promise<void> => {
      for (let waited = 0; gates.length < count; waited += 1) {
        if (waited > 2000) throw new Error('no WAL sync was started');
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    // No checkpoint during the test: one would hold the writes back and take a gate of its own.
    const store = await SqliteStore.open({ directory: dir, walSyncer, inlineMax: 16, releasedFileGraceMs: 0, checkpoints: { intervalMs: 3_600_000 } });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const box = await u.create('Big');
    const changes: MailboxChange[] = [];
    store.watch('alice', (c) => changes.push(c));
    hold = true;

    let acked = false;
    const pending = u.append(inbox.id, { content: message('durable') }).then((r) => {
      acked = true;
      return r;
    });
    await syncStarted();
    // Committed (another reader sees the row) but neither acknowledged nor announced yet.
    assert.equal((await u.status(inbox.id)).messages, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(acked, false);
    assert.equal(changes.length, 0);
    // A flag change committed while the first sync runs (durability 'soon', docs/sqlite.md): its
    // own sync starts within flagSyncDelayMs (2 ms), and it is acknowledged behind the earlier
    // write, never before it, but without waiting for that sync of its own.
    let secondAcked = false;
    const second = u.updateFlags(inbox.id, [1], 'add', ['\\Flagged']).then(() => {
      secondAcked = true;
    });
    // Started while the first sync is still held: it did not wait for that one. (Waited for, not
    // timed: on a loaded machine 20 ms was once not enough for the 2 ms delay to fire.)
    await syncStarted(2);
    assert.equal(gates.length, 2, "the flag change's sync did not start while the first was held");
    assert.equal(secondAcked, false, 'a flag change was acknowledged before the earlier write');
    gates.shift()!();
    const result = await pending;
    assert.equal(result.uid, 1);
    await second;
    assert.equal(gates.length, 1, 'the flag change waited for its own sync');
    assert.deepEqual(
      changes.map((c) => c.kind),
      ['exists', 'flags'],
      'announced in commit order',
    );
    gates.shift()!();

    // Deleting a mailbox removes its message files only once the deletion is synced.
    // (inlineMax 16 keeps every body here as a file.)
    hold = false;
    const blobFiles = (): string[] => readdirSync(join(dir, 'blobs'), { recursive: true }).map(String).filter((n) => /[0-9a-f]{64}$/.test(n));
    const inboxFiles = blobFiles().length;
    await u.append(box.id, { content: message('big', 'x'.repeat(4096)) });
    assert.equal(blobFiles().length, inboxFiles + 1);
    hold = true;
    const deleting = u.delete('Big');
    await syncStarted();
    assert.equal(blobFiles().length, inboxFiles + 1, 'file kept while the deletion is not durable');
    gates.shift()!();
    await deleting;
    // DELETE answered; its messages are purged after it, in slices (mailbox-purge.ts), each of
    // which also removes files only once it is durable.
    await syncStarted();
    assert.equal(blobFiles().length, inboxFiles + 1, 'file kept while the purge slice is not durable');
    hold = false;
    gates.shift()!();
    await store.purged();
    assert.equal(blobFiles().length, inboxFiles);
    await store.close();
  });

  it("lets a flag change's WAL sync wait up to flagSyncDelayMs for the next durable write, whose sync covers both", async () => {
    // 60 s: no stall of a loaded machine lets the delay run out between the two writes.
    for (const flagSyncDelayMs of [60_000, 20, 0]) {
      const dir = tempDir();
      let syncs = 0;
      const walSyncer = (): Promise<void> => {
        syncs++;
        return Promise.resolve();
      };
      const store = await SqliteStore.open({ directory: dir, walSyncer, flagSyncDelayMs, checkpoints: { intervalMs: 3_600_000 } });
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      await u.append(inbox.id, { content: message('one') });
      // A STORE \Deleted and the EXPUNGE right after it, as clients send them.
      const before = syncs;
      await u.updateFlags(inbox.id, [1], 'add', ['\\Deleted']);
      await u.append(inbox.id, { content: message('two') });
      if (flagSyncDelayMs !== 20) assert.equal(syncs - before, flagSyncDelayMs > 0 ? 1 : 2, `delay ${flagSyncDelayMs}: WAL syncs for a flag change and the durable write after it`);
      if (flagSyncDelayMs === 60_000) {
        await store.close();
        continue;
      }
      // A flag change with nothing after it is synced once its delay runs out.
      const alone = syncs;
      await u.updateFlags(inbox.id, [2], 'add', ['\\Seen']);
      for (let waited = 0; syncs === alone && waited < 2_000; waited += 5) await new Promise((r) => setTimeout(r, 5));
      assert.equal(syncs, alone + 1, `delay ${flagSyncDelayMs}: the lone flag change was never synced`);
      await store.close();
    }
  });

  it('reports a failed WAL sync as a failed write, not as success', async () => {
    const dir = tempDir();
    let fail = false;
    const store = await SqliteStore.open({
      directory: dir,
      walSyncer: async () => {
        if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    fail = true;
    await assert.rejects(u.append(inbox.id, { content: message('lost?') }), /EIO/);
    fail = false;
    await u.append(inbox.id, { content: message('next') });
    await store.close();
  });

  it('keeps everything across close and reopen', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    let u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const a = await u.append(inbox.id, { content: message('one'), flags: ['\\Seen', '$Work'], internalDate: new Date('2024-01-02T03:04:05Z') });
    await store.close();
    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    const [rec] = await u.records(inbox.id, [a.uid]);
    assert.deepEqual(rec?.flags, ['\\Seen', '$Work']);
    assert.equal(rec?.internalDate.toISOString(), '2024-01-02T03:04:05.000Z');
    assert.deepEqual(await u.read(inbox.id, a.uid), message('one'));
    const st = await u.status(inbox.id);
    assert.equal(st.uidValidity, a.uidValidity);
    assert.equal(st.uidNext, a.uid + 1);
    await store.close();
  });
});

describe('SqliteStore content storage', () => {
  it('COPY and identical APPENDs share one stored body; the last expunge frees it', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const other = await u.create('Other');
    const a = await u.append(inbox.id, { content: message('shared') });
    await u.append(inbox.id, { content: message('shared') });
    await u.copy(inbox.id, [a.uid], other.id);
    await store.close();
    assert.equal(countRows(dir, 'contents'), 1);
    assert.equal(countRows(dir, 'messages'), 3);

    store = await SqliteStore.open({ directory: dir });
    const v = await store.open('alice');
    await v.updateFlags(inbox.id, [1, 2], 'add', ['\\Deleted']);
    await v.expunge(inbox.id);
    await v.delete('Other');
    await store.close();
    assert.equal(countRows(dir, 'contents'), 0);
  });

  it('a MULTIAPPEND of bytes stored already, whose last other copy is expunged before its write, parses them then and stores them again', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const old = await u.append(inbox.id, { content: message('known') });
    await u.updateFlags(inbox.id, [old.uid], 'add', ['\\Deleted']);
    let expunging: Promise<number[]> | undefined;
    // Asked for a third message, the inputs are done — and the last copy of 'known' is expunged:
    // its write is queued before the MULTIAPPEND's, which looked the bytes up and did not parse them.
    async function* inputs(): AsyncGenerator<{ content: Buffer }> {
      yield { content: message('known') };
      yield { content: message('new') };
      expunging = u.expunge(inbox.id);
    }
    const appended = await u.appendMany!(inbox.id, inputs());
    assert.deepEqual(await expunging, [old.uid]);
    assert.deepEqual(
      appended.map((r) => r.uid),
      [old.uid + 1, old.uid + 2],
    );
    const snapshot = await u.snapshot(inbox.id);
    assert.deepEqual(
      snapshot.messages.map((m) => m.uid),
      [old.uid + 1, old.uid + 2],
    );
    assert.deepEqual(await u.read(inbox.id, old.uid + 1), message('known'));
    assert.deepEqual(await u.read(inbox.id, old.uid + 2), message('new'));
    await store.close();
    assert.equal(countRows(dir, 'contents'), 2, 'one row per body');
    assert.equal(countRows(dir, 'content_structures'), 2, 'the body stored again was parsed');
  });

  it('streams large bodies to a file, serves ranges from it and removes it on expunge', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir, inlineMax: 1024 });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const body = 'x'.repeat(200_000);
    const raw = message('large', body);
    async function* chunks(): AsyncIterable<Buffer> {
      for (let i = 0; i < raw.length; i += 4096) yield raw.subarray(i, i + 4096);
    }
    const r = await u.append(inbox.id, { content: chunks() });
    const files = bodyFiles(dir);
    assert.equal(files.length, 1);
    assert.deepEqual(await u.read(inbox.id, r.uid), raw);
    assert.deepEqual(await u.read(inbox.id, r.uid, { start: 100, end: 50_000 }), raw.subarray(100, 50_000));
    const parts: Buffer[] = [];
    for await (const c of u.stream(inbox.id, r.uid, { start: 7, end: raw.length - 3 })) parts.push(c);
    assert.deepEqual(Buffer.concat(parts), raw.subarray(7, raw.length - 3));
    assert.equal((await u.structure(inbox.id, r.uid)).size, raw.length);
    await u.updateFlags(inbox.id, [r.uid], 'add', ['\\Deleted']);
    await u.expunge(inbox.id);
    const left = (): string[] => bodyFiles(dir);
    // Kept for the grace period (a FETCH may have pinned it), removed at the latest when the store closes.
    assert.equal(left().length, 1);
    await store.close();
    assert.deepEqual(left(), []);
  });

  it('deletes a released body file after the grace period, unless the same bytes were appended again', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir, inlineMax: 1024, releasedFileGraceMs: 80 });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const files = (): string[] => bodyFiles(dir);
    const a = message('gone', 'a'.repeat(5000));
    const b = message('back', 'b'.repeat(5000));
    const ua = (await u.append(inbox.id, { content: a })).uid;
    const ub = (await u.append(inbox.id, { content: b })).uid;
    await u.updateFlags(inbox.id, [ua, ub], 'add', ['\\Deleted']);
    await u.expunge(inbox.id);
    assert.equal(files().length, 2, 'both files kept during the grace period');
    const again = (await u.append(inbox.id, { content: b })).uid; // the same bytes as the expunged one
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(files().length, 1, 'only the file nobody refers to again is gone');
    assert.deepEqual(await u.read(inbox.id, again), b);
    await store.close();
  });

  it('sweeps blob files no row refers to (a crash between rename and commit) once past the grace period', async () => {
    const dir = tempDir();
    await (await SqliteStore.open({ directory: dir })).close();
    const orphanDir = join(dir, 'blobs', 'ab');
    mkdirSync(orphanDir, { recursive: true });
    const orphan = join(orphanDir, 'ab'.padEnd(64, '0'));
    writeFileSync(orphan, 'orphan');
    // Just written: younger than the default grace period (an hour), so it stays for now.
    await (await SqliteStore.open({ directory: dir })).close();
    assert.equal(existsSync(orphan), true);
    const store = await SqliteStore.open({ directory: dir, limits: { orphanGraceMinutes: 0 } });
    assert.equal(existsSync(orphan), false);
    await store.close();
  });
});

/** The body files under DATA/blobs (not the identity marker). */
function bodyFiles(dir: string): string[] {
  return readdirSync(join(dir, 'blobs'), { recursive: true })
    .map(String)
    .filter((n) => /[0-9a-f]{64}$/.test(n));
}

describe('SqliteStore data-folder lock', () => {
  it('refuses a second store on the same folder in this process with a clear inuse error', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    await assert.rejects(SqliteStore.open({ directory: dir }), (err: unknown) => {
      assert.ok(isStoreError(err));
      assert.equal(err.kind, 'inuse');
      assert.match(err.message, /in use by another postroom process/);
      return true;
    });
    await store.close();
    const again = await SqliteStore.open({ directory: dir });
    await again.close();
  });

  it('refuses a second process, and lets it in once the first is gone', async () => {
    const dir = tempDir();
    const script = `
      import { SqliteStore } from ${JSON.stringify(new URL('../../src/store/sqlite/index.ts', import.meta.url).href)};
      try { const s = await SqliteStore.open({ directory: ${JSON.stringify(dir)} }); await s.close(); console.log('opened'); }
      catch (e) { console.log('refused: ' + e.message); }
    `;
    const run = () =>
      spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 }).stdout.trim();
    const store = await SqliteStore.open({ directory: dir });
    assert.match(run(), /^refused: The data folder .* is in use by another postroom process/);
    await store.close();
    assert.equal(run(), 'opened');
  });
});

describe('SqliteStore migrations', () => {
  it('upgrades a version-1 database, backfills the search columns and moves the structures', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir, schemaVersion: 1 });
    await store.close();
    // A v1 database has no content_search table; rows are written as v1 code would have.
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), 1);
    const raw = message('=?utf-8?q?Gr=C3=BC=C3=9Fe?= from v1');
    db.prepare("INSERT INTO users (id, name) VALUES (1, 'alice')").run();
    db.prepare("INSERT INTO mailboxes (id, user_id, name, uid_validity, uid_next, highest_modseq) VALUES (1, 1, 'INBOX', 7, 2, 2)").run();
    const { parseMessage } = await import('../../src/mime/index.js');
    db.prepare("INSERT INTO contents (id, sha256, size, refs, body, structure) VALUES (1, x'00', ?, 1, ?, ?)").run(
      raw.length,
      raw,
      JSON.stringify(parseMessage(raw)),
    );
    db.prepare("INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size) VALUES (1, 1, 1, '', 2, 0, ?)").run(raw.length);
    db.close();

    store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'GRÜSSE' }), []);
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'grüße FROM' }), [1]);
    assert.equal((await u.status(inbox.id)).uidValidity, 7);
    // v5 moved the structure out of the contents row.
    assert.equal((await u.structure(inbox.id, 1)).envelope.subject, '=?utf-8?q?Gr=C3=BC=C3=9Fe?= from v1');
    await store.close();
    const check = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(check.prepare('SELECT version FROM schema_version').pluck().get(), SQLITE_SCHEMA_VERSION);
    check.close();
  });
});

describe('SqliteStore migration to v6 (sort keys, address fixes)', () => {
  it('upgrades a version-5 database: sort keys for every content, structures and address search columns derived again', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir, schemaVersion: 5 });
    await store.close();
    // Rows as v5 code wrote them: the old envelope (no comment name) and the raw address text.
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), 5);
    const raws = [
      Buffer.from('From: <user (c)@ (c) example.org> (Real Name)\r\nSubject: Re: Plan\r\nMessage-ID: <p2@x>\r\nReferences: <p1@x>\r\nDate: 3 Feb 1994 12:00:00 +0100\r\n\r\nx\r\n'),
      Buffer.from('From: a@x.test\r\nReply-To: "Some Name"\r\nSubject: Plan\r\nMessage-ID: <p1@x>\r\n\r\ny\r\n'),
    ];
    db.prepare("INSERT INTO users (id, name) VALUES (1, 'alice')").run();
    db.prepare("INSERT INTO mailboxes (id, user_id, name, uid_validity, uid_next, highest_modseq) VALUES (1, 1, 'INBOX', 7, 3, 3)").run();
    raws.forEach((raw, i) => {
      const id = i + 1;
      const oldEnvelope = { from: [{ name: null, adl: null, mailbox: 'user', host: 'example.org' }], replyTo: [{ name: null, adl: null, mailbox: '"Some Name"', host: '' }] };
      const structure = JSON.stringify({ size: raw.length, envelope: oldEnvelope, root: { headerStart: 0, bodyStart: raw.indexOf('\r\n\r\n') + 4, bodyEnd: raw.length } });
      db.prepare("INSERT INTO contents (id, sha256, size, refs, body, structure) VALUES (?, ?, ?, 1, ?, '')").run(id, Buffer.from([id]), raw.length, raw);
      db.prepare('INSERT INTO content_structures (content_id, structure) VALUES (?, ?)').run(id, structure);
      db.prepare('INSERT INTO content_search (content_id, hdr_from, hdr_subject) VALUES (?, ?, ?)').run(id, 'raw text', 'plan');
      db.prepare("INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size) VALUES (1, ?, ?, '', 2, 0, ?)").run(id, id, raw.length);
    });
    db.close();

    store = await SqliteStore.open({ directory: dir });
    const u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const keys = await u.sortData!(inbox.id);
    assert.deepEqual(
      keys.map((k) => [k.uid, k.subject, k.replyOrForward, k.from, k.displayFrom, k.messageId, k.references, k.sentDate]),
      [
        [1, 'PLAN', true, 'USER', 'REAL NAME', 'p2@x', ['p1@x'], Date.UTC(1994, 1, 3, 11)],
        [2, 'PLAN', false, 'A', 'A@X.TEST', 'p1@x', [], null],
      ],
    );
    // The envelope was parsed again: the comment is the name; a name alone is no address.
    const e1 = (await u.structure(inbox.id, 1)).envelope;
    assert.deepEqual(e1.from, [{ name: 'Real Name', adl: null, mailbox: 'user', host: 'example.org' }]);
    assert.deepEqual((await u.structure(inbox.id, 2)).envelope.replyTo, [{ name: null, adl: null, mailbox: 'a', host: 'x.test' }]);
    // The SQL search columns hold the new address text.
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'From', value: 'user@example.org' }), [1]);
    assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'From', value: 'real name' }), [1]);
    await store.close();
    const check = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(check.prepare('SELECT version FROM schema_version').pluck().get(), SQLITE_SCHEMA_VERSION);
    assert.equal(check.prepare('SELECT count(*) FROM content_sort').pluck().get(), 2);
    check.close();
  });

  it('keeps the sort keys of a content until its last message goes', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    let u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const other = await u.create('Other');
    const r = await u.append(inbox.id, { content: message('kept') });
    await u.copy(inbox.id, [r.uid], other.id);
    await u.updateFlags(inbox.id, [r.uid], 'add', ['\\Deleted']);
    await u.expunge(inbox.id);
    await store.close();
    assert.equal(countRows(dir, 'content_sort'), 1);
    assert.equal(countRows(dir, 'content_thread'), 1);
    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    assert.deepEqual((await u.sortData!(other.id)).map((k) => k.subject), ['KEPT']);
    await u.updateFlags(other.id, [1], 'add', ['\\Deleted']);
    await u.expunge(other.id);
    await store.close();
    assert.equal(countRows(dir, 'content_sort'), 0);
    assert.equal(countRows(dir, 'content_thread'), 0);
  });
});

describe('SqliteStore migration to v14 (THREAD keys as integers)', () => {
  it('interns the Message-IDs, references and subjects of every content from content_sort, and threads as before', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir });
    let u = await store.open('alice');
    const inbox = await u.get('INBOX');
    const mail = (id: string, subject: string, refs = ''): Buffer =>
      Buffer.from(`From: a@x.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}>\r\n${refs ? `References: ${refs}\r\n` : ''}\r\nbody\r\n`);
    await u.append(inbox.id, { content: mail('p1@x', 'Plan') });
    await u.append(inbox.id, { content: mail('p2@x', 'Re: Plan', '<p1@x>') });
    await u.append(inbox.id, { content: mail('p3@x', 'Re: Plan', '<p0@x> <p1@x> <p2@x>') });
    await u.append(inbox.id, { content: mail('q1@x', 'Other') });
    await store.close();
    // The database as v10-v13 code left it: the same content_sort rows (written as today), no
    // integer keys, version 13.
    const before = new BetterSqlite3(join(dir, 'mail.sqlite'));
    // Later versions' tables and columns go too (v16 mailbox_purges, v17 save_date and
    // content_preview, v19 private_seen, v21 urlauth_keys, v22's renamed search columns, v24's
    // preview and usage columns): the database is as a v13 store left it.
    undoV24(before);
    before.exec(
      'DROP TABLE content_thread; DROP TABLE sort_strings; DROP TABLE mailbox_purges; DROP TABLE private_seen; DROP TABLE urlauth_keys; DROP TABLE metadata; ' +
        'DROP TABLE content_preview; ALTER TABLE messages DROP COLUMN save_date; UPDATE schema_version SET version = 13; DELETE FROM mailbox_snapshots; ' +
        ['from', 'to', 'cc', 'bcc', 'subject'].map((h) => `ALTER TABLE content_search RENAME COLUMN cm_${h} TO hdr_${h};`).join(' '),
    );
    before.close();

    store = await SqliteStore.open({ directory: dir });
    u = await store.open('alice');
    const list = await u.sortData!(inbox.id);
    const keys = list.map((m) => [m.messageIdKey, m.referenceKeys, m.subjectKey, m.replyOrForward]);
    const [p1, p2, p3, q1] = keys.map((k) => k[0] as number);
    assert.ok(new Set([p1, p2, p3, q1]).size === 4 && [p1, p2, p3, q1].every((k) => k > 0));
    assert.deepEqual(keys[1]![1], [p1]);
    assert.equal((keys[2]![1] as number[])[1], p1);
    assert.equal((keys[2]![1] as number[])[2], p2);
    assert.ok(keys[0]![2] === keys[1]![2] && keys[1]![2] === keys[2]![2] && keys[3]![2] !== keys[0]![2]);
    assert.deepEqual(keys.map((k) => k[3]), [false, true, true, false]);
    const text = formatThreads(threadMessages(list, 'references'), (uid) => uid);
    assert.equal(text, '(1 2 3)(4)');
    assert.equal(formatThreads(threadMessages(list.map(plainSortable), 'references'), (uid) => uid), text);
    // A message appended after the upgrade shares the interned strings.
    await u.append(inbox.id, { content: mail('p4@x', 'Plan', '<p3@x>') });
    const after = await u.sortData!(inbox.id);
    assert.deepEqual(after[4]!.referenceKeys, [p3]);
    assert.equal(after[4]!.subjectKey, after[0]!.subjectKey);
    assert.equal(formatThreads(threadMessages(after, 'references'), (uid) => uid), '(1 2 3 5)(4)');
    await store.close();
    assert.equal(countRows(dir, 'content_thread'), 5);
  });
});

describe('SqliteStore change feed', () => {
  it('publishes after commit with the handle origin', async () => {
    const dir = tempDir();
    const store = await SqliteStore.open({ directory: dir });
    const seen: MailboxChange[] = [];
    store.watch('alice', (c) => seen.push(c));
    const u = await store.open('alice', { origin: 's1' });
    const inbox = await u.get('INBOX');
    const r = await u.append(inbox.id, { content: message('x') });
    await u.updateFlags(inbox.id, [r.uid], 'add', ['\\Deleted']);
    await u.expunge(inbox.id);
    assert.deepEqual(
      seen.map((c) => [c.kind, c.origin]),
      [
        ['exists', 's1'],
        ['flags', 's1'],
        ['expunge', 's1'],
      ],
    );
    await store.close();
  });
});

describe('SqliteStore migration to v8 (quotas)', () => {
  it('upgrades a version-6 database: quota_usage is filled from the mail already stored, and kept from then on', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir, schemaVersion: 6 });
    await store.close();
    // Rows as v6 code wrote them: alice has three messages in two mailboxes, bob one, carol none.
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), 6);
    db.prepare("INSERT INTO users (id, name) VALUES (1, 'alice'), (2, 'bob'), (3, 'carol')").run();
    db.prepare(
      "INSERT INTO mailboxes (id, user_id, name, uid_validity, uid_next, highest_modseq) VALUES (1, 1, 'INBOX', 7, 3, 3), (2, 1, 'Work', 8, 2, 2), (3, 2, 'INBOX', 9, 2, 2), (4, 3, 'INBOX', 10, 1, 1)",
    ).run();
    db.prepare("INSERT INTO contents (id, sha256, size, refs, body, structure) VALUES (1, x'01', 100, 3, x'00', ''), (2, x'02', 40, 1, x'00', '')").run();
    const insert = db.prepare("INSERT INTO messages (mailbox_id, uid, content_id, flags, modseq, internal_date, size) VALUES (?, ?, ?, '', 2, 0, ?)");
    insert.run(1, 1, 1, 100);
    insert.run(1, 2, 2, 40);
    insert.run(2, 1, 1, 100);
    insert.run(3, 1, 1, 100);
    db.close();

    store = await SqliteStore.open({ directory: dir });
    assert.deepEqual((await store.getQuota('alice')).usage, { storage: 240, messages: 3 });
    assert.deepEqual((await store.getQuota('bob')).usage, { storage: 100, messages: 1 });
    assert.deepEqual((await store.getQuota('carol')).usage, { storage: 0, messages: 0 });
    const m = Buffer.from('Subject: after quotas\r\n\r\nbody\r\n');
    const carol = await store.open('carol');
    await carol.append((await carol.get('INBOX')).id, { content: m });
    assert.deepEqual((await store.getQuota('carol')).usage, { storage: m.length, messages: 1 });
    const alice = await store.open('alice');
    await alice.delete('Work');
    assert.deepEqual((await store.getQuota('alice')).usage, { storage: 140, messages: 2 });
    await store.close();
  });
});
