/** ManageSieve in `postroom serve` (`managesievePort`, off unless set). */
import type { Logger } from '../util/logger.js';
import type { LoginGuard } from '../auth/login-guard.js';
import type { Authenticator } from '../auth/types.js';
import { listenPort } from '../config/ports.js';
import type { ServeSettings } from '../config/settings.js';
import type { TlsOptions } from '../net/tls.js';
import type { MailStore } from '../store/types.js';

export interface RunningManageSieve {
  port: number | null;
  setTls(tls: TlsOptions): void;
  close(): Promise<void>;
}

export async function startManageSieve(
  settings: ServeSettings,
  shared: { store: MailStore; auth: Authenticator; tls: TlsOptions | undefined; loginGuard: LoginGuard },
  logger: Logger,
): Promise<RunningManageSieve> {
  const port = listenPort(settings.managesievePort, settings.ephemeralPorts);
  if (port === null) return { port: null, setTls: () => undefined, close: async () => undefined };
  const { createManageSieveServer } = await import('../managesieve/server.js');
  const server = createManageSieveServer({
    store: shared.store,
    auth: shared.auth,
    host: settings.host,
    port,
    ...(shared.tls ? { tls: shared.tls } : {}),
    allowInsecureAuth: settings.allowInsecureAuth,
    ...(settings.hostname ? { hostname: settings.hostname } : {}),
    logger,
    limits: settings.managesieveLimits ?? {},
    sieveLimits: settings.sieveLimits ?? {},
    loginGuard: shared.loginGuard,
  });
  const bound = await server.listen();
  return { port: bound.port, setTls: (tls) => server.setTls(tls), close: () => server.close() };
}
