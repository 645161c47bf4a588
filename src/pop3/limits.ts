/**
 * Every POP3 protocol limit, in one place, with its default. Each is an option of
 * createPop3Server({ limits: { ... } }) and of the config file (docs/pop3.md).
 */
export interface Pop3Limits {
  /**
   * Longest input line in bytes, CRLF included. RFC 2449 §4 caps commands at 255 octets, but
   * RFC 5034 §4 lets SASL responses be "of arbitrary length", so the default leaves room for them.
   * A longer line is discarded and answered with -ERR; the session goes on.
   */
  maxLineLength: number;
  /** Bytes of pipelined input queued ahead of the command being run before reading pauses. */
  maxPipelinedBytes: number;
  /**
   * Input held by all connections that have not logged in, together, in bytes. The connection
   * whose input would take the total above it gets `-ERR [SYS/TEMP]` and is closed.
   */
  maxUnauthBufferedTotal: number;
  /** Failed USER/PASS, APOP or AUTH attempts in one connection before the server hangs up. */
  maxAuthFailures: number;
  /** Commands the server answers with -ERR (unknown, bad arguments, wrong state) before it hangs up. */
  maxBadCommands: number;
  /** Seconds of silence before the connection is dropped without any deletion (RFC 1939 §3: at least 600). */
  idleSeconds: number;
  /** Seconds a failed login is held back before its -ERR, to slow password guessing. */
  authFailureDelaySeconds: number;
  /** Seconds a client may take to finish the TLS handshake after STLS or on the implicit-TLS port. */
  tlsHandshakeSeconds: number;
  /** Simultaneous connections per server (both listeners together); more are greeted with -ERR and closed. */
  maxConnections: number;
  /** Simultaneous connections from one remote address; more are greeted with -ERR [SYS/TEMP] and closed. */
  maxConnectionsPerIp: number;
  /** Simultaneous logged-in sessions of one user; one more login gets -ERR [SYS/TEMP]. */
  maxConnectionsPerUser: number;
  /**
   * Seconds a line may take from its first byte to its line end. A client trickling bytes more
   * slowly is disconnected (the idle timer alone is reset by every byte).
   */
  lineTimeoutSeconds: number;
}

export const DEFAULT_POP3_LIMITS: Pop3Limits = {
  maxLineLength: 8 * 1024,
  maxPipelinedBytes: 64 * 1024,
  maxUnauthBufferedTotal: 32 * 1024 * 1024,
  maxAuthFailures: 3,
  maxBadCommands: 20,
  idleSeconds: 600,
  authFailureDelaySeconds: 1,
  tlsHandshakeSeconds: 30,
  maxConnections: 1000,
  maxConnectionsPerIp: 50,
  maxConnectionsPerUser: 10,
  lineTimeoutSeconds: 60,
};

/** Limits that 0 switches off (no limit at all). */
export const POP3_LIMITS_OFF_WITH_ZERO: ReadonlySet<keyof Pop3Limits> = new Set([
  'maxAuthFailures', 'maxBadCommands', 'maxConnections', 'maxConnectionsPerIp', 'maxConnectionsPerUser',
]);

/** Merges the given limits over the defaults and rejects values the RFCs or common sense forbid. */
export function resolvePop3Limits(partial: Partial<Pop3Limits> = {}): Pop3Limits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_POP3_LIMITS)) throw new RangeError(`unknown POP3 limit "${k}" (known: ${Object.keys(DEFAULT_POP3_LIMITS).join(', ')})`);
  }
  const limits = { ...DEFAULT_POP3_LIMITS, ...partial };
  // 0 switches these off: a count compared with Infinity never reaches it.
  for (const k of POP3_LIMITS_OFF_WITH_ZERO) if (limits[k] === 0) limits[k] = Infinity;
  for (const [k, v] of Object.entries(limits)) {
    if (v === Infinity && POP3_LIMITS_OFF_WITH_ZERO.has(k as keyof Pop3Limits)) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new RangeError(`POP3 limit ${k} must be a non-negative number`);
  }
  if (limits.idleSeconds < 600) {
    throw new RangeError('idleSeconds must be at least 600 (RFC 1939 §3: the inactivity autologout timer is at least 10 minutes)');
  }
  // The 255-octet command of RFC 2449 §4 must always fit.
  if (limits.maxLineLength < 512) throw new RangeError('maxLineLength must be at least 512');
  for (const k of ['maxAuthFailures', 'maxBadCommands', 'maxConnections', 'maxConnectionsPerIp', 'maxConnectionsPerUser'] as const) {
    if (limits[k] < 1) throw new RangeError(`POP3 limit ${k} must be at least 1`);
  }
  if (limits.lineTimeoutSeconds <= 0) throw new RangeError('POP3 limit lineTimeoutSeconds must be positive');
  return limits;
}
