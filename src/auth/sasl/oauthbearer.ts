/**
 * OAUTHBEARER (RFC 7628): one client message, a GS2 header followed by `\x01`-separated key/value
 * pairs with `auth=Bearer <token>`. On failure the server sends a JSON error as a challenge, the
 * client answers with a lone `\x01`, and only then does the exchange fail (§3.2.2, §3.2.3).
 */
import type { SaslMechanism } from './types.js';
import { parseGs2Header } from './gs2.js';
import { bearerToken, parseKeyValues } from './bearer.js';
import { BearerExchange, malformed, type BearerDialect } from './bearer-exchange.js';

const OAUTHBEARER: BearerDialect = {
  name: 'OAUTHBEARER',
  /** §3.2.2: "invalid_token" with the scheme; no scope or discovery URL, as we do not know them. */
  errorChallenge: Buffer.from(JSON.stringify({ status: 'invalid_token', schemes: 'bearer' }), 'utf8'),
  parse(text) {
    const gs2 = parseGs2Header(text);
    // §3.1: channel binding is not defined for OAUTHBEARER.
    if (!gs2 || gs2.cbindFlag === 'p' || !gs2.rest.startsWith('\x01')) return { error: 'Malformed OAUTHBEARER message' };
    const pairs = parseKeyValues(gs2.rest.slice(1));
    if (!pairs) return { error: 'Malformed OAUTHBEARER message' };
    const token = bearerToken(pairs.get('auth'));
    if (token === null) return { error: 'OAUTHBEARER message without a bearer token' };
    return { user: gs2.authzid, token };
  },
  // §3.2.3: the client must answer the error with %x01; anything else is a protocol error.
  afterError: (response) =>
    response?.length === 1 && response[0] === 1
      ? { type: 'failure', reason: 'Invalid or expired token' }
      : malformed('OAUTHBEARER expects %x01 after an error'),
};

export const oauthBearerMechanism: SaslMechanism = {
  name: 'OAUTHBEARER',
  // RFC 7628 §5: a bearer token is as good as a password to whoever sees it, so TLS is required.
  plaintext: true,
  available: (authenticator) => typeof authenticator.verifyToken === 'function',
  start: (ctx) => new BearerExchange(ctx, OAUTHBEARER),
};
