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
  protocol: 'imap' | 'pop3' | 'managesieve';
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
  /**
   * Optional: SCRAM-SHA-256 keys of a user (RFC 5802 §3), enabling the SCRAM-SHA-256 mechanism
   * without the server ever holding the password. Return null for unknown users and for users
   * whose entry has no keys (they simply cannot use SCRAM).
   */
  scramCredentials?(username: string): Promise<ScramCredentials | null>;
  /**
   * Optional: verifies an OAuth 2.0 bearer token, enabling OAUTHBEARER (RFC 7628) and XOAUTH2.
   * Resolves the user the token belongs to, or null when it is invalid or expired. Without this
   * hook neither mechanism is offered. `withTokenVerifier()` (src/auth/sasl) adds one to any
   * authenticator.
   */
  verifyToken?(request: TokenRequest): Promise<AuthResult | null>;
  /**
   * Optional: whether `username` names a user, and its canonical name — mail delivery (LMTP,
   * `postroom deliver`) asks before it accepts a recipient, so unknown ones get 550 5.1.1 at RCPT.
   * Return null for unknown users; throw only for temporary failures. Without this hook delivery
   * accepts every recipient whose mapped name is a usable user name (docs/delivery.md).
   */
  lookupUser?(username: string): Promise<AuthResult | null>;
  /**
   * Optional: where `user`'s mail is served when it is not on this server — an IMAP URL (RFC 5092)
   * such as `imap://alice@mail2.example.com/`, or null when it is served here. Asked after the
   * credentials were verified (so a referral says nothing about names or passwords); IMAP then
   * refuses the login with `NO [REFERRAL url]` (RFC 2221 LOGIN-REFERRALS, advertised when this
   * hook exists), POP3 and ManageSieve refuse it too. Throw only for temporary failures.
   */
  referral?(user: string): Promise<string | null>;
}

/** What the server keeps for SCRAM (RFC 5802 §3): enough to verify a proof, not to log in. */
export interface ScramCredentials {
  /** Canonical user name the session runs as; defaults to the name the client gave. */
  user?: string;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

export interface TokenRequest {
  /** The identity the client claims (OAUTHBEARER gs2 `a=`, XOAUTH2 `user=`); may be empty. */
  username: string;
  /** The bearer token. Sensitive: never log it. */
  token: string;
  /** "OAUTHBEARER" or "XOAUTH2". */
  mechanism: string;
  remoteAddress: string;
  secure: boolean;
  protocol: 'imap' | 'pop3' | 'managesieve';
}
