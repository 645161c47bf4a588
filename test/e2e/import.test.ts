/**
 * `postroom import` end to end: a Maildir tree (Maildir++ and fs layouts, flags, nested and
 * non-ASCII folders, a 20 MB message) and an mbox file built here are imported into a data folder,
 * then read back over IMAP from a server on that folder and compared byte for byte. A second import
 * adds nothing; `postroom export` writes the same messages back out.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ImapFlow, type FetchMessageObject } from 'imapflow';
import { UserFile } from '../../src/auth/user-file.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const SERVER = fileURLToPath(new URL('./fixtures/sqlite-imap-server.ts', import.meta.url));

/** Independent of the importer's code: what IMAP must return for a file with LF line ends. */
function crlf(bytes: Buffer): Buffer {
  return Buffer.from(bytes.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1');
}

interface Expected {
  mailbox: string;
  bytes: Buffer;
  flags: string[];
  date: Date;
}

function msg(subject: string, body: string, extraHeaders = ''): Buffer {
  return Buffer.from(`From: Sender <s@example.com>\nTo: alice@example.com\nSubject: ${subject}\nMessage-ID: <${subject.replace(/\W/g, '')}@x>\n${extraHeaders}\n${body}\n`, 'utf8');
}

function bigMessage(): Buffer {
  // 15 MB of random bytes → about 20 MB of base64 lines.
  const b64 = randomBytes(15 * 1024 * 1024).toString('base64').replace(/.{76}/g, '$&\n');
  return Buffer.from(
    `From: big@example.com\nTo: alice@example.com\nSubject: twenty megabytes\nMIME-Version: 1.0\n` +
      `Content-Type: application/octet-stream; name="blob.bin"\nContent-Transfer-Encoding: base64\n\n${b64}\n`,
  );
}

function buildMaildir(root: string): Expected[] {
  const expected: Expected[] = [];
  let n = 0;
  const put = (dir: string, mailbox: string, sub: 'cur' | 'new', info: string, bytes: Buffer, flags: string[]): void => {
    for (const s of ['cur', 'new', 'tmp']) mkdirSync(join(dir, s), { recursive: true });
    const date = new Date(Date.UTC(2023, 5, 1 + n, 8, 30, 0));
    const file = join(dir, sub, `${1_600_000_000 + n}.M${n}P1.testhost${info}`);
    n++;
    writeFileSync(file, bytes);
    utimesSync(file, date, date);
    expected.push({ mailbox, bytes: crlf(bytes), flags, date });
  };
  put(root, 'INBOX', 'cur', ':2,S', msg('seen one', 'hello'), ['\\Seen']);
  put(root, 'INBOX', 'cur', ':2,FRS', msg('answered', 'replied to'), ['\\Flagged', '\\Answered', '\\Seen']);
  put(root, 'INBOX', 'new', '', msg('brand new', 'unread'), []);
  put(root, 'INBOX', 'cur', ',S=123:2,DT', msg('draft deleted', 'x'), ['\\Draft', '\\Deleted']);
  put(root, 'INBOX', 'cur', ':2,', bigMessage(), []);
  put(join(root, '.Sent'), 'Sent', 'cur', ':2,S', msg('sent', 'I wrote this'), ['\\Seen']);
  // Dovecot writes folder names in modified UTF-7: "Archiv/Entwürfe/2024", "Projets/Été".
  put(join(root, '.Archiv.Entw&APw-rfe.2024'), 'Archiv/Entwürfe/2024', 'cur', ':2,Sa', msg('nested', 'deep down'), ['\\Seen', '$Important']);
  writeFileSync(join(root, '.Archiv.Entw&APw-rfe.2024', 'dovecot-keywords'), '0 $Important\n');
  // Dovecot LAYOUT=fs folders sit beside Maildir++ ones here; both must be found.
  put(join(root, 'Projets', '&AMk-t&AOk-'), 'Projets/Été', 'cur', ':2,F', msg('été', 'soleil', 'Content-Type: text/plain; charset=utf-8\n'), ['\\Flagged']);
  return expected;
}

function buildMbox(path: string): Expected[] {
  const parts = [
    { from: 'From alice@example.com Sat Jan  3 01:05:34 1996', body: 'Subject: first\nStatus: RO\n\nA line\n>From the quoted start\n>>From doubly quoted\n', flags: ['\\Seen'] },
    { from: 'From bob@example.com Mon Feb 12 13:14:15 2001', body: 'Subject: second\nX-Status: AF\nStatus: O\n\nSecond body\n\n\nwith blank lines\n', flags: ['\\Answered', '\\Flagged'] },
    { from: 'From carol@example.com Tue Mar  4 05:06:07 2014', body: 'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n\nno flags\n', flags: [] },
  ];
  writeFileSync(path, parts.map((p) => `${p.from}\n${p.body}\n`).join(''));
  const dates = [Date.UTC(1996, 0, 3, 1, 5, 34), Date.UTC(2001, 1, 12, 13, 14, 15), Date.UTC(2014, 2, 4, 5, 6, 7)];
  return parts.map((p, i) => ({
    mailbox: 'Imported/mbox',
    bytes: crlf(Buffer.from(p.body.replace(/^>(>*From )/gm, '$1'))),
    flags: p.flags,
    date: new Date(dates[i]!),
  }));
}

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('postroom import / export', () => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-import-'));
  const data = join(work, 'data');
  const maildir = join(work, 'Maildir');
  const mboxFile = join(work, 'old.mbox');
  let expected: Expected[] = [];
  let server: ChildProcess | undefined;

  before(async () => {
    expected = [...buildMaildir(maildir), ...buildMbox(mboxFile)];
    // import refuses users that are not in the users file (and a data folder that does not exist).
    const users = UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } });
    await users.add('alice', 'secret');
    await users.add('bob', 'secret');
  });
  after(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  });

  it('imports, and a second run imports nothing', { timeout: 120_000 }, () => {
    const first = cli(['import', '--user', 'alice', '--maildir', maildir, '--data', data, '--no-progress']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /imported 8 messages .* 0 already there/);
    const mbox = cli(['import', '--user', 'alice', '--mbox', mboxFile, '--mailbox', 'Imported/mbox', '--data', data, '--no-progress']);
    assert.equal(mbox.status, 0, mbox.stderr);
    assert.match(mbox.stdout, /imported 3 messages/);
    const again = cli(['import', '--user', 'alice', '--maildir', maildir, '--data', data, '--no-progress']);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /imported 0 messages .* 8 already there/);
    const mboxAgain = cli(['import', '--user', 'alice', '--mbox', mboxFile, '--mailbox', 'Imported/mbox', '--data', data, '--no-progress']);
    assert.match(mboxAgain.stdout, /imported 0 messages .* 3 already there/);
  });

  it('serves every imported message byte for byte, with flags and internal dates', { timeout: 120_000 }, async () => {
    server = spawn(process.execPath, ['--import', 'tsx', SERVER, data], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      let out = '';
      server!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) resolve((JSON.parse(line) as { port: number }).port);
      });
      server!.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const c = new ImapFlow({ host: '127.0.0.1', port, secure: false, doSTARTTLS: false, auth: { user: 'alice', pass: 'secret' }, logger: false });
    await c.connect();
    try {
      const names = (await c.list()).map((m) => m.path).sort();
      for (const want of ['INBOX', 'Sent', 'Archiv/Entwürfe/2024', 'Projets/Été', 'Imported/mbox']) assert.ok(names.includes(want), `missing mailbox ${want}: ${names.join(', ')}`);
      const byMailbox = new Map<string, Expected[]>();
      for (const e of expected) byMailbox.set(e.mailbox, [...(byMailbox.get(e.mailbox) ?? []), e]);
      for (const [mailbox, wanted] of byMailbox) {
        const lock = await c.getMailboxLock(mailbox);
        try {
          const got: FetchMessageObject[] = [];
          for await (const m of c.fetch('1:*', { uid: true, flags: true, source: true, internalDate: true })) got.push(m);
          assert.equal(got.length, wanted.length, `message count in ${mailbox}`);
          for (const w of wanted) {
            const match = got.find((g) => g.source!.equals(w.bytes));
            assert.ok(match, `a message of ${w.bytes.length} bytes in ${mailbox} did not come back byte for byte`);
            assert.deepEqual([...match.flags!].filter((f) => f !== '\\Recent').sort(), [...w.flags].sort(), `flags in ${mailbox}`);
            assert.equal(new Date(match.internalDate!).getTime(), w.date.getTime(), `internal date in ${mailbox}`);
          }
        } finally {
          lock.release();
        }
      }
    } finally {
      await c.logout();
      server.kill('SIGTERM');
      await new Promise((r) => server!.once('exit', r));
    }
  });

  it('exports back to a Maildir that imports to the same messages', { timeout: 120_000 }, () => {
    const out = join(work, 'exported');
    const exp = cli(['export', '--user', 'alice', '--maildir', out, '--data', data, '--no-progress']);
    assert.equal(exp.status, 0, exp.stderr);
    assert.match(exp.stdout, /exported 11 messages/);
    const files = (dir: string): Buffer[] => readdirSync(join(dir, 'cur')).map((f) => readFileSync(join(dir, 'cur', f)));
    assert.ok(files(out).some((b) => b.length > 20_000_000), 'the 20 MB message was exported');
    const nested = join(out, '.Archiv.Entw&APw-rfe.2024');
    assert.deepEqual(files(nested), expected.filter((e) => e.mailbox === 'Archiv/Entwürfe/2024').map((e) => e.bytes));
    assert.match(readdirSync(join(nested, 'cur'))[0]!, /:2,Sa$/);
    const again = cli(['export', '--user', 'alice', '--maildir', out, '--data', data, '--no-progress']);
    assert.match(again.stdout, /exported 0 messages .* 11 already there/);
    const reimport = cli(['import', '--user', 'bob', '--maildir', out, '--data', data, '--no-progress']);
    assert.equal(reimport.status, 0, reimport.stderr);
    assert.match(reimport.stdout, /imported 11 messages/);
  });
});
