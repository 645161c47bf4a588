/**
 * What a connection needs from its server: the shared context plus the command table, TLS and
 * connection bookkeeping. Implemented by ImapServer (src/imap/server.ts).
 */
import type tls from 'node:tls';
import type { Logger } from '../../util/logger.js';
import type { ServerContext } from '../commands/types.js';
import type { CommandRegistry } from '../commands/registry.js';
import type { LoginGuard } from '../../auth/login-guard.js';
import type { ImapConnection } from './connection.js';
import type { Hibernation } from './hibernation.js';
import type { InputBudget } from '../../net/input-budget.js';
import type { TlsRecords } from '../../net/tls.js';
import type { ProtocolMetrics } from '../../metrics/types.js';
import type { ImapHooks, ImapSessionInfo } from '../hooks.js';

export interface ServerCore extends ServerContext {
  readonly registry: CommandRegistry;
  readonly secureContext?: tls.SecureContext;
  /** Who protects TLS 1.3 records after a STARTTLS handshake (src/net/tls.ts TlsRecords). */
  readonly tlsRecords: TlsRecords;
  readonly hostname: string;
  readonly greeting: string;
  readonly loginGuard: LoginGuard;
  readonly pollIntervalSeconds: number;
  /** RFC 7888 §5: LITERAL- is advertised instead of LITERAL+ (non-synchronising literals up to 4096 octets). */
  readonly literalMinus: boolean;
  readonly logger: Logger;
  /** IDLE hibernation, or null when turned off. */
  readonly hibernation: Hibernation | null;
  /** Input held by all not-yet-authenticated connections together (limits.maxUnauthBufferedTotal). */
  readonly unauthInput: InputBudget;
  /** Counters and histograms (NO_PROTOCOL_METRICS when none were given). */
  readonly metrics: ProtocolMetrics;
  /** The embedder's hooks ({} when none were given). */
  readonly hooks: ImapHooks;
  /** Rate (bytes/s) for a streamed literal sent to this session, or null: postroom/testing's slow-literal fault. */
  literalPace?: ((session: ImapSessionInfo, size: number) => number | null) | null;
  /** The connection is gone from this server's list: closed, or parked by IDLE hibernation. */
  connectionClosed(conn: ImapConnection, why?: 'hibernated'): void;
}
