/**
 * Loads the parts `postroom serve` runs: stores and protocol servers. Imported lazily, so the
 * `user` commands start fast and never load better-sqlite3.
 */
import type { Logger } from '../util/logger.js';
import type { MailStore, QuotaDefaults } from '../store/types.js';
import type { StoreKind } from '../config/settings.js';
import type { ImapServerOptions } from '../imap/server-options.js';
import type { Pop3Server, Pop3ServerOptions } from '../pop3/options.js';
import type { TlsOptions } from '../net/tls.js';
import { listenPort } from '../config/ports.js';
import { socketAnswers } from '../net/unix-socket.js';
import { deliverSocketPath } from './delivery.js';
import type { ServeSettings } from '../config/settings.js';
import type { Metrics } from '../metrics/prometheus.js';
import type { SqliteTimings } from '../metrics/types.js';
import { countByState, imapSession, matches, pop3Session, type SessionFilter, type SessionInfo } from './control/sessions.js';

/** How long serve waits for the data folder's lock: `postroom deliver` holds it briefly when no server runs. */
const STORE_LOCK_WAIT_MS = 15_000;

export interface StoreExtras {
  /** Overrides of the SQLite store's limits (sqliteLimits). */
  limits?: Record<string, number>;
  /** New SQLite body files written with O_DIRECT (sqliteDirectBodyWrites). */
  directBodyWrites?: boolean;
  /** Where the SQLite store reports WAL and checkpoint timings (metrics). */
  timings?: SqliteTimings;
  /** The PostgreSQL store's database (else the PG* environment variables). */
  databaseUrl?: string;
  /** RFC 9208 limits of users without their own (quota-defaults.ts). */
  quotaDefaults?: QuotaDefaults;
  /** SQLite opened by several processes (`--sqlite-workers own-store`; SqliteStoreOptions.shared). */
  shared?: { maintains: boolean };
}

export async function openStore(kind: StoreKind, dataDir: string, logger: Logger, extras: StoreExtras = {}): Promise<MailStore> {
  if (kind === 'postgres') {
    const { PostgresStore } = await import('../store/postgres/index.js');
    return PostgresStore.open({
      ...(extras.databaseUrl ? { connectionString: extras.databaseUrl } : {}),
      logger,
      ...(extras.quotaDefaults ? { quotaDefaults: extras.quotaDefaults } : {}),
    });
  }
  if (kind === 'memory') {
    const { MemoryStore } = await import('../store/memory/index.js');
    return new MemoryStore(extras.quotaDefaults ? { quotaDefaults: extras.quotaDefaults } : {});
  }
  const { SqliteStore } = await import('../store/sqlite/index.js');
  const { SERVE_WAL_PREFILL_MEGABYTES, SERVE_SYNC_THREADS_AT_OPEN } = await import('../store/sqlite/limits.js');
  const { isStoreError } = await import('../store/errors.js');
  const deadline = Date.now() + STORE_LOCK_WAIT_MS;
  for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
    try {
      return await SqliteStore.open({
        directory: dataDir,
        logger,
        // The WAL made long in advance is for a long-running server (wal-prefill.ts), not for tools.
        // And every sync thread started at open, not during a client's command (limits.ts).
        limits: { walPrefillMegabytes: SERVE_WAL_PREFILL_MEGABYTES, syncThreadsAtOpen: SERVE_SYNC_THREADS_AT_OPEN, ...extras.limits },
        ...(extras.directBodyWrites !== undefined ? { directBodyWrites: extras.directBodyWrites } : {}),
        ...(extras.timings ? { timings: extras.timings } : {}),
        ...(extras.quotaDefaults ? { quotaDefaults: extras.quotaDefaults } : {}),
        ...(extras.shared ? { shared: extras.shared } : {}),
      });
    } catch (err) {
      if (!isStoreError(err) || err.kind !== 'inuse' || Date.now() + wait > deadline) throw err;
      // A running server answers on its delivery socket: then waiting would not help.
      if (await socketAnswers(deliverSocketPath(dataDir))) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** What serve needs of a protocol server: both createImapServer and createPop3Server return this. */
export interface ListeningServer {
  listen(): Promise<{ port?: number; tlsPort?: number }>;
  close(): Promise<void>;
  /** New certificate and key for new handshakes; open connections keep theirs (SIGHUP). */
  setTls(tls: TlsOptions): void;
  /** Open sessions (`postroom who`, the sessions gauge). */
  sessions(): SessionInfo[];
  /** Ends the sessions the filter picks after their command in flight; returns them. */
  kick(filter: SessionFilter): SessionInfo[];
}

export async function createImap(options: ImapServerOptions): Promise<ListeningServer> {
  const { createImapServer, imapSessionState } = await import('../imap/server.js');
  const server = createImapServer(options);
  const sessions = (): SessionInfo[] => server.connections().map((c) => imapSession(c, imapSessionState(c)));
  return {
    listen: () => server.listen(),
    close: () => server.close(),
    setTls: (tls) => server.setTls(tls),
    sessions,
    kick(filter) {
      const picked = sessions().filter((s) => matches(s, filter));
      const ids = new Set(picked.map((s) => s.id));
      server.kick((c) => ids.has(c.id));
      return picked;
    },
  };
}

export async function createPop3(options: Pop3ServerOptions): Promise<ListeningServer> {
  const { createPop3Server } = await import('../pop3/server.js');
  const server: Pop3Server = createPop3Server(options);
  const sessions = (): SessionInfo[] => server.connections().map((c) => pop3Session(c));
  return {
    listen: () => server.listen(),
    close: () => server.close(),
    setTls: (tls) => server.setTls(tls),
    sessions,
    kick(filter) {
      const picked = sessions().filter((s) => matches(s, filter));
      const ids = new Set(picked.map((s) => s.id));
      server.kick((c) => ids.has(c.id));
      return picked;
    },
  };
}

/** What the `{"msg":"listening"}` line reports; null: the listener is disabled. */
export interface ListeningPorts {
  host: string;
  imapPort: number | null;
  imapsPort: number | null;
  pop3Port: number | null;
  pop3sPort: number | null;
}

/** The options serve gives both protocol servers alike. */
export type SharedServerOptions = Omit<ImapServerOptions, 'port' | 'tlsPort' | 'limits' | 'logger'> &
  Omit<Pop3ServerOptions, 'port' | 'tlsPort' | 'limits' | 'logger'>;

/**
 * Creates and binds the IMAP and POP3 servers the settings enable (serve, and each --workers
 * worker), adding each to `servers` as soon as it exists so the caller can close what was bound
 * if a later one fails.
 */
export async function listenProtocols(
  settings: ServeSettings,
  common: SharedServerOptions,
  logger: Logger,
  servers: ListeningServer[],
  metrics?: Metrics,
): Promise<ListeningPorts> {
  const port = (setting: ServeSettings['imapPort']): number | null => listenPort(setting, settings.ephemeralPorts);
  const ports: ListeningPorts = { host: settings.host, imapPort: null, imapsPort: null, pop3Port: null, pop3sPort: null };
  const imap = { port: port(settings.imapPort), tlsPort: port(settings.imapsPort) };
  if (imap.port !== null || imap.tlsPort !== null) {
    // Sixteen accept handles: a loaded server would otherwise admit one new client per loop turn
    // (docs/architecture.md, "Several accept handles").
    const server = await createImap({
      ...common,
      ...imap,
      acceptHandles: 16,
      limits: settings.imapLimits,
      logger,
      ...(metrics ? { metrics: metrics.protocol('imap') } : {}),
    });
    metrics?.countSessions('imap', () => countByState(server.sessions()));
    servers.push(server);
    const bound = await server.listen();
    ports.imapPort = bound.port ?? null;
    ports.imapsPort = bound.tlsPort ?? null;
  }
  const pop3 = { port: port(settings.pop3Port), tlsPort: port(settings.pop3sPort) };
  if (pop3.port !== null || pop3.tlsPort !== null) {
    const server = await createPop3({ ...common, ...pop3, limits: settings.pop3Limits, logger, ...(metrics ? { metrics: metrics.protocol('pop3') } : {}) });
    metrics?.countSessions('pop3', () => countByState(server.sessions()));
    servers.push(server);
    const bound = await server.listen();
    ports.pop3Port = bound.port ?? null;
    ports.pop3sPort = bound.tlsPort ?? null;
  }
  return ports;
}
