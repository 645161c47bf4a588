/**
 * Every IMAP protocol limit, in one place, with its default. Each is an option of
 * createImapServer({ limits: { ... } }) and of the config file / CLI (docs/configuration.md).
 */
export interface ImapLimits {
  /** Longest command line (text between literals), in bytes. Longer: BYE and close. */
  maxLineLength: number;
  /** Largest literal outside APPEND, in bytes. Larger: NO [TOOBIG] before the continuation. */
  maxLiteralSize: number;
  /** Largest message APPEND accepts (advertised as APPENDLIMIT, RFC 7889). */
  maxMessageSize: number;
  /** Largest whole command (all lines and literals), in bytes. */
  maxCommandSize: number;
  /** Deepest nesting of parenthesised lists / SEARCH terms. */
  maxNesting: number;
  /** Most tokens in one command. */
  maxTokens: number;
  /** Bytes read ahead of the command being run (pipelined input) before reading pauses. */
  maxPipelinedBytes: number;
  /** Bad commands in one connection before BYE. */
  maxBadCommands: number;
  /** Commands allowed before authentication. */
  unauthCommands: number;
  /** Idle seconds before BYE while not authenticated. */
  unauthIdleSeconds: number;
  /** Idle seconds before BYE once authenticated (RFC 3501 §5.4: at least 30 minutes). */
  authIdleSeconds: number;
  /** Output bytes queued for a slow reader before the server stops producing more. */
  maxOutputBuffer: number;
  /** Open connections on the server (all listeners). More are answered `* BYE [UNAVAILABLE]` and closed. */
  maxConnections: number;
  /** Open connections from one remote address. More: `* BYE [UNAVAILABLE]` before the greeting. */
  maxConnectionsPerIp: number;
  /** Authenticated sessions of one user. One more login gets `NO [LIMIT]` (RFC 5530). */
  maxConnectionsPerUser: number;
  /**
   * Seconds a command line may take from its first byte to its CRLF. A slower sender gets BYE:
   * the idle timers alone cannot stop a client that trickles a byte every few seconds.
   */
  lineTimeoutSeconds: number;
  /** Slowest average rate (bytes/second) at which a literal may arrive; its deadline is lineTimeoutSeconds plus size / rate. */
  minLiteralBytesPerSecond: number;
  /** Seconds the implicit-TLS handshake (port 993) and the STARTTLS handshake may take. */
  tlsHandshakeSeconds: number;
  /**
   * Seconds an IDLE with nothing to report lasts before the session is hibernated: kept in about
   * 1 KB instead of about 21 KB until the client or a change to its mailbox wakes it
   * (src/imap/session/hibernation.ts). Plain-text connections only; 0 turns hibernation off.
   */
  idleHibernateSeconds: number;
}

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024,
  maxMessageSize: 64 * 1024 * 1024,
  maxCommandSize: 80 * 1024 * 1024,
  maxNesting: 64,
  maxTokens: 100_000,
  maxPipelinedBytes: 1024 * 1024,
  maxBadCommands: 20,
  unauthCommands: 10,
  unauthIdleSeconds: 300,
  authIdleSeconds: 3600,
  maxOutputBuffer: 4 * 1024 * 1024,
  maxConnections: 10_000,
  maxConnectionsPerIp: 200,
  maxConnectionsPerUser: 50,
  lineTimeoutSeconds: 60,
  minLiteralBytesPerSecond: 16 * 1024,
  tlsHandshakeSeconds: 30,
  idleHibernateSeconds: 30,
};

/** Limits that 0 switches off (no limit at all); the others must stay positive. */
export const IMAP_LIMITS_OFF_WITH_ZERO: ReadonlySet<keyof ImapLimits> = new Set([
  'maxConnections', 'maxConnectionsPerIp', 'maxConnectionsPerUser', 'maxBadCommands', 'unauthCommands', 'idleHibernateSeconds',
]);

export function resolveLimits(partial: Partial<ImapLimits> = {}): ImapLimits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_IMAP_LIMITS)) throw new RangeError(`unknown IMAP limit "${k}" (known: ${Object.keys(DEFAULT_IMAP_LIMITS).join(', ')})`);
  }
  const limits = { ...DEFAULT_IMAP_LIMITS, ...partial };
  for (const k of IMAP_LIMITS_OFF_WITH_ZERO) {
    // A count compared with Infinity never reaches it; hibernation reads 0 itself.
    if (limits[k] === 0 && k !== 'idleHibernateSeconds') limits[k] = Infinity;
  }
  if (limits.authIdleSeconds < 1800) {
    throw new RangeError('authIdleSeconds must be at least 1800 (RFC 3501 §5.4: the autologout timer is at least 30 minutes)');
  }
  // The socket pauses above maxPipelinedBytes and resumes below half of it; a partial line must fit
  // below that mark or a paused connection could wait for bytes it refuses to read.
  if (limits.maxLineLength * 2 >= limits.maxPipelinedBytes) {
    throw new RangeError('maxPipelinedBytes must be more than twice maxLineLength');
  }
  for (const [k, v] of Object.entries(limits)) {
    if (IMAP_LIMITS_OFF_WITH_ZERO.has(k as keyof ImapLimits) && (v === Infinity || v === 0)) continue;
    if (!Number.isFinite(v) || v <= 0) {
      throw new RangeError(`limit ${k} must be a positive number (0 switches off only ${[...IMAP_LIMITS_OFF_WITH_ZERO].join(', ')})`);
    }
  }
  return limits;
}
