/**
 * The PLAIN mechanism (RFC 4616): one client message `[authzid] NUL authcid NUL passwd`.
 */
import type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
import { decodeSaslString, MAX_SASL_FIELD_OCTETS } from './utf8.js';

interface PlainCredentials {
  authzid: string;
  authcid: string;
  password: string;
}

/** Splits and validates a PLAIN message; null when it does not match the RFC 4616 §2 grammar. */
export function parsePlainMessage(message: Buffer): PlainCredentials | null {
  const first = message.indexOf(0);
  if (first < 0) return null;
  const second = message.indexOf(0, first + 1);
  if (second < 0) return null;
  const parts = [message.subarray(0, first), message.subarray(first + 1, second), message.subarray(second + 1)] as const;
  if (parts.some((p) => p.length > MAX_SASL_FIELD_OCTETS)) return null;
  // A third NUL would land inside passwd, which decodeSaslString refuses.
  const authzid = decodeSaslString(parts[0]);
  const authcid = decodeSaslString(parts[1]);
  const password = decodeSaslString(parts[2]);
  if (authzid === null || authcid === null || password === null) return null;
  if (authcid.length === 0 || password.length === 0) return null;
  return { authzid, authcid, password };
}

const malformed = (reason: string): SaslStep => ({ type: 'failure', reason, malformed: true });

class PlainExchange implements SaslExchange {
  private challenged = false;
  private done = false;

  constructor(private readonly ctx: SaslContext) {}

  async step(response: Buffer | null): Promise<SaslStep> {
    if (this.done) return malformed('PLAIN exchange already finished');
    if (response === null) {
      if (this.challenged) return malformed('PLAIN expects a response');
      // RFC 4422 §5: without an initial response the server sends an empty challenge.
      this.challenged = true;
      return { type: 'challenge', data: Buffer.alloc(0) };
    }
    this.done = true;
    const creds = parsePlainMessage(response);
    if (!creds) return malformed('Malformed PLAIN message');

    // Acting as someone else is only allowed when the authenticator explicitly grants it by
    // answering with the authzid as the user; an authenticator that ignores authzid would otherwise
    // silently log the client in as authcid while it asked for another identity (RFC 4616 §2:
    // the server must verify the credentials permit acting as the authzid).
    const proxying = creds.authzid !== '' && creds.authzid !== creds.authcid;
    const result = await this.ctx.authenticator.authenticate({
      username: creds.authcid,
      password: creds.password,
      ...(proxying ? { authzid: creds.authzid } : {}),
      mechanism: 'PLAIN',
      remoteAddress: this.ctx.remoteAddress,
      secure: this.ctx.secure,
      protocol: this.ctx.protocol,
    });
    if (!result) return { type: 'failure', reason: 'Authentication failed', user: creds.authcid };
    if (proxying && result.user !== creds.authzid) {
      return { type: 'failure', reason: 'Not authorized to act as the requested identity', user: creds.authcid };
    }
    return { type: 'success', user: result.user };
  }
}

export const plainMechanism: SaslMechanism = {
  name: 'PLAIN',
  plaintext: true,
  available: () => true,
  start: (ctx) => new PlainExchange(ctx),
};
