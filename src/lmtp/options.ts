/** Options of createLmtpServer(). */
import type { Logger } from '../util/logger.js';
import type { DeliveryMetrics, ProtocolMetrics } from '../metrics/types.js';
import type { Authenticator } from '../auth/types.js';
import type { DeliveryOptions, DeliveryPipeline } from '../delivery/pipeline.js';
import type { MailStore } from '../store/types.js';
import type { LmtpLimits } from './limits.js';
import type { ProxyProtocolOptions } from '../net/proxy-gate.js';

/** A UNIX-domain socket to listen on. */
export interface LmtpSocketOption {
  path: string;
  /** Permissions of the socket file (default 0o660: the server's user and group may connect). */
  mode?: number;
}

export interface LmtpServerOptions extends DeliveryOptions {
  /** Where mail is delivered. */
  store: MailStore;
  /** Says which recipients exist (`lookupUser`; see docs/delivery.md for authenticators without it). */
  auth: Authenticator;
  /** TCP port (0 picks a free port; null or absent: no TCP listener). */
  port?: number | null;
  /** Address the TCP listener binds (default 127.0.0.1). */
  host?: string;
  /**
   * Client addresses allowed on the TCP listener, as addresses or CIDR ranges (default: loopback,
   * "127.0.0.0/8" and "::1"). LMTP has no authentication: whoever can connect can deliver mail to
   * any user. Others are answered 554 5.7.1 and disconnected. Sockets are guarded by their mode.
   */
  allowFrom?: readonly string[];
  /**
   * PROXY protocol v1/v2 on the TCP listener from trusted proxies: `allowFrom` then applies to the
   * client address in the header (the MTA's), and the logs show it. Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
  /** UNIX-domain sockets to listen on (what Postfix's `lmtp:unix:` transport connects to). */
  sockets?: ReadonlyArray<string | LmtpSocketOption>;
  /** Name in the greeting and the LHLO reply (default os.hostname()). */
  hostname?: string;
  limits?: Partial<LmtpLimits>;
  /** Folder for the temporary file of a message too large to hold in memory (default os.tmpdir()). */
  spoolDirectory?: string;
  logger?: Logger;
  /**
   * Counters (src/metrics): connections and refusals through `protocol`, and one `delivery` per
   * recipient after DATA — delivered (250), rejected (5xx) or deferred (4xx) — timed from the end of DATA.
   */
  metrics?: { protocol?: ProtocolMetrics; delivery?: DeliveryMetrics };
}

export interface LmtpListenResult {
  /** The bound TCP port, when there is a TCP listener. */
  port?: number;
  /** The socket paths listened on. */
  sockets: string[];
}

export interface LmtpServer {
  listen(): Promise<LmtpListenResult>;
  /**
   * Stops accepting, says 421 to idle sessions, lets transactions that are storing finish (at
   * most 10 s), then closes what is left. Sockets are unlinked.
   */
  close(): Promise<void>;
  /** The delivery pipeline the server uses (the same one `postroom deliver` and tests can use). */
  readonly pipeline: DeliveryPipeline;
}
