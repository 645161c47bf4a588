/**
 * The exchange OAUTHBEARER (RFC 7628) and XOAUTH2 share: one client message carrying a bearer
 * token, verified by the authenticator's token verifier; on failure a JSON error goes out as a
 * challenge and the client's answer to it ends the exchange. The two differ only in how the
 * message is written and what the client must answer after the error.
 */
import type { SaslContext, SaslExchange, SaslStep } from './types.js';
import { utf8Message } from './gs2.js';
import { MAX_TOKEN_OCTETS, verifyBearer } from './bearer.js';

const MAX_MESSAGE_OCTETS = MAX_TOKEN_OCTETS + 2048;

export const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });

export interface BearerDialect {
  /** Mechanism name, for messages and the verifier. */
  name: string;
  /** The JSON error sent as a challenge when the token is refused. */
  errorChallenge: Buffer;
  /** The user name and token of a client message, or the reason it is malformed. */
  parse(text: string): { user: string; token: string } | { error: string };
  /** The step after the client answered the error challenge. */
  afterError(response: Buffer | null): SaslStep;
}

type Phase = 'start' | 'initial' | 'error-sent' | 'done';

export class BearerExchange implements SaslExchange {
  private phase: Phase = 'start';

  constructor(
    private readonly ctx: SaslContext,
    private readonly dialect: BearerDialect,
  ) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    switch (this.phase) {
      case 'start':
        if (response === null) {
          this.phase = 'initial';
          return { type: 'challenge', data: Buffer.alloc(0) };
        }
        return this.initial(response);
      case 'initial':
        if (response === null) return this.fail(`${this.dialect.name} expects a client response`);
        return this.initial(response);
      case 'error-sent':
        this.phase = 'done';
        return this.dialect.afterError(response);
      case 'done':
        return malformed(`${this.dialect.name} exchange already finished`);
    }
  }

  private fail(reason: string): SaslStep {
    this.phase = 'done';
    return malformed(reason);
  }

  private async initial(response: Buffer): Promise<SaslStep> {
    if (response.length > MAX_MESSAGE_OCTETS) return this.fail(`${this.dialect.name} message too long`);
    const text = utf8Message(response);
    if (text === null) return this.fail(`${this.dialect.name} message is not UTF-8`);
    const parsed = this.dialect.parse(text);
    if ('error' in parsed) return this.fail(parsed.error);
    const result = await verifyBearer(this.ctx, this.dialect.name, parsed.user, parsed.token);
    if (!result) {
      this.phase = 'error-sent';
      return { type: 'challenge', data: this.dialect.errorChallenge };
    }
    this.phase = 'done';
    return { type: 'success', user: result.user };
  }
}
