/** Dovecot passwd-file hashes read from the users file (issue 5, password storage). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSupportedHash, verifyPassword } from '../../src/auth/password.js';
import { DOVECOT_SCHEMES } from '../../src/auth/dovecot-hashes.js';
import { deriveScramKeys, formatScramKeys, parseScramKeys } from '../../src/auth/sasl/scram-keys.js';
import { UserFile, UserFileAuthenticator } from '../../src/auth/user-file.js';
import { scramSha256Mechanism } from '../../src/auth/sasl/index.js';
import { servedClock } from '../helpers/served-time.js';

// Produced by glibc crypt(3), an implementation independent of the one we use; the first is the
// test vector of Drepper's SHA-crypt specification.
const SHA512 = '$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1';
const SHA256 = '$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5';
const SHA512_UTF8 = '$6$rounds=10000$Jt0YPrbRSaSN0fk1$nxgddszMcBzJoG4MxF9YfOhuiV1JPxT/UYMiqKBZjBgUVb1s8uAaEWWQ/WyQi4TaV85fT2j0XwrF9h4dj7lX51';
const SHA512_COSTLY = '$6$rounds=200000$abc$RsRsnE.k/TIw3VAxUbdH6g2qtw3f2ym8sVb7nmf/pHNWv4r.7CumJfrl.Yc26tL3DRT.OBT/n8iWRYEf64seC/';
// PHP's password_hash documentation example ($2y$, as Dovecot and PHP write it).
const BLF = '$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a';
const ARGON2ID = '$argon2id$v=19$m=1024,t=2,p=1$bjABvK6BEGpR4z2FJK0W0w$BCbdLRcWjERuo5oOteYvRrCU/WD1RlKAePbHRdXMawY';
const ARGON2I = '$argon2i$v=19$m=1024,t=2,p=1$1N6lxMfh17uQSunwXzCErw$gpVipEQ5Z9AvozqqbbaSYdeCHIqRJ4nBsCQEiMuXPak';

test('the schemes we verify', () => {
  assert.deepEqual([...DOVECOT_SCHEMES].sort(), ['ARGON2I', 'ARGON2ID', 'BLF-CRYPT', 'SCRAM-SHA-256', 'SHA256-CRYPT', 'SHA512-CRYPT']);
});

const cases: Array<[string, string, string]> = [
  ['{SHA512-CRYPT}' + SHA512, 'Hello world!', 'Hello world?'],
  ['{SHA256-CRYPT}' + SHA256, 'Hello world!', 'hello world!'],
  ['{sha512-crypt}' + SHA512_UTF8, 'pässwörd', 'passwörd'],
  ['{BLF-CRYPT}' + BLF, 'rasmuslerdorf', 'rasmuslerdorF'],
  ['{ARGON2ID}' + ARGON2ID, 'correct horse', 'correct horse '],
  ['{ARGON2I}' + ARGON2I, 'correct horse', 'Correct horse'],
];

for (const [stored, good, bad] of cases) {
  test(`${stored.slice(0, 20)}…: right password verifies, wrong one does not`, async () => {
    assert.equal(isSupportedHash(stored), true);
    assert.equal(await verifyPassword(good, stored), true);
    assert.equal(await verifyPassword(bad, stored), false);
  });
}

test('malformed hashes and costs beyond the caps are refused, not attempted', async () => {
  const refused = [
    '{SHA512-CRYPT}' + SHA512_COSTLY,
    '{SHA512-CRYPT}$6$salt$short',
    '{SHA256-CRYPT}' + SHA512,
    '{BLF-CRYPT}$2y$31$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a',
    '{ARGON2ID}$argon2id$v=19$m=4194304,t=2,p=1$bjABvK6BEGpR4z2FJK0W0w$BCbdLRcWjERuo5oOteYvRrCU/WD1RlKAePbHRdXMawY',
    '{ARGON2ID}' + ARGON2I,
    '{MD5-CRYPT}$1$abc$def',
    '{SCRAM-SHA-256}4096,AAAA,short,short',
  ];
  for (const stored of refused) {
    assert.equal(isSupportedHash(stored), false, stored);
    // Served time: less what the machine's other load kept this process off the CPU (served-time.ts).
    const clock = servedClock();
    assert.equal(await verifyPassword('pw', stored), false, stored);
    assert.ok(clock.served() < 1000, `${stored} took ${clock.served().toFixed(0)} ms served`);
  }
});

test('{SCRAM-SHA-256} entries: Dovecot format round trip; PLAIN and SCRAM logins both work', async (t) => {
  const keys = await deriveScramKeys('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
  const text = formatScramKeys(keys);
  assert.match(text, /^4096,W22ZaJ0SNY7soEsUEjb6gQ==,[A-Za-z0-9+/]{43}=,[A-Za-z0-9+/]{43}=$/);
  assert.deepEqual(parseScramKeys(text), keys);
  assert.equal(await verifyPassword('pencil', `{SCRAM-SHA-256}${text}`), true);
  assert.equal(await verifyPassword('pencil!', `{SCRAM-SHA-256}${text}`), false);

  const dir = await mkdtemp(join(tmpdir(), 'postroom-dovecot-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'users');
  await writeFile(path, `tom:{SCRAM-SHA-256}${text}\nann:{SHA512-CRYPT}${SHA512}:1000:1000::/home/ann\n`);
  const auth = new UserFileAuthenticator(new UserFile(path));
  const req = (username: string, password: string) => ({ username, password, mechanism: 'PLAIN', remoteAddress: '::1', secure: true, protocol: 'imap' as const });
  assert.deepEqual(await auth.authenticate(req('tom', 'pencil')), { user: 'tom' });
  assert.deepEqual(await auth.authenticate(req('ann', 'Hello world!')), { user: 'ann' });
  assert.equal(await auth.authenticate(req('ann', 'pencil')), null);
  assert.deepEqual((await auth.scramCredentials('tom'))?.storedKey, keys.storedKey);
  assert.equal(await auth.scramCredentials('ann'), null, 'a SHA512-CRYPT entry cannot do SCRAM');
  assert.equal(scramSha256Mechanism.available(auth), true);
  assert.equal(auth.plaintextSecret, undefined, 'no APOP/CRAM-MD5 unless asked for');

  // Migrated users who change their password get our scheme plus SCRAM keys.
  await new UserFile(path, { scrypt: { log2N: 10, r: 8, p: 1 } }).setPassword('ann', 'new pw');
  assert.deepEqual(await auth.authenticate(req('ann', 'new pw')), { user: 'ann' });
  assert.ok(await auth.scramCredentials('ann'));
});
