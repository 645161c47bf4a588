/**
 * `postroom serve --workers N`: N worker processes run the IMAP and POP3 protocol on shared
 * listening sockets, and the primary alone owns the store.
 *
 * Why this shape: SqliteStore holds an exclusive lock on its data folder (docs/sqlite.md, "One
 * process per data folder"), so workers cannot open it themselves. Each worker gets a RemoteStore
 * that forwards every call to the primary over IPC (store/remote/), and the primary forwards each
 * change-feed event to the workers watching that user — so an IDLE session in one worker hears an
 * APPEND made in another. Every store call costs a round trip through the primary's event loop.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { resolveSettings } from '../config/resolve.js';
import type { ServeSettings } from '../config/settings.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import { UserFile, UserFileAuthenticator } from '../auth/user-file.js';
import { RemoteStore } from '../store/remote/remote-store.js';
import { serveStore } from '../store/remote/store-server.js';
import { isStoreRequest, isStoreResponse, type StoreRequest, type StoreResponse } from '../store/remote/messages.js';
import { listenProtocols, openStore, type ListeningPorts, type ListeningServer, type SharedServerOptions } from './components.js';
import { createLogger } from './logger.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';

type Listening = { t: 'listening'; ports: ListeningPorts };
type Stop = { t: 'stop' };

export function parseWorkers(value: unknown): number {
  if (value === undefined) return 1;
  const n = value === 'auto' ? availableParallelism() : Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new RangeError('--workers must be a whole number from 1 to 64, or "auto"');
  return n;
}

/** Runs serve as a cluster. Returns in the primary once every worker listens; workers keep running. */
export async function serveCluster(options: Record<string, unknown>, workers: number): Promise<void> {
  if (cluster.isPrimary) await primary(options, workers);
  else await worker(options);
}

// ---------------------------------------------------------------------------------------------
// primary: owns the store, answers calls, fans out changes

async function primary(options: Record<string, unknown>, count: number): Promise<void> {
  const settings = await resolveSettings(options);
  const logger = createLogger(settings.logLevel, process.stdout.isTTY === true);
  const store = await openStore(settings.store, settings.data, logger.child({ component: 'store' }), settings.databaseUrl);
  // Made once here, so the workers do not race to create the same certificate files.
  if (!settings.tlsKey) await ensureDevCertificate(settings.data);
  // The kernel spreads connections over the workers' accept() calls; round-robin would make this
  // process — whose loop also waits on every commit's fsync — hand out each connection itself.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  cluster.setupPrimary({ serialization: 'advanced' });

  const listening: Promise<ListeningPorts>[] = [];
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const w = cluster.fork();
    workers.push(w);
    const peer = serveStore(store, {
      send: (m) => w.isConnected() && w.send(m),
      onMessage: (listener) => w.on('message', (m: unknown) => isStoreRequest(m) && listener(m)),
    });
    listening.push(
      new Promise((resolve, reject) => {
        w.on('message', (m: Listening | StoreRequest) => m.t === 'listening' && resolve(m.ports));
        w.once('exit', (code) => reject(new Error(`worker ${w.id} exited with ${code} before listening`)));
      }),
    );
    w.on('exit', () => peer.release());
  }
  const ports = (await Promise.all(listening))[0]!;
  process.stdout.write(`${JSON.stringify({ msg: 'listening', ...ports, pid: process.pid, workers: count })}\n`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) if (!w.isDead()) w.send({ t: 'stop' } satisfies Stop);
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    void Promise.all(exited)
      .then(() => store.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) logger.error({ worker: w.id, code, signal }, 'a worker died; stopping');
    if (!stopping) stop('SIGTERM');
  });
}

async function worker(options: Record<string, unknown>): Promise<void> {
  const settings: ServeSettings = await resolveSettings(options);
  const logger: Logger = createLogger(settings.logLevel, false).child({ worker: cluster.worker?.id });
  const store = new RemoteStore(
    {
      send: (m) => process.send!(m),
      onMessage: (listener) => process.on('message', (m: unknown) => isStoreResponse(m) && listener(m)),
    },
    { onListenerError: (err) => logger.error({ err }, 'change listener failed') },
  );
  const auth = new UserFileAuthenticator(UserFile.inDataDir(settings.data));
  const tls = settings.tlsKey && settings.tlsCert ? { key: settings.tlsKey, cert: settings.tlsCert } : await ensureDevCertificate(settings.data);
  const common: SharedServerOptions = {
    store,
    auth,
    host: settings.host,
    tls: { key: tls.key, cert: tls.cert },
    allowInsecureAuth: settings.allowInsecureAuth,
    // Each worker counts failed logins on its own (the guard is per process).
    loginGuard: new LoginGuard(settings.loginGuard),
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
  };
  const servers: ListeningServer[] = [];
  const ports = await listenProtocols(settings, common, logger, servers);
  if (settings.user !== undefined || settings.group !== undefined) dropPrivileges(settings.user, settings.group);
  process.on('message', (m: Stop | StoreResponse) => {
    if (m.t !== 'stop') return;
    void Promise.allSettled(servers.map((s) => s.close())).then(() => process.exit(0));
  });
  // Without the primary there is no store: leave rather than answer every command with an error.
  process.on('disconnect', () => process.exit(1));
  // The primary handles the signals; a Ctrl-C reaches the whole process group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.send!({ t: 'listening', ports } satisfies Listening);
}
