/**
 * XOAUTH2, the pre-standard form of OAUTHBEARER that Gmail and Outlook clients speak:
 * `user=<name>\x01auth=Bearer <token>\x01\x01`. On failure the server sends a base64 JSON error as
 * a challenge; the client answers with an empty response and the command then fails.
 */
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { utf8Message } from './gs2.js';
import { bearerToken, MAX_TOKEN_OCTETS, parseKeyValues, verifyBearer } from './bearer.js';

const MAX_MESSAGE_OCTETS = MAX_TOKEN_OCTETS + 2048;
const ERROR_CHALLENGE = Buffer.from(JSON.stringify({ status: '401', schemes: 'bearer' }), 'utf8');

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });

type Phase = 'start' | 'initial' | 'error-sent' | 'done';

class XOAuth2Exchange implements SaslExchange {
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
        if (response === null) return this.fail('XOAUTH2 expects a client response');
        return this.initial(response);
      case 'error-sent':
        // Whatever the client says after the error (normally nothing), the attempt has failed.
        this.phase = 'done';
        return { type: 'failure', reason: 'Invalid or expired token' };
      case 'done':
        return malformed('XOAUTH2 exchange already finished');
    }
  }

  private fail(reason: string): SaslStep {
    this.phase = 'done';
    return malformed(reason);
  }

  private async initial(response: Buffer): Promise<SaslStep> {
    if (response.length > MAX_MESSAGE_OCTETS) return this.fail('XOAUTH2 message too long');
    const text = utf8Message(response);
    const pairs = text === null ? null : parseKeyValues(text);
    if (!pairs) return this.fail('Malformed XOAUTH2 message');
    const user = pairs.get('user');
    const token = bearerToken(pairs.get('auth'));
    if (user === undefined || token === null) return this.fail('XOAUTH2 message needs user= and auth=Bearer');
    const result = await verifyBearer(this.ctx, 'XOAUTH2', user, token);
    if (!result) {
      this.phase = 'error-sent';
      return { type: 'challenge', data: ERROR_CHALLENGE };
    }
    this.phase = 'done';
    return { type: 'success', user: result.user };
  }
}

export const xoauth2Mechanism: SaslMechanism = {
  name: 'XOAUTH2',
  plaintext: true,
  available: (authenticator) => typeof authenticator.verifyToken === 'function',
  start: (ctx) => new XOAuth2Exchange(ctx),
};
