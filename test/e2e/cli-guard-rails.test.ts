/**
 * Safe defaults of the CLI: every command that can create the data folder creates it 0700 and its
 * files 0600; serve warns about looser modes and users-file problems; import and export refuse an
 * unknown user or a missing data folder, and say in words what is wrong with a path; progress
 * goes to a pipe as plain lines.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { postroom } from '../helpers/cli.js';
import { logLines, startServe } from '../helpers/serve.js';
import { UserFile } from '../../src/auth/user-file.js';
import { RawClient } from '../helpers/raw-client.js';

const work = mkdtempSync(join(tmpdir(), 'postroom-rails-'));
after(() => rmSync(work, { recursive: true, force: true }));
const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

function mboxOf(bodies: string[]): string {
  return bodies.map((b, i) => `From sender@example.org Mon Jan  1 10:00:0${i % 10} 2024\nSubject: m${i}\n\n${b}\n\n`).join('');
}

describe('file modes', () => {
  it('user add creates the data folder 0700 and the users file 0600', async () => {
    const data = join(work, 'by-user-add', 'data');
    const r = await postroom(['user', 'add', 'ann', '--password-stdin', '--data', data], 'pw-ann\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(data), '700');
    assert.equal(mode(join(data, '..')), '700', 'missing parents too');
    assert.equal(mode(join(data, 'users')), '600');
  });

  it('import makes the store 0600 (database, large-body files) in 0700 folders; export writes 0700/0600 Maildirs', async () => {
    const data = join(work, 'by-import');
    await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('ann', 'pw');
    const mbox = join(work, 'big.mbox');
    writeFileSync(mbox, mboxOf(['small', 'y'.repeat(300 * 1024)]));
    const r = await postroom(['import', '--user', 'ann', '--mbox', mbox, '--data', data, '--no-progress']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(data), '700');
    assert.equal(mode(join(data, 'mail.sqlite')), '600');
    assert.equal(mode(join(data, 'blobs')), '700');
    // Every entry: the body files, the folders they sit in, and the identity marker (store-identity.ts).
    const entries = readdirSync(join(data, 'blobs'), { recursive: true }).map(String);
    assert.ok(entries.some((n) => /[0-9a-f]{64}$/.test(n)), 'a large body is a file in blobs/');
    for (const entry of entries) {
      const path = join(data, 'blobs', entry);
      assert.equal(mode(path), statSync(path).isDirectory() ? '700' : '600', entry);
    }
    const out = join(work, 'exported');
    const e = await postroom(['export', '--user', 'ann', '--maildir', out, '--data', data, '--no-progress']);
    assert.equal(e.code, 0, e.stderr);
    assert.equal(mode(join(out, 'cur')), '700');
    assert.equal(mode(join(out, 'cur', readdirSync(join(out, 'cur'))[0]!)), '600');
    assert.equal(mode(join(out, 'subscriptions')), '600');
  });

  it('serve creates 0700/0600 and warns about looser modes and users-file problems', async () => {
    const data = join(work, 'by-serve');
    const s = await startServe(['--data', data, '--ephemeral-ports', '--store', 'sqlite', '--log-level', 'warn']);
    assert.equal(await s.stop(), 0);
    for (const [p, m] of [['.', '700'], ['mail.sqlite', '600'], ['blobs', '700'], ['tmp', '700'], ['tls', '700'], ['tls/key.pem', '600']] as const) {
      assert.equal(mode(join(data, p)), m, p);
    }
    // Loosened since, and a users file with problems.
    chmodSync(data, 0o755);
    chmodSync(join(data, 'mail.sqlite'), 0o644);
    writeFileSync(join(data, 'users'), 'ann:{PLAIN}pw\nno colon here\nbob:{MD5}abc\nann:{PLAIN}other\n', { mode: 0o644 });
    chmodSync(join(data, 'users'), 0o644);
    const again = await startServe(['--data', data, '--ephemeral-ports', '--store', 'sqlite', '--log-level', 'warn', '--hostname', 'mail.rails.test']);
    const warnings = logLines(again).filter((l) => l['level'] === 40).map((l) => String(l['msg']));
    // --hostname is in both greetings, as the docs say.
    const imap = new RawClient(again.listening.imapPort!);
    assert.match(await imap.expect(/^\* OK/), /^\* OK \[CAPABILITY [^\]]+\] mail\.rails\.test Postroom ready$/);
    imap.destroy();
    const pop = new RawClient(again.listening.pop3Port!);
    assert.match(await pop.expect(/^\+OK/), /^\+OK mail\.rails\.test Postroom POP3 server ready( <[^>]+@mail\.rails\.test>)?$/);
    pop.destroy();
    assert.equal(await again.stop(), 0);
    const expect = [
      new RegExp(`^${data} has mode 0755: other users may read what it holds; chmod 700 ${data}$`),
      /mail\.sqlite has mode 0644: other users may read it; chmod 600 /,
      /users has mode 0644, so other users can read the password hashes: chmod 600 /,
      /users:2: no ":" between a user name and a password hash; the line is ignored$/,
      /users:3: user "bob" has a password in scheme \{MD5\}, which Postroom cannot verify/,
      /users:4: user "ann" again; the entry on line 1 is the one used$/,
    ];
    for (const re of expect) assert.ok(warnings.some((w) => re.test(w)), `no warning ${re}: ${warnings.join('\n')}`);
    // user list says the same (on stderr; stdout stays the list).
    const list = await postroom(['user', 'list', '--data', data]);
    assert.equal(list.stdout, 'ann\nbob\n');
    assert.match(list.stderr, /warning: .*users:2: no ":"/);
    assert.match(list.stderr, /warning: .*\{MD5\}/);
    assert.match(list.stderr, /warning: .*mode 0644/);
  });
});

describe('import and export refuse with clear errors', () => {
  const data = join(work, 'refusals');
  const mbox = join(work, 'ok.mbox');

  it('a data folder that does not exist (and is not created)', async () => {
    writeFileSync(mbox, mboxOf(['one']));
    const missing = join(work, 'no-such-data');
    const i = await postroom(['import', '--user', 'ann', '--mbox', mbox, '--data', missing]);
    assert.equal(i.code, 1);
    assert.match(i.stderr, /^postroom: data folder .*no-such-data does not exist/);
    const e = await postroom(['export', '--user', 'ann', '--maildir', join(work, 'x'), '--data', missing]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /^postroom: data folder .*no-such-data does not exist/);
    assert.equal(existsSync(missing), false);
  });

  it('an unknown user; a data folder without a store', async () => {
    await UserFile.inDataDir(data, { scrypt: { log2N: 10, r: 8, p: 1 } }).add('ann', 'pw');
    const i = await postroom(['import', '--user', 'anne', '--mbox', mbox, '--data', data]);
    assert.equal(i.code, 1);
    assert.match(i.stderr, /^postroom: no user "anne" in .*users: add it first with "postroom user add anne"/);
    const e = await postroom(['export', '--user', 'ann', '--maildir', join(work, 'x'), '--data', data]);
    assert.equal(e.code, 1);
    assert.match(e.stderr, /^postroom: no mail store in .*refusals \(there is no mail\.sqlite\)/);
    assert.equal(existsSync(join(data, 'mail.sqlite')), false);
  });

  it('sources and targets that are missing, of the wrong kind, or not an mbox; progress lines on a pipe', async () => {
    const dir = join(work, 'a-folder');
    mkdirSync(dir, { recursive: true });
    const text = join(work, 'notes.txt');
    writeFileSync(text, 'Dear diary,\nnothing happened.\n');
    const empty = join(work, 'empty.mbox');
    writeFileSync(empty, '');
    const cases: Array<[string[], RegExp]> = [
      [['--mbox', join(work, 'nope.mbox')], /--mbox .*nope\.mbox: no such file$/],
      [['--mbox', dir], /--mbox .*a-folder: is a folder; an mbox is a single file \(for a Maildir folder use --maildir\)$/],
      [['--mbox', text], /--mbox .*notes\.txt: not an mbox file \(an mbox starts with a "From " line; this one starts with "Dear "\)$/],
      [['--mbox', empty], /--mbox .*empty\.mbox: the file is empty$/],
      [['--maildir', join(work, 'nope')], /--maildir .*nope: no such folder$/],
      [['--maildir', text], /--maildir .*notes\.txt: is a file, not a Maildir folder \(for an mbox file use --mbox\)$/],
      [['--maildir', dir], /--maildir .*a-folder: not a Maildir \(no cur\/ or new\/ in it or in any folder below it\)$/],
    ];
    for (const [args, re] of cases) {
      const r = await postroom(['import', '--user', 'ann', ...args, '--data', data]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.stderr.trim(), re);
      assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|EISDIR/);
    }
    const e = await postroom(['export', '--user', 'ann', '--maildir', text, '--data', data]);
    assert.match(e.stderr.trim(), /--maildir .*notes\.txt: is a file; give a folder/);

    // stderr is a pipe here: progress comes as plain lines (the first and the last at least).
    writeFileSync(mbox, mboxOf(['one', 'two', 'three']));
    const size = statSync(mbox).size;
    const r = await postroom(['import', '--user', 'ann', '--mbox', mbox, '--data', data]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^import: 0/${size} bytes \\(0%\\), imported 0, already there 0$`, 'm'));
    assert.match(r.stderr, new RegExp(`^import: ${size}/${size} bytes \\(100%\\), imported 3, already there 0$`, 'm'));
    assert.doesNotMatch(r.stderr, /\u001b\[|█|░/, 'no bar drawn on a pipe');
  });
});
