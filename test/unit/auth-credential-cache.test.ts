import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CredentialCache } from '../../src/auth/credential-cache.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import type { AuthRequest } from '../../src/auth/types.js';

function request(username: string, password: string): AuthRequest {
  return { username, password, mechanism: 'PLAIN', remoteAddress: '127.0.0.1', secure: true, protocol: 'imap' };
}

test('the cache answers for the same name, password and stored hash only', () => {
  const cache = new CredentialCache();
  cache.remember('ann', 'secret', '{SCRYPT}h1');
  assert.equal(cache.has('ann', 'secret', '{SCRYPT}h1'), true);
  assert.equal(cache.has('ann', 'Secret', '{SCRYPT}h1'), false, 'another password');
  assert.equal(cache.has('ann', 'secret', '{SCRYPT}h2'), false, 'the password was changed since');
  assert.equal(cache.has('bob', 'secret', '{SCRYPT}h1'), false, 'another user');
  // Lengths are part of the key: moving a character from one field to the next is another key.
  cache.remember('a', 'bc', 'h');
  assert.equal(cache.has('ab', 'c', 'h'), false);
});

test('entries expire, the least recently used go first, and clear() forgets all', () => {
  const cache = new CredentialCache({ entries: 2, ttlSeconds: 10 });
  cache.remember('a', 'p', 'h', 0);
  cache.remember('b', 'p', 'h', 0);
  assert.equal(cache.has('a', 'p', 'h', 1000), true); // a is now the most recently used
  cache.remember('c', 'p', 'h', 1000);
  assert.equal(cache.size, 2);
  assert.equal(cache.has('b', 'p', 'h', 1000), false, 'b was the least recently used');
  assert.equal(cache.has('a', 'p', 'h', 1000), true);
  assert.equal(cache.has('a', 'p', 'h', 11_001), false, 'past ttlSeconds');
  cache.clear();
  assert.equal(cache.has('c', 'p', 'h', 1000), false);
});

test('entries: 0 turns it off; bad settings are refused by name', () => {
  const off = new CredentialCache({ entries: 0 });
  off.remember('a', 'p', 'h');
  assert.equal(off.has('a', 'p', 'h'), false);
  assert.throws(() => new CredentialCache({ entries: -1 }), /authCache\.entries/);
  assert.throws(() => new CredentialCache({ size: 3 } as never), /unknown setting "size"/);
});

test('a reconnect with the same password costs no second password hash; wrong passwords are never cached', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'postroom-auth-cache-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // A costly hash (scrypt N=2^16) makes a verification take a clearly measurable time.
  const users = UserFile.inDataDir(dir, { scrypt: { log2N: 16, r: 8, p: 1 } });
  await users.add('ann', 'right');
  const auth = new UserFileAuthenticator(UserFile.inDataDir(dir));

  // CPU time of the whole process (the hash runs on a pool thread, which getrusage counts), not
  // wall time: on a loaded machine a login's wall time is mostly waiting for a CPU, and the
  // comparisons below then went either way. The hash's CPU time does not depend on the load.
  const timed = async (password: string): Promise<{ ms: number; ok: boolean }> => {
    const start = process.cpuUsage();
    const result = await auth.authenticate(request('ann', password));
    const used = process.cpuUsage(start);
    return { ms: (used.user + used.system) / 1000, ok: result?.user === 'ann' };
  };
  const first = await timed('right');
  const second = await timed('right');
  assert.equal(first.ok && second.ok, true);
  assert.ok(second.ms < first.ms / 4, `cached login took ${second.ms.toFixed(1)} ms of CPU, the first ${first.ms.toFixed(1)} ms`);

  const wrong1 = await timed('wrong');
  const wrong2 = await timed('wrong');
  assert.equal(wrong1.ok || wrong2.ok, false);
  assert.ok(wrong2.ms > first.ms / 4, `a repeated wrong password is verified again (${wrong2.ms.toFixed(1)} ms of CPU)`);
  assert.equal(auth.credentialCache.size, 1);

  // The user is removed: the cached success must not outlive the users file entry.
  await users.delete('ann');
  assert.equal(await auth.authenticate(request('ann', 'right')), null);
});
