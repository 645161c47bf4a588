/**
 * createManageSieveServer(): ManageSieve (RFC 5804) on a TCP port, with STARTTLS, the SASL
 * mechanisms and login guard IMAP and POP3 use, and the per-user script storage of the store.
 * Scripts are checked by the Sieve compiler delivery uses, so what PUTSCRIPT accepts runs.
 */
import net from 'node:net';
import os from 'node:os';
import type { Logger } from '../util/logger.js';
import { LoginGuard, type LoginGuardOptions } from '../auth/login-guard.js';
import type { Authenticator } from '../auth/types.js';
import { ConnectionLimiter } from '../net/connection-limits.js';
import { InputBudget } from '../net/input-budget.js';
import { createSecureContext, type TlsOptions } from '../net/tls.js';
import { compileSieve, DEFAULT_SIEVE_LIMITS, SIEVE_EXTENSIONS } from '../sieve/index.js';
import type { SieveLimits } from '../sieve/types.js';
import type { MailStore } from '../store/types.js';
import { createCommandTable } from './commands/registry.js';
import { ManageSieveConnection } from './connection.js';
import { resolveManageSieveLimits, type ManageSieveLimits } from './limits.js';
import type { ManageSieveServices } from './types.js';
import { statusLine } from './wire/encode.js';

export { DEFAULT_MANAGESIEVE_LIMITS, type ManageSieveLimits } from './limits.js';

export interface ManageSieveServerOptions {
  store: MailStore;
  auth: Authenticator;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 4190; 0: a free port). */
  port?: number;
  /** Certificate and key: STARTTLS is offered with them. */
  tls?: TlsOptions;
  /** Plaintext SASL (PLAIN, LOGIN) before STARTTLS (default false). */
  allowInsecureAuth?: boolean;
  hostname?: string;
  logger?: Logger;
  limits?: Partial<ManageSieveLimits>;
  /** The Sieve limits delivery runs with (script size and MAXREDIRECTS are taken from them). */
  sieveLimits?: Partial<SieveLimits>;
  /** Share one LoginGuard with IMAP and POP3 to count failures across protocols. */
  loginGuard?: LoginGuard | Partial<LoginGuardOptions>;
  implementation?: string;
}

export interface ManageSieveConnectionSummary {
  id: string;
  remoteAddress: string;
  secure: boolean;
  user?: string;
  startedAt: Date;
}

export interface ManageSieveServer {
  listen(): Promise<{ port: number }>;
  close(): Promise<void>;
  connections(): ManageSieveConnectionSummary[];
  setTls(tls: TlsOptions): void;
}

export function createManageSieveServer(options: ManageSieveServerOptions): ManageSieveServer {
  const sieveLimits = { ...DEFAULT_SIEVE_LIMITS, ...options.sieveLimits };
  // A script PUTSCRIPT accepts must also be one delivery accepts: the smaller size limit wins.
  const limits = resolveManageSieveLimits({ maxScriptBytes: sieveLimits.maxScriptBytes, ...options.limits });
  const services: ManageSieveServices = {
    store: options.store,
    auth: options.auth,
    limits,
    loginGuard: options.loginGuard instanceof LoginGuard ? options.loginGuard : new LoginGuard(options.loginGuard),
    limiter: new ConnectionLimiter(limits),
    unauthInput: new InputBudget(limits.maxUnauthBufferedTotal),
    logger: options.logger?.child({ protocol: 'managesieve' }),
    hostname: options.hostname ?? os.hostname(),
    tlsContext: options.tls ? createSecureContext(options.tls) : undefined,
    allowInsecureAuth: options.allowInsecureAuth ?? false,
    implementation: options.implementation ?? 'Postroom',
    compile: (source) => compileSieve(source, { limits: sieveLimits }),
    extensions: SIEVE_EXTENSIONS,
    maxRedirects: sieveLimits.maxRedirects,
  };
  const commands = createCommandTable();
  const open = new Set<ManageSieveConnection>();
  const host = options.host ?? '127.0.0.1';
  let server: net.Server | undefined;
  let closing = false;

  function onConnection(socket: net.Socket): void {
    socket.on('error', () => undefined);
    if (closing) return void socket.destroy();
    const slot = services.limiter.admitConnection(socket.remoteAddress ?? 'unknown');
    if (typeof slot === 'string') {
      services.logger?.warn({ remote: socket.remoteAddress, limit: slot }, 'connection refused: limit reached');
      socket.end(statusLine('BYE', 'Too many connections, try again later', 'TRYLATER'));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    socket.once('close', () => slot.release());
    const connection = new ManageSieveConnection(socket, services, commands);
    open.add(connection);
    void connection.closed.then(() => open.delete(connection));
    void connection.start();
  }

  return {
    listen() {
      return new Promise((resolve, reject) => {
        const s = net.createServer(onConnection);
        s.once('error', reject);
        s.listen(options.port ?? 4190, host, () => {
          s.off('error', reject);
          server = s;
          const address = s.address();
          const port = typeof address === 'object' && address ? address.port : (options.port ?? 4190);
          services.logger?.info({ host, port }, 'accepting connections');
          resolve({ port });
        });
      });
    },
    async close() {
      closing = true;
      const stopped = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      for (const c of open) c.shutdown();
      const all = Promise.all([...open].map((c) => c.closed));
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 10_000)));
      if ((await Promise.race([all, late])) === 'late') for (const c of open) c.destroy();
      clearTimeout(timer);
      await all;
      await stopped;
    },
    connections() {
      return [...open].map((c) => ({ id: c.id, remoteAddress: c.remoteAddress, secure: c.secure, startedAt: c.startedAt, ...(c.user ? { user: c.user } : {}) }));
    },
    setTls(tls) {
      services.tlsContext = createSecureContext(tls);
    },
  };
}
