/**
 * The LOGIN mechanism (draft-murchison-sasl-login; never an RFC, but Outlook and many older clients
 * only speak this): the server asks "Username:" then "Password:", each answered in clear text.
 */
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { decodeSaslString, MAX_SASL_FIELD_OCTETS } from './utf8.js';

const USERNAME_PROMPT = Buffer.from('Username:');
const PASSWORD_PROMPT = Buffer.from('Password:');

type Phase = 'start' | 'username' | 'password' | 'done';

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });

function field(bytes: Buffer): string | null {
  return bytes.length > MAX_SASL_FIELD_OCTETS ? null : decodeSaslString(bytes);
}

class LoginExchange implements SaslExchange {
  private phase: Phase = 'start';
  private username = '';

  constructor(private readonly ctx: SaslContext) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    switch (this.phase) {
      case 'start':
        // Some clients send the user name as an initial response (SASL-IR); an empty one carries
        // nothing, so we still ask for it.
        if (response === null || response.length === 0) {
          this.phase = 'username';
          return { type: 'challenge', data: USERNAME_PROMPT };
        }
        return this.takeUsername(response);
      case 'username':
        if (response === null) return this.fail('LOGIN expects a user name');
        return this.takeUsername(response);
      case 'password':
        if (response === null) return this.fail('LOGIN expects a password');
        return this.finish(response);
      case 'done':
        return malformed('LOGIN exchange already finished');
    }
  }

  private takeUsername(response: Buffer): SaslStep {
    const name = field(response);
    if (name === null || name.length === 0) return this.fail('Malformed user name');
    this.username = name;
    this.phase = 'password';
    return { type: 'challenge', data: PASSWORD_PROMPT };
  }

  private async finish(response: Buffer): Promise<SaslStep> {
    this.phase = 'done';
    const password = field(response);
    if (password === null) return malformed('Malformed password');
    if (password.length === 0) return { type: 'failure', reason: 'Authentication failed', user: this.username };
    const result = await this.ctx.authenticator.authenticate({
      username: this.username,
      password,
      mechanism: 'LOGIN',
      remoteAddress: this.ctx.remoteAddress,
      secure: this.ctx.secure,
      protocol: this.ctx.protocol,
    });
    if (!result) return { type: 'failure', reason: 'Authentication failed', user: this.username };
    return { type: 'success', user: result.user };
  }

  private fail(reason: string): SaslStep {
    this.phase = 'done';
    return malformed(reason);
  }
}

export const loginMechanism: SaslMechanism = {
  name: 'LOGIN',
  plaintext: true,
  available: () => true,
  start: (ctx) => new LoginExchange(ctx),
};
