/**
 * Starts a real Postroom IMAP server on loopback with free ports, for end-to-end tests.
 */
import { createImapServer, type ImapServer } from '../../src/imap/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import type { MailStore } from '../../src/store/types.js';
import type { ImapServerOptions } from '../../src/imap/server-options.js';
import { testCertificate } from './certs.js';

export interface TestServer {
  server: ImapServer;
  store: MailStore;
  auth: StaticAuthenticator;
  host: string;
  port: number;
  tlsPort: number;
  close(): Promise<void>;
}

export async function startImapServer(options: Partial<ImapServerOptions> & { store?: MailStore } = {}): Promise<TestServer> {
  const store = options.store ?? new MemoryStore();
  const auth = new StaticAuthenticator({ alice: 'secret', bob: 'hunter2' });
  const cert = await testCertificate();
  const server = createImapServer({
    host: '127.0.0.1',
    port: 0,
    tlsPort: 0,
    tls: cert,
    allowInsecureAuth: true,
    ...options,
    store,
    auth: options.auth ?? auth,
  });
  const ports = await server.listen();
  return {
    server,
    store,
    auth,
    host: '127.0.0.1',
    port: ports.port!,
    tlsPort: ports.tlsPort!,
    async close() {
      await server.close();
      if (!options.store) await store.close();
    },
  };
}
