/**
 * A SASL mechanism (RFC 4422) as a small state machine, shared by IMAP AUTHENTICATE and POP3 AUTH.
 * The protocol layer does the base64 and the continuation lines; a mechanism only sees bytes.
 */
import type { Authenticator } from '../types.js';

export interface SaslContext {
  authenticator: Authenticator;
  remoteAddress: string;
  secure: boolean;
  protocol: 'imap' | 'pop3' | 'managesieve';
  /** Server host name, for mechanisms that include it (e.g. CRAM-MD5 challenge). */
  hostname: string;
}

export type SaslStep =
  /** Send this challenge (may be empty) and wait for the client's response. */
  | { type: 'challenge'; data: Buffer }
  /** Authenticated as `user`; `data` is additional data with success (SCRAM server-final). */
  | { type: 'success'; user: string; data?: Buffer }
  /** Failed: bad credentials (`reason` is safe to show) or a malformed exchange (`malformed`). */
  /** `user`: the name the client claimed, when known, so the login guard can count the failure for it. */
  | { type: 'failure'; reason: string; malformed?: boolean; user?: string };

export interface SaslExchange {
  /** `response` is the client's decoded response; null for the first step without initial response. */
  step(response: Buffer | null): Promise<SaslStep>;
}

export interface SaslMechanism {
  /** Upper-case IANA name, e.g. "PLAIN". */
  readonly name: string;
  /** Sends the password in the clear: only offered over TLS unless insecure auth is allowed. */
  readonly plaintext: boolean;
  /** Whether this mechanism can work with the given authenticator (e.g. CRAM-MD5 needs plaintextSecret). */
  available(authenticator: Authenticator): boolean;
  start(ctx: SaslContext): SaslExchange;
}
