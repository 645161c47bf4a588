/**
 * Hooks an embedder gives createImapServer() to watch and steer sessions, in the manner of
 * smtp-server's onConnect/onAuth: each is optional, and one that throws an ImapError turns into
 * that response (NO, BAD or BYE) — which is how per-command authorization, refused connections and
 * the test kit's faults (postroom/testing) are done.
 */
export interface ImapSessionInfo {
  /** The connection's id, as in connections() and disconnect(). */
  id: string;
  remoteAddress: string;
  remotePort: number;
  secure: boolean;
  /** Set once logged in. */
  user?: string;
}

export interface ImapCommandEvent extends ImapSessionInfo {
  tag: string;
  /** Upper-case command name; "UID FETCH" for UID commands. */
  command: string;
  state: 'notAuthenticated' | 'authenticated' | 'selected';
  /** The selected mailbox, if any. */
  mailbox?: string;
  /** Commands this connection has sent before this one. */
  index: number;
}

export interface ImapAuthEvent extends ImapSessionInfo {
  /** The user name the client gave (or the SASL identity). */
  username: string;
  mechanism: string;
  ok: boolean;
}

export interface ImapHooks {
  /** A new connection, before the greeting. Throw (or resolve false) to refuse it with BYE. */
  onConnect?(session: ImapSessionInfo): void | boolean | Promise<void | boolean>;
  /** After each authentication attempt, successful or not (notification only). */
  onAuth?(event: ImapAuthEvent): void;
  /**
   * Before each command that the session's state allows runs. Throw ImapError.no/bad/bye to
   * answer it instead (per-command authorization); awaiting delays it.
   */
  onCommand?(event: ImapCommandEvent): void | Promise<void>;
  /** The connection is gone. */
  onClose?(session: ImapSessionInfo): void;
}
