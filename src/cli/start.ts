/**
 * Starts everything `postroom serve` runs from resolved settings: users file, certificate, store,
 * the IMAP and POP3 servers. Returns the bound ports and one close() for all of it.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { UserFile, UserFileAuthenticator } from '../auth/user-file.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import { listenPort } from '../config/ports.js';
import type { ServeSettings } from '../config/settings.js';
import type { TlsOptions } from '../net/tls.js';
import type { MailStore } from '../store/types.js';
import { createImap, createPop3, openStore, type ListeningServer } from './components.js';
import { ensureDemoUser } from './demo.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';

/** What the `{"msg":"listening"}` line reports; null: the listener is disabled. */
export interface ListeningPorts {
  host: string;
  imapPort: number | null;
  imapsPort: number | null;
  pop3Port: number | null;
  pop3sPort: number | null;
}

export interface RunningServers {
  ports: ListeningPorts;
  /** The demo user's new password, when `demo` created one. */
  demoPassword: string | null;
  close(): Promise<void>;
  /** Reads certificate and key again and hands them to every server (SIGHUP). */
  reloadTls(): Promise<void>;
}

async function tlsOptions(settings: ServeSettings, logger: Logger): Promise<TlsOptions> {
  if (settings.tlsKey && settings.tlsCert) return { key: settings.tlsKey, cert: settings.tlsCert };
  const dev = await ensureDevCertificate(settings.data);
  logger.info({ cert: dev.certPath }, 'using the self-signed development certificate');
  return { key: dev.key, cert: dev.cert };
}

export async function startServers(settings: ServeSettings, logger: Logger): Promise<RunningServers> {
  // 0700: the folder holds password hashes, the TLS key and everybody's mail.
  await mkdir(settings.data, { recursive: true, mode: 0o700 });
  const users = UserFile.inDataDir(settings.data);
  const auth = new UserFileAuthenticator(users);
  const demoPassword = settings.demo ? await ensureDemoUser(users) : null;
  if (!settings.demo && (await users.list()).length === 0) {
    logger.warn({ file: users.path }, 'no users yet: add one with "postroom user add NAME" (or start with --demo)');
  }
  const tls = await tlsOptions(settings, logger);
  const store: MailStore = await openStore(settings.store, settings.data, logger.child({ component: 'store' }));
  logger.info({ store: settings.store, data: settings.data }, 'store opened');

  const servers: ListeningServer[] = [];
  const closeAll = async (): Promise<void> => {
    const results = await Promise.allSettled(servers.map((s) => s.close()));
    for (const r of results) if (r.status === 'rejected') logger.error({ err: r.reason }, 'error while closing a server');
    await store.close();
  };

  const port = (setting: ServeSettings['imapPort']): number | null => listenPort(setting, settings.ephemeralPorts);
  const common = {
    store,
    auth,
    host: settings.host,
    tls,
    allowInsecureAuth: settings.allowInsecureAuth,
    // One guard for both protocols: a password guesser cannot switch protocol to start over.
    loginGuard: new LoginGuard(settings.loginGuard),
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
  };
  const ports: ListeningPorts = { host: settings.host, imapPort: null, imapsPort: null, pop3Port: null, pop3sPort: null };
  try {
    const imap = { port: port(settings.imapPort), tlsPort: port(settings.imapsPort) };
    if (imap.port !== null || imap.tlsPort !== null) {
      const server = await createImap({ ...common, ...imap, limits: settings.imapLimits, logger: logger.child({ protocol: 'imap' }) });
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
    // Only after every port is bound: binding ports below 1024 needs root, serving mail does not.
    if (settings.user !== undefined || settings.group !== undefined) {
      dropPrivileges(settings.user, settings.group);
      logger.info({ user: settings.user, group: settings.group }, 'dropped privileges');
    }
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
  const reloadTls = async (): Promise<void> => {
    const fresh = await tlsOptions(settings, logger);
    for (const s of servers) s.setTls(fresh);
  };
  return { ports, demoPassword, close: closeAll, reloadTls };
}
