/**
 * Schema v22: the FROM/TO/CC/BCC/SUBJECT search columns of messages stored before are redone in
 * the i;unicode-casemap form SEARCH now compares (RFC 5051, RFC 5255 I18NLEVEL=1), in steps of
 * REFOLD_STEP contents; a database a crash left part way resumes at the next open; a body that
 * cannot be read keeps its text, refolded; the renamed columns make an older build's APPEND fail
 * rather than store lower-cased text; a newer schema is refused.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/index.js';
import { REFOLD_MARK, refoldStep, startRefold } from '../../src/store/sqlite/search-refold.js';
import { REFOLD_STEP } from '../../src/store/search-columns.js';
import { tempDirs } from '../helpers/temp-dirs.js';
import { undoV23 } from '../helpers/undo-v23.js';
import { undoV24 } from '../helpers/undo-v24.js';
import { HEADER_COLUMNS, REFOLDED_SUBJECTS, assertRefoldedAnswers, refoldMail } from '../helpers/casemap-refold.js';

const tempDir = tempDirs('postroom-sqlite-casemap-');

const mail = refoldMail;

/**
 * Puts the database back as v21 code left it: hdr_* columns holding lower-cased NFC text, the
 * previews in their own table again (v24 moved them), and v23's urlauth_keys back to one key per mailbox.
 */
function rollBackTo21(dir: string): void {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
  try {
    undoV24(db);
    undoV23(db);
    db.exec(
      HEADER_COLUMNS.map((h) => `ALTER TABLE content_search RENAME COLUMN cm_${h} TO hdr_${h};`).join('') +
        'UPDATE schema_version SET version = 21;',
    );
    const rows = db.prepare('SELECT content_id, hdr_from, hdr_to, hdr_subject FROM content_search').all() as Array<Record<string, string | number | null>>;
    const old = (v: string | number | null): string | null => (typeof v === 'string' ? v.toLowerCase().normalize('NFC') : null);
    const update = db.prepare('UPDATE content_search SET hdr_from = ?, hdr_to = ?, hdr_subject = ? WHERE content_id = ?');
    for (const r of rows) update.run(old(r.hdr_from!), old(r.hdr_to!), old(r.hdr_subject!), r.content_id);
  } finally {
    db.close();
  }
}

function columns(dir: string): Array<{ id: number; from: string; subject: string }> {
  const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT content_id AS id, cm_from AS "from", cm_subject AS subject FROM content_search ORDER BY content_id').all() as Array<{
      id: number;
      from: string;
      subject: string;
    }>;
  } finally {
    db.close();
  }
}

async function seed(dir: string, count: number): Promise<void> {
  const store = await SqliteStore.open({ directory: dir });
  const u = await store.open('alice');
  const inbox = await u.get('INBOX');
  for (let i = 0; i < count; i++) await u.append(inbox.id, { content: mail(i) });
  await store.close();
}

describe('SQLite schema v22: search columns in i;unicode-casemap form', () => {
  it('redoes the columns of messages stored before, and SEARCH answers by the comparator', async () => {
    const dir = tempDir();
    await seed(dir, 8);
    rollBackTo21(dir);
    {
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
      assert.equal(db.prepare('SELECT hdr_subject FROM content_search ORDER BY content_id').pluck().get(), 'straße und weg 0');
      db.close();
    }
    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      await assertRefoldedAnswers(u, inbox.id);
    } finally {
      await store.close();
    }
    const cols = columns(dir);
    assert.deepEqual(cols.slice(0, 4).map((c) => c.subject), REFOLDED_SUBJECTS);
    assert.equal(cols[0]!.from, 'PERSON 0 <P0@EXAMPLE.ORG>');
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), SQLITE_SCHEMA_VERSION);
    assert.equal(db.prepare('SELECT count(*) FROM meta WHERE key = ?').pluck().get(REFOLD_MARK), 0, 'the mark goes with the last step');
    db.close();
  });

  it('works in steps, and a database a crash left between two steps is finished at the next open', async () => {
    const dir = tempDir();
    const count = REFOLD_STEP.contents + 150;
    await seed(dir, count);
    rollBackTo21(dir);
    // v22 and one step, as migrate() runs them, then the process dies (the database is closed).
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    const readHead = (id: number, octets: number): Buffer => db.prepare('SELECT substr(body, 1, ?) FROM contents WHERE id = ?').pluck().get(octets, id) as Buffer;
    db.transaction(() => {
      startRefold(db);
      db.exec('UPDATE schema_version SET version = 22');
    }).immediate();
    assert.equal(db.transaction(() => refoldStep(db, { readHead })).immediate(), true);
    const mark = db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(REFOLD_MARK) as number;
    const ids = db.prepare('SELECT content_id FROM content_search ORDER BY content_id').pluck().all() as number[];
    assert.equal(mark, ids[REFOLD_STEP.contents - 1]! + 1, 'one step redid REFOLD_STEP.contents contents');
    db.close();
    let cols = columns(dir);
    assert.equal(cols[REFOLD_STEP.contents - 1]!.from.startsWith('PERSON'), true);
    assert.equal(cols[REFOLD_STEP.contents]!.from.startsWith('person'), true, 'the rest is as v21 left it');

    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'From', value: `person ${count - 1} ` }), [count]);
    } finally {
      await store.close();
    }
    cols = columns(dir);
    assert.equal(cols.length, count);
    assert.ok(cols.every((c, i) => c.from === `PERSON ${i} <P${i}@EXAMPLE.ORG>`));
    const check = new BetterSqlite3(join(dir, 'mail.sqlite'), { readonly: true });
    assert.equal(check.prepare('SELECT count(*) FROM meta WHERE key = ?').pluck().get(REFOLD_MARK), 0);
    check.close();
  });

  it('a process killed with SIGKILL during the steps leaves a database the next open finishes', async () => {
    const dir = tempDir();
    const count = 3 * REFOLD_STEP.contents;
    await seed(dir, count);
    rollBackTo21(dir);
    // A child opens the store and is killed as soon as it says the steps began (its first
    // step's transaction is open then, or just committed): wherever the kill lands, the database
    // is at a step boundary.
    const script = `
      import { SqliteStore } from ${JSON.stringify(new URL('../../src/store/sqlite/index.ts', import.meta.url).href)};
      const logger = { info: (f, m) => console.log(m), warn: () => {}, error: () => {}, debug: () => {}, child() { return logger; } };
      await SqliteStore.open({ directory: ${JSON.stringify(dir)}, logger });
      console.log('opened');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const said = await new Promise<string>((resolve) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (/redoing the search columns|opened/.test(out)) {
          child.kill('SIGKILL');
          resolve(out);
        }
      });
      child.on('exit', () => resolve(out));
    });
    await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));
    assert.match(said, /redoing the search columns/, 'the child reached the steps');
    {
      // Killed during the first of three steps, or just after it: the mark is still there.
      const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
      assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), 22, 'v22 was still in its steps');
      assert.equal(typeof db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(REFOLD_MARK), 'number');
      db.close();
    }
    const store = await SqliteStore.open({ directory: dir });
    try {
      const u = await store.open('alice');
      const inbox = await u.get('INBOX');
      assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'STRASSE' }), []);
      assert.equal((await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'straße' })).length, count / 4);
    } finally {
      await store.close();
    }
    const cols = columns(dir);
    assert.ok(cols.every((c, i) => c.from === `PERSON ${i} <P${i}@EXAMPLE.ORG>`), 'every row redone once the open finished');
  });

  it('a body whose file is gone keeps its old text, refolded, and the upgrade goes on', async () => {
    const dir = tempDir();
    let store = await SqliteStore.open({ directory: dir, inlineMax: 64 });
    let u = await store.open('alice');
    let inbox = await u.get('INBOX');
    await u.append(inbox.id, { content: mail(0) }); // larger than inlineMax: a file under blobs/
    await store.close();
    rollBackTo21(dir);
    rmSync(join(dir, 'blobs'), { recursive: true, force: true });
    store = await SqliteStore.open({ directory: dir, inlineMax: 64 });
    try {
      u = await store.open('alice');
      inbox = await u.get('INBOX');
      assert.deepEqual(await u.search(inbox.id, { type: 'header', name: 'Subject', value: 'Straße' }), [1]);
    } finally {
      await store.close();
    }
    assert.equal(columns(dir)[0]!.subject, 'STRAßE UND WEG 0');
  });

  it("an older build's writes fail on the renamed columns; a newer schema is refused", async () => {
    const dir = tempDir();
    await seed(dir, 1);
    const db = new BetterSqlite3(join(dir, 'mail.sqlite'));
    // The statements v21 code prepares for APPEND and SEARCH SUBJECT.
    assert.throws(
      () => db.prepare('INSERT INTO content_search (content_id, hdr_from, hdr_to, hdr_cc, hdr_bcc, hdr_subject, sent_day) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      /no column named hdr_from|no such column/,
    );
    assert.throws(() => db.prepare('SELECT cs.hdr_subject FROM content_search cs'), /no such column/);
    db.exec('UPDATE schema_version SET version = 99');
    db.close();
    await assert.rejects(SqliteStore.open({ directory: dir }), new RegExp(`schema is at version 99, newer than this Postroom knows \\(${SQLITE_SCHEMA_VERSION}\\)`));
  });
});
