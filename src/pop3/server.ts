/**
 * createPop3Server(): POP3 (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595) and AUTH (RFC 5034),
 * over either the shared MailStore or Net::Server::POP3-style callbacks. Both modes share every
 * line of protocol code; they differ only in the Maildrop and Authenticator they are given.
 */
import net from 'node:net';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import type { SecureContext } from 'node:tls';
import { createSecureContext, upgradeToTls } from '../net/tls.js';
import { ConnectionLimiter } from '../net/connection-limits.js';
import { InputBudget } from '../net/input-budget.js';
import { LoginGuard } from '../auth/login-guard.js';
import { buildPop3Auth } from './auth.js';
import { createCommandTable } from './commands/registry.js';
import { resolvePop3Limits } from './limits.js';
import { callbackMaildrops } from './maildrop/callback-maildrop.js';
import { locksFor } from './maildrop/locks.js';
import { storeMaildrops } from './maildrop/store-maildrop.js';
import type { Pop3ConnectionSummary, Pop3ListenResult, Pop3Server, Pop3ServerOptions } from './options.js';
import { Pop3Connection, apopTimestamp } from './session/connection.js';
import { statusLine } from './session/dispatcher.js';
import type { Pop3Services } from './session/services.js';
import { NO_PROTOCOL_METRICS } from '../metrics/types.js';
import { ProxyGate, type ClientPeer } from '../net/proxy-gate.js';

export type {
  Pop3Callbacks,
  Pop3ConnectionInfo,
  Pop3ConnectionSummary,
  Pop3ExpirePolicy,
  Pop3ListenResult,
  Pop3LoginDelayPolicy,
  Pop3LoginResult,
  Pop3MessageContent,
  Pop3Server,
  Pop3ServerOptions,
} from './options.js';
export type { Pop3Hooks, Pop3CommandEvent, Pop3AuthEvent } from './hooks.js';
export type { Pop3Limits } from './limits.js';
export { DEFAULT_POP3_LIMITS } from './limits.js';
export { apopDigest } from './auth.js';

const defaultWelcome = (hostname: string): string => `${hostname} Postroom POP3 server ready`;
/** RFC 1939 §3: a reply is at most 512 octets with its CRLF; "+OK " and CRLF leave 506. */
const MAX_GREETING_TEXT = 506;

function checkWelcome(welcome: string, hostname: string, withTimestamp: boolean): void {
  if (/[\r\n]/.test(welcome)) throw new RangeError('welcome must be a single line');
  const bytes = Buffer.byteLength(welcome, 'utf8');
  if (bytes > MAX_GREETING_TEXT) {
    throw new RangeError(`welcome is ${bytes} bytes; RFC 1939 limits a response to 512 octets, so the text after "+OK " may be at most ${MAX_GREETING_TEXT}`);
  }
  const total = bytes + (withTimestamp ? 1 + Buffer.byteLength(apopTimestamp(hostname)) + 4 : 0);
  if (total > MAX_GREETING_TEXT) {
    throw new RangeError(`welcome plus the APOP timestamp is ${total} bytes; at most ${MAX_GREETING_TEXT} fit in the RFC 1939 greeting`);
  }
}

export function createPop3Server(options: Pop3ServerOptions): Pop3Server {
  const { store, callbacks } = options;
  if (!store && !callbacks) throw new TypeError('createPop3Server needs `store` (with `auth`) or `callbacks`');
  const auth = buildPop3Auth(options.auth, callbacks);
  const hostname = options.hostname ?? os.hostname();
  const welcome = options.welcome ?? defaultWelcome(hostname);
  checkWelcome(welcome, hostname, auth.apop !== undefined);
  const tlsContext: SecureContext | undefined = options.tls ? createSecureContext(options.tls) : undefined;
  const port = options.port === undefined ? 110 : options.port;
  const tlsPort = options.tlsPort === undefined ? (tlsContext ? 995 : null) : options.tlsPort;
  if (tlsPort !== null && !tlsContext) throw new TypeError('tlsPort needs `tls` (a certificate and key)');
  const host = options.host ?? '127.0.0.1';

  const limits = resolvePop3Limits(options.limits);
  const metrics = options.metrics ?? NO_PROTOCOL_METRICS;
  const services: Pop3Services = {
    auth,
    maildrops: store ? storeMaildrops(store) : callbackMaildrops(callbacks!),
    locks: locksFor(store ?? callbacks!),
    limits,
    loginGuard: options.loginGuard instanceof LoginGuard ? options.loginGuard : new LoginGuard(options.loginGuard),
    limiter: new ConnectionLimiter(limits),
    unauthInput: new InputBudget(limits.maxUnauthBufferedTotal),
    // Every line says which protocol it is about (the audit lines rely on it).
    logger: options.logger?.child({ protocol: 'pop3' }),
    metrics,
    hostname,
    tlsContext,
    allowInsecureAuth: options.allowInsecureAuth ?? false,
    welcome,
    implementation: options.implementation ?? 'Postroom',
    loginDelay: options.loginDelay,
    expireTime: options.expireTime,
    lastLogins: new Map(),
    callbacks,
    hooks: options.hooks ?? {},
  };
  const proxyGate = ProxyGate.create(options.proxyProtocol, services.logger);
  const commands = createCommandTable();
  const open = new Set<Pop3Connection>();
  const listeners: net.Server[] = [];
  let closing = false;

  /** Counts the connection before anything else is spent on it (a TLS handshake included). */
  function admit(socket: net.Socket, plain: boolean, peer?: ClientPeer): boolean {
    if (closing) {
      metrics.connectionRefused('shutdown');
      socket.destroy();
      return false;
    }
    const remote = peer?.address ?? socket.remoteAddress ?? 'unknown';
    const slot = services.limiter.admitConnection(remote);
    if (typeof slot === 'string') {
      metrics.connectionRefused(slot === 'total' ? 'total' : 'address');
      services.logger?.warn({ remote, limit: slot }, 'connection refused: limit reached');
      // On the implicit-TLS port a clear-text -ERR would only confuse the handshake, so just close.
      if (plain) {
        const why = slot === 'total' ? 'Too many connections' : 'Too many connections from your address';
        socket.end(statusLine(false, `${why}, try again later`, 'SYS/TEMP'));
        setTimeout(() => socket.destroy(), 1000).unref();
      } else {
        socket.destroy();
      }
      return false;
    }
    socket.once('close', () => slot.release());
    metrics.connectionOpened();
    return true;
  }

  function serve(socket: net.Socket, secure: boolean, peer?: ClientPeer): void {
    if (closing) {
      socket.destroy();
      return;
    }
    const connection = new Pop3Connection(socket, services, commands, secure, peer);
    open.add(connection);
    void connection.closed.then(() => open.delete(connection));
    void connection.start();
  }

  function onPlain(socket: net.Socket, peer?: ClientPeer): void {
    socket.on('error', () => undefined);
    if (admit(socket, true, peer)) serve(socket, false, peer);
  }

  function onImplicitTls(socket: net.Socket, peer?: ClientPeer): void {
    socket.on('error', () => undefined);
    if (!admit(socket, false, peer)) return;
    upgradeToTls(socket, services.tlsContext!, services.limits.tlsHandshakeSeconds * 1000).then(
      (secure) => {
        metrics.tlsHandshake('implicit', true);
        serve(secure, true, peer);
      },
      (err: unknown) => {
        metrics.tlsHandshake('implicit', false);
        services.logger?.debug({ err, remote: peer?.address ?? socket.remoteAddress }, 'TLS handshake failed');
        socket.destroy();
      },
    );
  }

  /** Through the PROXY protocol gate first, when trusted proxies are configured. */
  function gated(handler: (s: net.Socket, peer?: ClientPeer) => void, plain: boolean): (s: net.Socket) => void {
    const gate = proxyGate;
    if (!gate) return (s) => handler(s);
    return (s) =>
      gate.admit(s, {
        pass: handler,
        refused: () => metrics.connectionRefused('proxy'),
        refusal: plain ? (reason) => statusLine(false, reason, 'SYS/PERM') : null,
      });
  }

  function bind(p: number, handler: (s: net.Socket) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = net.createServer(handler);
      server.once('error', reject);
      server.listen(p, host, () => {
        server.off('error', reject);
        server.on('error', listenerError);
        listeners.push(server);
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : p);
      });
    });
  }

  const events = new EventEmitter();
  /** A listener failed after listen(): the embedder's 'error' listeners hear it, the log always. */
  function listenerError(err: Error): void {
    services.logger?.error({ err }, 'listener error');
    if (events.listenerCount('error') > 0) events.emit('error', err);
  }

  const server: Pop3Server = {
    on(event, listener) {
      events.on(event, listener);
      return server;
    },
    off(event, listener) {
      events.off(event, listener);
      return server;
    },

    disconnect(id, o = {}): boolean {
      for (const c of open) {
        if (c.info.id !== id) continue;
        if (o.force) c.destroy();
        else c.shutdown();
        return true;
      }
      return false;
    },

    async listen(): Promise<Pop3ListenResult> {
      const result: Pop3ListenResult = {};
      if (port !== null) result.port = await bind(port, gated(onPlain, true));
      if (tlsPort !== null) result.tlsPort = await bind(tlsPort, gated(onImplicitTls, false));
      services.logger?.info({ host, ...result }, 'accepting connections');
      return result;
    },

    async close(): Promise<void> {
      closing = true;
      const stopped = listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve())));
      for (const connection of open) connection.shutdown();
      const all = Promise.all([...open].map((c) => c.closed));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 10_000)));
      if ((await Promise.race([all, late])) === 'late') for (const connection of open) connection.destroy();
      clearTimeout(timer);
      await all;
      await Promise.all(stopped);
    },

    connections(): Pop3ConnectionSummary[] {
      return [...open].map((c) => ({ ...c.info, startedAt: c.startedAt, lastActivity: c.lastActivity }));
    },

    kick(which): string[] {
      const ids: string[] = [];
      for (const c of open) {
        if (!which({ ...c.info, startedAt: c.startedAt, lastActivity: c.lastActivity })) continue;
        ids.push(c.info.id);
        c.shutdown();
      }
      return ids;
    },

    setTls(tls): void {
      // Built before it replaces anything: a broken new key or certificate throws, the old stay.
      services.tlsContext = createSecureContext(tls);
    },
  };
  // For tests that make a listener fail as EMFILE would (not part of the typed API).
  Object.defineProperty(server, 'netServers', { value: listeners, enumerable: false });
  return server;
}
