import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { postroom } from '../helpers/cli.js';


async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const login = (username: string, password: string) =>
  ({ username, password, mechanism: 'LOGIN', remoteAddress: '127.0.0.1', secure: true, protocol: 'imap' }) as const;

test('user add --password-stdin / list / passwd / delete', async (t) => {
  const data = await tempDir(t);
  const add = await postroom(['user', 'add', 'ann', '--password-stdin', '--data', data], 'first pw\n');
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /added user ann/);
  assert.equal((await postroom(['user', 'add', 'bob', '--password-stdin', '--data', data], 'x')).code, 0);

  const list = await postroom(['user', 'list', '--data', data]);
  assert.equal(list.code, 0);
  assert.equal(list.stdout, 'ann\nbob\n');

  // The trailing newline of the piped password is not part of it.
  const auth = new UserFileAuthenticator(UserFile.inDataDir(data));
  assert.deepEqual(await auth.authenticate(login('ann', 'first pw')), { user: 'ann' });

  const passwd = await postroom(['user', 'passwd', 'ann', '--password-stdin', '--data', data], 'second\r\n');
  assert.equal(passwd.code, 0, passwd.stderr);
  assert.equal(await auth.authenticate(login('ann', 'first pw')), null);
  assert.deepEqual(await auth.authenticate(login('ann', 'second')), { user: 'ann' });

  const del = await postroom(['user', 'delete', 'bob', '--data', data]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal((await postroom(['user', 'list', '--data', data])).stdout, 'ann\n');
  assert.match(await readFile(join(data, 'users'), 'utf8'), /^ann:\{SCRYPT\}ln=15,r=8,p=1\$/);
});

test('user commands report errors on stderr with exit code 1', async (t) => {
  const data = await tempDir(t);
  assert.equal((await postroom(['user', 'add', 'ann', '--password-stdin', '--data', data], 'pw')).code, 0);

  const dup = await postroom(['user', 'add', 'ann', '--password-stdin', '--data', data], 'pw');
  assert.equal(dup.code, 1);
  assert.match(dup.stderr, /already exists/);

  const missing = await postroom(['user', 'delete', 'zed', '--data', data]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no user "zed"/);

  const noTty = await postroom(['user', 'add', 'carl', '--data', data]);
  assert.equal(noTty.code, 1);
  assert.match(noTty.stderr, /--password-stdin/);

  const empty = await postroom(['user', 'add', 'carl', '--password-stdin', '--data', data], '\n');
  assert.equal(empty.code, 1);
  assert.match(empty.stderr, /password is empty/);

  const badName = await postroom(['user', 'add', 'a:b', '--password-stdin', '--data', data], 'pw');
  assert.equal(badName.code, 1);
  assert.match(badName.stderr, /user name/);
  assert.equal((await postroom(['user', 'list', '--data', data])).stdout, 'ann\n');
});

test('user commands take the data folder from a serve config file', async (t) => {
  const dir = await tempDir(t);
  const config = join(dir, 'postroom.json');
  await writeFile(config, JSON.stringify({ data: 'maildata', imapPort: 'auto' }));
  const add = await postroom(['user', 'add', 'ann', '--password-stdin', '--config', config], 'pw');
  assert.equal(add.code, 0, add.stderr);
  assert.match(await readFile(join(dir, 'maildata', 'users'), 'utf8'), /^ann:/);
});

test('--help documents the commands and their options', async () => {
  const top = await postroom(['--help']);
  assert.equal(top.code, 0);
  assert.match(top.stdout, /serve/);
  assert.match(top.stdout, /user/);
  const serve = await postroom(['serve', '--help']);
  for (const flag of ['--data', '--host', '--imap-port', '--imaps-port', '--pop3-port', '--pop3s-port', '--store', '--allow-insecure-auth', '--config', '--log-level', '--demo', '--ephemeral-ports']) {
    assert.ok(serve.stdout.includes(flag), `serve --help mentions ${flag}`);
  }
  const user = await postroom(['user', '--help']);
  for (const sub of ['add', 'passwd', 'list', 'delete']) assert.match(user.stdout, new RegExp(`\\b${sub}\\b`));
  const bad = await postroom(['frobnicate']);
  assert.notEqual(bad.code, 0);
});
