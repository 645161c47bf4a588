/**
 * Options of createImapServer(). The CLI flags (kebab-case) and the config file (camelCase) use the
 * same names; see docs/configuration.md.
 */
import type { Logger } from '../util/logger.js';
import type { MailStore } from '../store/types.js';
import type { Authenticator } from '../auth/types.js';
import type { ImapLimits } from './limits.js';
import type { TlsOptions } from '../net/tls.js';
import type { ImapHooks } from './hooks.js';
import type { LoginGuard, LoginGuardOptions } from '../auth/login-guard.js';
import type { ProtocolMetrics } from '../metrics/types.js';
import type { ProxyProtocolOptions } from '../net/proxy-gate.js';
import type { ImapEventListener } from './message-events.js';

export interface ImapServerOptions {
  store: MailStore;
  auth: Authenticator;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Plain IMAP port with STARTTLS (default 143; 0 picks a free port; null disables). */
  port?: number | null;
  /** Implicit-TLS IMAP port (default 993 when `tls` is given; 0 picks a free port; null disables). */
  tlsPort?: number | null;
  /** Certificate and key, as PEM contents or file paths. Without it there is no STARTTLS and no tlsPort. */
  tls?: TlsOptions;
  /** Allow LOGIN / AUTHENTICATE PLAIN over unencrypted connections (default false). */
  allowInsecureAuth?: boolean;
  /** Commands allowed before authentication (default 10). */
  unauthCommands?: number;
  /** Seconds of inactivity before BYE when not authenticated (default 300). */
  unauthIdleSeconds?: number;
  /** Seconds of inactivity before BYE when authenticated (default 3600; RFC 3501 §5.4 forbids less than 1800). */
  authIdleSeconds?: number;
  /** For stores without a cross-process change feed: how often selected sessions re-check the store (default 0 = never). */
  pollIntervalSeconds?: number;
  /** Drop privileges to this user / group after binding the ports. */
  user?: string | number;
  group?: string | number;
  logger?: Logger;
  /** Session hooks: onConnect, onAuth, onCommand (per-command authorization), onClose (src/imap/hooks.ts). */
  hooks?: ImapHooks;
  /**
   * Test kits only: allows `authIdleSeconds` below 1800, so autologout can be tested. A real
   * server must not (RFC 3501 §5.4: at least 30 minutes). postroom/testing sets it.
   */
  allowShortAutologout?: boolean;
  /** RFC 2971 ID response fields (default name/version of Postroom). */
  id?: Record<string, string>;
  /** Host name used in greetings and SASL. Default os.hostname(). */
  hostname?: string;
  /** Greeting text after "* OK" (default "HOSTNAME Postroom ready"). */
  greeting?: string;
  /**
   * Advertise LITERAL- instead of LITERAL+ (RFC 7888 §5; a server must not offer both): clients
   * may then send non-synchronising literals of at most 4096 octets, and a larger one ends the
   * session with `* BYE [TOOBIG]` (RFC 7888 §4-5). Default false: LITERAL+, as Dovecot and Cyrus.
   */
  literalMinus?: boolean;
  /** Fine-grained protocol limits (see limits.ts for every default). */
  limits?: Partial<ImapLimits>;
  /**
   * Handles polled on each listening socket (default 1; `postroom serve` uses 16). A busy event loop
   * accepts at most one connection per handle per turn; more handles need a helper process at
   * listen() (see net/accept-handles.ts), so servers started by test suites keep to one.
   */
  acceptHandles?: number;
  /**
   * Failed-login delays and lockouts (see login-guard.ts for the defaults). Pass one LoginGuard
   * instance to IMAP and POP3 so a guesser cannot switch protocols to start afresh.
   */
  loginGuard?: LoginGuard | Partial<LoginGuardOptions>;
  /**
   * Counters and histograms: connections, commands, logins, bytes, TLS handshakes
   * (`new Metrics().protocol('imap')`, src/metrics/; or your own implementation). Default: none.
   */
  metrics?: ProtocolMetrics;
  /**
   * PROXY protocol v1/v2 from trusted proxies (HAProxy `send-proxy-v2`) on both ports: the client
   * address in the header is the one limits, the login guard and logs see. Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
  /**
   * Users with administrative rights over the server: they may SETQUOTA and read any user's quota
   * root as `#user/<name>` (RFC 9208). Default: nobody — quotas are then set only with
   * `postroom quota set` or the store's setQuota().
   */
  administrators?: readonly string[];
  /**
   * RFC 5464 §3.2.1.1: the server annotation /shared/admin — a URI for contacting the server's
   * administrator (mailto: or tel:), read-only for clients. Absent: the entry does not exist.
   */
  adminContact?: string;
  /**
   * URLAUTH (RFC 4467 §3): users authorized as a message submission entity — those whose sessions
   * may URLFETCH a URL authorized for `submit+<someone>` (Dovecot's imap_urlauth_submit_user).
   * Default: nobody.
   */
  urlauthSubmitUsers?: readonly string[];
  /**
   * Told of every message a session's command stores (APPEND, COPY, MOVE) and of every flag change
   * (STORE, FETCH's \Seen), after the store committed it and before the tagged response
   * (src/imap/message-events.ts). IMAP Sieve (RFC 6785, createImapSieve() in src/imapsieve/) is one;
   * its capability (IMAPSIEVE=) is advertised once logged in. Needs a store with annotations
   * (MailStore.metadata); without them it is not installed (logged). Default: none.
   */
  messageEvents?: ImapEventListener;
}
