/**
 * OAUTHBEARER (RFC 7628): one client message, a GS2 header followed by `\x01`-separated key/value
 * pairs with `auth=Bearer <token>`. On failure the server sends a JSON error as a challenge, the
 * client answers with a lone `\x01`, and only then does the exchange fail (§3.2.2, §3.2.3).
 */
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { parseGs2Header, utf8Message } from './gs2.js';
import { bearerToken, MAX_TOKEN_OCTETS, parseKeyValues, verifyBearer } from './bearer.js';

const MAX_MESSAGE_OCTETS = MAX_TOKEN_OCTETS + 2048;
/** §3.2.2: "invalid_token" with the scheme; no scope or discovery URL, as we do not know them. */
const ERROR_CHALLENGE = Buffer.from(JSON.stringify({ status: 'invalid_token', schemes: 'bearer' }), 'utf8');

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });

type Phase = 'start' | 'initial' | 'error-sent' | 'done';

class OAuthBearerExchange implements SaslExchange {
  private phase: Phase = 'start';

  constructor(private readonly ctx: SaslContext) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    switch (this.phase) {
      case 'start':
        if (response === null) {
          this.phase = 'initial';
          return { type: 'challenge', data: Buffer.alloc(0) };
        }
        return this.initial(response);
      case 'initial':
        if (response === null) return this.fail('OAUTHBEARER expects a client response');
        return this.initial(response);
      case 'error-sent':
        this.phase = 'done';
        // §3.2.3: the client must answer the error with %x01; anything else is a protocol error.
        if (response?.length === 1 && response[0] === 1) return { type: 'failure', reason: 'Invalid or expired token' };
        return malformed('OAUTHBEARER expects %x01 after an error');
      case 'done':
        return malformed('OAUTHBEARER exchange already finished');
    }
  }

  private fail(reason: string): SaslStep {
    this.phase = 'done';
    return malformed(reason);
  }

  private async initial(response: Buffer): Promise<SaslStep> {
    if (response.length > MAX_MESSAGE_OCTETS) return this.fail('OAUTHBEARER message too long');
    const text = utf8Message(response);
    if (text === null) return this.fail('OAUTHBEARER message is not UTF-8');
    const gs2 = parseGs2Header(text);
    // §3.1: channel binding is not defined for OAUTHBEARER.
    if (!gs2 || gs2.cbindFlag === 'p' || !gs2.rest.startsWith('\x01')) return this.fail('Malformed OAUTHBEARER message');
    const pairs = parseKeyValues(gs2.rest.slice(1));
    if (!pairs) return this.fail('Malformed OAUTHBEARER message');
    const token = bearerToken(pairs.get('auth'));
    if (token === null) return this.fail('OAUTHBEARER message without a bearer token');
    const result = await verifyBearer(this.ctx, 'OAUTHBEARER', gs2.authzid, token);
    if (!result) {
      this.phase = 'error-sent';
      return { type: 'challenge', data: ERROR_CHALLENGE };
    }
    this.phase = 'done';
    return { type: 'success', user: result.user };
  }
}

export const oauthBearerMechanism: SaslMechanism = {
  name: 'OAUTHBEARER',
  // RFC 7628 §5: a bearer token is as good as a password to whoever sees it, so TLS is required.
  plaintext: true,
  available: (authenticator) => typeof authenticator.verifyToken === 'function',
  start: (ctx) => new OAuthBearerExchange(ctx),
};
