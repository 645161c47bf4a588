/** Hostile input to every mechanism: random responses never throw and never authenticate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Authenticator } from '../../src/auth/types.js';
import type { SaslContext } from '../../src/auth/sasl/types.js';
import { deriveScramKeys, saslMechanisms, withTokenVerifier } from '../../src/auth/sasl/index.js';

async function everythingAuthenticator(): Promise<Authenticator> {
  const keys = await deriveScramKeys('the password');
  return withTokenVerifier(
    {
      authenticate: async (r) => (r.username === 'alice' && r.password === 'the password' ? { user: 'alice' } : null),
      plaintextSecret: async (u) => (u === 'alice' ? 'the password' : null),
      scramCredentials: async (u) => (u === 'alice' ? { ...keys, user: 'alice' } : null),
    },
    async (r) => (r.token === 'the-token' ? { user: 'alice' } : null),
  );
}

/** Bytes biased towards the separators the parsers split on. */
const response = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  fc
    .array(fc.constantFrom('n', 'y', 'p=', ',', '=', 'a=', 'n=alice', 'r=', 'c=biws', 'p=', '\x01', 'auth=Bearer ', 'user=', 'x', '\0', '=2C', 'é', ' '), { maxLength: 30 })
    .map((parts) => Buffer.from(parts.join(''), 'utf8')),
);

test('random client responses: every mechanism answers with a step, never throws, never succeeds', async () => {
  const authenticator = await everythingAuthenticator();
  const ctx: SaslContext = { authenticator, remoteAddress: '198.51.100.7', secure: true, protocol: 'imap', hostname: 'h' };
  const mechanisms = saslMechanisms();
  assert.equal(mechanisms.length, 6);
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...mechanisms), fc.array(fc.option(response, { nil: null }), { minLength: 1, maxLength: 5 }), async (mech, responses) => {
      const ex = mech.start(ctx);
      for (const r of responses) {
        const step = await ex.step(r);
        assert.ok(['challenge', 'failure', 'success'].includes(step.type));
        // Random input cannot know the password, the token or a SCRAM proof.
        assert.notEqual(step.type, 'success', `${mech.name} accepted ${JSON.stringify(responses)}`);
        if (step.type === 'failure') break;
      }
    }),
    { numRuns: 3000 },
  );
});
