/**
 * The SASL mechanisms Postroom offers, shared by IMAP AUTHENTICATE and POP3 AUTH.
 */
import type { Authenticator } from '../types.js';
import type { SaslMechanism } from './types.js';
import { plainMechanism } from './plain.js';
import { loginMechanism } from './login.js';
import { scramSha256Mechanism } from './scram-sha-256.js';
import { cramMd5Mechanism } from './cram-md5.js';
import { oauthBearerMechanism } from './oauthbearer.js';
import { xoauth2Mechanism } from './xoauth2.js';

export type { SaslContext, SaslExchange, SaslMechanism, SaslStep } from './types.js';
export { plainMechanism, parsePlainMessage } from './plain.js';
export { loginMechanism } from './login.js';
export { scramSha256Mechanism } from './scram-sha-256.js';
export { cramMd5Mechanism } from './cram-md5.js';
export { oauthBearerMechanism } from './oauthbearer.js';
export { xoauth2Mechanism } from './xoauth2.js';
export { withTokenVerifier, type TokenVerifier } from './bearer.js';
export { deriveScramKeys, formatScramKeys, parseScramKeys, DEFAULT_SCRAM_ITERATIONS, type ScramKeys } from './scram-keys.js';

/**
 * Order is preference order for capability lists: SCRAM first (no password on the wire), then
 * PLAIN (the standard) and LOGIN (the legacy fallback), then the ones that exist only with a
 * particular authenticator: CRAM-MD5 (needs plaintext secrets) and the OAuth bearer mechanisms
 * (need a token verifier).
 */
const MECHANISMS: readonly SaslMechanism[] = [
  scramSha256Mechanism,
  plainMechanism,
  loginMechanism,
  cramMd5Mechanism,
  oauthBearerMechanism,
  xoauth2Mechanism,
];

/** Every mechanism implemented, in preference order. A fresh array: callers may filter it. */
export function saslMechanisms(): SaslMechanism[] {
  return [...MECHANISMS];
}

/** Looks a mechanism up by name; SASL mechanism names are case-insensitive (RFC 4422 §3.1). */
export function findSaslMechanism(name: string): SaslMechanism | undefined {
  const wanted = name.toUpperCase();
  return MECHANISMS.find((m) => m.name === wanted);
}

export interface SaslOfferOptions {
  /** The connection is encrypted (implicit TLS or after STARTTLS/STLS). */
  secure: boolean;
  /** Allow plaintext mechanisms on unencrypted connections. */
  allowInsecureAuth?: boolean;
}

/**
 * The mechanisms to advertise and accept right now: those the authenticator supports, minus the
 * plaintext ones on an unencrypted connection (RFC 3501 §6.2.2 / RFC 2595 §2.2 — servers should
 * not accept clear-text passwords before TLS unless configured to).
 */
export function usableSaslMechanisms(authenticator: Authenticator, options: SaslOfferOptions): SaslMechanism[] {
  const plaintextOk = options.secure || options.allowInsecureAuth === true;
  return MECHANISMS.filter((m) => m.available(authenticator) && (plaintextOk || !m.plaintext));
}
