/**
 * The Sieve interpreter's contract (RFC 5228 and extensions): what the rest of Postroom gives a
 * script and what it gets back. The language (src/sieve/) is pure: it parses, validates and runs a
 * script against one message and returns the actions to carry out. It does no I/O of its own
 * beyond the callbacks in SieveEnvironment; storing, sending (redirect, vacation) and remembering
 * whom vacation answered are the delivery side's work (src/delivery, the Sieve filter step).
 */

/** A place in a script, 1-based, as ManageSieve's PUTSCRIPT/CHECKSCRIPT report it (RFC 5804 §2.6). */
export interface SieveDiagnostic {
  line: number;
  column: number;
  message: string;
}

/** Bounds that keep a hostile or careless script from costing more than a delivery is worth. */
export interface SieveLimits {
  /** Largest script accepted, in bytes. */
  maxScriptBytes: number;
  /** Deepest nesting of blocks and tests. */
  maxNestingDepth: number;
  /** Most actions one run may produce before it fails (and the message is kept). */
  maxActions: number;
  /** Most redirects one run may produce (RFC 5228 §4.2 asks for a limit). */
  maxRedirects: number;
  /** Most bytes of the body the `body` test looks at. */
  maxBodyBytes: number;
  /** Work budget of one :matches comparison (steps of the matcher) before it counts as no match. */
  maxMatchSteps: number;
  /** Wall-clock budget of one run in milliseconds; past it, the run fails and the message is kept. */
  maxRunMilliseconds: number;
  /** Most variables one run may set (RFC 5229 §6 asks for a limit); past it, the run fails. */
  maxVariables?: number;
  /** Longest value of a variable in bytes; longer values are cut (RFC 5229 §6). */
  maxVariableBytes?: number;
  /**
   * IMAP Sieve (RFC 6785): wall-clock budget of the runs one IMAP event starts — one per message of
   * a COPY, STORE or MULTIAPPEND — in milliseconds. Past it, the remaining messages are left as
   * stored (logged), so one command cannot hold its session for messages × maxRunMilliseconds.
   */
  maxEventMilliseconds?: number;
}

/** A script that passed parsing and validation, ready to run any number of times. */
export interface SieveScript {
  /** The extensions the script's `require` lists (lower-case capability names). */
  readonly requires: readonly string[];
}

export type CompileResult =
  | { ok: true; script: SieveScript; warnings: SieveDiagnostic[] }
  | { ok: false; errors: SieveDiagnostic[] };

/** What one run may look at. Everything is about the one recipient this delivery is for. */
export interface SieveEnvironment {
  envelope: {
    /** MAIL FROM; "" for the null sender. */
    from: string;
    /** RCPT TO of this recipient, as the MTA gave it. */
    to: string;
  };
  /** The header section as received, CRLF line ends, without the body. */
  header: Buffer;
  /** The body (after the blank line), at most `maxBytes` of it; called only by tests that need it. */
  body(maxBytes: number): Promise<Buffer>;
  /** Size of the whole message in octets (the `size` test). */
  size: number;
  /** `mailboxexists` (RFC 5490) and `fileinto :create` decisions. */
  mailboxExists(name: string): Promise<boolean>;
  /** The time `currentdate` and vacation see; defaults to now. */
  now?: Date;
  /** The user's own addresses (vacation: answer only mail sent to one of them, RFC 5230 §4.5). */
  userAddresses?: readonly string[];
  /** The separator of subaddresses (RFC 5233 :user/:detail), as the MTA uses it; default "+". */
  subaddressSeparator?: string;
  /**
   * Items of the `environment` test (RFC 5183 §4), by lower-case name: "domain", "host",
   * "remote-host", "remote-ip", "version"… "name" defaults to "Postroom", "location" to "MDA",
   * "phase" to "during"; an item not given makes the test false.
   */
  environment?: Readonly<Record<string, string>>;
  /**
   * Set when the script runs for an IMAP event (RFC 6785) instead of at delivery: the environment
   * items imap.* (§4), "location" "MS" and "phase" "post" (§4.1), the imap4flags internal variable
   * starting with the message's flags (so hasflag sees them), the envelope test a runtime error
   * (§4.6), and reject, ereject and vacation errors (§3.11). Keep means "the message where it is".
   */
  imap?: SieveImapEvent;
}

/** What a run for an IMAP event (RFC 6785) knows of it. */
export interface SieveImapEvent {
  /** imap.cause (§4.3): APPEND, COPY (MOVE too, as Pigeonhole) or FLAG. */
  cause: 'APPEND' | 'COPY' | 'FLAG';
  /** imap.mailbox (§4.4): the mailbox the message is in (or was stored into). */
  mailbox: string;
  /** imap.user (§4.2): the login of the IMAP user whose command caused the event. */
  user: string;
  /** imap.email (§4.2): that user's primary address. */
  email: string;
  /** imap.changedflags (§4.5): the flags a FLAG event changed; empty otherwise. */
  changedFlags: readonly string[];
  /** The message's flags now (after the change, for FLAG: §2.2.3). */
  flags: readonly string[];
}

export type SieveFlagList = readonly string[];

/**
 * On keep, fileinto and redirect, `header` is the header section as editheader (RFC 5293) had
 * left it when the action ran (for the implicit keep: when the script ended); absent when the
 * script had not changed it by then. What the action delivers is that header and the body.
 */
export type SieveAction =
  | { type: 'keep'; flags?: SieveFlagList; header?: Buffer }
  | { type: 'fileinto'; mailbox: string; flags?: SieveFlagList; copy: boolean; create: boolean; header?: Buffer }
  | { type: 'redirect'; address: string; copy: boolean; header?: Buffer }
  | { type: 'discard' }
  /** reject (RFC 5429 §2.2) or ereject (§2.1): refused at delivery time for this recipient. */
  | { type: 'reject'; reason: string; ereject: boolean }
  /**
   * vacation (RFC 5230), already checked by the interpreter against the rules that do not need
   * memory (not to lists, bulk, auto-submitted mail, the null sender, or mail not addressed to the
   * user). The delivery side checks its per-user memory (`handle`, `to`, `days`) and sends.
   */
  | {
      type: 'vacation';
      /** Whom to answer: the envelope sender. */
      to: string;
      handle: string;
      /** How long to remember having answered `to` (RFC 5230 §4.1; :seconds where offered). */
      seconds: number;
      subject: string;
      from?: string;
      reason: string;
      mime: boolean;
      /** Message-ID of the message answered, for In-Reply-To/References. */
      inReplyTo?: string;
    };

export interface SieveOutcome {
  /**
   * What to do, in order. When the script cancels no implicit keep (RFC 5228 §2.10.2), a `keep`
   * is in the list. An empty list means the message is discarded.
   */
  actions: SieveAction[];
  /**
   * Set when the run failed (a runtime error, a limit); `actions` is then a lone `keep` (with the
   * flags set so far only if the script asked for them) so that no mail is lost.
   */
  error?: string;
  /**
   * The header section as editheader (RFC 5293) left it, when the script changed it; absent
   * otherwise (and after an error: the message is kept as received). Each keep, fileinto and
   * redirect carries the header as it was when it ran (SieveAction's `header`).
   */
  header?: Buffer;
}
