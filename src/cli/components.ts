/**
 * Loads the parts `postroom serve` runs: stores and protocol servers. Imported lazily, so the
 * `user` commands start fast and never load better-sqlite3.
 */
import type { Logger } from 'pino';
import type { MailStore } from '../store/types.js';
import type { StoreKind } from '../config/settings.js';
import type { ImapServerOptions } from '../imap/server-options.js';
import type { Pop3Server, Pop3ServerOptions } from '../pop3/options.js';
import type { TlsOptions } from '../net/tls.js';
import { listenPort } from '../config/ports.js';
import type { ServeSettings } from '../config/settings.js';

export async function openStore(kind: StoreKind, dataDir: string, logger: Logger, databaseUrl?: string): Promise<MailStore> {
  if (kind === 'postgres') {
    const { PostgresStore } = await import('../store/postgres/index.js');
    return PostgresStore.open({ ...(databaseUrl ? { connectionString: databaseUrl } : {}), logger });
  }
  if (kind === 'memory') {
    const { MemoryStore } = await import('../store/memory/index.js');
    return new MemoryStore();
  }
  const { SqliteStore } = await import('../store/sqlite/index.js');
  return SqliteStore.open({ directory: dataDir, logger });
}

/** What serve needs of a protocol server: both createImapServer and createPop3Server return this. */
export interface ListeningServer {
  listen(): Promise<{ port?: number; tlsPort?: number }>;
  close(): Promise<void>;
  /** New certificate and key for new handshakes; open connections keep theirs (SIGHUP). */
  setTls(tls: TlsOptions): void;
}

export async function createImap(options: ImapServerOptions): Promise<ListeningServer> {
  const { createImapServer } = await import('../imap/server.js');
  return createImapServer(options);
}

export async function createPop3(options: Pop3ServerOptions): Promise<Pop3Server> {
  const { createPop3Server } = await import('../pop3/server.js');
  return createPop3Server(options);
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
): Promise<ListeningPorts> {
  const port = (setting: ServeSettings['imapPort']): number | null => listenPort(setting, settings.ephemeralPorts);
  const ports: ListeningPorts = { host: settings.host, imapPort: null, imapsPort: null, pop3Port: null, pop3sPort: null };
  const imap = { port: port(settings.imapPort), tlsPort: port(settings.imapsPort) };
  if (imap.port !== null || imap.tlsPort !== null) {
    // Sixteen accept handles: a loaded server would otherwise admit one new client per loop turn
    // (docs/architecture.md, "Several accept handles").
    const server = await createImap({ ...common, ...imap, acceptHandles: 16, limits: settings.imapLimits, logger: logger.child({ protocol: 'imap' }) });
    servers.push(server);
    const bound = await server.listen();
    ports.imapPort = bound.port ?? null;
    ports.imapsPort = bound.tlsPort ?? null;
  }
  const pop3 = { port: port(settings.pop3Port), tlsPort: port(settings.pop3sPort) };
  if (pop3.port !== null || pop3.tlsPort !== null) {
    const server = await createPop3({ ...common, ...pop3, limits: settings.pop3Limits, logger: logger.child({ protocol: 'pop3' }) });
    servers.push(server);
    const bound = await server.listen();
    ports.pop3Port = bound.port ?? null;
    ports.pop3sPort = bound.tlsPort ?? null;
  }
  return ports;
}
