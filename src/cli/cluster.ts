/**
 * `postroom serve --workers N` on PostgreSQL: N worker processes run IMAP and POP3 on shared
 * listening sockets, and each opens the store itself — its own connection pool and its own LISTEN
 * connection — exactly as separate nodes on one database do (docs/cluster.md). The change feed
 * that keeps nodes consistent (NOTIFY after commit, catch-up by modseq) keeps the workers
 * consistent too: an IDLE session in one worker hears an APPEND made in another. No store call
 * crosses a process boundary.
 *
 * ManageSieve (managesievePort) is a session protocol like IMAP: the workers serve it on a shared
 * listening socket too, each on its own store, auth and login guard; a script stored through one
 * worker is what delivery (in the primary) reads from the database for the next message.
 *
 * The primary runs what there is one of: LMTP delivery and the control socket (on a store of its
 * own, a third "node"), the metrics and autoconfig listeners. Sessions live in the workers, so
 * `who`, `kick`, reload and the metrics ask each worker over the cluster IPC channel (admin-ipc.ts).
 *
 * On SQLite, with `--sqlite-workers own-store`, each worker opens the data folder itself too
 * (locking_mode=NORMAL: SQLite's own locks order the processes' writes, retried off the event loop;
 * the primary alone does the folder's upkeep and holds DATA/serve.lock — docs/sqlite.md, "Several
 * processes on one data folder"), and the change feed crosses through the primary (feed-relay.ts).
 *
 * By default (`--sqlite-workers forward`) the workers do not open the store: a data folder has one
 * process, which holds an exclusive lock on it (docs/sqlite.md, "One process per data folder"). There each worker gets a
 * RemoteStore that forwards every store call to the primary over the cluster IPC channel
 * (store/remote/), and the primary forwards each change event to the workers watching that user.
 * That costs a round trip through the primary per store call (0.75–0.81× of one process on the
 * mixed load; under imaptest the primary alone spends what one whole process does per command, and
 * the tree twice that — docs/architecture.md, "More cores on SQLite", for what was tried instead):
 * it is for more connections than one process may hold (its open-file limit, bench/idle-scale.ts),
 * not for throughput. The memory store lives inside one
 * process, so --workers is refused there (workersRefusal()).
 */
import { quotaDefaults } from './quota-defaults.js';
import cluster, { type Worker } from 'node:cluster';
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { Logger } from '../util/logger.js';
import { AggregatorRegistry } from 'prom-client';
import { resolveSettings } from '../config/resolve.js';
import type { ServeSettings } from '../config/settings.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import { UserFileAuthenticator } from '../auth/user-file.js';
import { servedUsersFile } from './users-file.js';
import type { StoreKind } from '../config/settings.js';
import type { MailStore } from '../store/types.js';
import type { SqliteStore } from '../store/sqlite/store.js';
import { RemoteStore } from '../store/remote/remote-store.js';
import { serveStore } from '../store/remote/store-server.js';
import { FeedHub, relayWorkerFeed } from './feed-relay.js';
import { isStoreRequest, isStoreResponse } from '../store/remote/messages.js';
import { proxyProtocolOptions } from './proxy-settings.js';
import { applyGcScheduling } from './node-flags.js';
import { listenProtocols, openStore, type ListeningPorts, type ListeningServer, type SharedServerOptions } from './components.js';
import { createLogger } from './logger.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';
import { Metrics } from '../metrics/prometheus.js';
import { timedStore } from '../metrics/store-timing.js';
import { askWorker, isAdminRequest, type AdminOp, type AdminReply, type AdminRequest } from './admin-ipc.js';
import { bindHttpListeners, startControlSocket, warnAboutDataFolder } from './ops-listeners.js';
import type { ServeRuntime } from './control/serve-operations.js';
import type { SessionFilter, SessionInfo } from './control/sessions.js';
import { tlsOptions } from './start.js';
import { startDelivery } from './delivery.js';
import { startManageSieve } from './managesieve.js';
import { startImapSieve } from './imapsieve.js';

type WorkerPorts = ListeningPorts & { managesievePort: number | null };
type Listening = { t: 'listening'; ports: WorkerPorts };
type Stop = { t: 'stop' };

/** Why `--workers count` cannot run on `store`, or null when it can. */
export function workersRefusal(count: number, store: StoreKind): string | null {
  if (count <= 1 || store !== 'memory') return null;
  return (
    `--workers ${count} needs --store sqlite or postgres: the memory store lives inside one process. ` +
    'On PostgreSQL each worker opens the store itself; on SQLite the workers forward their store calls to the primary (docs/cluster.md).'
  );
}

/** Whether the workers forward their store calls to the primary (SQLite, unless each opens it: --sqlite-workers own-store). */
const forwardsStore = (settings: ServeSettings): boolean => settings.store === 'sqlite' && settings.sqliteWorkers === 'forward';
/** Whether every process opens the SQLite data folder itself (--sqlite-workers own-store). */
const sharesSqlite = (settings: ServeSettings): boolean => settings.store === 'sqlite' && settings.sqliteWorkers === 'own-store';

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
// primary: forks the workers, runs delivery, the control socket and the HTTP listeners

async function primary(options: Record<string, unknown>, count: number): Promise<void> {
  const startedAt = Date.now();
  const settings = await resolveSettings(options);
  const refusal = workersRefusal(count, settings.store);
  if (refusal) throw new Error(refusal);
  const logger = createLogger(settings.logLevel, process.stdout.isTTY === true);
  await mkdir(settings.data, { recursive: true, mode: 0o700 });
  const users = servedUsersFile(settings.data, settings.usersFile);
  await warnAboutDataFolder(settings, users, logger);
  const metrics = settings.metricsPort !== 'off' ? new Metrics() : undefined;
  // The primary's own store (migrations run here first, under their lock): delivery and the
  // control socket's commands use it. On PostgreSQL the workers open theirs once it is there; on
  // SQLite this is the only one, and the workers' calls are answered from it.
  const raw = await openStore(settings.store, settings.data, logger.child({ component: 'store' }), {
    timings: metrics?.sqlite,
    limits: settings.sqliteLimits,
    directBodyWrites: settings.sqliteDirectBodyWrites,
    databaseUrl: settings.databaseUrl,
    quotaDefaults: quotaDefaults(users, settings.quota),
    ...(sharesSqlite(settings) ? { shared: { maintains: true } } : {}),
  });
  const store = metrics ? timedStore(raw, metrics.store) : raw;
  // Every process opens the SQLite store: their changes meet here (feed-relay.ts).
  const feedHub = sharesSqlite(settings) ? new FeedHub(raw as SqliteStore) : undefined;
  // Made once here, so the workers do not race to create the same certificate files.
  if (!settings.tlsKey) await ensureDevCertificate(settings.data);
  // 'kernel': each worker accept()s on the shared socket and the kernel picks which one wakes: no
  // hop through this process, but the spread may be skewed (once all 50 of imaptest's persistent
  // sessions on one of 2 workers, bench/RESULTS.md), and a persistent session never moves.
  // 'primary': this process accepts and passes each connection's descriptor to the next free
  // worker (Node's round-robin handle); TLS, PROXY protocol, limits and the login guard stay in the
  // worker, which gets the socket before reading a byte of it.
  cluster.schedulingPolicy = settings.workerAccept === 'primary' ? cluster.SCHED_RR : cluster.SCHED_NONE;
  cluster.setupPrimary({ serialization: 'advanced' });

  const listening: Promise<WorkerPorts>[] = [];
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const w = cluster.fork();
    workers.push(w);
    // A message sent as the worker goes (its channel closing: EPIPE) is an 'error' on the Worker;
    // unheard it would end the primary. The worker's exit is handled below, the error only logged.
    w.on('error', (err) => logger.warn({ err, worker: w.id }, 'worker channel error'));
    feedHub?.add(w);
    if (forwardsStore(settings)) {
      // The raw store: each worker times its own store calls (its RemoteStore), as on PostgreSQL.
      const peer = serveStore(raw, {
        send: (m) => void (w.isConnected() && w.send(m)),
        onMessage: (listener) => w.on('message', (m: unknown) => isStoreRequest(m) && listener(m)),
      });
      w.on('exit', () => peer.release());
    }
    listening.push(
      new Promise((resolve, reject) => {
        w.on('message', (m: Listening) => m.t === 'listening' && resolve(m.ports));
        w.once('exit', (code) => reject(new Error(`worker ${w.id} exited with ${code} before listening`)));
      }),
    );
  }
  const ports = (await Promise.all(listening))[0]!;
  let stopping = false;

  const everyWorker = async <T>(op: AdminOp, args: Record<string, unknown> = {}): Promise<T[]> =>
    Promise.all(workers.filter((w) => !w.isDead()).map((w) => askWorker<T>(w, op, args)));

  const reload = async (): Promise<{ tls: string; usersFile: string[]; workers: number }> => {
    users.recheck();
    let tls = 'reloaded';
    try {
      // The workers read the files; the development certificate is renewed here, once.
      if (!settings.tlsKey) await ensureDevCertificate(settings.data);
      const answers = await everyWorker<{ tls: string }>('reload');
      tls = answers.find((a) => a.tls !== 'reloaded')?.tls ?? 'reloaded';
      if (tls === 'reloaded') logger.info({ workers: answers.length }, 'TLS certificate and key reloaded in every worker');
      else logger.error({ tls }, 'TLS reload failed in a worker; it keeps the previous certificate');
    } catch (err) {
      tls = `failed: ${(err as Error).message}`;
      logger.error({ err }, 'reload failed');
    }
    return { tls, usersFile: await warnAboutDataFolder(settings, users, logger), workers: workers.filter((w) => !w.isDead()).length };
  };

  const http = await bindHttpListeners(settings, logger, {
    metrics: metrics
      ? async () => {
          // One exposition for the cluster: the primary's series (delivery, its store calls) and the workers' (sessions, commands, theirs) summed.
          const all = [await metrics.registry.getMetricsAsJSON(), ...(await everyWorker<object[]>('metrics'))];
          const registry = AggregatorRegistry.aggregate(all);
          return { contentType: registry.contentType, text: await registry.metrics() };
        }
      : null,
    readiness: {
      store: () => (stopping ? 'shutting down' : (raw.readiness?.() ?? null)),
      listeners: () => {
        const alive = workers.filter((w) => !w.isDead()).length;
        return !stopping && alive === count ? null : `${alive} of ${count} workers are running`;
      },
    },
    ports,
    users,
  });
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
      metricsPort: http.metricsPort,
      autoconfigPort: http.autoconfigPort,
      workers: count,
    }),
    sessions: async () => (await everyWorker<SessionInfo[]>('who')).flat(),
    kick: async (filter: SessionFilter) => (await everyWorker<SessionInfo[]>('kick', { ...filter })).flat(),
    reload,
  };
  const control = await startControlSocket(settings, runtime, logger);
  // Delivery runs here, on the primary's store: IDLE sessions in the workers hear of what it
  // stores through the database's change feed, as on any other node.
  const delivery = await startDelivery(settings, store, new UserFileAuthenticator(users), logger, metrics);
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'shutting down the workers');
    const exited = workers.map((w) => new Promise<void>((resolve) => (w.isDead() ? resolve() : w.once('exit', () => resolve()))));
    for (const w of workers) if (!w.isDead()) w.send({ t: 'stop' } satisfies Stop);
    const timer = setTimeout(() => process.exit(1), 15_000);
    timer.unref();
    void control
      .close()
      .then(() => http.close())
      .then(() => Promise.all([...exited, delivery.close()]))
      .then(() => store.close())
      .then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Without a handler SIGHUP would end the primary, and with it every worker (exit 129).
  process.on('SIGHUP', () => {
    logger.info({ signal: 'SIGHUP' }, 'reloading');
    void reload();
  });
  cluster.on('exit', (w, code, signal) => {
    if (!stopping) logger.error({ worker: w.id, code, signal }, 'a worker died; stopping');
    if (!stopping) stop('SIGTERM');
  });
  // Only now: a supervisor (or a test) may signal as soon as it reads the line.
  process.stdout.write(
    `${JSON.stringify({
      msg: 'listening',
      ...ports,
      ...delivery.ports,
      metricsPort: http.metricsPort,
      autoconfigPort: http.autoconfigPort,
      controlSocket: control.path,
      pid: process.pid,
      workers: count,
    })}\n`,
  );
}

async function worker(options: Record<string, unknown>): Promise<void> {
  const settings: ServeSettings = await resolveSettings(options);
  // The workers serve the clients: the same scavenge scheduling as a single-process serve (start.ts).
  applyGcScheduling(settings);
  const logger: Logger = createLogger(settings.logLevel, false).child({ worker: cluster.worker?.id });
  const metrics = settings.metricsPort !== 'off' ? new Metrics() : undefined;
  const users = servedUsersFile(settings.data, settings.usersFile);
  // PostgreSQL: its own pool and LISTEN connection, the workers are nodes of one database. SQLite:
  // the primary's store, every call forwarded (see the top).
  const raw: MailStore = forwardsStore(settings)
    ? new RemoteStore(
        {
          send: (m) => process.send!(m),
          onMessage: (listener) => process.on('message', (m: unknown) => isStoreResponse(m) && listener(m)),
        },
        { onListenerError: (err) => logger.error({ err }, 'change listener failed') },
      )
    : await openStore(settings.store, settings.data, logger.child({ component: 'store' }), {
        databaseUrl: settings.databaseUrl,
        quotaDefaults: quotaDefaults(users, settings.quota),
        ...(sharesSqlite(settings)
          ? { shared: { maintains: false }, limits: settings.sqliteLimits, directBodyWrites: settings.sqliteDirectBodyWrites, timings: metrics?.sqlite }
          : {}),
      });
  if (sharesSqlite(settings)) relayWorkerFeed(raw as SqliteStore);
  const store = metrics ? timedStore(raw, metrics.store) : raw;
  const auth = new UserFileAuthenticator(users, { credentialCache: settings.authCache });
  const tls = settings.tlsKey && settings.tlsCert ? { key: settings.tlsKey, cert: settings.tlsCert } : await ensureDevCertificate(settings.data);
  // Each worker counts failed logins on its own (the guard is per process).
  const loginGuard = new LoginGuard(settings.loginGuard);
  loginGuard.observer = metrics?.loginGuard;
  const common: SharedServerOptions = {
    store,
    auth,
    host: settings.host,
    tls: { key: tls.key, cert: tls.cert, records: settings.tlsRecords },
    allowInsecureAuth: settings.allowInsecureAuth,
    administrators: settings.admins,
    ...(settings.adminContact ? { adminContact: settings.adminContact } : {}),
    literalMinus: settings.literalMinus,
    loginGuard,
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    proxyProtocol: proxyProtocolOptions(settings),
  };
  const servers: ListeningServer[] = [];
  // ManageSieve first: IMAP's IMAPSIEVE= names its port (imapsieve.ts).
  const managesieve = await startManageSieve(settings, { store, auth, tls: { key: tls.key, cert: tls.cert }, loginGuard }, logger.child({ component: 'managesieve' }));
  const imapSieve = await startImapSieve(settings, store, managesieve.port, logger);
  const protocols = await listenProtocols(settings, imapSieve.listener ? { ...common, messageEvents: imapSieve.listener } : common, logger, servers, metrics);
  const ports: WorkerPorts = { ...protocols, managesievePort: managesieve.port };
  if (settings.user !== undefined || settings.group !== undefined) dropPrivileges(settings.user, settings.group);
  const id = cluster.worker?.id;
  const withWorker = (s: SessionInfo): SessionInfo => (id === undefined ? s : { ...s, worker: id });
  const answer = async (m: AdminRequest): Promise<unknown> => {
    switch (m.op) {
      case 'who':
        return servers.flatMap((s) => s.sessions()).map(withWorker);
      case 'kick':
        return servers.flatMap((s) => s.kick(m.args as SessionFilter)).map(withWorker);
      case 'metrics':
        return metrics ? metrics.registry.getMetricsAsJSON() : [];
      case 'reload':
        users.recheck();
        try {
          const fresh = await tlsOptions(settings, logger);
          for (const s of servers) s.setTls(fresh);
          managesieve.setTls(fresh);
          return { tls: 'reloaded' };
        } catch (err) {
          logger.error({ err }, 'TLS reload failed; keeping the previous certificate');
          return { tls: `failed, the previous certificate stays: ${(err as Error).message}` };
        }
    }
  };
  process.on('message', (m: Stop | AdminRequest) => {
    if (isAdminRequest(m)) {
      void answer(m).then(
        (result) => process.send!({ t: 'admin-reply', id: m.id, ok: true, result } satisfies AdminReply),
        (err: unknown) => process.send!({ t: 'admin-reply', id: m.id, ok: false, error: (err as Error).message } satisfies AdminReply),
      );
      return;
    }
    if (m.t !== 'stop') return;
    void Promise.allSettled([...servers.map((s) => s.close()), managesieve.close()])
      .then(() => imapSieve.close())
      .then(() => store.close())
      .then(() => process.exit(0));
  });
  // The primary supervises (signals, reload, `who`): without it, leave.
  process.on('disconnect', () => process.exit(1));
  // The primary handles the signals (and tells the workers to reload); a Ctrl-C or a hangup
  // reaches the whole process group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  process.on('SIGHUP', () => undefined);
  process.send!({ t: 'listening', ports } satisfies Listening);
}
