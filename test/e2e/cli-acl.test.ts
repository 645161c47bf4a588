/**
 * `postroom acl get|set|delete` against a running server (through its control socket: bob's session
 * sees the shared mailbox at once) and with none running (the store opened by the command).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile } from '../../src/auth/user-file.js';
import { postroom } from '../helpers/cli.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { startServe } from '../helpers/serve.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };
const tagged = (lines: string[]): string => lines[lines.length - 1]!;

test('postroom acl get|set|delete, online and offline', { timeout: 200_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-acl-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const users = UserFile.inDataDir(data, FAST);
  await users.add('ann', 'pw-ann');
  await users.add('bob', 'pw-bob');
  const common = ['--data', data];

  const s = await startServe([...common, '--ephemeral-ports', '--allow-insecure-auth', '--log-level', 'warn']);
  t.after(() => s.stop());
  const login = async (user: string, pass: string): Promise<RawClient> => {
    const c = new RawClient(s.listening.imapPort!);
    t.after(() => c.destroy());
    await c.expect(/^\* OK/);
    assert.match(tagged(await run(c, 'l', `LOGIN ${user} ${pass}`)), /^l OK/);
    return c;
  };
  const ann = await login('ann', 'pw-ann');
  assert.match(tagged(await run(ann, 'c', 'CREATE Team')), /^c OK/);
  const bob = await login('bob', 'pw-bob');
  assert.match(tagged(await run(bob, 's0', 'STATUS Shared/ann/Team (MESSAGES)')), /^s0 NO \[NONEXISTENT\]/);

  const set = await postroom(['acl', 'set', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'bob', '--rights', 'lr', ...common]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(set.stdout, 'ann\tlrswipkxteacd\nbob\tlr\n');
  // bob's running session sees it at once.
  assert.match(tagged(await run(bob, 's1', 'STATUS Shared/ann/Team (MESSAGES)')), /^s1 OK/);
  assert.ok((await run(bob, 'm1', 'MYRIGHTS Shared/ann/Team')).includes('* MYRIGHTS Shared/ann/Team lr'));

  const add = await postroom(['acl', 'set', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'bob', '--rights', '+w', ...common]);
  assert.equal(add.stdout, 'ann\tlrswipkxteacd\nbob\tlrw\n', add.stderr);
  const get = await postroom(['acl', 'get', '--user', 'ann', '--mailbox', 'Team', ...common]);
  assert.equal(get.stdout, 'ann\tlrswipkxteacd\nbob\tlrw\n', get.stderr);

  const bad = await postroom(['acl', 'set', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'bob', '--rights', 'lrq', ...common]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /The q right is not supported/);
  const owner = await postroom(['acl', 'set', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'ann', '--rights', 'l', ...common]);
  assert.equal(owner.code, 1);
  assert.match(owner.stderr, /owner's rights/);
  const nobox = await postroom(['acl', 'get', '--user', 'ann', '--mailbox', 'Nowhere', ...common]);
  assert.equal(nobox.code, 1);
  const nobody = await postroom(['acl', 'get', '--user', 'nobody', '--mailbox', 'INBOX', ...common]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /no user "nobody"/);

  const del = await postroom(['acl', 'delete', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'bob', ...common]);
  assert.equal(del.code, 0, del.stderr);
  assert.equal(del.stdout, 'ann\tlrswipkxteacd\n');
  assert.match(tagged(await run(bob, 's2', 'STATUS Shared/ann/Team (MESSAGES)')), /^s2 NO \[NONEXISTENT\]/);

  await run(ann, 'z', 'LOGOUT');
  await run(bob, 'z', 'LOGOUT');
  assert.equal(await s.stop(), 0);

  // No server: the store opened here.
  const offline = await postroom(['acl', 'set', '--user', 'ann', '--mailbox', 'Team', '--identifier', 'anyone', '--rights', 'lr', ...common]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stdout, 'ann\tlrswipkxteacd\nanyone\tlr\n');
  const again = await postroom(['acl', 'get', '--user', 'ann', '--mailbox', 'Team', ...common]);
  assert.equal(again.stdout, 'ann\tlrswipkxteacd\nanyone\tlr\n');
});
