/**
 * CRAM-MD5 (RFC 2195): the server sends a unique `<random.time@host>` challenge, the client
 * answers `user SP hex(HMAC-MD5(password, challenge))`. The server needs the plaintext password,
 * so the mechanism exists only when the authenticator can supply it (plaintextSecret).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { decodeSaslString, MAX_SASL_FIELD_OCTETS } from './utf8.js';

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });
const RESPONSE = /^(.+) ([0-9a-f]{32})$/s;

const digest = (secret: Buffer, challenge: string): Buffer => createHmac('md5', secret).update(challenge, 'utf8').digest();

class CramMd5Exchange implements SaslExchange {
  private challenge: string | null = null;
  private done = false;

  constructor(private readonly ctx: SaslContext) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    if (this.done) return malformed('CRAM-MD5 exchange already finished');
    if (this.challenge === null) {
      // RFC 2195 §2: server-first; an initial response has nothing to answer yet.
      if (response !== null && response.length > 0) return this.fail('CRAM-MD5 does not take an initial response');
      const host = this.ctx.hostname.replace(/[<>@\s]/g, '') || 'localhost';
      this.challenge = `<${randomBytes(8).readBigUInt64BE()}.${Date.now()}@${host}>`;
      return { type: 'challenge', data: Buffer.from(this.challenge, 'utf8') };
    }
    this.done = true;
    if (response === null || response.length > MAX_SASL_FIELD_OCTETS + 33) return malformed('CRAM-MD5 expects a response');
    const text = decodeSaslString(response);
    const m = text === null ? null : RESPONSE.exec(text);
    if (!m) return malformed('Malformed CRAM-MD5 response');
    const [, username = '', hex = ''] = m;
    const secret = (await this.ctx.authenticator.plaintextSecret?.(username)) ?? null;
    // Unknown users cost the same HMAC as known ones.
    const expected = digest(Buffer.from(secret ?? randomBytes(16).toString('hex'), 'utf8'), this.challenge);
    const ok = timingSafeEqual(expected, Buffer.from(hex, 'hex'));
    if (secret === null || !ok) return { type: 'failure', reason: 'Authentication failed', user: username };
    return { type: 'success', user: username };
  }

  private fail(reason: string): SaslStep {
    this.done = true;
    return malformed(reason);
  }
}

export const cramMd5Mechanism: SaslMechanism = {
  name: 'CRAM-MD5',
  // The password never crosses the wire, but a recorded exchange allows an offline dictionary
  // attack on it, so like the clear-text mechanisms it waits for TLS.
  plaintext: true,
  available: (authenticator) => typeof authenticator.plaintextSecret === 'function',
  start: (ctx) => new CramMd5Exchange(ctx),
};
