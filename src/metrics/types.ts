/**
 * What the servers report about themselves, as plain hooks: the protocol code calls them and never
 * sees prom-client (src/metrics/prometheus.ts implements them; a library user may plug in their
 * own). Every hook is meant for a hot path — a few number operations, no allocation per byte.
 */

export type ProtocolName = 'imap' | 'pop3' | 'lmtp';

/** How a command ended: IMAP OK/NO/BAD/BYE, POP3 +OK/-ERR, LMTP 2xx/4xx/5xx as ok/no/bad. */
export type CommandResult = 'ok' | 'no' | 'bad' | 'bye';

/** The outcome of a login, as the audit log names it. */
export type LoginResult = 'success' | 'failure' | 'locked' | 'limit';

/** Implicit TLS (a port that starts with a handshake) or an upgrade (STARTTLS, STLS). */
export type TlsKind = 'implicit' | 'starttls';

/** Why a connection was refused before any session existed. */
/** `proxy`: a PROXY protocol header missing, malformed, too slow, or from an untrusted address. */
export type RefusalReason = 'total' | 'address' | 'shutdown' | 'proxy';

export interface ProtocolMetrics {
  /** A connection was accepted (and counted against the connection limits). */
  connectionOpened(): void;
  connectionRefused(reason: RefusalReason): void;
  /**
   * One command finished. `name` must come from a bounded set (the command table; anything else as
   * "unknown"): it becomes a label.
   */
  command(name: string, result: CommandResult, seconds: number): void;
  login(result: LoginResult, mechanism: string): void;
  /** Application bytes read from / written to clients (after TLS), reported per chunk. */
  bytesIn(n: number): void;
  bytesOut(n: number): void;
  tlsHandshake(kind: TlsKind, ok: boolean): void;
}

/** Mail delivered through LMTP or `postroom deliver`, per recipient. */
export type DeliveryResult = 'delivered' | 'rejected' | 'deferred';

export interface DeliveryMetrics {
  delivery(result: DeliveryResult, seconds: number): void;
}

/** What the failed-login guard reports (src/auth/login-guard.ts). */
export interface LoginGuardObserver {
  /** A failed login is answered after `ms` milliseconds. */
  delayed(ms: number): void;
  /** A key reached its threshold and is locked out now. */
  lockedOut(scope: 'pair' | 'address' | 'user'): void;
  /** An attempt was refused because its address, user or pair is locked. */
  refused(): void;
}

/** Store call latencies (src/metrics/store-timing.ts wraps any MailStore with it). */
export type StoreObserver = (operation: string, seconds: number, ok: boolean) => void;

/** SQLite durability timings: each write's wait for its WAL fdatasync, each checkpoint. */
export interface SqliteTimings {
  walSync(seconds: number): void;
  checkpoint(seconds: number): void;
  /**
   * How long a checkpoint held the store's writes back (its copy, the database's fdatasync and
   * the WAL restart): a write that arrives meanwhile waits for the rest of it. Optional.
   */
  writesHeld?(seconds: number): void;
}

const nothing = (): void => undefined;

/** The default of every server: reports nowhere. */
export const NO_PROTOCOL_METRICS: ProtocolMetrics = Object.freeze({
  connectionOpened: nothing,
  connectionRefused: nothing,
  command: nothing,
  login: nothing,
  bytesIn: nothing,
  bytesOut: nothing,
  tlsHandshake: nothing,
});
