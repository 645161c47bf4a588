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

export async function openStore(kind: StoreKind, dataDir: string, logger: Logger): Promise<MailStore> {
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
