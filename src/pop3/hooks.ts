/**
 * Hooks an embedder gives createPop3Server() to watch and steer sessions, the same four the IMAP
 * server has (src/imap/hooks.ts): each optional; onConnect and onCommand refuse by throwing a
 * Pop3Error (its text becomes the -ERR line) — per-command authorization, refused connections.
 */
import type { Pop3ConnectionInfo } from './options.js';

export interface Pop3CommandEvent extends Pop3ConnectionInfo {
  /** Upper-case command name (USER, RETR, …). */
  command: string;
  state: 'authorization' | 'transaction' | 'update';
  /** Commands this connection has sent before this one. */
  index: number;
}

export interface Pop3AuthEvent extends Pop3ConnectionInfo {
  /** The user name the client gave, when known. */
  username?: string;
  /** USER (for USER/PASS), APOP, or the SASL mechanism. */
  mechanism: string;
  ok: boolean;
}

export interface Pop3Hooks {
  /** A new connection, before the greeting. Throw (or resolve false) to refuse it with -ERR. */
  onConnect?(session: Pop3ConnectionInfo): void | boolean | Promise<void | boolean>;
  /** After each login attempt, successful or not (notification only; a throwing hook is logged). */
  onAuth?(event: Pop3AuthEvent): void;
  /**
   * Before each command the session's state allows runs. Throw a Pop3Error to answer it with
   * -ERR instead (with `close` set, the connection then ends); awaiting delays it.
   */
  onCommand?(event: Pop3CommandEvent): void | Promise<void>;
  /** The connection is gone. */
  onClose?(session: Pop3ConnectionInfo): void;
}
