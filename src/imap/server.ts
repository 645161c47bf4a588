/**
 * createImapServer(): listeners (plain with STARTTLS, implicit TLS), the command table, and the
 * bookkeeping of live connections. Everything protocol-specific happens in session/ and commands/.
 */
import { URLAUTH_COMMANDS } from './commands/urlauth.js';
import net from 'node:net';
import { EventEmitter } from 'node:events';
import cluster from 'node:cluster';
import tls from 'node:tls';
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { SILENT_LOGGER, type Logger } from '../util/logger.js';
import type { ImapServerOptions } from './server-options.js';
import type { ImapHooks, ImapSessionInfo } from './hooks.js';
import { ImapError } from './errors.js';
import type { AnyCommandSpec, ConnectionInfo, StateKind } from './commands/types.js';
import { CommandRegistry } from './commands/registry.js';
import { QUOTA_COMMANDS } from './commands/quota.js';

import { ACL_COMMANDS, METADATA_COMMANDS } from './commands/registry.js';
import { computeCapabilities, MESSAGE_EXTRAS_CAPABILITIES } from './capabilities.js';
import type { ImapEventListener } from './message-events.js';
import { resolveLimits, type ImapLimits } from './limits.js';
import { ImapConnection } from './session/connection.js';
import type { ServerCore } from './session/server-core.js';
import { Hibernation, type FrozenSession } from './session/hibernation.js';
import { caOf, createSecureContext, upgradeToTls, type TlsRecords } from '../net/tls.js';
import { TlsRecordSocket } from '../net/tls13/record-socket.js';
import type { ParkableSocket } from '../net/parked-socket.js';
import { ProxyGate, type ClientPeer, type GateHandlers } from '../net/proxy-gate.js';
import { LoginGuard } from '../auth/login-guard.js';
import { usableSaslMechanisms } from '../auth/sasl/index.js';
import { dropPrivileges } from '../net/privileges.js';
import { ConnectionLimiter } from '../net/connection-limits.js';
import { InputBudget } from '../net/input-budget.js';
import { duplicateListenHandle } from '../net/accept-handles.js';
import type { MailStore } from '../store/types.js';
import { crlfStore } from '../store/crlf-store.js';
import type { Authenticator } from '../auth/types.js';
import { NO_PROTOCOL_METRICS, type ProtocolMetrics } from '../metrics/types.js';

export const SERVER_NAME = 'Postroom';
export const SERVER_VERSION = '0.1.0';

export interface ConnectionSummary {
  id: string;
  remoteAddress: string;
  remotePort: number;
  secure: boolean;
  user?: string;
  mailbox?: string;
  startedAt: Date;
  /** Parked in IDLE hibernation (src/imap/session/hibernation.ts). */
  hibernated?: boolean;
  /** When the client last sent a command (hibernated sessions: when they were parked, at the latest). */
  lastActivity?: Date;
}

/** The session's protocol state, as the metrics and `postroom who` name it. */
export function imapSessionState(c: ConnectionSummary): 'not_authenticated' | 'authenticated' | 'selected' | 'hibernated' {
  if (c.hibernated) return 'hibernated';
  if (c.mailbox !== undefined) return 'selected';
  return c.user !== undefined ? 'authenticated' : 'not_authenticated';
}

export interface BoundPorts {
  port?: number;
  tlsPort?: number;
}

/** Options of close(): how long to wait for sessions before dropping them. */
export interface CloseOptions {
  /** Drop every connection at once, without waiting for commands in flight. */
  force?: boolean;
  /** Wait at most this long for sessions to finish (a hung store call), then drop the rest. */
  timeoutMs?: number;
  /** Aborting it drops the remaining connections, as `force`. */
  signal?: AbortSignal;
}

/**
 * Events: 'error' (a listener failed after listen(): the socket server's error; without an 'error'
 * listener it is only logged, never thrown).
 */
export class ImapServer extends EventEmitter implements ServerCore {
  readonly store: MailStore;
  readonly auth: Authenticator;
  readonly limits: ImapLimits;
  readonly allowInsecureAuth: boolean;
  readonly id: Record<string, string>;
  readonly logger: Logger;
  readonly administrators: ReadonlySet<string>;
  readonly adminContact?: string;
  readonly urlauthSubmitUsers: ReadonlySet<string>;
  readonly messageEvents?: ImapEventListener;
  readonly registry = new CommandRegistry();
  secureContext?: tls.SecureContext;
  readonly hostname: string;
  readonly greeting: string;
  readonly loginGuard: LoginGuard;
  /** Open connections in total, per address and per user (limits.maxConnections*). */
  readonly connectionLimiter: ConnectionLimiter;
  readonly pollIntervalSeconds: number;
  readonly literalMinus: boolean;
  readonly hibernation: Hibernation | null;
  readonly unauthInput: InputBudget;
  readonly metrics: ProtocolMetrics;
  /** Null unless trusted proxies are configured (options.proxyProtocol). */
  private readonly proxyGate: ProxyGate | null;
  readonly hooks: ImapHooks;

  private readonly live = new Set<ImapConnection>();
  private readonly netServers: net.Server[] = [];
  private readonly tlsListeners: tls.Server[] = [];
  private tlsOptions?: ImapServerOptions['tls'];

  /** Who protects TLS 1.3 records after the handshake (TlsOptions.records; src/net/tls.ts). */
  get tlsRecords(): TlsRecords {
    return this.tlsOptions?.records ?? 'postroom';
  }
  private closing = false;

  constructor(private readonly options: ImapServerOptions) {
    super();
    if (!options.store) throw new TypeError('createImapServer: a store is required');
    this.hooks = options.hooks ?? {};
    if (!options.auth) throw new TypeError('createImapServer: an authenticator (auth) is required');
    // CRLF line ends in and out (docs/store.md): sizes then agree with the bytes sent.
    this.store = crlfStore(options.store);
    this.auth = options.auth;
    this.administrators = new Set(options.administrators ?? []);
    if (options.adminContact !== undefined) this.adminContact = options.adminContact;
    this.urlauthSubmitUsers = new Set(options.urlauthSubmitUsers ?? []);
    if (options.messageEvents) {
      // RFC 6785 §2.1: IMAP Sieve finds its scripts through annotations (RFC 5464).
      if (this.store.metadata) this.messageEvents = options.messageEvents;
      else (options.logger ?? SILENT_LOGGER).warn('messageEvents needs a store that keeps annotations (MailStore.metadata); not installed');
    }
    // URLAUTH (RFC 4467) only where the store keeps mailbox access keys.
    if (this.store.urlauthKeys) for (const spec of URLAUTH_COMMANDS) this.registry.add(spec);
    // QUOTA (RFC 9208) only where the store keeps quotas; a custom command may still replace them.
    if (this.store.getQuota && this.store.setQuota) for (const spec of QUOTA_COMMANDS) this.registry.add(spec);
    // ACL (RFC 4314) and the shared namespace only where the store keeps access control lists.
    if (this.store.sharedMailboxes) for (const spec of ACL_COMMANDS) this.registry.add(spec);
    // METADATA (RFC 5464) only where the store keeps annotations.
    if (this.store.metadata) for (const spec of METADATA_COMMANDS) this.registry.add(spec);
    this.limits = resolveLimits({
      ...options.limits,
      ...(options.unauthCommands !== undefined ? { unauthCommands: options.unauthCommands } : {}),
      ...(options.unauthIdleSeconds !== undefined ? { unauthIdleSeconds: options.unauthIdleSeconds } : {}),
      ...(options.authIdleSeconds !== undefined ? { authIdleSeconds: options.authIdleSeconds } : {}),
    }, { allowShortAutologout: options.allowShortAutologout === true });
    this.loginGuard = options.loginGuard instanceof LoginGuard ? options.loginGuard : new LoginGuard(options.loginGuard);
    this.connectionLimiter = new ConnectionLimiter(this.limits);
    this.unauthInput = new InputBudget(this.limits.maxUnauthBufferedTotal);
    this.allowInsecureAuth = options.allowInsecureAuth ?? false;
    this.id = options.id ?? { name: SERVER_NAME, version: SERVER_VERSION, vendor: 'Postroom' };
    // Every line of this server says which protocol it is about (the audit lines rely on it).
    this.logger = (options.logger ?? SILENT_LOGGER).child({ protocol: 'imap' });
    this.metrics = options.metrics ?? NO_PROTOCOL_METRICS;
    this.hostname = options.hostname ?? os.hostname();
    this.greeting = options.greeting ?? `${this.hostname} ${SERVER_NAME} ready`;
    this.pollIntervalSeconds = options.pollIntervalSeconds ?? 0;
    this.literalMinus = options.literalMinus ?? false;
    // A hibernated session hears of changes only through the change feed, so not where the
    // store asks to be polled instead.
    const pollsInstead = this.pollIntervalSeconds > 0 && !this.store.crossProcessChanges;
    this.hibernation =
      this.limits.idleHibernateSeconds > 0 && !pollsInstead
        ? new Hibernation(this.limits.idleHibernateSeconds, this.store, this.logger, (session, socket) => this.wake(session, socket))
        : null;
    this.proxyGate = ProxyGate.create(options.proxyProtocol, this.logger);
    if (options.tls) {
      this.tlsOptions = options.tls;
      this.secureContext = createSecureContext(options.tls);
    }
  }

  capabilities(conn: ConnectionInfo, state: StateKind): string[] {
    return computeCapabilities({
      conn,
      state,
      allowInsecureAuth: this.allowInsecureAuth,
      saslMechanisms: (secure) =>
        usableSaslMechanisms(this.auth, { secure, allowInsecureAuth: this.allowInsecureAuth }).map((m) => m.name),
      // RFC 8474, 8514, 8970: only over a store that keeps EMAILIDs, save dates and previews.
      commandCapabilities: [
        ...this.registry.capabilities(),
        ...(this.store.messageExtras ? MESSAGE_EXTRAS_CAPABILITIES : []),
        // Like Dovecot's IMAPSIEVE=: once logged in, where the events happen.
        ...(state !== 'notAuthenticated' ? (this.messageEvents?.capabilities ?? []) : []),
      ],
      maxMessageSize: this.limits.maxMessageSize,
      literalMinus: this.literalMinus,
      inProgress: this.limits.inProgressSeconds > 0,
      loginReferrals: this.auth.referral !== undefined,
      messageLimit: this.limits.maxMessagesPerCommand,
      saveLimit: this.limits.maxMessagesPerSave,
    });
  }

  /** Registers a custom command (or replaces a built-in) through the same table the built-ins use. */
  addCommand(spec: AnyCommandSpec): this;
  addCommand(name: string, spec: Omit<AnyCommandSpec, 'name'>): this;
  addCommand(nameOrSpec: string | AnyCommandSpec, spec?: Omit<AnyCommandSpec, 'name'>): this {
    this.registry.add(typeof nameOrSpec === 'string' ? { ...(spec as AnyCommandSpec), name: nameOrSpec } : nameOrSpec);
    return this;
  }

  /**
   * The capability list as a client sees it in `state` (default: before login), over TLS or not
   * (default: over TLS, where the AUTH= mechanisms are offered).
   */
  capability(state: StateKind = 'notAuthenticated', options: { secure?: boolean } = {}): string[] {
    const secure = options.secure ?? true;
    const conn: ConnectionInfo = { id: '', remoteAddress: '', remotePort: 0, secure, canStartTls: !secure && this.secureContext !== undefined };
    return this.capabilities(conn, state);
  }

  /** Reloads the certificate and key (e.g. on SIGHUP); existing connections keep theirs. */
  setTls(options: NonNullable<ImapServerOptions['tls']>): void {
    // Build first: a bad new key or certificate throws here and the old ones stay in service.
    const context = createSecureContext(options);
    this.tlsOptions = options;
    this.secureContext = context;
    for (const l of this.tlsListeners) l.setSecureContext(this.tlsServerOptions());
  }

  private tlsServerOptions(): tls.TlsOptions {
    const o = this.tlsOptions!;
    const read = (v: string | Buffer): string | Buffer => (Buffer.isBuffer(v) || v.includes('-----BEGIN') ? v : readFileSync(v));
    return {
      key: read(o.key),
      cert: read(o.cert),
      minVersion: o.minVersion ?? 'TLSv1.2',
      handshakeTimeout: this.limits.tlsHandshakeSeconds * 1000,
      ...(o.ciphers ? { ciphers: o.ciphers } : {}),
      ...(o.passphrase !== undefined ? { passphrase: o.passphrase } : {}),
      ...(o.ca !== undefined ? { ca: caOf(o.ca) } : {}),
      ...(o.SNICallback ? { SNICallback: o.SNICallback } : {}),
    };
  }

  private listening = false;

  async listen(): Promise<BoundPorts> {
    if (this.listening) throw new Error('listen(): this server is already listening (close() it first)');
    if (this.closing) throw new Error('listen(): this server was closed');
    this.listening = true;
    const host = this.options.host ?? '127.0.0.1';
    const bound: BoundPorts = {};
    const port = this.options.port === undefined ? 143 : this.options.port;
    if (port !== null) {
      const gate = this.proxyGate;
      const handlers: GateHandlers = {
        pass: (socket, peer) => this.accept(socket, false, peer),
        refused: () => this.metrics.connectionRefused('proxy'),
        refusal: (reason) => `* BYE ${reason}\r\n`,
      };
      const create = (): net.Server => net.createServer({ pauseOnConnect: false }, (socket) => (gate ? gate.admit(socket, handlers) : this.accept(socket, false)));
      const server = create();
      bound.port = await this.bind(server, host, port);
      await this.addAcceptHandles(server, create);
    }
    const tlsPort = this.options.tlsPort === undefined ? (this.secureContext ? 993 : null) : this.options.tlsPort;
    if (tlsPort !== null) {
      if (!this.secureContext) throw new Error('tlsPort needs tls options (key and cert)');
      const gate = this.proxyGate;
      // Behind trusted proxies the header comes before the TLS handshake, so the listener is plain
      // TCP and each connection is wrapped in TLS once through the gate.
      // So is it when Postroom's record layer is to take over TLS 1.3 connections (src/net/tls13/):
      // the handshake then runs over a tap that sees every record.
      const create = (): net.Server =>
        gate
          ? net.createServer((socket) => gate.admit(socket, { pass: (s, peer) => this.acceptImplicitTls(s, peer), refused: () => this.metrics.connectionRefused('proxy'), refusal: null }))
          : this.tlsRecords === 'postroom'
            ? net.createServer((socket) => this.acceptImplicitTls(socket))
            : this.createTlsListener();
      const server = create();
      bound.tlsPort = await this.bind(server, host, tlsPort);
      await this.addAcceptHandles(server, create);
    }
    if (this.options.user !== undefined || this.options.group !== undefined) {
      dropPrivileges(this.options.user, this.options.group);
      this.logger.info({ user: this.options.user, group: this.options.group }, 'dropped privileges');
    }
    this.logger.info({ host, ...bound }, 'accepting connections');
    return bound;
  }

  private createTlsListener(): tls.Server {
    const server = tls.createServer(this.tlsServerOptions(), (socket) => {
      this.metrics.tlsHandshake('implicit', true);
      this.accept(socket, true);
    });
    this.tlsListeners.push(server);
    server.on('tlsClientError', (err) => {
      this.metrics.tlsHandshake('implicit', false);
      this.logger.debug({ err: err.message }, 'TLS handshake failed');
    });
    return server;
  }

  /** An implicit-TLS connection that came through the PROXY protocol gate: the handshake, then a session. */
  private acceptImplicitTls(socket: net.Socket, peer?: ClientPeer): void {
    socket.on('error', () => undefined);
    upgradeToTls(socket, this.secureContext!, this.limits.tlsHandshakeSeconds * 1000, this.tlsRecords).then(
      (secure) => {
        this.metrics.tlsHandshake('implicit', true);
        this.accept(secure, true, peer);
      },
      (err: unknown) => {
        this.metrics.tlsHandshake('implicit', false);
        this.logger.debug({ err: (err as Error).message, remote: peer?.address ?? socket.remoteAddress }, 'TLS handshake failed');
        socket.destroy();
      },
    );
  }

  private bind(server: net.Server, host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.listenerError(err));
        this.netServers.push(server);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  }

  private listenerError(err: Error): void {
    this.logger.error({ err }, 'listener error');
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  /**
   * More handles on the socket `server` listens on, each served by its own (identical) listener:
   * libuv accepts one connection per handle per loop turn, so under load one handle leaves new
   * clients waiting in the accept queue (see net/accept-handles.ts).
   */
  private async addAcceptHandles(server: net.Server, create: () => net.Server): Promise<void> {
    // A cluster worker's listener is the primary's (it accepts and hands connections over).
    if (cluster.isWorker) return;
    const handles = await duplicateListenHandle(server as net.Server & { _handle?: unknown }, (this.options.acceptHandles ?? 1) - 1);
    for (const handle of handles) {
      const extra = create();
      extra.on('error', (err) => this.listenerError(err));
      extra.listen(handle);
      this.netServers.push(extra);
    }
    if (handles.length > 0) this.logger.debug({ handles: handles.length + 1 }, 'accept handles');
  }

  private accept(socket: net.Socket | TlsRecordSocket, secure: boolean, peer?: ClientPeer): void {
    if (this.closing) {
      this.metrics.connectionRefused('shutdown');
      socket.end('* BYE Server shutting down\r\n');
      return;
    }
    socket.on('error', () => undefined);
    const remote = peer?.address ?? socket.remoteAddress ?? 'unknown';
    const slot = this.connectionLimiter.admitConnection(remote);
    if (typeof slot === 'string') {
      // Refused before any session exists, so it costs no more than the socket itself.
      this.metrics.connectionRefused(slot === 'total' ? 'total' : 'address');
      const why = slot === 'total' ? 'Too many connections' : 'Too many connections from your address';
      this.logger.warn({ remote, limit: slot }, 'connection refused: limit reached');
      socket.end(`* BYE [UNAVAILABLE] ${why}, try again later\r\n`);
      setTimeout(() => socket.destroy(), 1_000).unref();
      return;
    }
    this.metrics.connectionOpened();
    const conn = new ImapConnection(socket, this, secure, { limiter: this.connectionLimiter, slot, ...(peer ? { peer } : {}) });
    this.live.add(conn);
    conn.logger.debug({ secure }, 'connected');
    const onConnect = this.hooks.onConnect;
    if (!onConnect) return conn.start();
    const refuse = (text: string): void => {
      this.live.delete(conn);
      conn.refuse(text);
    };
    Promise.resolve()
      .then(() => onConnect(conn.sessionInfo()))
      .then(
        (ok) => (ok === false ? refuse('Connection refused') : conn.start()),
        (err: unknown) => refuse(err instanceof ImapError ? err.message : 'Connection refused'),
      );
  }

  private wake(session: FrozenSession, socket: ParkableSocket): void {
    socket.on('error', () => undefined);
    // A parked TLS session comes back on its own TLSSocket, or on a record socket with its kept
    // keys (src/net/parked-socket.ts).
    const secure = socket instanceof tls.TLSSocket || socket instanceof TlsRecordSocket;
    const conn = new ImapConnection(socket, this, secure, { limiter: this.connectionLimiter, slot: session.connectionSlot ?? undefined, resumed: session });
    this.live.add(conn);
    conn.resume();
    const kicked = this.kickOnWake.get(session.id);
    if (kicked !== undefined) {
      this.kickOnWake.delete(session.id);
      void conn.shutdownGracefully(kicked);
    }
  }

  connectionClosed(conn: ImapConnection, why?: 'hibernated'): void {
    this.live.delete(conn);
    conn.logger.debug(why ?? 'disconnected');
    if (!why) {
      try {
        this.hooks.onClose?.(conn.sessionInfo());
      } catch (err) {
        this.logger.error({ err }, 'onClose hook failed');
      }
    }
  }

  /** Open connections, hibernated ones included (with `hibernated: true`). */
  connections(): ConnectionSummary[] {
    const live: ConnectionSummary[] = [...this.live].map((c) => ({
      id: c.id,
      remoteAddress: c.remoteAddress,
      remotePort: c.remotePort,
      secure: c.secure,
      user: c.user,
      mailbox: c.selectedMailbox,
      startedAt: c.startedAt,
      lastActivity: c.lastActivity,
    }));
    const parked: ConnectionSummary[] = (this.hibernation?.summaries() ?? []).map((h) => ({
      id: h.id,
      remoteAddress: h.remoteAddress,
      remotePort: h.remotePort,
      secure: false,
      user: h.user,
      mailbox: h.mailboxName,
      startedAt: h.startedAt,
      hibernated: true,
      lastActivity: new Date(h.logoutAt.getTime() - this.limits.authIdleSeconds * 1000),
    }));
    return [...live, ...parked];
  }

  /**
   * Ends the sessions `which` picks (`postroom kick`): BYE after the command in flight, as at
   * shutdown; hibernated ones are woken first and then told. Returns the ids of those told.
   */
  kick(which: (c: ConnectionSummary) => boolean, reason = 'Disconnected by the administrator'): string[] {
    const ids: string[] = [];
    for (const conn of [...this.live]) {
      const summary: ConnectionSummary = {
        id: conn.id,
        remoteAddress: conn.remoteAddress,
        remotePort: conn.remotePort,
        secure: conn.secure,
        user: conn.user,
        mailbox: conn.selectedMailbox,
        startedAt: conn.startedAt,
      };
      if (!which(summary)) continue;
      ids.push(conn.id);
      void conn.shutdownGracefully(reason);
    }
    for (const parked of this.hibernation?.summaries() ?? []) {
      const summary: ConnectionSummary = {
        id: parked.id,
        remoteAddress: parked.remoteAddress,
        remotePort: parked.remotePort,
        secure: false,
        user: parked.user,
        mailbox: parked.mailboxName,
        startedAt: parked.startedAt,
        hibernated: true,
      };
      if (!which(summary)) continue;
      ids.push(parked.id);
      this.kickOnWake.set(parked.id, reason);
      this.hibernation?.wakeOne(parked.id);
    }
    return ids;
  }

  /**
   * Ends one session: BYE `reason` after its command in flight (as kick), or with `force` drops
   * it at once. Returns false when there is no such connection.
   */
  disconnect(id: string, options: { reason?: string; force?: boolean } = {}): boolean {
    const conn = [...this.live].find((c) => c.id === id);
    if (conn && options.force) {
      conn.destroy();
      return true;
    }
    return this.kick((c) => c.id === id, options.reason).length > 0;
  }

  /**
   * Pushes an untagged `* OK [ALERT] text` (RFC 3501 §7.1) to one session now, or to every session
   * of `user`. Returns how many were told (hibernated sessions are not: they are woken by mail only).
   */
  alert(which: { id?: string; user?: string }, text: string): number {
    let told = 0;
    for (const conn of this.live) {
      if ((which.id !== undefined && conn.id !== which.id) || (which.user !== undefined && conn.user !== which.user)) continue;
      conn.notify(text, { name: 'ALERT' });
      told++;
    }
    return told;
  }

  /**
   * Sends large literals (those over 64 KiB, which FETCH streams) to the sessions this picks at the
   * rate it returns (bytes per second), or at full speed when it returns null. For test kits
   * (postroom/testing's slow-literal fault): a real server leaves it null.
   */
  literalPace: ((session: ImapSessionInfo, size: number) => number | null) | null = null;

  /** Sessions to end as soon as they wake (kicked while hibernated). */
  private readonly kickOnWake = new Map<string, string>();

  connectionsForUser(user: string): ConnectionSummary[] {
    return this.connections().filter((c) => c.user === user);
  }

  connectionsForMailbox(mailbox: string, user?: string): ConnectionSummary[] {
    return this.connections().filter((c) => c.mailbox === mailbox && (user === undefined || c.user === user));
  }

  /**
   * Stops listening, says BYE to every client (after its command in flight), and waits for them —
   * at most `timeoutMs`, or until `signal` aborts; with `force` (or then) the rest are dropped.
   */
  async close(options: CloseOptions = {}): Promise<void> {
    this.closing = true;
    const dropAll = (): void => {
      for (const c of this.live) c.destroy();
    };
    if (options.force) dropAll();
    let timer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) timer = setTimeout(dropAll, options.timeoutMs);
    options.signal?.addEventListener('abort', dropAll, { once: true });
    if (options.signal?.aborted) dropAll();
    try {
      await this.closeGracefully();
    } finally {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', dropAll);
    }
  }

  private async closeGracefully(): Promise<void> {
    // A listener's close() completes only once its connections are gone, so start it, end the
    // sessions, and wait for both together.
    const stopped = this.netServers.map((l) => new Promise<void>((r) => l.close(() => r())));
    this.netServers.length = 0;
    this.tlsListeners.length = 0;
    this.hibernation?.wakeAll();
    await Promise.all([...this.live].map((c) => c.shutdownGracefully('Server shutting down')));
    await Promise.all(stopped);
  }
}

export function createImapServer(options: ImapServerOptions): ImapServer {
  return new ImapServer(options);
}
