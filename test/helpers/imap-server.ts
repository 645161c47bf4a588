/**
 * Starts a real Postroom IMAP server on loopback with free ports, for end-to-end tests.
 */
import { createImapServer, type ImapServer } from '../../src/imap/server.js';
import { MemoryStore } from '../../src/store/memory/index.js';
import { StaticAuthenticator } from '../../src/auth/static-users.js';
import type { MailStore } from '../../src/store/types.js';
import type { ImapServerOptions } from '../../src/imap/server-options.js';
import { before, after } from 'node:test';
import { testCertificate } from './certs.js';
import type { StoreFactory } from './stores.js';

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

/**
 * For a suite (call it inside `describe`): a server on a fresh store from `factory`, started
 * before the suite's tests and stopped, with its store removed, after them. Returns a getter,
 * since the server exists only once the suite runs.
 */
export function serverForSuite(factory: StoreFactory, options: Partial<ImapServerOptions> = {}): () => TestServer {
  let server: TestServer | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  before(async () => {
    const made = await factory();
    cleanup = made.cleanup;
    server = await startImapServer({ ...options, store: made.store });
  });
  after(async () => {
    await server?.close();
    await cleanup?.();
  });
  return () => {
    if (!server) throw new Error('the suite server is not running yet');
    return server;
  };
}
