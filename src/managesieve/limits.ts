/**
 * Every ManageSieve limit, in one place, with its default. Each is an option of
 * createManageSieveServer({ limits }) and of the config file (`managesieveLimits`, docs/sieve.md).
 */
export interface ManageSieveLimits {
  /** Longest command line in bytes, literals not counted. A longer one: `BYE`, connection closed. */
  maxLineLength: number;
  /**
   * Largest literal before login (AUTHENTICATE's initial response and answers); a larger one is
   * refused with NO and its bytes are read and dropped.
   */
  maxUnauthLiteralBytes: number;
  /** Input held by all connections that have not logged in, together; past it: `BYE (TRYLATER)`. */
  maxUnauthBufferedTotal: number;
  /** Largest script (PUTSCRIPT, CHECKSCRIPT, HAVESPACE): `NO (QUOTA/MAXSIZE)`. */
  maxScriptBytes: number;
  /** Scripts one user may keep: one more is `NO (QUOTA/MAXSCRIPTS)`. */
  maxScripts: number;
  /** Longest script name in octets (RFC 5804 §1.6: at least 512, 128 characters). */
  maxScriptNameBytes: number;
  /** Failed AUTHENTICATE attempts in one connection before the server says BYE. */
  maxAuthFailures: number;
  /** Commands answered NO for their syntax or state, in one connection, before the server says BYE. */
  maxBadCommands: number;
  /** Seconds of silence before the server says BYE and closes. */
  idleSeconds: number;
  /** Seconds a failed login is held back before its NO. */
  authFailureDelaySeconds: number;
  /** Seconds a client may take to finish the TLS handshake after STARTTLS. */
  tlsHandshakeSeconds: number;
  /** Seconds a command may take from its first byte to its end, literals included. */
  commandTimeoutSeconds: number;
  maxConnections: number;
  maxConnectionsPerIp: number;
  maxConnectionsPerUser: number;
}

export const DEFAULT_MANAGESIEVE_LIMITS: ManageSieveLimits = {
  maxLineLength: 8 * 1024,
  maxUnauthLiteralBytes: 16 * 1024,
  maxUnauthBufferedTotal: 32 * 1024 * 1024,
  maxScriptBytes: 1024 * 1024,
  maxScripts: 100,
  maxScriptNameBytes: 512,
  maxAuthFailures: 3,
  maxBadCommands: 20,
  idleSeconds: 1800,
  authFailureDelaySeconds: 1,
  tlsHandshakeSeconds: 30,
  commandTimeoutSeconds: 300,
  maxConnections: 200,
  maxConnectionsPerIp: 20,
  maxConnectionsPerUser: 5,
};

/** Merges the given limits over the defaults and rejects values that cannot work. */
export function resolveManageSieveLimits(partial: Partial<ManageSieveLimits> = {}): ManageSieveLimits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_MANAGESIEVE_LIMITS)) {
      throw new RangeError(`unknown ManageSieve limit "${k}" (known: ${Object.keys(DEFAULT_MANAGESIEVE_LIMITS).join(', ')})`);
    }
  }
  const limits = { ...DEFAULT_MANAGESIEVE_LIMITS, ...partial };
  for (const [k, v] of Object.entries(limits)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 1) throw new RangeError(`ManageSieve limit ${k} must be a positive number`);
  }
  if (limits.maxScriptNameBytes < 512) throw new RangeError('maxScriptNameBytes must be at least 512 (RFC 5804 §1.6: names of 128 characters)');
  if (limits.maxLineLength < 1024) throw new RangeError('maxLineLength must be at least 1024');
  return limits;
}
