/**
 * XOAUTH2, the pre-standard form of OAUTHBEARER that Gmail and Outlook clients speak:
 * `user=<name>\x01auth=Bearer <token>\x01\x01`. On failure the server sends a base64 JSON error as
 * a challenge; the client answers with an empty response and the command then fails.
 */
import type { SaslMechanism } from './types.js';
import { bearerToken, parseKeyValues } from './bearer.js';
import { BearerExchange, type BearerDialect } from './bearer-exchange.js';

const XOAUTH2: BearerDialect = {
  name: 'XOAUTH2',
  errorChallenge: Buffer.from(JSON.stringify({ status: '401', schemes: 'bearer' }), 'utf8'),
  parse(text) {
    const pairs = parseKeyValues(text);
    if (!pairs) return { error: 'Malformed XOAUTH2 message' };
    const user = pairs.get('user');
    const token = bearerToken(pairs.get('auth'));
    if (user === undefined || token === null) return { error: 'XOAUTH2 message needs user= and auth=Bearer' };
    return { user, token };
  },
  // Whatever the client says after the error (normally nothing), the attempt has failed.
  afterError: () => ({ type: 'failure', reason: 'Invalid or expired token' }),
};

export const xoauth2Mechanism: SaslMechanism = {
  name: 'XOAUTH2',
  plaintext: true,
  available: (authenticator) => typeof authenticator.verifyToken === 'function',
  start: (ctx) => new BearerExchange(ctx, XOAUTH2),
};
