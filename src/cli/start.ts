/**
 * Starts everything `postroom serve` runs from resolved settings: users file, certificate, store,
 * the IMAP and POP3 servers, and beside them the metrics and autoconfig listeners and the control
 * socket. Returns the bound ports and one close() for all of it.
 */
import { quotaDefaults } from './quota-defaults.js';
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../util/logger.js';
import { UserFileAuthenticator } from '../auth/user-file.js';
import { servedUsersFile } from './users-file.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import type { ServeSettings } from '../config/settings.js';
import type { TlsOptions } from '../net/tls.js';
import type { MailStore } from '../store/types.js';
import { proxyProtocolOptions } from './proxy-settings.js';
import { listenPort } from '../config/ports.js';
import { listenProtocols, openStore, type ListeningPorts, type ListeningServer, type SharedServerOptions } from './components.js';
import { ensureDemoUser } from './demo.js';
import { applyGcScheduling } from './node-flags.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';
import { Metrics } from '../metrics/prometheus.js';
import { timedStore } from '../metrics/store-timing.js';
import type { ControlServer } from '../control/server.js';
import { bindHttpListeners, startControlSocket, warnAboutDataFolder, type HttpListeners } from './ops-listeners.js';
import type { ReloadReport, ServeRuntime } from './control/serve-operations.js';
import type { SqliteStore } from '../store/sqlite/store.js';
import { startDelivery, type DeliveryPorts, type RunningDelivery } from './delivery.js';
import { startManageSieve, type RunningManageSieve } from './managesieve.js';
import { startImapSieve, type RunningImapSieve } from './imapsieve.js';
import { redactUrl } from '../store/postgres/url.js';
import { resolveWarmUp, warmUp } from './warm-up.js';

export interface RunningServers {
  ports: ListeningPorts & DeliveryPorts;
  /** The operations listener's port (null: off) and the autoconfig listener's. */
  metricsPort: number | null;
  autoconfigPort: number | null;
  controlSocket: string;
  /** The demo user's new password, when `demo` created one. */
  demoPassword: string | null;
  close(): Promise<void>;
  /** What SIGHUP and `postroom reload` do: certificate and key read again, the users file checked. */
  reload(): Promise<ReloadReport>;
}

export async function tlsOptions(settings: ServeSettings, logger: Logger): Promise<TlsOptions> {
  if (settings.tlsKey && settings.tlsCert) return { key: settings.tlsKey, cert: settings.tlsCert, records: settings.tlsRecords };
  const dev = await ensureDevCertificate(settings.data);
  logger.info({ cert: dev.certPath }, 'using the self-signed development certificate');
  return { key: dev.key, cert: dev.cert, records: settings.tlsRecords };
}

export async function startServers(settings: ServeSettings, logger: Logger): Promise<RunningServers> {
  const startedAt = Date.now();
  applyGcScheduling(settings);
  // 0700: the folder holds password hashes, the TLS key and everybody's mail.
  await mkdir(settings.data, { recursive: true, mode: 0o700 });
  const users = servedUsersFile(settings.data, settings.usersFile);
  const auth = new UserFileAuthenticator(users, { credentialCache: settings.authCache });
  const demoPassword = settings.demo ? await ensureDemoUser(users) : null;
  if (!settings.demo && (await users.list()).length === 0) {
    logger.warn({ file: users.path }, 'no users yet: add one with "postroom user add NAME" (or start with --demo)');
  }
  await warnAboutDataFolder(settings, users, logger);
  const tls = await tlsOptions(settings, logger);
  // Checked before anything opens: a bad bound is a clear error at start, not a surprise later.
  const warmUpLimits = resolveWarmUp(settings.warmUpLimits);
  // Counting costs a little on every command, so only when someone can read the counts.
  const metrics = settings.metricsPort !== 'off' ? new Metrics() : undefined;
  const raw: MailStore = await openStore(settings.store, settings.data, logger.child({ component: 'store' }), {
    timings: metrics?.sqlite,
    limits: settings.sqliteLimits,
    directBodyWrites: settings.sqliteDirectBodyWrites,
    databaseUrl: settings.databaseUrl,
    quotaDefaults: quotaDefaults(users, settings.quota),
  });
  const store = metrics ? timedStore(raw, metrics.store) : raw;
  logger.info({ store: settings.store, data: settings.data, ...(settings.store === 'postgres' ? { database: redactUrl(settings.databaseUrl) } : {}) }, 'store opened');

  const servers: ListeningServer[] = [];
  let http: HttpListeners | undefined;
  let control: ControlServer | undefined;
  let delivery: RunningDelivery | undefined;
  let managesieve: RunningManageSieve | undefined;
  let imapSieve: RunningImapSieve | undefined;
  let listening = false;
  let closing = false;
  const closeAll = async (): Promise<void> => {
    closing = true;
    await control?.close().catch((err: unknown) => logger.error({ err }, 'error while closing the control socket'));
    const results = await Promise.allSettled([...servers.map((s) => s.close()), delivery?.close(), managesieve?.close()]);
    await imapSieve?.close().catch((err: unknown) => logger.error({ err }, 'error while closing IMAP Sieve'));
    for (const r of results) if (r.status === 'rejected') logger.error({ err: r.reason }, 'error while closing a server');
    await http?.close();
    await store.close();
    users.close();
  };

  const loginGuard = new LoginGuard(settings.loginGuard);
  loginGuard.observer = metrics?.loginGuard;
  const common: SharedServerOptions = {
    store,
    auth,
    host: settings.host,
    tls,
    allowInsecureAuth: settings.allowInsecureAuth,
    administrators: settings.admins,
    ...(settings.adminContact ? { adminContact: settings.adminContact } : {}),
    literalMinus: settings.literalMinus,
    // One guard for both protocols: a password guesser cannot switch protocol to start over.
    loginGuard,
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    proxyProtocol: proxyProtocolOptions(settings),
  };

  const reload = async (): Promise<ReloadReport> => {
    let tlsResult = 'reloaded';
    try {
      const fresh = await tlsOptions(settings, logger);
      for (const s of servers) s.setTls(fresh);
      managesieve?.setTls(fresh);
      logger.info('TLS certificate and key reloaded');
    } catch (err) {
      tlsResult = `failed, the previous certificate stays: ${(err as Error).message}`;
      logger.error({ err }, 'TLS reload failed; keeping the previous certificate');
    }
    // Passwords changed in the users file already miss the cache (the stored hash is part of its
    // key); a reload also forgets the rest, as an operator who suspects a leak would expect.
    auth.credentialCache.clear();
    users.recheck();
    return { tls: tlsResult, usersFile: await warnAboutDataFolder(settings, users, logger) };
  };

  let ports: ListeningPorts & DeliveryPorts & { managesievePort: number | null };
  try {
    // Before any listener opens: the first clients then meet optimized code (warm-up.ts). SQLite only.
    if (settings.warmUp && settings.store === 'sqlite') {
      const warmed = await warmUp(
        warmUpLimits,
        { tls, implicitTls: listenPort(settings.imapsPort, settings.ephemeralPorts) !== null, literalMinus: settings.literalMinus, ...(settings.imapLimits ? { imapLimits: settings.imapLimits } : {}) },
        logger.child({ component: 'warm-up' }),
      );
      // What the warm-up's store prepared, prepared in the real one: a first APPEND or FETCH does not pay for it.
      if (warmed) (raw as SqliteStore).prepareAhead(warmed.statements);
    }
    // ManageSieve first: IMAP's IMAPSIEVE= names its port (imapsieve.ts).
    managesieve = await startManageSieve(settings, { store, auth, tls, loginGuard }, logger);
    imapSieve = await startImapSieve(settings, store, managesieve.port, logger);
    const protocols = await listenProtocols(settings, imapSieve.listener ? { ...common, messageEvents: imapSieve.listener } : common, logger, servers, metrics);
    delivery = await startDelivery(settings, store, auth, logger, metrics);
    ports = { ...protocols, ...delivery.ports, managesievePort: managesieve.port };
    listening = true;
    http = await bindHttpListeners(settings, logger, {
      metrics: metrics ? async () => ({ contentType: metrics.contentType(), text: await metrics.text() }) : null,
      readiness: {
        store: () => (closing ? 'shutting down' : (raw.readiness?.() ?? null)),
        listeners: () => (listening && !closing ? null : 'the mail listeners are not bound'),
      },
      ports,
      users,
    });
    // Only after every port is bound: binding ports below 1024 needs root, serving mail does not.
    if (settings.user !== undefined || settings.group !== undefined) {
      dropPrivileges(settings.user, settings.group);
      logger.info({ user: settings.user, group: settings.group }, 'dropped privileges');
    }
    const runtime: ServeRuntime = {
      store,
      sqlite: settings.store === 'sqlite' ? (raw as SqliteStore) : null,
      dataDir: settings.data,
      status: async () => ({
        pid: process.pid,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        data: settings.data,
        store: settings.store,
        ...ports,
        metricsPort: http?.metricsPort ?? null,
        autoconfigPort: http?.autoconfigPort ?? null,
        workers: 1,
      }),
      sessions: async () => servers.flatMap((s) => s.sessions()),
      kick: async (filter) => servers.flatMap((s) => s.kick(filter)),
      reload,
    };
    control = await startControlSocket(settings, runtime, logger);
  } catch (err) {
    await closeAll().catch(() => undefined);
    throw err;
  }
  return {
    ports,
    metricsPort: http.metricsPort,
    autoconfigPort: http.autoconfigPort,
    controlSocket: control.path,
    demoPassword,
    close: closeAll,
    reload,
  };
}
