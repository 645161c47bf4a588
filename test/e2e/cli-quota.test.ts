/**
 * `postroom quota get|set` against a running server (through its control socket: the sessions obey
 * the new limits at once) and with none running; the default limits from the users file's fields
 * over the config file's `quota`; `admins` from the config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile } from '../../src/auth/user-file.js';
import { postroom } from '../helpers/cli.js';
import { RawClient, run } from '../helpers/raw-client.js';
import { startServe } from '../helpers/serve.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };
const tagged = (lines: string[]): string => lines[lines.length - 1]!;
const body = 'Subject: q\r\n\r\nx\r\n';

test('postroom quota get|set, online and offline, over the users file and config defaults', { timeout: 200_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'postroom-quota-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const data = join(work, 'data');
  const users = UserFile.inDataDir(data, FAST);
  await users.add('ann', 'pw-ann');
  await users.add('bob', 'pw-bob');
  // ann's own default in Dovecot's extra-fields field (the 8th), beside her SCRAM keys.
  const lines = readFileSync(users.path, 'utf8').split('\n').map((l) => (l.startsWith('ann:') ? `${l} quota_messages=2` : l));
  writeFileSync(users.path, lines.join('\n'), { mode: 0o600 });
  const config = join(work, 'postroom.json');
  writeFileSync(config, JSON.stringify({ quota: { storage: 100_000 }, admins: ['ann'] }));
  const common = ['--data', data, '--config', config];

  const s = await startServe([...common, '--ephemeral-ports', '--allow-insecure-auth', '--log-level', 'warn']);
  t.after(() => s.stop());
  const ann = new RawClient(s.listening.imapPort!);
  t.after(() => ann.destroy());
  await ann.expect(/^\* OK/);
  assert.match(tagged(await run(ann, 'l', 'LOGIN ann pw-ann')), /^l OK/);

  const get = await postroom(['quota', 'get', 'ann', ...common]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stdout, 'ann\tstorage\t0\t100000\toctets\nann\tmessages\t0\t2\tmessages\nann\tlimits from\tthe users file and the quota setting\n');
  for (const tag of ['a1', 'a2']) assert.match(tagged(await run(ann, tag, `APPEND INBOX {${body.length}+}\r\n${body}`)), new RegExp(`^${tag} OK`));
  assert.match(tagged(await run(ann, 'a3', `APPEND INBOX {${body.length}+}\r\n${body}`)), /^a3 NO \[OVERQUOTA\]/);

  // Through the control socket: the running sessions obey it at once.
  const set = await postroom(['quota', 'set', 'ann', '--messages', '5', ...common]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /^ann\tstorage\t\d+\tunlimited\toctets\nann\tmessages\t2\t5\tmessages\nann\tlimits from\tthe store/);
  assert.match(tagged(await run(ann, 'a4', `APPEND INBOX {${body.length}+}\r\n${body}`)), /^a4 OK/);
  // ann is an administrator (config): she may read bob's root, which has the configured default.
  const bobs = await run(ann, 'g1', 'GETQUOTA "#user/bob"');
  assert.ok(bobs.includes('* QUOTA "#user/bob" (STORAGE 0 98)'), bobs.join('\n'));

  const nothing = await postroom(['quota', 'set', 'ann', ...common]);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /give --storage and\/or --messages, --unlimited, or --reset/);
  const nobody = await postroom(['quota', 'get', 'nobody', ...common]);
  assert.equal(nobody.code, 1);
  assert.match(nobody.stderr, /no user "nobody"/);

  await run(ann, 'z', 'LOGOUT');
  assert.equal(await s.stop(), 0);

  // No server: the store opened here, with the same defaults.
  const offline = await postroom(['quota', 'get', 'ann', ...common]);
  assert.equal(offline.code, 0, offline.stderr);
  assert.match(offline.stdout, /^ann\tstorage\t\d+\tunlimited\toctets\nann\tmessages\t3\t5\tmessages\n/);
  const reset = await postroom(['quota', 'set', 'ann', '--reset', ...common]);
  assert.equal(reset.code, 0, reset.stderr);
  assert.match(reset.stdout, /\nann\tmessages\t3\t2\tmessages\nann\tlimits from\tthe users file and the quota setting\n$/);
});
