/**
 * The Authenticator contract: verifies credentials and names the user. SASL mechanisms
 * (src/auth/sasl/) sit in front of it and are shared by IMAP AUTHENTICATE and POP3 AUTH.
 */
export interface AuthRequest {
  /** The name the client gave (authentication identity). */
  username: string;
  password: string;
  /** For SASL PLAIN: the authorization identity, when different from username. */
  authzid?: string;
  /** "LOGIN" (IMAP LOGIN), "USER" (POP3 USER/PASS), or the SASL mechanism name. */
  mechanism: string;
  remoteAddress: string;
  secure: boolean;
  protocol: 'imap' | 'pop3';
}

export interface AuthResult {
  /** The canonical user name the session will run as (the store is opened with it). */
  user: string;
}

export interface Authenticator {
  /** Resolves the user on success, null on bad credentials. Throw only for temporary failures. */
  authenticate(request: AuthRequest): Promise<AuthResult | null>;
  /**
   * Optional: the plaintext secret of a user, enabling APOP and CRAM-MD5 (which need it on the
   * server side). Return null for unknown users.
   */
  plaintextSecret?(username: string): Promise<string | null>;
}
