/**
 * What OAUTHBEARER and XOAUTH2 share: the `auth=Bearer <token>` value, the `\x01`-separated
 * key/value list, the call to the pluggable token verifier, and `withTokenVerifier()` to plug one in.
 */
import type { AuthResult, Authenticator, TokenRequest } from '../types.js';
import type { SaslContext } from './types.js';

/** Bearer tokens (JWTs included) are a few KiB at most; refuse megabytes before a verifier sees them. */
export const MAX_TOKEN_OCTETS = 16 * 1024;

/** RFC 6750 §2.1 b64token, after the case-insensitive scheme name "Bearer". */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

export function bearerToken(authValue: string | undefined): string | null {
  if (authValue === undefined) return null;
  const m = BEARER.exec(authValue);
  return m?.[1] ?? null;
}

/**
 * Splits `key=value\x01key=value\x01\x01` (RFC 7628 §3.1 kvpair list ending in an empty pair).
 * Null when the list is malformed or a key repeats.
 */
export function parseKeyValues(text: string): Map<string, string> | null {
  if (!text.endsWith('\x01\x01')) return null;
  const body = text.slice(0, -2);
  const pairs = new Map<string, string>();
  if (body === '') return pairs;
  for (const pair of body.split('\x01')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return null;
    const key = pair.slice(0, eq);
    if (!/^[A-Za-z]+$/.test(key) || pairs.has(key)) return null;
    pairs.set(key, pair.slice(eq + 1));
  }
  return pairs;
}

export async function verifyBearer(ctx: SaslContext, mechanism: string, username: string, token: string): Promise<AuthResult | null> {
  const verify = ctx.authenticator.verifyToken;
  if (!verify) return null;
  return verify.call(ctx.authenticator, {
    username,
    token,
    mechanism,
    remoteAddress: ctx.remoteAddress,
    secure: ctx.secure,
    protocol: ctx.protocol,
  });
}

export type TokenVerifier = (request: TokenRequest) => Promise<AuthResult | null>;

/**
 * The same authenticator with an OAuth token verifier added, which makes OAUTHBEARER and XOAUTH2
 * available. Use it to put token logins in front of a users file or any other authenticator.
 */
export function withTokenVerifier(base: Authenticator, verifyToken: TokenVerifier): Authenticator {
  const { plaintextSecret, scramCredentials, lookupUser, referral } = base;
  return {
    authenticate: (request) => base.authenticate(request),
    ...(lookupUser ? { lookupUser: (user: string) => lookupUser.call(base, user) } : {}),
    ...(referral ? { referral: (user: string) => referral.call(base, user) } : {}),
    ...(plaintextSecret ? { plaintextSecret: (user: string) => plaintextSecret.call(base, user) } : {}),
    ...(scramCredentials ? { scramCredentials: (user: string) => scramCredentials.call(base, user) } : {}),
    verifyToken,
  };
}
