/**
 * Mail delivery, independent of how the message arrived (LMTP, `postroom deliver`, a test): who
 * it is for, what the filter step decided, and how each recipient fared.
 *
 * The pipeline (pipeline.ts) runs, per recipient:
 *   recipient known (user, detail mailbox) → filter (Sieve's place) → store → outcome.
 */
import type { Flag, UserMailbox } from '../store/types.js';

/** One recipient once its address has been mapped to a user (recipient.ts). */
export interface Recipient {
  /** The address as the MTA gave it (RCPT TO), without angle brackets. */
  readonly address: string;
  /** The user the message goes to, as the authenticator names it (the store is opened with it). */
  readonly user: string;
  /** What followed the recipient delimiter: "lists" in ann+lists@example.org. */
  readonly detail?: string;
  /** A mailbox asked for explicitly (`postroom deliver --mailbox`); it takes the place of `detail`. */
  readonly mailbox?: string;
}

/**
 * What the filter step sees of one recipient's delivery. A Sieve interpreter will be one such
 * filter; it needs no I/O of its own beyond what is here.
 */
export interface FilterInput {
  /** MAIL FROM, "" for the null sender. */
  readonly from: string;
  readonly recipient: Recipient;
  /** Where the message goes unless an action says otherwise: the detail mailbox, or INBOX. */
  readonly mailbox: string;
  /** The message's header section as received (CRLF line ends), at most 64 KiB of it. */
  readonly header: Buffer;
  /**
   * Size of the message in octets as it will be stored, without the added trace headers. Absent
   * when the filter runs while the message is still arriving (see `defer`).
   */
  readonly size?: number;
  /** The recipient's mail (to ask whether a mailbox exists, for example). Do not close it. */
  readonly mail: UserMailbox;
  /** The body (after the header section), at most `maxBytes` of it (Sieve's body test). */
  readonly body?: (maxBytes: number) => Promise<Buffer>;
  /** The whole message as received, without the trace headers (to redirect it). */
  readonly message?: () => Promise<Buffer>;
  /** `header` is the whole header section (false when it was cut at MAX_HEADER_BYTES). */
  readonly headerComplete?: boolean;
  /**
   * Present when the filter runs as soon as the header section is in, while the body is still
   * arriving (DeliveryFilter.needsMessage said the header is enough): `size`, `body` and `message`
   * are then absent. Side effects that must wait until the message is accepted — a vacation
   * answer — are handed here: the pipeline runs them once the message is stored, and drops them
   * when it is not (the client went, the message was refused).
   */
  readonly defer?: (effect: () => Promise<void>) => void;
}

/**
 * What the filter decides, as actions the pipeline carries out (RFC 5228 §4: keep, fileinto,
 * discard; RFC 5429: reject). No actions at all means the same as one `keep`.
 *
 * `header` on keep/fileinto: the header section to store in place of the received one (Sieve's
 * editheader, RFC 5293), CRLF line ends, ending with the last field's CRLF; the blank line and
 * the body follow as received. It is ignored (and logged) when the received header section was
 * longer than the filter was shown (MAX_HEADER_BYTES), since its end is then not known.
 */
export type DeliveryAction =
  /** Store in the chosen mailbox (FilterInput.mailbox). */
  | { kind: 'keep'; flags?: readonly Flag[]; header?: Buffer }
  /** Store in `mailbox`; when it does not exist, create it (`create`) or fall back to INBOX. */
  | { kind: 'fileinto'; mailbox: string; flags?: readonly Flag[]; create?: boolean; header?: Buffer }
  /** Accept the message and store nothing. */
  | { kind: 'discard' }
  /** Refuse the message for this recipient; `temporary` asks the sender to try again later. */
  | { kind: 'reject'; reason: string; temporary?: boolean };

export interface DeliveryFilter {
  (input: FilterInput): Promise<readonly DeliveryAction[]> | readonly DeliveryAction[];
  /**
   * Asked before the message arrives: may the filter act on this recipient's message at all?
   * `false` (no script for this user, say) lets the pipeline store the message while it arrives
   * instead of spooling it first (DeliveryPipeline.startLive), and the filter is then not called
   * for it. Absent: always true.
   */
  appliesTo?(recipient: Recipient, mail: UserMailbox): Promise<boolean>;
  /**
   * Asked before the message arrives, when appliesTo said yes: must the filter see the whole
   * message (its body, its size, its bytes to send on), or is the header section enough? `false`
   * lets the pipeline call the filter once the header section is in (FilterInput.defer set) and
   * store the body while it arrives. Absent: true (the message is spooled first).
   */
  needsMessage?(recipient: Recipient, mail: UserMailbox): Promise<boolean>;
}

/** Where one copy of the message was stored. */
export interface StoredCopy {
  mailbox: string;
  uid: number;
}

export type DeliveryOutcome =
  /** Durable in every place listed (none when the filter discarded it). */
  | { ok: true; recipient: Recipient; stored: StoredCopy[] }
  | { ok: false; recipient: Recipient; failure: DeliveryFailure };

/**
 * Why a delivery did not happen. The kinds are what a protocol must tell apart: LMTP turns each
 * into a reply code (src/lmtp/replies.ts), `postroom deliver` into an exit status.
 */
export type DeliveryFailureKind =
  | 'nouser' // no such user (550 5.1.1)
  | 'badaddress' // the address cannot name a user: bad syntax or encoding (553 5.1.3)
  | 'toobig' // over the message size limit (552 5.3.4)
  | 'badcontent' // content the store does not keep, such as NUL bytes (554 5.6.0)
  | 'noperm' // the mailbox does not accept mail (550 5.2.1)
  | 'rejected' // the filter refused it (550 5.7.1)
  | 'deferred' // the filter asked for a later retry (450 4.7.1)
  | 'overquota' // the user's quota is full (452 4.2.2)
  | 'diskfull' // the server's disk is full (452 4.3.1)
  | 'tempfail'; // anything else that may work later: store unreachable, I/O error (451 4.3.0)

export interface DeliveryFailure {
  kind: DeliveryFailureKind;
  /** One line for the sender; never internal details such as paths. */
  message: string;
}
