/** `postroom user` with SCRAM keys and a migrated Dovecot passwd-file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { postroom } from '../helpers/cli.js';


const SHA512 = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';

test('a Dovecot passwd-file works as DATA/users; passwd upgrades an entry to scrypt + SCRAM keys', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-auth-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'users');
  await writeFile(path, `ann:{SHA512-CRYPT}${SHA512}:1000:1000::/home/ann::\nold:{MD5-CRYPT}$1$abc$def\n`);

  let r = await postroom(['user', 'list', '--long', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['ann\tSHA512-CRYPT\t-', 'old\tMD5-CRYPT (unsupported)\t-']);

  const auth = new UserFileAuthenticator(new UserFile(path));
  const req = (password: string) => ({ username: 'ann', password, mechanism: 'PLAIN', remoteAddress: '::1', secure: true, protocol: 'imap' as const });
  assert.deepEqual(await auth.authenticate(req('Hello world!')), { user: 'ann' });

  r = await postroom(['user', 'passwd', 'ann', '--password-stdin', '--data', dir], 'fresh pw\n');
  assert.equal(r.code, 0, r.stderr);
  r = await postroom(['user', 'add', 'bea', '--password-stdin', '--data', dir], 'bea pw\n');
  assert.equal(r.code, 0, r.stderr);
  r = await postroom(['user', 'list', '-l', '--data', dir]);
  assert.deepEqual(r.stdout.trim().split('\n'), ['ann\tSCRYPT\tscram', 'old\tMD5-CRYPT (unsupported)\t-', 'bea\tSCRYPT\tscram']);
  const text = await readFile(path, 'utf8');
  assert.match(text, /^ann:\{SCRYPT\}[^:]+:1000:1000::\/home\/ann::scram-sha-256=4096,/m);
  assert.ok(!text.includes('fresh pw') && !text.includes('bea pw'), 'no password is stored');
  assert.equal(await auth.authenticate(req('Hello world!')), null);
  assert.deepEqual(await auth.authenticate(req('fresh pw')), { user: 'ann' });
  assert.ok(await auth.scramCredentials('bea'));

  r = await postroom(['user', 'delete', 'old', '--data', dir]);
  assert.equal(r.code, 0, r.stderr);
  r = await postroom(['user', 'list', '--data', dir]);
  assert.equal(r.stdout, 'ann\nbea\n');
});
