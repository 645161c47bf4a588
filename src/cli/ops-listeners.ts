/**
 * What `serve` runs beside the mail listeners, in one process or as a cluster's primary: the
 * operations listener (/metrics, /healthz, /readyz), the autoconfig listener, the control socket,
 * and the checks of the data folder that end in warnings at start and on reload.
 */
import os from 'node:os';
import type { Logger } from '../util/logger.js';
import { listenPort } from '../config/ports.js';
import type { ServeSettings } from '../config/settings.js';
import { startOpsListener, type OpsListener, type ReadinessCheck } from '../metrics/http.js';
import { startAutoconfig, type AutoconfigListener, type AutoconfigService } from '../autoconfig/autoconfig.js';
import { ControlServer } from '../control/server.js';
import type { UserFile } from '../auth/user-file.js';
import type { ListeningPorts } from './components.js';
import { serveOperations, type ServeRuntime } from './control/serve-operations.js';
import { controlSocketPath } from './admin/target.js';
import { looseModes } from './file-modes.js';

export interface HttpListeners {
  metricsPort: number | null;
  autoconfigPort: number | null;
  close(): Promise<void>;
}

export interface HttpListenerSources {
  /** The exposition text (several processes' metrics, in a cluster); null: metrics are off. */
  metrics: (() => Promise<{ contentType: string; text: string }>) | null;
  readiness: Record<string, ReadinessCheck>;
  ports: ListeningPorts;
  users: UserFile;
}

/** Binds the metrics and autoconfig listeners the settings enable (before privileges are dropped: either may use a low port). */
export async function bindHttpListeners(settings: ServeSettings, logger: Logger, sources: HttpListenerSources): Promise<HttpListeners> {
  const opened: Array<OpsListener | AutoconfigListener> = [];
  const close = async (): Promise<void> => {
    await Promise.allSettled(opened.map((l) => l.close()));
  };
  try {
    let metricsPort: number | null = null;
    const mp = listenPort(settings.metricsPort, settings.ephemeralPorts);
    if (mp !== null && sources.metrics) {
      const l = await startOpsListener({
        host: settings.metricsHost,
        port: mp,
        metrics: sources.metrics,
        readiness: sources.readiness,
        onError: (err) => logger.warn({ err }, 'metrics listener error'),
      });
      opened.push(l);
      metricsPort = l.port;
      logger.info({ host: settings.metricsHost, port: l.port }, 'metrics, healthz and readyz listening');
    }
    let autoconfigPort: number | null = null;
    const ap = listenPort(settings.autoconfigPort, settings.ephemeralPorts);
    if (ap !== null) {
      const host = settings.autoconfigHost ?? settings.host;
      const names = await sources.users.list();
      const l = await startAutoconfig(host, ap, {
        hostname: settings.hostname ?? os.hostname(),
        services: autoconfigServices(sources.ports),
        // Users named like addresses log in with the address; others with the local part.
        username: names.some((n) => n.includes('@')) ? 'address' : 'localpart',
      });
      opened.push(l);
      autoconfigPort = l.port;
      logger.info({ host, port: l.port }, 'autoconfig listening');
    }
    return { metricsPort, autoconfigPort, close };
  } catch (err) {
    await close();
    throw err;
  }
}

function autoconfigServices(ports: ListeningPorts): AutoconfigService[] {
  const services: AutoconfigService[] = [];
  if (ports.imapsPort) services.push({ protocol: 'imap', port: ports.imapsPort, socketType: 'SSL' });
  if (ports.imapPort) services.push({ protocol: 'imap', port: ports.imapPort, socketType: 'STARTTLS' });
  if (ports.pop3sPort) services.push({ protocol: 'pop3', port: ports.pop3sPort, socketType: 'SSL' });
  if (ports.pop3Port) services.push({ protocol: 'pop3', port: ports.pop3Port, socketType: 'STARTTLS' });
  return services;
}

/** The control socket (after any privilege drop, so the socket belongs to the user serving mail). */
export async function startControlSocket(settings: ServeSettings, runtime: ServeRuntime, logger: Logger): Promise<ControlServer> {
  const control = await ControlServer.listen(controlSocketPath(settings), serveOperations(runtime), logger.child({ component: 'control' }));
  logger.info({ socket: control.path }, 'control socket listening');
  return control;
}

/** Loose file modes and users-file problems, as warnings (at start and on every reload). */
export async function warnAboutDataFolder(settings: ServeSettings, users: UserFile, logger: Logger): Promise<string[]> {
  const problems = await users.problems().catch((err: unknown) => [`${users.path}: ${(err as Error).message}`]);
  for (const warning of looseModes(settings.data)) logger.warn({ data: settings.data }, warning);
  for (const p of problems) logger.warn({ file: users.path }, p);
  return problems;
}
