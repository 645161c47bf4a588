import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserFile, UserFileAuthenticator, UserFileError } from '../../src/auth/user-file.js';
import type { AuthRequest } from '../../src/auth/types.js';
import { servedClock } from '../helpers/served-time.js';

const FAST = { scrypt: { log2N: 10, r: 8, p: 1 } };

async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-users-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function request(username: string, password: string): AuthRequest {
  return { username, password, mechanism: 'LOGIN', remoteAddress: '127.0.0.1', secure: true, protocol: 'imap' };
}

test('add / list / setPassword / delete round trip through the file', async (t) => {
  const dir = await tempDir(t);
  const users = UserFile.inDataDir(dir, FAST);
  assert.deepEqual(await users.list(), []);
  await users.add('ann', 'pw1');
  await users.add('bob@example.org', 'pw2');
  assert.deepEqual(await users.list(), ['ann', 'bob@example.org']);

  const text = await readFile(join(dir, 'users'), 'utf8');
  // The hash, five empty Dovecot fields, then the SCRAM keys among the extra fields.
  const scram = 'scram-sha-256=4096,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+,[A-Za-z0-9+/=]+';
  assert.match(text, new RegExp(`^ann:\\{SCRYPT\\}ln=10,r=8,p=1\\$[^:\\n]+::::::${scram}\\nbob@example\\.org:\\{SCRYPT\\}[^:\\n]+::::::${scram}\\n$`));
  assert.equal((await stat(join(dir, 'users'))).mode & 0o777, 0o600);

  const auth = new UserFileAuthenticator(new UserFile(join(dir, 'users')));
  assert.deepEqual(await auth.authenticate(request('ann', 'pw1')), { user: 'ann' });
  await users.setPassword('ann', 'new');
  assert.equal(await auth.authenticate(request('ann', 'pw1')), null);
  assert.deepEqual(await auth.authenticate(request('ann', 'new')), { user: 'ann' });

  await users.delete('ann');
  assert.deepEqual(await users.list(), ['bob@example.org']);
  assert.equal(await auth.authenticate(request('ann', 'new')), null);
  // No temp or lock files are left behind.
  assert.deepEqual((await readdir(dir)).sort(), ['users']);
});

test('errors: duplicate, missing, invalid names and passwords', async (t) => {
  const users = UserFile.inDataDir(await tempDir(t), FAST);
  await users.add('ann', 'pw');
  const code = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'no error';
    } catch (err) {
      assert.ok(err instanceof UserFileError);
      return err.code;
    }
  };
  assert.equal(await code(users.add('ann', 'x')), 'exists');
  assert.equal(await code(users.setPassword('zed', 'x')), 'not-found');
  assert.equal(await code(users.delete('zed')), 'not-found');
  for (const bad of ['', 'a:b', 'a b', '../x', '..', '#x', 'a\nb']) {
    assert.equal(await code(users.add(bad, 'x')), 'invalid-name', JSON.stringify(bad));
  }
  assert.equal(await code(users.add('carl', '')), 'invalid-password');
  assert.equal(await code(users.add('carl', 'a\nb')), 'invalid-password');
  assert.deepEqual(await users.list(), ['ann']);
});

test('Dovecot-style extra fields and comments are read and preserved on edit', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'users');
  await writeFile(path, '# managed by hand\nann:{PLAIN}pw:1000:1000::/home/ann::userdb_quota_rule=*:storage=1G\n\ndup:{PLAIN}first\ndup:{PLAIN}second\n');
  const users = new UserFile(path, FAST);
  const auth = new UserFileAuthenticator(users, { plaintextSecrets: true });
  assert.deepEqual(await auth.authenticate(request('ann', 'pw')), { user: 'ann' });
  assert.deepEqual(await auth.authenticate(request('dup', 'first')), { user: 'dup' });
  assert.equal(await auth.authenticate(request('dup', 'second')), null);
  assert.equal(await auth.plaintextSecret?.('ann'), 'pw');
  assert.equal(await auth.plaintextSecret?.('nobody'), null);
  assert.equal(await auth.scramCredentials('ann'), null, 'a {PLAIN} entry has no SCRAM keys');

  await users.setPassword('ann', 'pw2');
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  assert.equal(lines[0], '# managed by hand');
  assert.match(lines[1] ?? '', /^ann:\{SCRYPT\}[^:]+:1000:1000::\/home\/ann::userdb_quota_rule=\*:storage=1G scram-sha-256=4096,\S+$/);
  assert.equal(lines[2], '');
  assert.equal(await auth.plaintextSecret?.('ann'), null);
  assert.equal((await auth.scramCredentials('ann'))?.iterations, 4096);
});

test('a running authenticator sees users added by another process-like writer', async (t) => {
  const dir = await tempDir(t);
  const auth = new UserFileAuthenticator(UserFile.inDataDir(dir));
  assert.equal(await auth.authenticate(request('ann', 'pw')), null); // file does not exist yet
  const writer = UserFile.inDataDir(dir, FAST);
  await writer.add('ann', 'pw');
  assert.deepEqual(await auth.authenticate(request('ann', 'pw')), { user: 'ann' });
  // Several edits within the same millisecond are still noticed (inode changes on rename).
  await writer.setPassword('ann', 'a');
  await writer.setPassword('ann', 'b');
  assert.deepEqual(await auth.authenticate(request('ann', 'b')), { user: 'ann' });
});

test('concurrent writers do not lose each other\'s updates', async (t) => {
  const dir = await tempDir(t);
  const writers = Array.from({ length: 6 }, () => UserFile.inDataDir(dir, FAST));
  await Promise.all(writers.map((w, i) => w.add(`user${i}`, `pw${i}`)));
  const names = await UserFile.inDataDir(dir).list();
  assert.deepEqual(names.sort(), ['user0', 'user1', 'user2', 'user3', 'user4', 'user5']);
});

test('concurrent logins during reloads all resolve correctly', async (t) => {
  const dir = await tempDir(t);
  const writer = UserFile.inDataDir(dir, FAST);
  await writer.add('ann', 'pw');
  const auth = new UserFileAuthenticator(UserFile.inDataDir(dir));
  const results = await Promise.all([
    ...Array.from({ length: 5 }, () => auth.authenticate(request('ann', 'pw'))),
    writer.add('bob', 'pw'),
    ...Array.from({ length: 5 }, () => auth.authenticate(request('ann', 'bad'))),
  ]);
  assert.deepEqual(results.slice(0, 5), Array(5).fill({ user: 'ann' }));
  assert.deepEqual(results.slice(6), Array(5).fill(null));
  assert.deepEqual(await auth.authenticate(request('bob', 'pw')), { user: 'bob' });
});

test('unknown users cost a real scrypt verification (no timing oracle)', async (t) => {
  const dir = await tempDir(t);
  const auth = new UserFileAuthenticator(UserFile.inDataDir(dir));
  await auth.authenticate(request('warm-up', 'x')); // creates the dummy hash once
  const started = process.hrtime.bigint();
  assert.equal(await auth.authenticate(request('nobody', 'x')), null);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  // A map lookup takes microseconds; an N=2^15 scrypt takes milliseconds.
  assert.ok(ms > 5, `unknown user answered in ${ms} ms`);
});

test('a stale lock left by a crashed writer is taken over; a fresh one times out', async (t) => {
  const dir = await tempDir(t);
  const lockPath = join(dir, 'users.lock');
  await writeFile(lockPath, '99999\n');
  const users = UserFile.inDataDir(dir, { ...FAST, lockTimeoutMs: 100 });
  await assert.rejects(users.add('ann', 'pw'), (err: unknown) => err instanceof UserFileError && err.code === 'locked');
  const { utimes } = await import('node:fs/promises');
  const old = new Date(Date.now() - 120_000);
  await utimes(lockPath, old, old);
  await users.add('ann', 'pw');
  assert.deepEqual(await users.list(), ['ann']);
});

/** Whether `p` settles within a few microtask turns: a stat() needs a turn of the event loop. */
async function settlesAtOnce(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(() => (settled = true));
  for (let i = 0; i < 5; i++) await Promise.resolve();
  const atOnce = settled;
  await p;
  return atOnce;
}

/** Looks `name` up until it is (or is not) there, for at most 3 s; the watcher's event comes within milliseconds. */
async function until(users: UserFile, name: string, present: boolean): Promise<number> {
  // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
  const clock = servedClock();
  while (((await users.lookup(name)) !== undefined) !== present) {
    assert.ok(clock.served() < 3000, `${name} still ${present ? 'missing' : 'present'} after 3 s served (${clock.wall().toFixed(0)} ms as seen)`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return clock.wall();
}

test('recheckMs: an unchanged file is not stat()ed again; a change is seen at the watcher\'s event', async (t) => {
  const dir = await tempDir(t);
  const writer = UserFile.inDataDir(dir, FAST);
  await writer.add('ann', 'pw');
  // An hour: whatever is seen below is seen through the watcher, not the interval.
  const users = UserFile.inDataDir(dir, { recheckMs: 3_600_000 });
  t.after(() => users.close());
  const plain = UserFile.inDataDir(dir);
  assert.ok(await users.lookup('ann'));
  assert.ok(await plain.lookup('ann'));
  assert.equal(await settlesAtOnce(users.refresh()), true, 'trusted: no stat');
  assert.equal(await settlesAtOnce(plain.refresh()), false, 'without recheckMs: a stat at every lookup');

  await writer.add('bob', 'pw'); // a new file renamed over the watched one
  await until(users, 'bob', true);
  assert.equal(await settlesAtOnce(users.refresh()), true, 'watching the new file');
  await appendFile(join(dir, 'users'), 'carol:{PLAIN}pw\n'); // written in place
  await until(users, 'carol', true);
  await rm(join(dir, 'users')); // removed: no file to watch, so a stat at every lookup
  await until(users, 'ann', false);
  assert.equal(await settlesAtOnce(users.refresh()), false);
  await writeFile(join(dir, 'users'), 'dave:{PLAIN}pw\n');
  await until(users, 'dave', true);
  assert.equal(await users.lookup('ann'), undefined);
  assert.equal(await settlesAtOnce(users.refresh()), true, 'watching again once the file is back');
  users.recheck(); // SIGHUP: whatever the watch said
  assert.equal(await settlesAtOnce(users.refresh()), false, 'stat()ed again after recheck()');
  assert.equal(await settlesAtOnce(users.refresh()), true, 'and watched again');
});

test('recheckMs: lookups made while the first read is under way wait for it (a fresh worker\'s first logins)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'users'), 'ann:{PLAIN}pw\n');
  const users = UserFile.inDataDir(dir, { recheckMs: 3_600_000 });
  t.after(() => users.close());
  // Eight at once on a file never read: the watch starts before the read, and none may trust it early.
  const found = await Promise.all(Array.from({ length: 8 }, () => users.lookup('ann')));
  assert.deepEqual(found.map((r) => r?.name), Array(8).fill('ann'));
});

test('recheckMs: without an event the file is still checked once the interval has passed', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'users'), 'ann:{PLAIN}pw\n');
  const users = UserFile.inDataDir(dir, { recheckMs: 200 });
  t.after(() => users.close());
  assert.ok(await users.lookup('ann'));
  assert.equal(await settlesAtOnce(users.refresh()), true);
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(await settlesAtOnce(users.refresh()), false, 'the interval is over: stat()ed again');
  assert.throws(() => UserFile.inDataDir(dir, { recheckMs: -1 }), RangeError);
});
