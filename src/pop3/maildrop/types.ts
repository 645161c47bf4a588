/**
 * A maildrop as a POP3 session sees it: a fixed list of messages taken at login (RFC 1939 §8:
 * message numbers do not change during a session), read on demand, and changed only at QUIT.
 * Two implementations: the shared MailStore's INBOX, and the Net::Server::POP3-style callbacks.
 */
export interface Maildrop {
  /** Messages at login; message number n is index n-1. */
  readonly count: number;
  /**
   * Optional: true when the maildrop may be read but not changed (the store marks the INBOX
   * read-only, MailboxInfo.readOnly). DELE is then refused and commit() is not called.
   */
  readonly readOnly?: boolean;
  /** Octets the message takes on the wire (CRLF line ends, before dot-stuffing). */
  size(index: number): Promise<number>;
  /** RFC 1939 §7 unique-id: 1-70 characters 0x21-0x7E, stable across sessions. */
  uidl(index: number): string;
  /** The message bytes; the session normalises line ends and stuffs dots. */
  content(index: number): AsyncIterable<Buffer>;
  /**
   * The UPDATE state (RFC 1939 §6): remove `deleted`; `retrieved` were sent whole by RETR. Throws a
   * Pop3Error when some deletions could not be applied.
   */
  commit(deleted: number[], retrieved: number[]): Promise<void>;
  /** Ends the session's hold on the maildrop, whether or not commit ran. */
  release(): Promise<void>;
}

export interface MaildropSource {
  /** Opens `user`'s maildrop for the session `sessionId`. */
  open(user: string, sessionId: string): Promise<Maildrop>;
}
