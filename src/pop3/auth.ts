/**
 * Where POP3 gets its answers to "who is this?": the shared Authenticator (store-backed mode, and
 * for SASL in both modes), or the Net::Server::POP3-style callbacks wrapped as one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AuthRequest, AuthResult, Authenticator } from '../auth/types.js';
import type { Pop3Callbacks, Pop3LoginResult } from './options.js';

export interface Pop3Auth {
  /** USER/PASS and SASL go through this. */
  authenticator: Authenticator;
  /** APOP check; absent when neither a secret nor an apop callback is available. Resolves the user or null. */
  apop?: (user: string, digest: string, timestamp: string) => Promise<string | null>;
}

/** RFC 1939 §7: the APOP digest is MD5 over the greeting's timestamp followed by the shared secret. */
export function apopDigest(timestamp: string, secret: string): string {
  return createHash('md5').update(timestamp + secret, 'utf8').digest('hex');
}

function loginUser(result: Pop3LoginResult, given: string): string | null {
  if (result === true) return given;
  if (typeof result === 'string' && result.length > 0) return result;
  return null;
}

function callbackAuthenticator(callbacks: Pop3Callbacks): Authenticator {
  const authenticate = callbacks.authenticate;
  return {
    async authenticate(request: AuthRequest): Promise<AuthResult | null> {
      if (!authenticate) return null;
      // Callbacks have no notion of acting for someone else: refuse a proxy login outright.
      if (request.authzid !== undefined && request.authzid !== request.username) return null;
      const user = loginUser(await authenticate(request.username, request.password, request.remoteAddress), request.username);
      return user === null ? null : { user };
    },
  };
}

export function buildPop3Auth(auth: Authenticator | undefined, callbacks: Pop3Callbacks | undefined): Pop3Auth {
  const authenticator = auth ?? (callbacks ? callbackAuthenticator(callbacks) : undefined);
  if (!authenticator) throw new TypeError('createPop3Server needs `auth` or `callbacks.authenticate`');
  const apopCallback = callbacks?.apop;
  if (apopCallback) {
    return {
      authenticator,
      apop: async (user, digest, timestamp) => loginUser(await apopCallback(user, digest, timestamp), user),
    };
  }
  const secretCallback = callbacks?.secret;
  const secretOf = secretCallback
    ? async (user: string): Promise<string | null> => secretCallback(user)
    : auth?.plaintextSecret?.bind(auth);
  if (!secretOf) return { authenticator };
  return {
    authenticator,
    apop: async (user, digest, timestamp) => {
      const secret = await secretOf(user);
      if (secret === null) return null;
      const expected = Buffer.from(apopDigest(timestamp, secret), 'latin1');
      const given = Buffer.from(digest.toLowerCase(), 'latin1');
      return given.length === expected.length && timingSafeEqual(given, expected) ? user : null;
    },
  };
}
