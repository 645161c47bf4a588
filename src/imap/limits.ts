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
  /**
   * Most literals in one command. Each literal is a round trip for the client (or a `{n+}` marker),
   * so real clients send a handful; MULTIAPPEND and CATENATE may need a few hundred. A synchronising
   * literal past the limit is answered `BAD` before its continuation, a non-synchronising one with
   * BYE (RFC 7888 §4).
   */
  maxLiteralsPerCommand: number;
  /**
   * Largest command before authentication (all lines and literals), which is also the longest line
   * an AUTHENTICATE response may be. Before login a client needs only LOGIN, AUTHENTICATE (with an
   * OAuth token of several KB as its initial response), STARTTLS, CAPABILITY, ID, NOOP and LOGOUT.
   * Larger: `NO [TOOBIG]` before a synchronising literal's continuation, otherwise BYE without
   * reading the rest. Reading also pauses at twice this much pipelined input.
   */
  maxUnauthCommandSize: number;
  /**
   * Input held for all not-yet-authenticated connections of the server together, in bytes. The
   * connection whose input would take the total above it gets `* BYE [UNAVAILABLE]`.
   */
  maxUnauthBufferedTotal: number;
  /** Deepest nesting of parenthesised lists / SEARCH terms. */
  maxNesting: number;
  /**
   * Most tokens in one command. Parsing is one synchronous step, so this bounds how long one
   * command can hold the event loop while it is parsed (10,000 tokens: a few ms). A SEARCH of a
   * thousand keys or a MULTIAPPEND of a thousand messages needs a few thousand.
   */
  maxTokens: number;
  /**
   * Mailboxes one user may have (INBOX and \Noselect parents count). CREATE or RENAME past it:
   * `NO [LIMIT]`. Real users have tens to a few thousand; Gmail stops labels at 10,000.
   */
  maxMailboxesPerUser: number;
  /**
   * Distinct keywords in use in one mailbox. A STORE, APPEND, COPY or MOVE that would add more:
   * `NO [LIMIT]`. Clients use a handful ($Forwarded, $Junk, tags); Cyrus allows 128 per mailbox.
   */
  maxKeywordsPerMailbox: number;
  /** Longest keyword, in octets (Dovecot's mail_max_keyword_length is 50). Longer: `NO [LIMIT]`. */
  maxKeywordLength: number;
  /** Bytes read ahead of the command being run (pipelined input) before reading pauses. */
  maxPipelinedBytes: number;
  /**
   * BAD replies in a row before BYE. Any command answered OK or NO starts the count again, so a
   * long-lived session that occasionally tries an unsupported command is never dropped for it.
   */
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
   * (src/imap/session/hibernation.ts). Plain, TLS and COMPRESS sessions alike (a TLS 1.3 one keeps its traffic secrets, a TLSSocket — TLS 1.2, or tlsRecords openssl — stays as it is, a compressed one keeps its inflater); 0 turns hibernation off.
   */
  idleHibernateSeconds: number;
  /**
   * Live RFC 5267 UPDATE contexts (SEARCH/SORT RETURN (UPDATE)) one session may hold; each costs a
   * search per change to its mailbox. Beyond it the command answers `* NO [NOUPDATE "tag"]` and
   * still returns its result.
   */
  maxUpdateContexts: number;
  /**
   * zlib level (1 fastest … 9 smallest) for what the server sends once a client has turned on
   * COMPRESS=DEFLATE (RFC 4978). Dovecot's default is 6. Input is inflated at most 16 KB at a time
   * and only as fast as the session reads it, under the same line, literal and read-ahead limits
   * as an uncompressed connection.
   */
  compressionLevel: number;
  /**
   * NOTIFY (RFC 5465): mailbox names one NOTIFY SET may give with SUBTREE and MAILBOXES together.
   * More is answered `NO [NOTIFICATIONOVERFLOW]` (§3.1: too expensive); PERSONAL, INBOXES,
   * SUBSCRIBED and SUBTREE cover any number of mailboxes without naming them.
   */
  maxNotifyMailboxNames: number;
  /**
   * NOTIFY: changes a session may have heard and not yet reported (a client that does not read,
   * or a long command). Beyond it the session gets `* OK [NOTIFICATIONOVERFLOW]` and no more
   * notifications until its next NOTIFY SET (§5.8). Changes to one mailbox are reported as one
   * STATUS, so this bounds work, not memory, which the mailbox count bounds.
   */
  maxNotifyQueuedEvents: number;
  /**
   * INPROGRESS (RFC 9585): seconds between `* OK [INPROGRESS ("tag" count total)]` lines while a
   * long command runs (SEARCH, SORT, THREAD, STORE, COPY, MOVE, EXPUNGE and their UID forms); the
   * first comes one interval after the command started, so a command shorter than that sends none.
   * 10 by default (the RFC recommends 10–15, Dovecot sends one every 10); fractions are allowed;
   * 0 turns the lines off and INPROGRESS is not advertised.
   */
  inProgressSeconds: number;
  /**
   * METADATA (RFC 5464): the largest annotation value SETMETADATA accepts, in octets. Larger:
   * `NO [METADATA MAXSIZE n]` — before the continuation when it comes as a literal. RFC 5464 §4.1
   * requires at least 1024.
   */
  maxMetadataValueSize: number;
  /**
   * METADATA: the most annotations one mailbox (or the server scope) may carry for one user — the
   * /shared entries plus that user's /private ones. A SETMETADATA adding more: `NO [METADATA
   * TOOMANY]`, counted inside the store's write. RFC 5464 §4.1 requires at least 10.
   */
  maxMetadataEntries: number;
  /**
   * MESSAGELIMIT (RFC 9738): the most messages one FETCH, SEARCH, STORE or MOVE (and their UID
   * forms) or one UID EXPUNGE processes. Past it the command processes the messages with the
   * highest UIDs only, from the highest down, and completes `OK [MESSAGELIMIT n uid]`, uid the
   * lowest it processed, so the client continues with the UIDs below it (a tagged OK that carries
   * another code — STORE's MODIFIED — has MESSAGELIMIT in an untagged NO before it). SORT and
   * THREAD over more matching messages are refused, `NO [MESSAGELIMIT n]`. EXPUNGE and CLOSE are
   * not limited.
   * Advertised as MESSAGELIMIT=n once logged in. The default is high enough that clients that do
   * not know the extension (most) never get partial answers from real mailboxes.
   */
  maxMessagesPerCommand: number;
  /**
   * SAVELIMIT (RFC 9738): the most messages one COPY (UID COPY) or one APPEND (MULTIAPPEND) saves.
   * Both are all-or-nothing, so more is refused: `NO [MESSAGELIMIT n uid]` for COPY, `NO
   * [MESSAGELIMIT n]` for APPEND, nothing saved. Advertised as SAVELIMIT=n once logged in. A
   * MULTIAPPEND is also bounded by maxLiteralsPerCommand (one literal per message at least).
   */
  maxMessagesPerSave: number;
  /**
   * UIDBATCHES (RFC 10022): the smallest batch size served; smaller is `NO [TOOFEW]`. At most 500
   * (§3.1.3: batches of 500 and more must be served); Cyrus's default, 500.
   */
  minUidBatchSize: number;
  /**
   * UIDBATCHES: the most messages the ranges of one command may span (batches asked × size, or
   * the mailbox's messages when all are asked); more is `NO [TOOMANY]`. At least 100,000 (§3.1.7).
   */
  maxUidBatchMessages: number;
}

export const DEFAULT_IMAP_LIMITS: ImapLimits = {
  maxLineLength: 64 * 1024,
  maxLiteralSize: 64 * 1024,
  maxMessageSize: 64 * 1024 * 1024,
  maxCommandSize: 80 * 1024 * 1024,
  maxLiteralsPerCommand: 1000,
  maxUnauthCommandSize: 16 * 1024,
  maxUnauthBufferedTotal: 32 * 1024 * 1024,
  maxNesting: 64,
  maxTokens: 10_000,
  maxMailboxesPerUser: 10_000,
  maxKeywordsPerMailbox: 256,
  maxKeywordLength: 100,
  maxMetadataValueSize: 64 * 1024,
  maxMetadataEntries: 100,
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
  maxUpdateContexts: 16,
  compressionLevel: 6,
  maxNotifyMailboxNames: 1000,
  maxNotifyQueuedEvents: 10_000,
  inProgressSeconds: 10,
  maxMessagesPerCommand: 1_000_000,
  maxMessagesPerSave: 1_000_000,
  minUidBatchSize: 500,
  maxUidBatchMessages: 100_000,
};

/** Limits that 0 switches off (no limit at all); the others must stay positive. */
export const IMAP_LIMITS_OFF_WITH_ZERO: ReadonlySet<keyof ImapLimits> = new Set([
  'maxConnections', 'maxConnectionsPerIp', 'maxConnectionsPerUser', 'maxBadCommands', 'unauthCommands', 'idleHibernateSeconds',
  'inProgressSeconds',
]);

/** `allowShortAutologout`: for test kits only (postroom/testing), lets authIdleSeconds go below 1800. */
export function resolveLimits(partial: Partial<ImapLimits> = {}, options: { allowShortAutologout?: boolean } = {}): ImapLimits {
  for (const k of Object.keys(partial)) {
    if (!(k in DEFAULT_IMAP_LIMITS)) throw new RangeError(`unknown IMAP limit "${k}" (known: ${Object.keys(DEFAULT_IMAP_LIMITS).join(', ')})`);
  }
  const limits = { ...DEFAULT_IMAP_LIMITS, ...partial };
  for (const k of IMAP_LIMITS_OFF_WITH_ZERO) {
    // A count compared with Infinity never reaches it; hibernation reads 0 itself.
    if (limits[k] === 0 && k !== 'idleHibernateSeconds' && k !== 'inProgressSeconds') limits[k] = Infinity;
  }
  if (limits.authIdleSeconds < 1800 && !options.allowShortAutologout) {
    throw new RangeError('authIdleSeconds must be at least 1800 (RFC 3501 §5.4: the autologout timer is at least 30 minutes)');
  }
  // The socket pauses above maxPipelinedBytes and resumes below half of it; a partial line must fit
  // below that mark or a paused connection could wait for bytes it refuses to read.
  if (limits.maxLineLength * 2 >= limits.maxPipelinedBytes) {
    throw new RangeError('maxPipelinedBytes must be more than twice maxLineLength');
  }
  // The budget shared by all connections before login must hold at least one of their commands.
  if (limits.maxUnauthBufferedTotal < limits.maxUnauthCommandSize) {
    throw new RangeError('maxUnauthBufferedTotal must be at least maxUnauthCommandSize');
  }
  if (!Number.isInteger(limits.compressionLevel) || limits.compressionLevel < 1 || limits.compressionLevel > 9) {
    throw new RangeError('compressionLevel must be an integer from 1 to 9');
  }
  // RFC 5464 §4.1: a server MUST accept values of 1024 octets and 10 annotations per mailbox.
  if (limits.maxMetadataValueSize < 1024 || limits.maxMetadataEntries < 10) {
    throw new RangeError('maxMetadataValueSize must be at least 1024 and maxMetadataEntries at least 10 (RFC 5464 §4.1)');
  }
  if (limits.minUidBatchSize > 500 || limits.maxUidBatchMessages < 100_000) {
    throw new RangeError('minUidBatchSize must be at most 500 and maxUidBatchMessages at least 100000 (RFC 10022 §3.1.3, §3.1.7)');
  }
  // RFC 9738: the limits are advertised as whole numbers (MESSAGELIMIT=n, SAVELIMIT=n).
  if (!Number.isInteger(limits.maxMessagesPerCommand) || !Number.isInteger(limits.maxMessagesPerSave)) {
    throw new RangeError('maxMessagesPerCommand and maxMessagesPerSave must be whole numbers');
  }
  for (const [k, v] of Object.entries(limits)) {
    if (IMAP_LIMITS_OFF_WITH_ZERO.has(k as keyof ImapLimits) && (v === Infinity || v === 0)) continue;
    if (!Number.isFinite(v) || v <= 0) {
      throw new RangeError(`limit ${k} must be a positive number (0 switches off only ${[...IMAP_LIMITS_OFF_WITH_ZERO].join(', ')})`);
    }
  }
  return limits;
}
