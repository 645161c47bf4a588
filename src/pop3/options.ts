/**
 * Options of createPop3Server(). Two sources of mail share one implementation:
 *   - store-backed: `store` + `auth`, the user's INBOX in the same MailStore IMAP serves;
 *   - callbacks: the Net::Server::POP3 model, typed and async, for mail that lives elsewhere.
 */
import type { ProxyProtocolOptions } from '../net/proxy-gate.js';
import type { Logger } from '../util/logger.js';
import type { MailStore } from '../store/types.js';
import type { Authenticator } from '../auth/types.js';
import type { TlsOptions } from '../net/tls.js';
import type { Pop3Limits } from './limits.js';
import type { LoginGuard, LoginGuardOptions } from '../auth/login-guard.js';
import type { ProtocolMetrics } from '../metrics/types.js';
import type { Pop3Hooks } from './hooks.js';

/** Who is on the other end; handed to the connect/disconnect callbacks. */
export interface Pop3ConnectionInfo {
  /** Unique per connection; also the store `origin` of changes this session makes. */
  id: string;
  remoteAddress: string;
  remotePort?: number;
  /** True on the implicit-TLS port and after STLS. */
  secure: boolean;
  /** The authenticated user, once there is one. */
  user?: string;
}

export interface Pop3ConnectionSummary extends Pop3ConnectionInfo {
  startedAt: Date;
  /** When the client last sent a line. */
  lastActivity?: Date;
}

/** Message bytes a callback may return: whole, or as a stream (a Node Readable is an AsyncIterable). */
export type Pop3MessageContent = Buffer | Uint8Array | string | AsyncIterable<Buffer | Uint8Array | string>;

/**
 * A successful login may name the canonical user (a string), or just say yes (true) to keep the
 * name the client gave. false / null refuse the credentials; throwing means a temporary failure
 * (-ERR [SYS/TEMP]).
 */
export type Pop3LoginResult = boolean | string | null;

type MaybePromise<T> = T | Promise<T>;

export interface Pop3Callbacks {
  /** USER/PASS and the SASL password mechanisms. Not needed when `auth` is given. */
  authenticate?(user: string, password: string, remoteAddress: string): MaybePromise<Pop3LoginResult>;
  /**
   * APOP (RFC 1939 §7): `digest` is the lower-case hex MD5 the client sent, `greeting` the
   * timestamp of this connection's greeting, angle brackets included — the digest must equal
   * md5(greeting + secret); `apopDigest()` computes it. Without this callback APOP uses
   * `secret`, then `auth.plaintextSecret`, and is not offered when there is none of them.
   */
  apop?(user: string, digest: string, greeting: string): MaybePromise<Pop3LoginResult>;
  /**
   * The other way to offer APOP: hand over the user's shared secret (null: unknown user) and let
   * the server compute and compare the digest. Used when `apop` is absent.
   */
  secret?(user: string): MaybePromise<string | null>;
  /** The ids of the messages in the user's maildrop, oldest first. Ids are stable keys: they become UIDLs. */
  list(user: string): MaybePromise<string[]>;
  /** Octets of the message as RETR sends it (CRLF line ends, before dot-stuffing). Optional: measured otherwise. */
  size?(user: string, id: string): MaybePromise<number>;
  retrieve(user: string, id: string): MaybePromise<Pop3MessageContent>;
  /** Called only in the UPDATE state, after QUIT, once for each message marked with DELE. */
  delete(user: string, id: string): MaybePromise<void>;
  /** A client connected. Return false (or throw) to refuse it with -ERR before the greeting. */
  connect?(info: Pop3ConnectionInfo): MaybePromise<boolean | void>;
  /** The connection is gone, whatever the reason. */
  disconnect?(info: Pop3ConnectionInfo): MaybePromise<void>;
}

/** A number of days, NEVER (RFC 2449 §6.7), or a function of the user (null: the value before login). */
export type Pop3ExpirePolicy = number | 'NEVER' | ((user: string | null) => number | 'NEVER');
/** Seconds between logins (RFC 2449 §6.5), or a function of the user (null: the largest any user has). */
export type Pop3LoginDelayPolicy = number | ((user: string | null) => number);

export interface Pop3ServerOptions {
  /** Store-backed mode: the mail store shared with IMAP; POP3 serves each user's INBOX. */
  store?: MailStore;
  /** Verifies USER/PASS and SASL; its `plaintextSecret` enables APOP. */
  auth?: Authenticator;
  /** Callback mode (used when `store` is not given; `authenticate`/`apop` also serve in store mode when `auth` is absent). */
  callbacks?: Pop3Callbacks;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Plain POP3 port with STLS (default 110; 0 picks a free port; null disables). */
  port?: number | null;
  /** Implicit-TLS port (default 995 when `tls` is given; 0 picks a free port; null disables). */
  tlsPort?: number | null;
  /** Certificate and key. Without it there is no STLS and no tlsPort. */
  tls?: TlsOptions;
  /** Allow USER/PASS and plaintext SASL on unencrypted connections (default false, RFC 2595 §2.2). */
  allowInsecureAuth?: boolean;
  /** Host name in the greeting, the APOP timestamp and SASL. Default os.hostname(). */
  hostname?: string;
  logger?: Logger;
  limits?: Partial<Pop3Limits>;
  /** Greeting text after "+OK" (default "HOSTNAME Postroom POP3 server ready"; at most 506 bytes with the APOP timestamp: RFC 1939 §3 caps a reply at 512). */
  welcome?: string;
  /** LOGIN-DELAY announced in CAPA and enforced with -ERR [LOGIN-DELAY]. */
  loginDelay?: Pop3LoginDelayPolicy;
  /** EXPIRE announced in CAPA (the server only announces it; expiry itself is the store's business). */
  expireTime?: Pop3ExpirePolicy;
  /** IMPLEMENTATION capability text (default "Postroom"). */
  implementation?: string;
  /** Failed-login delays and lockouts; share one LoginGuard with the IMAP server to count both. */
  loginGuard?: LoginGuard | Partial<LoginGuardOptions>;
  /** Counters and histograms (`new Metrics().protocol('pop3')`, src/metrics/). Default: none. */
  metrics?: ProtocolMetrics;
  /**
   * PROXY protocol v1/v2 from trusted proxies (HAProxy `send-proxy-v2`) on both ports: the client
   * address in the header is the one limits, the login guard and logs see. Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
  /** Session hooks: onConnect, onAuth, onCommand (per-command authorization), onClose (src/pop3/hooks.ts). */
  hooks?: Pop3Hooks;
}

export interface Pop3ListenResult {
  port?: number;
  tlsPort?: number;
}

export interface Pop3Server {
  /** Binds the configured ports and resolves with the ports actually bound. */
  listen(): Promise<Pop3ListenResult>;
  /** Stops accepting, lets running commands finish, closes every session (no deletions without QUIT). */
  close(): Promise<void>;
  /** The open connections on both listeners (a snapshot, like the IMAP server's). */
  connections(): Pop3ConnectionSummary[];
  /** Replaces certificate and key (e.g. on SIGHUP); open connections keep the ones they started with. */
  setTls(tls: TlsOptions): void;
  /**
   * Ends the sessions `which` picks (`postroom kick`) after the command in progress, without an
   * UPDATE state (no deletions). Returns their ids.
   */
  kick(which: (c: Pop3ConnectionSummary) => boolean): string[];
  /**
   * Ends one session: after the command in progress (no UPDATE state, so no deletions), or with
   * `force` at once. False when there is no such connection.
   */
  disconnect(id: string, options?: { force?: boolean }): boolean;
  /**
   * 'error': a listener failed after listen() (the socket server's error). Without an 'error'
   * listener it is only logged, as before.
   */
  on(event: 'error', listener: (err: Error) => void): this;
  off(event: 'error', listener: (err: Error) => void): this;
}
