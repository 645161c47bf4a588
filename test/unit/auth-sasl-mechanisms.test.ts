/** SCRAM-SHA-256 (RFC 7677), CRAM-MD5 (RFC 2195), OAUTHBEARER (RFC 7628) and XOAUTH2 as state machines. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import type { Authenticator, TokenRequest } from '../../src/auth/types.js';
import type { SaslContext, SaslStep } from '../../src/auth/sasl/types.js';
import { createScramSha256Mechanism } from '../../src/auth/sasl/scram-sha-256.js';
import {
  cramMd5Mechanism,
  deriveScramKeys,
  oauthBearerMechanism,
  scramSha256Mechanism,
  usableSaslMechanisms,
  withTokenVerifier,
  xoauth2Mechanism,
} from '../../src/auth/sasl/index.js';
import { decodeSaslName, parseGs2Header } from '../../src/auth/sasl/gs2.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const ctx = (authenticator: Authenticator): SaslContext => ({
  authenticator,
  remoteAddress: '192.0.2.1',
  secure: true,
  protocol: 'imap',
  hostname: 'mail.example.org',
});
const text = (step: SaslStep): string => {
  assert.equal(step.type, 'challenge', JSON.stringify(step));
  return step.type === 'challenge' ? step.data.toString('utf8') : '';
};

// RFC 7677 §3: user "user", password "pencil".
const RFC_SALT = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
const RFC_SERVER_NONCE = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';

async function scramAuth(users: Record<string, string>, iterations = 4096, salt = RFC_SALT): Promise<Authenticator> {
  const keys = new Map<string, Awaited<ReturnType<typeof deriveScramKeys>>>();
  for (const [name, pw] of Object.entries(users)) keys.set(name, await deriveScramKeys(pw, iterations, salt));
  return {
    authenticate: async () => null,
    scramCredentials: async (name) => {
      const k = keys.get(name);
      return k ? { ...k, user: name } : null;
    },
  };
}

test('SCRAM-SHA-256: the RFC 7677 §3 example exchange, byte for byte', async () => {
  const mech = createScramSha256Mechanism(() => RFC_SERVER_NONCE);
  const ex = mech.start(ctx(await scramAuth({ user: 'pencil' })));
  const serverFirst = text(await ex.step(b('n,,n=user,r=rOprNGfwEbeRWgbNEkqO')));
  assert.equal(serverFirst, 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096');
  const final = await ex.step(
    b('c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='),
  );
  assert.equal(final.type, 'success');
  assert.equal(final.type === 'success' && final.user, 'user');
  assert.equal(final.type === 'success' && final.data?.toString(), 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
});

/** An independent client computation (RFC 5802 §3), for exchanges with random nonces. */
function clientFinal(password: string, clientFirstBare: string, serverFirst: string, gs2 = 'n,,'): string {
  const attrs = Object.fromEntries(serverFirst.split(',').map((a) => [a[0], a.slice(2)]));
  const salted = pbkdf2Sync(password, Buffer.from(attrs.s!, 'base64'), Number(attrs.i), 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const stored = createHash('sha256').update(clientKey).digest();
  const withoutProof = `c=${Buffer.from(gs2).toString('base64')},r=${attrs.r}`;
  const sig = createHmac('sha256', stored).update(`${clientFirstBare},${serverFirst},${withoutProof}`).digest();
  const proof = Buffer.from(clientKey.map((x, i) => x ^ sig[i]!));
  return `${withoutProof},p=${proof.toString('base64')}`;
}

test('SCRAM-SHA-256: empty first challenge, wrong password fails (not malformed), authzid rules', async () => {
  const auth = await scramAuth({ user: 'pencil', 'a,b': 'x' });
  let ex = scramSha256Mechanism.start(ctx(auth));
  assert.equal(text(await ex.step(null)), '');
  const first = text(await ex.step(b('n,,n=user,r=abc')));
  assert.match(first, /^r=abc[A-Za-z0-9+/=]{24},s=/);
  assert.deepEqual(await ex.step(b(clientFinal('wrong', 'n=user,r=abc', first))), { type: 'failure', reason: 'Authentication failed', user: 'user' });

  // A saslname with "=2C" decodes to ",".
  ex = scramSha256Mechanism.start(ctx(auth));
  const f2 = text(await ex.step(b('n,,n=a=2Cb,r=n1')));
  const ok = await ex.step(b(clientFinal('x', 'n=a=2Cb,r=n1', f2)));
  assert.equal(ok.type === 'success' && ok.user, 'a,b');

  // Acting as someone else is refused; naming oneself as authzid is fine.
  ex = scramSha256Mechanism.start(ctx(auth));
  const f3 = text(await ex.step(b('n,a=other,n=user,r=n2')));
  const step3 = await ex.step(b(clientFinal('pencil', 'n=user,r=n2', f3, 'n,a=other,')));
  assert.equal(step3.type, 'failure');
  assert.equal(step3.type === 'failure' && step3.malformed, undefined);
  ex = scramSha256Mechanism.start(ctx(auth));
  const f4 = text(await ex.step(b('y,a=user,n=user,r=n3')));
  assert.equal((await ex.step(b(clientFinal('pencil', 'n=user,r=n3', f4, 'y,a=user,')))).type, 'success');
});

test('SCRAM-SHA-256: unknown users get a stable mock salt and fail only at the proof', async () => {
  const auth = await scramAuth({ user: 'pencil' });
  const salts = [];
  for (let i = 0; i < 2; i++) {
    const ex = scramSha256Mechanism.start(ctx(auth));
    const first = text(await ex.step(b('n,,n=ghost,r=q')));
    salts.push(/,s=([^,]+),i=4096$/.exec(first)?.[1]);
    assert.deepEqual(await ex.step(b(clientFinal('pencil', 'n=ghost,r=q', first))), { type: 'failure', reason: 'Authentication failed', user: 'ghost' });
  }
  assert.ok(salts[0]);
  assert.equal(salts[0], salts[1]);
});

test('SCRAM-SHA-256: malformed messages are protocol errors', async () => {
  const auth = await scramAuth({ user: 'pencil' });
  const malformedFirst = ['', 'n,,', 'x,,n=user,r=a', 'p=tls-unique,,n=user,r=a', 'n,,m=ext,n=user,r=a', 'n,,n=us=er,r=a', 'n,,r=a,n=user', 'n,,n=user,r=a\x00', 'n,,n=user,r=a,b'];
  for (const msg of malformedFirst) {
    const step = await scramSha256Mechanism.start(ctx(auth)).step(b(msg));
    if (msg === 'n,,n=user,r=a,b') {
      assert.equal(step.type, 'challenge', 'unknown optional extensions are ignored');
      continue;
    }
    assert.equal(step.type === 'failure' && step.malformed, true, JSON.stringify(msg));
  }
  const finals = ['c=biws,r=WRONG,p=AAAA', 'c=eSws,r=%N,p=' + Buffer.alloc(32).toString('base64'), 'c=biws,r=%N', 'c=biws,r=%N,p=!!'];
  for (const msg of finals) {
    const ex = scramSha256Mechanism.start(ctx(auth));
    const nonce = /^r=([^,]+)/.exec(text(await ex.step(b('n,,n=user,r=a'))))![1]!;
    const step = await ex.step(b(msg.replace('%N', nonce)));
    assert.equal(step.type === 'failure' && step.malformed, true, msg);
    assert.equal((await ex.step(b('again'))).type, 'failure', 'no step after the end');
  }
});

test('SCRAM-SHA-256 offered only when the authenticator has keys; offered without TLS', () => {
  const plain: Authenticator = { authenticate: async () => null };
  assert.equal(scramSha256Mechanism.available(plain), false);
  assert.deepEqual(
    usableSaslMechanisms({ ...plain, scramCredentials: async () => null }, { secure: false }).map((m) => m.name),
    ['SCRAM-SHA-256'],
  );
});

test('GS2 header and saslname parsing', () => {
  assert.equal(decodeSaslName('a=3Db=2Cc'), 'a=b,c');
  assert.equal(decodeSaslName('a=2'), null);
  assert.equal(decodeSaslName('a=41'), null);
  assert.deepEqual(parseGs2Header('n,a=bob,rest'), { cbindFlag: 'n', authzid: 'bob', raw: 'n,a=bob,', rest: 'rest' });
  assert.equal(parseGs2Header('p=tls-unique,,x')?.cbName, 'tls-unique');
  assert.equal(parseGs2Header('n,b=bob,x'), null);
  assert.equal(parseGs2Header('n,a=,x'), null);
});

// RFC 2195 §2 example: user tim, secret tanstaaftanstaaf.
const RFC_CHALLENGE = '<1896.697170952@postoffice.reston.mci.net>';

test('CRAM-MD5: a challenge with the host name; the RFC 2195 digest computation; wrong digest fails', async () => {
  const auth: Authenticator = {
    authenticate: async () => null,
    plaintextSecret: async (u) => (u === 'tim' ? 'tanstaaftanstaaf' : null),
  };
  assert.equal(
    createHmac('md5', 'tanstaaftanstaaf').update(RFC_CHALLENGE).digest('hex'),
    'b913a602c7eda7a495b4e6e7334d3890',
    'the RFC example, to pin the HMAC-MD5 we rely on',
  );
  const ex = cramMd5Mechanism.start(ctx(auth));
  const challenge = text(await ex.step(null));
  assert.match(challenge, /^<\d+\.\d+@mail\.example\.org>$/);
  const digest = createHmac('md5', 'tanstaaftanstaaf').update(challenge).digest('hex');
  assert.deepEqual(await ex.step(b(`tim ${digest}`)), { type: 'success', user: 'tim' });

  const bad = cramMd5Mechanism.start(ctx(auth));
  const c2 = text(await bad.step(null));
  assert.notEqual(c2, challenge, 'challenges are unique');
  assert.deepEqual(await bad.step(b(`tim ${'0'.repeat(32)}`)), { type: 'failure', reason: 'Authentication failed', user: 'tim' });
  const unknown = cramMd5Mechanism.start(ctx(auth));
  const c3 = text(await unknown.step(null));
  assert.equal((await unknown.step(b(`nobody ${createHmac('md5', '').update(c3).digest('hex')}`))).type, 'failure');
  const garbled = cramMd5Mechanism.start(ctx(auth));
  await garbled.step(null);
  const g = await garbled.step(b('tim XYZ'));
  assert.equal(g.type === 'failure' && g.malformed, true);
  assert.equal(cramMd5Mechanism.available({ authenticate: async () => null }), false);
});

/** Accepts the token "good-<user>" for any user; records requests. */
function tokenAuth(): { auth: Authenticator; seen: TokenRequest[] } {
  const seen: TokenRequest[] = [];
  const base: Authenticator = { authenticate: async () => null };
  const auth = withTokenVerifier(base, async (request) => {
    seen.push(request);
    return request.token.startsWith('good-') ? { user: request.token.slice(5) } : null;
  });
  return { auth, seen };
}

test('OAUTHBEARER: RFC 7628 §4.1 message succeeds; failure sends the JSON error and waits for %x01', async () => {
  const { auth, seen } = tokenAuth();
  const msg = 'n,a=user@example.com,\x01host=server.example.com\x01port=143\x01auth=Bearer good-alice\x01\x01';
  assert.deepEqual(await oauthBearerMechanism.start(ctx(auth)).step(b(msg)), { type: 'success', user: 'alice' });
  assert.equal(seen[0]?.username, 'user@example.com');
  assert.equal(seen[0]?.token, 'good-alice');
  assert.equal(seen[0]?.mechanism, 'OAUTHBEARER');

  const ex = oauthBearerMechanism.start(ctx(auth));
  assert.equal(text(await ex.step(null)), '');
  const error = JSON.parse(text(await ex.step(b('n,,\x01auth=Bearer expired\x01\x01')))) as Record<string, string>;
  assert.equal(error.status, 'invalid_token');
  assert.deepEqual(await ex.step(b('\x01')), { type: 'failure', reason: 'Invalid or expired token' });

  const rude = oauthBearerMechanism.start(ctx(auth));
  await rude.step(b('n,,\x01auth=Bearer expired\x01\x01'));
  const r = await rude.step(b('whatever'));
  assert.equal(r.type === 'failure' && r.malformed, true);

  for (const bad of ['n,,auth=Bearer x\x01\x01', 'n,,\x01auth=Bearer x\x01', 'n,,\x01auth=Basic eDp5\x01\x01', 'p=tls-unique,,\x01auth=Bearer x\x01\x01', 'n,,\x01host=a\x01\x01']) {
    const step = await oauthBearerMechanism.start(ctx(auth)).step(b(bad));
    assert.equal(step.type === 'failure' && step.malformed, true, JSON.stringify(bad));
  }
});

test('XOAUTH2: the Google format; failure sends a JSON challenge then fails', async () => {
  const { auth, seen } = tokenAuth();
  const ok = await xoauth2Mechanism.start(ctx(auth)).step(b('user=someuser@example.com\x01auth=Bearer good-bob\x01\x01'));
  assert.deepEqual(ok, { type: 'success', user: 'bob' });
  assert.equal(seen[0]?.username, 'someuser@example.com');
  const ex = xoauth2Mechanism.start(ctx(auth));
  const err = JSON.parse(text(await ex.step(b('user=x\x01auth=Bearer nope\x01\x01')))) as Record<string, string>;
  assert.equal(err.status, '401');
  assert.deepEqual(await ex.step(b('')), { type: 'failure', reason: 'Invalid or expired token' });
  const missing = await xoauth2Mechanism.start(ctx(auth)).step(b('auth=Bearer good-bob\x01\x01'));
  assert.equal(missing.type === 'failure' && missing.malformed, true);
});

test('token mechanisms: offered only with a verifier, and only over TLS', () => {
  const base: Authenticator = { authenticate: async () => null, plaintextSecret: async () => null };
  assert.equal(oauthBearerMechanism.available(base), false);
  assert.equal(xoauth2Mechanism.available(base), false);
  const { auth } = tokenAuth();
  const secure = usableSaslMechanisms(auth, { secure: true }).map((m) => m.name);
  assert.deepEqual(secure, ['PLAIN', 'LOGIN', 'OAUTHBEARER', 'XOAUTH2']);
  assert.deepEqual(usableSaslMechanisms(auth, { secure: false }), []);
  const wrapped = withTokenVerifier(base, async () => null);
  assert.equal(typeof wrapped.plaintextSecret, 'function', 'withTokenVerifier keeps the other hooks');
});
