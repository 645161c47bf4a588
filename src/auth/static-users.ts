/**
 * An Authenticator over a fixed map of user names to passwords — for tests and embedded servers
 * ("a real IMAP server inside a test suite"). Production servers use UserFileAuthenticator.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { Authenticator, AuthRequest, AuthResult } from './types.js';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

export class StaticAuthenticator implements Authenticator {
  private readonly users: Map<string, string>;

  constructor(users: Record<string, string>) {
    this.users = new Map(Object.entries(users));
  }

  setPassword(user: string, password: string): void {
    this.users.set(user, password);
  }

  async authenticate(request: AuthRequest): Promise<AuthResult | null> {
    const expected = this.users.get(request.username);
    // Compare digests so the time taken does not depend on where the strings differ.
    const ok = timingSafeEqual(digest(expected ?? '\u0000unknown'), digest(request.password)) && expected !== undefined;
    if (!ok) return null;
    if (request.authzid && request.authzid !== request.username) return null;
    return { user: request.username };
  }

  async lookupUser(username: string): Promise<AuthResult | null> {
    return this.users.has(username) ? { user: username } : null;
  }

  async plaintextSecret(username: string): Promise<string | null> {
    return this.users.get(username) ?? null;
  }
}
