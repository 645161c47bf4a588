/**
 * What a command is (a small declarative spec) and what it may touch while it runs (the context).
 * Adding a command = one file exporting a CommandSpec + one line in registry.ts.
 */
import type { Logger } from '../../util/logger.js';
import type { Token, ImapValue, ResponseCode } from '../wire/types.js';
import type { SequenceSet } from '../wire/sequence-set.js';
import type { Flag, FlagChange, MailboxInfo, MailStore, MessageMeta, UserMailbox } from '../../store/types.js';
import type { Authenticator } from '../../auth/types.js';
import type { ImapLimits } from '../limits.js';

export type StateKind = 'notAuthenticated' | 'authenticated' | 'selected';

/** RFC 7162 §3.2.5 QRESYNC select parameter, parsed. */
export interface QresyncParams {
  uidValidity: number;
  modseq: number;
  /** Known UIDs as ranges (default 1:UIDNEXT-1). */
  knownUids?: Array<[number, number]>;
  /** §3.2.5.2 message sequence match data, expanded: seqs[i] is believed to hold uids[i]. */
  seqMatch?: { seqs: number[]; uids: number[] };
}

export interface SelectOptions {
  readOnly: boolean;
  condstore?: boolean;
  qresync?: QresyncParams;
}

/** The selected mailbox as this session knows it: its own sequence-number view. */
export interface SelectedView {
  readonly mailbox: MailboxInfo;
  readonly readOnly: boolean;
  readonly uidValidity: number;
  /** UIDNEXT as last known to this session. */
  readonly uidNext: number;
  readonly highestModseq: number;
  /** Messages in the view (the last EXISTS told to the client). */
  readonly exists: number;
  /** UID of sequence number `seq` (1-based); throws when out of range. */
  uidAt(seq: number): number;
  /** Sequence number of `uid`, or undefined when not in the view. */
  seqOf(uid: number): number | undefined;
  /** All UIDs in the view, ascending (index = seq - 1). Do not mutate. */
  uids(): readonly number[];
  /**
   * Resolves a sequence set to UIDs present in the view, ascending. `byUid` selects UID semantics
   * ("*" = highest UID; numbers that name no message are ignored). For sequence numbers a number
   * beyond EXISTS fails with BAD (RFC 3501 §9: invalid message sequence number).
   */
  resolve(set: SequenceSet, byUid: boolean): number[];
  /** Flags as this session last saw them, \Recent included when the message is recent for it. */
  flagsOf(uid: number): Flag[];
  /**
   * Whether the session last saw `flag` (exact spelling, as stored: system flags such as \Deleted
   * are normalised) on the message — flagsOf(uid).includes(flag) without the array flagsOf copies
   * for a recent message (EXPUNGE asks it of every message in the mailbox).
   */
  hasFlag(uid: number, flag: Flag): boolean;
  /**
   * Mod-sequence of the flags `flagsOf` returns (RFC 7162), 0 when not in the view: what a FETCH
   * carrying those flags reports once CONDSTORE is on, without asking the store.
   */
  modseqOf(uid: number): number;
  isRecent(uid: number): boolean;
  /** Distinct keywords of the messages in the view (as the FLAGS response lists them). */
  keywords(): string[];
  /** Number of messages recent for this session. */
  recentCount(): number;
  /** The last SEARCH result saved with RFC 5182 SAVE ("$"), as UIDs. */
  savedResult: number[];
  /**
   * After a command of this session changed flags: records them in the view and, unless `silent`,
   * sends `* n FETCH (FLAGS (...))` (with UID when `withUid`).
   */
  applyOwnFlagChanges(changes: FlagChange[], options: { silent: boolean; withUid: boolean; withModseq: boolean }): void;
  /**
   * The store's current flags of a message, read by this session's own command (FETCH's records):
   * when newer than the view's, the view takes them — announcing a keyword new to the session
   * with FLAGS first (RFC 3501 §7.2.6) — and returns true, so the command reports FLAGS with them.
   */
  applyCurrent(meta: MessageMeta): boolean;
  /**
   * Optional: reports at once (EXISTS) messages this session's command has just added to the
   * selected mailbox, instead of at the command's end (REPLACE: EXISTS before the EXPUNGE).
   */
  reportOwnArrivals?(mail: UserMailbox, uids: readonly number[]): Promise<void>;
  /** After a command of this session expunged: removes them from the view and sends `* n EXPUNGE`. */
  applyOwnExpunge(uids: number[]): void;
  /**
   * Optional: this session's command found messages of the view `gone` from the store, and others
   * with newer flags (`current`), before the change events saying so arrived (another process's
   * change: stale-view.ts). Queued as if those events had come.
   */
  noteChangedElsewhere?(gone: number[], current: MessageMeta[]): void;
  /**
   * Optional: true when this session claims \Recent for the messages it is told of (read-write,
   * \Recent not dropped by IMAP4rev2), so an APPEND into this mailbox may let the store claim its
   * message in the append's own write (AppendOptions.claimRecent).
   */
  claimsRecent?(): boolean;
  /**
   * Optional, with claimsRecent: the store claimed \Recent for UIDs `from` through `through` for
   * this session (AppendResult.recentFrom); the view reports them as \Recent when it announces
   * them, without claiming them again.
   */
  noteRecentClaim?(from: number, through: number): void;
  /**
   * Optional: this session's APPEND into the selected mailbox stored this message with these flags
   * and modseq (AppendResult.flags set); the view announces it from them instead of reading it back.
   */
  noteOwnAppend?(meta: MessageMeta): void;
  /**
   * Optional: lets `observer` hear what the view reports from now on, until the returned function
   * is called or the mailbox is closed (RFC 5267 UPDATE contexts). A view without it refuses
   * UPDATE with NOUPDATE.
   */
  observe?(observer: ViewObserver): () => void;
}

/** Hears the changes a selected view reports to its client (src/imap/search/contexts.ts). */
export interface ViewObserver {
  /** Messages about to be reported expunged: their sequence numbers are still valid now. */
  expunging(uids: readonly number[]): void;
  /** Messages just reported with EXISTS. */
  added(uids: readonly number[]): void;
  /** Messages whose flags changed (reported with FETCH, or changed by this session's STORE). */
  flagsChanged(uids: readonly number[]): void;
  /**
   * Finishes the work the calls above queued; awaited whenever the view has reported its updates.
   * `fetchNew`, when given, is called for the messages just reported with EXISTS before anything
   * about them is said (RFC 5465 §7 order: EXISTS, FETCH, ESEARCH).
   */
  settle(fetchNew?: NewMessageFetch): Promise<void>;
}

/**
 * Writes the FETCH responses due for messages just reported with EXISTS (RFC 5465 §5.2, §7):
 * `arrived` are their UIDs, ascending; `wanted` the attributes UPDATE contexts ask for some of
 * them. Whoever calls it adds NOTIFY's MessageNew attributes.
 */
export type NewMessageFetch = (arrived: readonly number[], wanted: ReadonlyMap<number, readonly import('../fetch/items.js').FetchItem[]>) => Promise<void>;

export interface ConnectionInfo {
  readonly id: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** True once the connection is encrypted (implicit TLS or after STARTTLS). */
  readonly secure: boolean;
  /** True when STARTTLS can be offered (a certificate is configured and not yet secure). */
  readonly canStartTls: boolean;
  /** True once COMPRESS=DEFLATE is active (or starts after the running command). */
  readonly compressed?: boolean;
}

export type SessionState =
  | { kind: 'notAuthenticated' }
  | { kind: 'authenticated'; user: string; mail: UserMailbox }
  | { kind: 'selected'; user: string; mail: UserMailbox; view: SelectedView };

/** Server-wide things a command may read. */
export interface ServerContext {
  readonly store: MailStore;
  readonly auth: Authenticator;
  readonly limits: ImapLimits;
  readonly allowInsecureAuth: boolean;
  /** Users with administrative rights (ImapServerOptions.administrators): SETQUOTA, other users' quota roots. */
  readonly administrators?: ReadonlySet<string>;
  /** RFC 5464 server entry /shared/admin (ImapServerOptions.adminContact). */
  readonly adminContact?: string;
  /** Users authorized as message submission entities (ImapServerOptions.urlauthSubmitUsers, RFC 4467 `submit+`). */
  readonly urlauthSubmitUsers?: ReadonlySet<string>;
  /** Hears of stored messages and flag changes (ImapServerOptions.messageEvents); the session's handle reports to it. */
  readonly messageEvents?: import('../message-events.js').ImapEventListener;
  /** RFC 2971 ID fields the server answers with. */
  readonly id: Record<string, string>;
  readonly logger: Logger;
  /** Capabilities for the connection's current state (what CAPABILITY prints). */
  capabilities(conn: ConnectionInfo, state: SessionState['kind']): string[];
}

/**
 * What a command's run() gets. Its methods are called on it (`ctx.untagged(…)`): the server's
 * context is one object per command with its methods on its class, so a method passed on as a
 * function must be bound (`ctx.untagged.bind(ctx)`).
 */
export interface CommandContext {
  readonly tag: string;
  /** The command name as dispatched, e.g. "FETCH" or "UID FETCH". */
  readonly command: string;
  readonly connection: ConnectionInfo;
  readonly server: ServerContext;
  readonly state: SessionState;
  readonly logger: Logger;
  /** Extensions turned on with ENABLE (upper-case names, e.g. "CONDSTORE", "UTF8=ACCEPT"). */
  readonly enabled: Set<string>;

  /** Queues an untagged data response: `* v1 v2 ...`. */
  untagged(...values: ImapValue[]): void;
  /**
   * Queues untagged responses the wire encoder already wrote as text (complete lines, each ending
   * in CRLF) — for the few hot paths that produce very many small responses (see viewFetchLine) —
   * or already as bytes (FetchLineWriter's Buffers).
   */
  untaggedLines(text: string | Buffer[]): void;
  /** Queues an untagged status response: `* OK [code] text`. */
  untaggedStatus(status: 'OK' | 'NO' | 'BAD' | 'BYE', text: string, code?: ResponseCode): void;
  /**
   * Waits until queued output has been written to the socket (backpressure for long responses),
   * and lets other sessions run if this one has used its time slice (src/util/time-slice.ts). Long
   * loops call it every few items: it resolves at once when there is nothing to wait for.
   */
  drain(): Promise<void>;
  /**
   * INPROGRESS (RFC 9585): the command has done `count` of `total` items. Only commands whose spec
   * sets `reportsProgress` send progress lines; for others this does nothing. Cheap: it records
   * the numbers, and a timer sends the latest once per interval.
   */
  progress(count: number, total: number): void;

  /** Sends `+ text` and waits for the client's next line (AUTHENTICATE, IDLE's DONE). null = connection closed. */
  continuation(text: string): Promise<string | null>;
  /**
   * Sends `+ text` and resolves with the next line when it arrives, or null when `signal`'s
   * wait is given up (IDLE: ended by DONE, by the connection closing, or by the server).
   * While waiting, changes from other sessions are pushed to the client at once.
   */
  idle(text: string): Promise<string | null>;

  /** Switches the session state (LOGIN, SELECT, CLOSE...). Closing the old view is handled here. */
  setState(next: SessionState): void;
  /**
   * NOTIFY (RFC 5465): replaces the session's notification set (null: NOTIFY NONE). With the
   * spec's STATUS indicator, writes a STATUS for each watched mailbox before resolving.
   */
  setNotify(spec: import('../notify/spec.js').NotifySpec | null): Promise<void>;
  /** Upgrades the connection to TLS after the tagged OK of STARTTLS has been written. */
  startTls(): Promise<void>;
  /** Turns on COMPRESS=DEFLATE (RFC 4978) right after this command's tagged OK has been written. */
  startCompression(): void;
  /**
   * Authenticates and moves to the authenticated state, applying the TLS policy (no plaintext
   * credentials without TLS unless allowInsecureAuth) and the failed-login delays and lockouts.
   * Either give the credentials (checked with the server's Authenticator), or a `verify` function
   * that runs a SASL exchange and resolves the user name (null = bad credentials).
   * Throws ImapError NO [AUTHENTICATIONFAILED] / [PRIVACYREQUIRED] / [UNAVAILABLE] on failure.
   */
  login(
    attempt:
      | { mechanism: string; username: string; password: string; authzid?: string }
      | {
          mechanism: string;
          plaintext: boolean;
          verify: () => Promise<string | null>;
          /** After a failed verify: the user name the client claimed, if the mechanism saw one (for the login guard). */
          claimedUser?: () => string | undefined;
        },
  ): Promise<void>;
  /** SASL context for mechanisms (authenticator, addresses, host name). */
  saslContext(): import('../../auth/sasl/types.js').SaslContext;
  /** Opens a selected view of a mailbox (SELECT/EXAMINE). Writes the untagged SELECT responses. */
  select(mailboxName: string, options: SelectOptions): Promise<SelectedView>;
  /** Ends the connection after the current response (LOGOUT). */
  close(): void;
  /**
   * Back to the not-authenticated state (RFC 8437 UNAUTHENTICATE): releases the selected mailbox
   * (no expunge), the store handle, the change-feed subscription and the per-user connection slot,
   * and turns every ENABLEd extension off. The connection and its TLS layer stay.
   */
  unauthenticate(): void;
}

/** What a successful command completes with; the dispatcher writes `tag OK [code] text`. */
export interface Completion {
  text?: string;
  code?: ResponseCode;
}

export interface CommandSpec<A = unknown> {
  /** Upper-case name, with "UID " prefix for UID variants: "FETCH", "UID FETCH". */
  name: string;
  /** States in which the command is allowed (RFC 3501 §6). */
  states: readonly StateKind[];
  /**
   * RFC 3501 §7.4.1: EXPUNGE responses may not be sent while this command runs or at its end
   * (FETCH, STORE, SEARCH with sequence numbers). Pending expunges wait for the next command.
   */
  noExpunge?: boolean;
  /**
   * Takes message sequence numbers (the non-UID FETCH, STORE, COPY, MOVE, SEARCH, SORT, THREAD and
   * REPLACE): once UIDONLY is enabled it is answered `BAD [UIDREQUIRED]` (RFC 9586 §3).
   */
  sequenceNumbers?: boolean;
  /**
   * May run long over a big mailbox: while it runs the client gets `* OK [INPROGRESS …]` lines
   * (RFC 9585) once per `limits.inProgressSeconds`, with what it reported through ctx.progress.
   */
  reportsProgress?: boolean;
  /** Arguments carry secrets: logs show the command name only. */
  sensitive?: boolean;
  /** Capability names this command brings (e.g. IDLE, UNSELECT); added to CAPABILITY when registered. */
  capabilities?: string[];
  /** Largest literal this command accepts, checked before the `+` continuation is sent. */
  maxLiteralSize?: (limits: ImapLimits) => number;
  /** The response code of a literal over maxLiteralSize (default TOOBIG; SETMETADATA: METADATA MAXSIZE). */
  literalTooLargeCode?: (limits: ImapLimits) => ResponseCode;
  /** Pure: argument tokens → typed arguments. Throws ParseError (→ BAD). */
  parse(args: Token[], env: ParseEnv): A;
  run(ctx: CommandContext, args: A): Promise<Completion | void>;
}

/** What parse() may consult besides the tokens (nothing with I/O). */
export interface ParseEnv {
  readonly enabled: ReadonlySet<string>;
  readonly limits: ImapLimits;
}

/** Convenience for commands that carry a sequence set. */
export interface SequenceArgs {
  set: SequenceSet;
}

export type AnyCommandSpec = CommandSpec<any>; // eslint-disable-line @typescript-eslint/no-explicit-any
