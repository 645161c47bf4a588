import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AuthRequest, Authenticator } from '../../src/auth/types.js';
import type { SaslContext, SaslMechanism } from '../../src/auth/sasl/types.js';
import { findSaslMechanism, saslMechanisms, usableSaslMechanisms } from '../../src/auth/sasl/index.js';
import { parsePlainMessage } from '../../src/auth/sasl/plain.js';

/** Accepts alice/secret; records every request it sees. Grants "bob" to act as "shared". */
class FakeAuthenticator implements Authenticator {
  readonly seen: AuthRequest[] = [];
  async authenticate(request: AuthRequest): Promise<{ user: string } | null> {
    this.seen.push(request);
    if (request.username === 'alice' && request.password === 'secret') return { user: 'alice' };
    if (request.username === 'bob' && request.password === 'pw') {
      return { user: request.authzid === 'shared' ? 'shared' : 'bob' };
    }
    return null;
  }
}

function context(authenticator: Authenticator): SaslContext {
  return { authenticator, remoteAddress: '127.0.0.1', secure: true, protocol: 'imap', hostname: 'localhost' };
}

function mechanism(name: string): SaslMechanism {
  const m = findSaslMechanism(name);
  assert.ok(m, `${name} registered`);
  return m;
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

test('registry: names, case-insensitive lookup, unknown mechanism', () => {
  assert.deepEqual(saslMechanisms().map((m) => m.name), ['SCRAM-SHA-256', 'PLAIN', 'LOGIN', 'CRAM-MD5', 'OAUTHBEARER', 'XOAUTH2']);
  assert.equal(findSaslMechanism('plain')?.name, 'PLAIN');
  assert.equal(findSaslMechanism('Login')?.name, 'LOGIN');
  assert.equal(findSaslMechanism('DIGEST-MD5'), undefined);
});

test('registry: plaintext mechanisms withheld on insecure connections unless allowed', () => {
  const auth = new FakeAuthenticator();
  assert.deepEqual(usableSaslMechanisms(auth, { secure: false }), []);
  assert.deepEqual(usableSaslMechanisms(auth, { secure: false, allowInsecureAuth: true }).map((m) => m.name), ['PLAIN', 'LOGIN']);
  assert.deepEqual(usableSaslMechanisms(auth, { secure: true }).map((m) => m.name), ['PLAIN', 'LOGIN']);
});

test('PLAIN: initial response with good credentials succeeds', async () => {
  const auth = new FakeAuthenticator();
  const step = await mechanism('PLAIN').start(context(auth)).step(b('\0alice\0secret'));
  assert.deepEqual(step, { type: 'success', user: 'alice' });
  assert.equal(auth.seen[0]?.mechanism, 'PLAIN');
  assert.equal(auth.seen[0]?.authzid, undefined);
});

test('PLAIN: without initial response sends an empty challenge first', async () => {
  const ex = mechanism('PLAIN').start(context(new FakeAuthenticator()));
  const first = await ex.step(null);
  assert.equal(first.type, 'challenge');
  assert.equal(first.type === 'challenge' && first.data.length, 0);
  assert.deepEqual(await ex.step(b('alice\0alice\0secret')), { type: 'success', user: 'alice' });
});

test('PLAIN: bad password fails without malformed flag', async () => {
  const step = await mechanism('PLAIN').start(context(new FakeAuthenticator())).step(b('\0alice\0wrong'));
  assert.equal(step.type, 'failure');
  assert.notEqual(step.type === 'failure' && step.malformed, true);
});

test('PLAIN: malformed messages are flagged and never reach the authenticator', async () => {
  const cases = [
    b('alice secret'), // no NUL
    b('\0alice'), // one NUL
    b('\0\0secret'), // empty authcid
    b('\0alice\0'), // empty password
    b('\0alice\0sec\0ret'), // NUL inside password
    Buffer.concat([b('\0al'), Buffer.from([0xff, 0xfe]), b('ice\0secret')]), // invalid UTF-8
    b(`\0${'a'.repeat(2000)}\0secret`), // absurd length
  ];
  for (const message of cases) {
    const auth = new FakeAuthenticator();
    const step = await mechanism('PLAIN').start(context(auth)).step(message);
    assert.equal(step.type, 'failure', JSON.stringify(message.toString('latin1')));
    assert.equal(step.type === 'failure' && step.malformed, true);
    assert.equal(auth.seen.length, 0);
  }
});

test('PLAIN: 255-octet fields and UTF-8 are accepted (RFC 4616 §2)', () => {
  const long = 'é'.repeat(127) + 'x'; // 255 octets
  assert.deepEqual(parsePlainMessage(b(`${long}\0${long}\0${long}`)), { authzid: long, authcid: long, password: long });
});

test('PLAIN: authzid different from authcid is refused unless the authenticator grants it', async () => {
  const auth = new FakeAuthenticator();
  const refused = await mechanism('PLAIN').start(context(auth)).step(b('bob\0alice\0secret'));
  assert.equal(refused.type, 'failure');
  assert.equal(auth.seen[0]?.authzid, 'bob');

  const granted = await mechanism('PLAIN').start(context(auth)).step(b('shared\0bob\0pw'));
  assert.deepEqual(granted, { type: 'success', user: 'shared' });
});

test('PLAIN: steps after completion are malformed', async () => {
  const ex = mechanism('PLAIN').start(context(new FakeAuthenticator()));
  await ex.step(b('\0alice\0secret'));
  const again = await ex.step(b('\0alice\0secret'));
  assert.equal(again.type === 'failure' && again.malformed, true);
});

test('LOGIN: Username:/Password: exchange succeeds', async () => {
  const auth = new FakeAuthenticator();
  const ex = mechanism('LOGIN').start(context(auth));
  const s1 = await ex.step(null);
  assert.equal(s1.type === 'challenge' && s1.data.toString(), 'Username:');
  const s2 = await ex.step(b('alice'));
  assert.equal(s2.type === 'challenge' && s2.data.toString(), 'Password:');
  assert.deepEqual(await ex.step(b('secret')), { type: 'success', user: 'alice' });
  assert.equal(auth.seen[0]?.mechanism, 'LOGIN');
});

test('LOGIN: initial response is taken as the user name', async () => {
  const ex = mechanism('LOGIN').start(context(new FakeAuthenticator()));
  const s1 = await ex.step(b('alice'));
  assert.equal(s1.type === 'challenge' && s1.data.toString(), 'Password:');
  assert.deepEqual(await ex.step(b('secret')), { type: 'success', user: 'alice' });
});

test('LOGIN: empty initial response still asks for the user name', async () => {
  const s1 = await mechanism('LOGIN').start(context(new FakeAuthenticator())).step(Buffer.alloc(0));
  assert.equal(s1.type === 'challenge' && s1.data.toString(), 'Username:');
});

test('LOGIN: wrong password fails, not malformed', async () => {
  const ex = mechanism('LOGIN').start(context(new FakeAuthenticator()));
  await ex.step(null);
  await ex.step(b('alice'));
  const s = await ex.step(b('nope'));
  assert.equal(s.type, 'failure');
  assert.notEqual(s.type === 'failure' && s.malformed, true);
});

test('LOGIN: empty or invalid user name is malformed and ends the exchange', async () => {
  for (const bad of [Buffer.alloc(0), Buffer.from([0xc3]), b('a\0b')]) {
    const auth = new FakeAuthenticator();
    const ex = mechanism('LOGIN').start(context(auth));
    await ex.step(null);
    const s = await ex.step(bad);
    assert.equal(s.type === 'failure' && s.malformed, true);
    const after = await ex.step(b('secret'));
    assert.equal(after.type, 'failure');
    assert.equal(auth.seen.length, 0);
  }
});

test('LOGIN: null response mid-exchange is malformed', async () => {
  const ex = mechanism('LOGIN').start(context(new FakeAuthenticator()));
  await ex.step(null);
  const s = await ex.step(null);
  assert.equal(s.type === 'failure' && s.malformed, true);
});
