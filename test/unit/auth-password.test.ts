import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_SCRYPT_PARAMS,
  hashPassword,
  isSupportedHash,
  plaintextOf,
  splitScheme,
  verifyPassword,
} from '../../src/auth/password.js';

const FAST = { log2N: 10, r: 8, p: 1 };

test('default scrypt hash has the documented shape and verifies', async () => {
  const hash = await hashPassword('correct horse');
  assert.match(hash, /^\{SCRYPT\}ln=15,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(DEFAULT_SCRYPT_PARAMS.log2N, 15);
  assert.equal(await verifyPassword('correct horse', hash), true);
  assert.equal(await verifyPassword('correct horsE', hash), false);
});

test('hashes are salted: same password, different hashes, both verify', async () => {
  const a = await hashPassword('pw', FAST);
  const c = await hashPassword('pw', FAST);
  assert.notEqual(a, c);
  assert.equal(await verifyPassword('pw', a), true);
  assert.equal(await verifyPassword('pw', c), true);
});

test('parameters are read from the hash, not from the defaults', async () => {
  const hash = await hashPassword('pw', { log2N: 11, r: 4, p: 2 });
  assert.ok(hash.startsWith('{SCRYPT}ln=11,r=4,p=2$'));
  assert.equal(await verifyPassword('pw', hash), true);
});

test('NFKC normalisation: composed and decomposed é are the same password', async () => {
  const hash = await hashPassword('caf\u00e9', FAST);
  assert.equal(await verifyPassword('cafe\u0301', hash), true);
});

test('tampered or unknown hashes never verify', async () => {
  const hash = await hashPassword('pw', FAST);
  const flipped = hash.slice(0, -3) + (hash.at(-3) === 'A' ? 'B' : 'A') + hash.slice(-2);
  assert.equal(await verifyPassword('pw', flipped), false);
  for (const bad of ['', 'pw', '{SCRYPT}garbage', '{SCRYPT}ln=40,r=8,p=1$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==', '{MD5}abc', '{SHA512-CRYPT}$6$x$y']) {
    assert.equal(await verifyPassword('pw', bad), false, bad);
    assert.equal(isSupportedHash(bad), false, bad);
  }
  assert.equal(isSupportedHash(hash), true);
});

test('rejects out-of-range cost parameters when hashing', async () => {
  await assert.rejects(hashPassword('pw', { log2N: 40, r: 8, p: 1 }), RangeError);
  await assert.rejects(hashPassword('pw', { log2N: 10, r: 0, p: 1 }), RangeError);
});

test('Dovecot {PLAIN} and {CLEARTEXT} entries verify and expose their secret', async () => {
  assert.equal(await verifyPassword('s3cret', '{PLAIN}s3cret'), true);
  assert.equal(await verifyPassword('s3cre', '{PLAIN}s3cret'), false);
  assert.equal(await verifyPassword('s3cret', '{cleartext}s3cret'), true);
  assert.equal(plaintextOf('{PLAIN}a:b'), 'a:b');
  assert.equal(plaintextOf('{SCRYPT}x'), null);
  assert.deepEqual(splitScheme('{plain}x'), { scheme: 'PLAIN', data: 'x' });
  assert.equal(splitScheme('nobraces'), null);
});
