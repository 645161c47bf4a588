/**
 * Starts everything `postroom serve` runs from resolved settings: users file, certificate, store,
 * the IMAP and POP3 servers. Returns the bound ports and one close() for all of it.
 */
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import { UserFile, UserFileAuthenticator } from '../auth/user-file.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import type { ServeSettings } from '../config/settings.js';
import type { TlsOptions } from '../net/tls.js';
import type { MailStore } from '../store/types.js';
import { listenProtocols, openStore, type ListeningPorts, type ListeningServer, type SharedServerOptions } from './components.js';
import { ensureDemoUser } from './demo.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';
import { redactUrl } from '../store/postgres/url.js';

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
  const store: MailStore = await openStore(settings.store, settings.data, logger.child({ component: 'store' }), settings.databaseUrl);
  logger.info({ store: settings.store, data: settings.data, ...(settings.store === 'postgres' ? { database: redactUrl(settings.databaseUrl) } : {}) }, 'store opened');

  const servers: ListeningServer[] = [];
  const closeAll = async (): Promise<void> => {
    const results = await Promise.allSettled(servers.map((s) => s.close()));
    for (const r of results) if (r.status === 'rejected') logger.error({ err: r.reason }, 'error while closing a server');
    await store.close();
  };

  const common: SharedServerOptions = {
    store,
    auth,
    host: settings.host,
    tls,
    allowInsecureAuth: settings.allowInsecureAuth,
    // One guard for both protocols: a password guesser cannot switch protocol to start over.
    loginGuard: new LoginGuard(settings.loginGuard),
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
  };
  let ports: ListeningPorts;
  try {
    ports = await listenProtocols(settings, common, logger, servers);
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
