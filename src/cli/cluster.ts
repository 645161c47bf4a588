/**
 * `postroom serve --workers N`: N worker processes run the IMAP and POP3 protocol on shared
 * listening sockets, and the primary alone owns the store.
 *
 * Why this shape: SqliteStore holds an exclusive lock on its data folder (docs/sqlite.md, "One
 * process per data folder"), so workers cannot open it themselves. Each worker gets a MailStore
 * that forwards every call to the primary over IPC (structured clone, so Buffers and Dates arrive
 * intact), and the primary forwards each change-feed event to the workers watching that user — so
 * an IDLE session in one worker hears an APPEND made in another.
 *
 * Limits of the forwarding: an APPEND's body and a read() travel whole over IPC (no streaming
 * across processes), and every store call costs a round trip through the primary's event loop.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { pinnedStream } from '../store/pinned-stream.js';
import { resolveSettings } from '../config/resolve.js';
import type { ServeSettings } from '../config/settings.js';
import { ensureDevCertificate } from '../config/dev-certificate.js';
import { UserFile, UserFileAuthenticator } from '../auth/user-file.js';
import { StoreError, type StoreErrorKind } from '../store/errors.js';
import type { ChangeListener, MailboxChange, MailStore, OpenOptions, UserMailbox } from '../store/types.js';
import { listenProtocols, openStore, type ListeningPorts, type ListeningServer, type SharedServerOptions } from './components.js';
import { createLogger } from './logger.js';
import { LoginGuard } from '../auth/login-guard.js';
import { dropPrivileges } from '../net/privileges.js';

type Call = { t: 'call'; id: number; handle: number; method: string; args: unknown[] };
type Open = { t: 'open'; id: number; handle: number; user: string; options?: OpenOptions };
type Watch = { t: 'watch' | 'unwatch'; user: string };
type Listening = { t: 'listening'; ports: ListeningPorts };
type ToPrimary = Call | Open | Watch | Listening;
type Reply = { t: 'reply'; id: number; ok: true; value: unknown } | { t: 'reply'; id: number; ok: false; kind?: StoreErrorKind; message: string };
type Change = { t: 'change'; user: string; change: MailboxChange };
type Stop = { t: 'stop' };
type ToWorker = Reply | Change | Stop;

/** The UserMailbox methods a worker may call; anything else is refused by the primary. */
const METHODS = new Set([
  'list', 'create', 'delete', 'rename', 'subscribe', 'subscriptions', 'get', 'status', 'snapshot', 'claimRecent',
  'records', 'structure', 'read', 'search', 'append', 'updateFlags', 'copy', 'move', 'expunge', 'close',
]);

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
  const store = await openStore(settings.store, settings.data, logger.child({ component: 'store' }));
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
    const handles = new Map<number, UserMailbox>();
    const watches = new Map<string, () => void>();
    listening.push(
      new Promise((resolve, reject) => {
        w.on('message', (m: ToPrimary) => {
          if (m.t === 'listening') resolve(m.ports);
          else void answer(store, w, handles, watches, m);
        });
        w.once('exit', (code) => reject(new Error(`worker ${w.id} exited with ${code} before listening`)));
      }),
    );
    w.on('exit', () => {
      for (const unwatch of watches.values()) unwatch();
      for (const h of handles.values()) void h.close().catch(() => undefined);
    });
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

async function answer(store: MailStore, w: Worker, handles: Map<number, UserMailbox>, watches: Map<string, () => void>, m: ToPrimary): Promise<void> {
  if (m.t === 'watch') {
    if (!watches.has(m.user)) {
      watches.set(m.user, store.watch(m.user, (change) => w.isConnected() && w.send({ t: 'change', user: m.user, change } satisfies Change)));
    }
    return;
  }
  if (m.t === 'unwatch') {
    watches.get(m.user)?.();
    watches.delete(m.user);
    return;
  }
  if (m.t !== 'call' && m.t !== 'open') return;
  let reply: Reply;
  try {
    let value: unknown;
    if (m.t === 'open') {
      handles.set(m.handle, await store.open(m.user, m.options));
    } else {
      const h = handles.get(m.handle);
      if (!h || !METHODS.has(m.method)) throw new Error(`unknown store call ${m.method}`);
      value = await (h[m.method as keyof UserMailbox] as (...a: unknown[]) => Promise<unknown>).apply(h, m.args);
      if (m.method === 'close') handles.delete(m.handle);
    }
    reply = { t: 'reply', id: m.id, ok: true, value };
  } catch (err) {
    reply = err instanceof StoreError
      ? { t: 'reply', id: m.id, ok: false, kind: err.kind, message: err.message }
      : { t: 'reply', id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  if (w.isConnected()) w.send(reply);
}

// ---------------------------------------------------------------------------------------------
// worker: the protocol servers over a forwarding store

class ForwardingStore implements MailStore {
  readonly delimiter = '/';
  readonly crossProcessChanges = true;
  private nextId = 1;
  private nextHandle = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private readonly listeners = new Map<string, Set<ChangeListener>>();

  constructor() {
    process.on('message', (m: ToWorker) => {
      if (m.t === 'reply') {
        const w = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        if (!w) return;
        if (m.ok) w.resolve(m.value);
        else w.reject(m.kind ? new StoreError(m.kind, m.message) : new Error(m.message));
      } else if (m.t === 'change') {
        for (const l of this.listeners.get(m.user) ?? []) l(m.change);
      }
    });
  }

  request(msg: Omit<Call, 'id'> | Omit<Open, 'id'>): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      process.send!({ ...msg, id });
    });
  }

  async open(user: string, options?: OpenOptions): Promise<UserMailbox> {
    const handle = this.nextHandle++;
    await this.request({ t: 'open', handle, user, ...(options ? { options } : {}) });
    return forwardingMailbox(this, user, handle);
  }

  watch(user: string, listener: ChangeListener): () => void {
    let set = this.listeners.get(user);
    if (!set) {
      set = new Set();
      this.listeners.set(user, set);
      process.send!({ t: 'watch', user } satisfies Watch);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(user) === set) {
        this.listeners.delete(user);
        process.send!({ t: 'unwatch', user } satisfies Watch);
      }
    };
  }

  async close(): Promise<void> {}
}

async function collect(content: Buffer | AsyncIterable<Buffer>): Promise<Buffer> {
  if (Buffer.isBuffer(content)) return content;
  const parts: Buffer[] = [];
  for await (const c of content) parts.push(c);
  return Buffer.concat(parts);
}

function forwardingMailbox(store: ForwardingStore, user: string, handle: number): UserMailbox {
  const call = (method: string, args: unknown[]): Promise<never> => store.request({ t: 'call', handle, method, args }) as Promise<never>;
  return {
    user,
    list: () => call('list', []),
    create: (...a) => call('create', a),
    delete: (...a) => call('delete', a),
    rename: (...a) => call('rename', a),
    subscribe: (...a) => call('subscribe', a),
    subscriptions: () => call('subscriptions', []),
    get: (...a) => call('get', a),
    status: (...a) => call('status', a),
    snapshot: (...a) => call('snapshot', a),
    claimRecent: (...a) => call('claimRecent', a),
    records: (...a) => call('records', a),
    structure: (...a) => call('structure', a),
    read: (...a) => call('read', a),
    // Asked of the primary at the call, as the store contract says (streams are pinned when FETCH
    // asks for them), not when the output queue gets round to reading: by then another session
    // may have expunged the message.
    stream: (mailboxId, uid, range) =>
      pinnedStream(
        () => {
          const bytes = call('read', range ? [mailboxId, uid, range] : [mailboxId, uid]) as Promise<Buffer>;
          bytes.catch(() => undefined); // surfaces on the first read
          return bytes;
        },
        async function* (bytes) {
          yield await bytes;
        },
      ),
    search: (...a) => call('search', a),
    append: async (mailboxId, input) => call('append', [mailboxId, { ...input, content: await collect(input.content) }]),
    updateFlags: (...a) => call('updateFlags', a),
    copy: (...a) => call('copy', a),
    move: (...a) => call('move', a),
    expunge: (...a) => call('expunge', a),
    close: () => call('close', []),
  };
}

async function worker(options: Record<string, unknown>): Promise<void> {
  const settings: ServeSettings = await resolveSettings(options);
  const logger: Logger = createLogger(settings.logLevel, false).child({ worker: cluster.worker?.id });
  const store = new ForwardingStore();
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
  process.on('message', (m: ToWorker) => {
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
