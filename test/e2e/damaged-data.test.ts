/**
 * Issue 13, items 3, 5 and 6: a real `postroom serve` on a copy of a data folder that was damaged
 * the ways an unlucky operator damages one — a body file deleted, cut short or altered, an inline
 * body altered, the database cut short or hit by a bad byte, the database missing or empty while
 * blobs/ still holds mail, stray entries in blobs/, blobs/ from another database — checked with raw
 * IMAP and POP3 clients and the server's log.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, mkdirSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { LARGE, MESSAGES, blobPath, buildDataFolder, copyFolder, damageBodies, seq, sha } from '../helpers/damage.js';
import { RawClient } from '../helpers/raw-client.js';
import { ServeExit, startServe, type ServeChild } from '../helpers/serve.js';
import { tempDirs } from '../helpers/temp-dirs.js';

const tempDir = tempDirs('postroom-damage-');
let pristine: string;

before(async () => {
  pristine = tempDir();
  await buildDataFolder(pristine);
});

/** A copy of the pristine folder to damage. */
function copyOfPristine(): string {
  return copyFolder(pristine, tempDir());
}

const SERVE_ARGS = ['--ephemeral-ports', '--imaps-port', 'off', '--pop3s-port', 'off', '--allow-insecure-auth', '--log-level', 'info'];

async function serve(t: { after: (fn: () => Promise<unknown>) => void }, data: string): Promise<ServeChild> {
  const s = await startServe(['--data', data, ...SERVE_ARGS]);
  t.after(() => s.stop());
  return s;
}

/** serve must refuse to start: resolves with its exit code and everything it printed. */
async function refusal(data: string): Promise<ServeExit> {
  try {
    const s = await startServe(['--data', data, ...SERVE_ARGS]);
    await s.stop();
  } catch (err) {
    if (err instanceof ServeExit) return err;
    throw err;
  }
  assert.fail('serve started on a damaged data folder');
}

async function imap(port: number): Promise<RawClient> {
  const c = new RawClient(port);
  await c.login();
  c.send('S SELECT INBOX\r\n');
  await c.expect(/^S OK/);
  return c;
}

let tags = 0;
/** Sends a command; returns its tagged line and every line before it. */
async function command(c: RawClient, text: string, timeoutMs = 10_000): Promise<{ tagged: string; lines: string[] }> {
  const tag = `T${++tags}`;
  const from = c.transcript.length;
  c.send(`${tag} ${text}\r\n`);
  const tagged = await c.expect(new RegExp(`^${tag} `), timeoutMs);
  return { tagged: tagged.slice(tag.length + 1), lines: c.transcript.slice(from) };
}

/** The body bytes of a `FETCH n BODY[]` answer as received (a raw client sees lines). */
function literalOf(lines: string[]): Buffer {
  const start = lines.findIndex((l) => /BODY\[\] \{\d+\}$/.test(l));
  const size = Number(/\{(\d+)\}$/.exec(lines[start]!)![1]);
  return Buffer.from(lines.slice(start + 1).join('\r\n'), 'latin1').subarray(0, size);
}

function damageLines(s: ServeChild): Array<Record<string, unknown>> {
  return s.logLines().filter((l) => typeof l['msg'] === 'string' && (l['msg'] as string).includes('is damaged'));
}

describe('damaged message bodies', () => {
  test('are refused before a literal or +OK is sent (NO [CORRUPTION], -ERR [SYS/PERM]), logged once naming the file; the session goes on', async (t) => {
    const data = copyOfPristine();
    const missing = blobPath(data, MESSAGES.missingFile);
    const short = blobPath(data, MESSAGES.shortFile);
    const altered = blobPath(data, MESSAGES.alteredFile);
    for (const f of [missing, short, altered]) assert.equal(statSync(f).size, LARGE, `${f} is a body file`);
    // One file deleted, one cut to 1,000 bytes, one byte changed in a file and in an inline body.
    damageBodies(data);

    const s = await serve(t, data);
    const c = await imap(s.listening.imapPort!);
    t.after(() => c.destroy());

    for (const name of ['missingFile', 'shortFile', 'alteredInline'] as const) {
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await command(c, `FETCH ${seq(name)} BODY[]`);
        assert.match(r.tagged, /^NO \[CORRUPTION\]/, `${name}, attempt ${attempt + 1}`);
        assert.ok(!r.lines.some((l) => /\{\d+\}$/.test(l)), `${name}: no literal was announced`);
      }
    }
    // Partial reads of a damaged body are refused too: its size no longer matches.
    assert.match((await command(c, `FETCH ${seq('shortFile')} BODY[]<0.500>`)).tagged, /^NO \[CORRUPTION\]/);
    // What needs no body still works, and so do the intact messages.
    assert.match((await command(c, 'FETCH 1:6 (UID RFC822.SIZE FLAGS)')).tagged, /^OK/);
    for (const name of ['goodSmall', 'goodLarge'] as const) {
      const r = await command(c, `FETCH ${seq(name)} BODY.PEEK[]`);
      assert.match(r.tagged, /^OK/);
      assert.ok(literalOf(r.lines).equals(MESSAGES[name]), `${name} arrives whole`);
    }

    // A file altered in place has the right size: it streams, and the digest is known only at the
    // end. The last piece is held back, so the client never gets the whole wrong body: the
    // connection drops. From then on the body is known to be damaged and refused up front.
    const r = command(c, `FETCH ${seq('alteredFile')} BODY.PEEK[]`);
    await assert.rejects(r, /closed before/);
    const c2 = await imap(s.listening.imapPort!);
    t.after(() => c2.destroy());
    assert.match((await command(c2, `FETCH ${seq('alteredFile')} BODY[]`)).tagged, /^NO \[CORRUPTION\]/);
    assert.match((await command(c2, 'NOOP')).tagged, /^OK/);

    // POP3: -ERR before any +OK for each damaged message; the session goes on.
    const p = new RawClient(s.listening.pop3Port!);
    t.after(() => p.destroy());
    await p.expect(/^\+OK/);
    p.send('USER alice\r\n');
    await p.expect(/^\+OK/);
    p.send('PASS secret\r\n');
    await p.expect(/^\+OK/);
    for (const name of ['missingFile', 'shortFile', 'alteredInline', 'alteredFile'] as const) {
      p.send(`RETR ${seq(name)}\r\n`);
      assert.match(await p.expect(/^[+-]/), /^-ERR \[SYS\/PERM\] /, name);
    }
    assert.ok(!p.transcript.some((l) => /^\+OK 409600 octets/.test(l)), 'no +OK for a body that cannot be sent whole');
    p.send(`RETR ${seq('goodLarge')}\r\n`);
    assert.match(await p.expect(/^[+-]/), /^\+OK 409600 octets/);
    await p.expect(/^\.$/);
    p.send('QUIT\r\n');
    await p.expect(/^\+OK/);

    // One log line per damaged body, however often it was asked for, naming the file and the problem.
    const logged = damageLines(s);
    assert.equal(logged.length, 4, JSON.stringify(logged, null, 1));
    const about = (file: string): Record<string, unknown> | undefined => logged.find((l) => l['file'] === file);
    assert.match(String(about(missing)?.['problem']), /missing/);
    assert.match(String(about(short)?.['problem']), /holds 1000 octets, 409600 expected/);
    assert.match(String(about(altered)?.['problem']), /SHA-256/);
    assert.ok(logged.some((l) => /stored inline/.test(String(l['file'])) && /SHA-256/.test(String(l['problem']))));
    // None of it is a server bug.
    assert.ok(!s.stdout().includes('SERVERBUG') && !s.logLines().some((l) => l['msg'] === 'command failed'), 'no unexpected errors logged');
  });
});

describe('damaged or mismatched data folders at startup', () => {
  test('a missing database with blobs/ present: serve refuses, says what to check, and deletes nothing', async () => {
    const data = copyOfPristine();
    const files = readdirSync(join(data, 'blobs'), { recursive: true }).map(String).sort();
    for (const f of ['mail.sqlite', 'mail.sqlite-wal', 'mail.sqlite-shm']) rmSync(join(data, f), { force: true });
    const r = await refusal(data);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mail\.sqlite is new \(it was missing or empty\), but .*blobs holds 4 message files/);
    assert.match(r.stderr, /Check that --data names the right folder and restore mail\.sqlite from a backup/);
    assert.deepEqual(readdirSync(join(data, 'blobs'), { recursive: true }).map(String).sort(), files, 'blobs/ untouched');
    assert.equal(existsSync(join(data, 'mail.sqlite')), false, 'no new database left behind');
  });

  test('an empty database file with blobs/ present: the same refusal', async () => {
    const data = copyOfPristine();
    writeFileSync(join(data, 'mail.sqlite'), '');
    const r = await refusal(data);
    assert.match(r.stderr, /mail\.sqlite is new .*blobs holds 4 message files/);
    assert.equal(readdirSync(join(data, 'blobs'), { recursive: true }).map(String).filter((n) => /[0-9a-f]{64}$/.test(n)).length, 4);
  });

  test('a database cut short by 1 KB: serve refuses, naming the file and the problem', async () => {
    const data = copyOfPristine();
    const path = join(data, 'mail.sqlite');
    truncateSync(path, statSync(path).size - 1024);
    const r = await refusal(data);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')} is damaged: .*cut short`));
    assert.match(r.stderr, /restore mail\.sqlite from a backup/);
  });

  test('a bad byte in a table page: serve refuses, with what quick_check found', async () => {
    const data = copyOfPristine();
    const path = join(data, 'mail.sqlite');
    const db = new BetterSqlite3(path, { readonly: true });
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.prepare("SELECT pageno FROM dbstat WHERE name = 'messages' ORDER BY pageno").pluck().all() as number[];
    db.close();
    assert.ok(pages.length > 0);
    // The b-tree page type byte of the messages table's page: 0x0d/0x0a/... becomes garbage.
    const offset = (pages[0]! - 1) * pageSize + (pages[0] === 1 ? 100 : 0);
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from([0x7f]), 0, 1, offset);
    closeSync(fd);
    const r = await refusal(data);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mail\.sqlite is damaged: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'a message, not a stack trace');
  });

  test('stray entries in blobs/: serve starts, warns naming them, leaves them alone and serves the mail', async (t) => {
    const data = copyOfPristine();
    writeFileSync(join(data, 'blobs', 'notes.txt'), 'an operator left this here');
    mkdirSync(join(data, 'blobs', 'old-backup', 'x'), { recursive: true });
    const prefix = sha(MESSAGES.goodLarge).slice(0, 2);
    mkdirSync(join(data, 'blobs', prefix, 'a-folder'));
    writeFileSync(join(data, 'blobs', prefix, 'README'), 'stray');
    const s = await serve(t, data);
    const warning = s.logLines().find((l) => String(l['msg']).includes('not message files'));
    assert.ok(warning, s.stdout());
    assert.deepEqual(
      [...(warning['entries'] as string[])].sort(),
      ['notes.txt', 'old-backup', `${prefix}/README`, `${prefix}/a-folder`].sort(),
    );
    const c = await imap(s.listening.imapPort!);
    t.after(() => c.destroy());
    const r = await command(c, `FETCH ${seq('goodLarge')} BODY.PEEK[]`);
    assert.match(r.tagged, /^OK/);
    assert.ok(literalOf(r.lines).equals(MESSAGES.goodLarge));
    assert.equal(readFileSync(join(data, 'blobs', 'notes.txt'), 'utf8'), 'an operator left this here');
    assert.ok(existsSync(join(data, 'blobs', prefix, 'a-folder')));
  });

  test('blobs/ tied to another database: serve refuses rather than sweep it', async () => {
    const data = copyOfPristine();
    const other = copyOfPristine();
    // Another data folder's database (a fresh one, with its own identity) beside these blobs.
    for (const f of ['mail.sqlite', 'mail.sqlite-wal', 'mail.sqlite-shm']) rmSync(join(other, f), { force: true });
    rmSync(join(other, 'blobs'), { recursive: true, force: true });
    await (await SqliteStore.open({ directory: other })).close();
    cpSync(join(other, 'mail.sqlite'), join(data, 'mail.sqlite'));
    const r = await refusal(data);
    assert.match(r.stderr, /blobs belongs to another database/);
    assert.equal(readdirSync(join(data, 'blobs'), { recursive: true }).map(String).filter((n) => /[0-9a-f]{64}$/.test(n)).length, 4);
  });
});
